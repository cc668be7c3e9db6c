//! kernel: segfaults, OOM kills, netfilter LOG drops (UFW, iptables, nftables).
//!
//! A leading dmesg time (`[12345.678901] `) is stripped first.
//!
//! * `foo[1234]: segfault at 0 ip 00007f… sp 00007ffc… error 4 in libc.so.6[7f…+195000]`
//!   and `traps: foo[1234] general protection fault ip:… sp:… error:0 in libc.so.6[…]`
//!   → `SEGFAULT` (process, pid, extra addr, ip, sp, error, object, kind). The `Code: …`
//!   line that may follow is not known here.
//! * OOM: the counting line is the one that names the victim, `Killed process N (comm)
//!   total-vm:…`. Kernels ≥ 5.x log it once as `Out of memory: Killed process …` (or
//!   `Memory cgroup out of memory: Killed process …`); older kernels log `Out of memory: Kill
//!   process N (comm) score S or sacrifice child` first and then a bare `Killed process N
//!   (comm) total-vm:…` — there the first line is ignored and the second counts. So each kill
//!   is one `OOM_KILL` (process, pid, extra total_vm, anon_rss, file_rss, shmem_rss, uid,
//!   pgtables, oom_score_adj, scope = `system`/`cgroup` when the line says). The
//!   `invoked oom-killer`, `oom-kill:constraint=…` and `oom_reaper: reaped process …`
//!   lines of the same kill are ignored.
//! * Netfilter LOG: `PREFIX IN=… OUT=… … SRC=… DST=… … PROTO=… SPT=… DPT=…`; the prefix
//!   is whatever the rule set, possibly empty and possibly glued to `IN=`
//!   (`DROP(src wan)IN=eth0`). → `FIREWALL_DROP` with src_ip (SRC, IPv4 or IPv6), src_port
//!   (SPT), extra dst, dpt, proto, in, out, prefix (trimmed), and action for UFW prefixes.
//!   Not drops, so ignored: `[UFW ALLOW]`, `[UFW AUDIT]` (and `[UFW AUDIT INVALID]`), and
//!   any other prefix containing `ACCEPT` or `ALLOW` (a rule that logs what it lets
//!   through). Lines without a parsable `SRC=` (ARP, bridge) are ignored.

use super::common::{kv, parse_ip, parse_port};
use super::{Ctx, MessageParser, Parsed};
use crate::model::event::{Event, EventType};

#[derive(Default)]
pub struct Kernel {}

impl MessageParser for Kernel {
    fn id(&self) -> &'static str {
        "kernel"
    }
    fn doc(&self) -> &'static str {
        "kernel: segfaults, OOM kills, netfilter LOG drops (UFW, iptables)"
    }
    fn programs(&self) -> &'static [&'static str] {
        &["kernel"]
    }
    fn parse(&mut self, ctx: &Ctx<'_>, message: &str, out: &mut Vec<Event>) -> Parsed {
        parse(ctx, strip_dmesg_time(message), out)
    }
}

/// `[ 3529.289825] rest` → `rest`.
pub fn strip_dmesg_time(m: &str) -> &str {
    let Some(r) = m.strip_prefix('[') else {
        return m;
    };
    let Some(close) = r.find(']') else {
        return m;
    };
    let inner = r[..close].trim_start();
    let ok = !inner.is_empty()
        && inner.bytes().all(|c| c.is_ascii_digit() || c == b'.')
        && inner.bytes().any(|c| c == b'.');
    if ok {
        r[close + 1..].trim_start()
    } else {
        m
    }
}

fn parse(ctx: &Ctx<'_>, m: &str, out: &mut Vec<Event>) -> Parsed {
    if let Some(at) = netfilter_anchor(m) {
        return firewall(ctx, m, at, out);
    }
    if let Some(at) = m.find(": segfault at ") {
        return segfault(ctx, &m[..at], &m[at + ": segfault at ".len()..], out);
    }
    if let Some(r) = m.strip_prefix("traps: ") {
        if let Some((who, rest)) = r.split_once("] general protection fault ") {
            return gp_fault(ctx, who, rest, out);
        }
        return Parsed::Unknown;
    }
    for (prefix, scope) in [
        ("Out of memory: ", Some("system")),
        ("Memory cgroup out of memory: ", Some("cgroup")),
        ("", None),
    ] {
        let Some(r) = m.strip_prefix(prefix) else {
            continue;
        };
        if let Some(r) = r.strip_prefix("Killed process ") {
            return oom(ctx, r, scope, out);
        }
        if r.starts_with("Kill process ") {
            // The old kernels' first line; the `Killed process` line that follows counts.
            return Parsed::Ignored;
        }
    }
    if m.starts_with("oom_reaper: ")
        || m.starts_with("oom-kill:")
        || m.contains(" invoked oom-killer: ")
    {
        return Parsed::Ignored;
    }
    Parsed::Unknown
}

/// Where `IN=` starts in a netfilter LOG line: an `IN=value` directly followed by ` OUT=`.
fn netfilter_anchor(m: &str) -> Option<usize> {
    for (at, _) in m.match_indices("IN=") {
        let after = &m[at + 3..];
        let end = after.find(' ').unwrap_or(after.len());
        if after[end..].starts_with(" OUT=") {
            return Some(at);
        }
    }
    None
}

/// ASCII case-insensitive substring test, without allocating.
fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn firewall(ctx: &Ctx<'_>, m: &str, at: usize, out: &mut Vec<Event>) -> Parsed {
    let prefix = m[..at].trim();
    let fields = &m[at..];
    let mut action = None;
    if let Some(inner) = prefix
        .strip_prefix("[UFW ")
        .and_then(|p| p.strip_suffix(']'))
    {
        if inner.contains("BLOCK") {
            action = Some("BLOCK");
        } else {
            // `[UFW ALLOW]`, `[UFW AUDIT]`, `[UFW AUDIT INVALID]`: logged, not dropped.
            return Parsed::Ignored;
        }
    } else if contains_ci(prefix, "ACCEPT") || contains_ci(prefix, "ALLOW") {
        return Parsed::Ignored;
    }
    let Some(src) = kv(fields, "SRC").and_then(parse_ip) else {
        return Parsed::Ignored;
    };
    let mut e = ctx.event(EventType::FirewallDrop);
    e.src_ip = Some(src);
    e.src_port = kv(fields, "SPT").and_then(parse_port);
    for (key, logged) in [
        ("dst", "DST"),
        ("dpt", "DPT"),
        ("proto", "PROTO"),
        ("in", "IN"),
        ("out", "OUT"),
    ] {
        if let Some(v) = kv(fields, logged).filter(|v| !v.is_empty()) {
            e.extra.insert(key.into(), v.to_string());
        }
    }
    if !prefix.is_empty() {
        e.extra.insert("prefix".into(), prefix.to_string());
    }
    if let Some(a) = action {
        e.extra.insert("action".into(), a.to_string());
    }
    out.push(e);
    Parsed::Events
}

/// `comm[pid]` → (comm, pid). The comm may hold spaces and brackets.
fn comm_pid(who: &str) -> Option<(&str, u32)> {
    let who = who.strip_suffix(']').unwrap_or(who);
    let (comm, pid) = who.rsplit_once('[')?;
    let pid = pid.parse().ok()?;
    Some((comm, pid))
}

/// Value after `key ` in a space-separated list (`ip 00007f…`).
fn word_after<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let mut words = s.split(' ');
    while let Some(w) = words.next() {
        if w == key {
            return words.next();
        }
    }
    None
}

/// `libc.so.6[7f…+195000] likely on CPU 3 …` → `libc.so.6`.
fn object(s: &str) -> Option<&str> {
    let (_, r) = s.split_once(" in ")?;
    let end = r
        .find('[')
        .unwrap_or_else(|| r.find(' ').unwrap_or(r.len()));
    let o = r[..end].trim();
    (!o.is_empty()).then_some(o)
}

fn segfault(ctx: &Ctx<'_>, who: &str, rest: &str, out: &mut Vec<Event>) -> Parsed {
    let Some((comm, pid)) = comm_pid(who) else {
        return Parsed::Unknown;
    };
    let mut e = ctx.event(EventType::Segfault);
    e.process = Some(comm.to_string());
    e.pid = Some(pid);
    e.extra.insert("kind".into(), "segfault".into());
    let addr = rest.split(' ').next().unwrap_or("");
    if !addr.is_empty() {
        e.extra.insert("addr".into(), addr.to_string());
    }
    for key in ["ip", "sp", "error"] {
        if let Some(v) = word_after(rest, key) {
            e.extra.insert(key.into(), v.to_string());
        }
    }
    if let Some(o) = object(rest) {
        e.extra.insert("object".into(), o.to_string());
    }
    out.push(e);
    Parsed::Events
}

/// `traps: foo[1234] general protection fault ip:7f… sp:7ffc… error:0 in libc.so.6[…]`
fn gp_fault(ctx: &Ctx<'_>, who: &str, rest: &str, out: &mut Vec<Event>) -> Parsed {
    let Some((comm, pid)) = comm_pid(who) else {
        return Parsed::Unknown;
    };
    let mut e = ctx.event(EventType::Segfault);
    e.process = Some(comm.to_string());
    e.pid = Some(pid);
    e.extra
        .insert("kind".into(), "general protection fault".into());
    for w in rest.split(' ') {
        for key in ["ip", "sp", "error"] {
            if let Some(v) = w.strip_prefix(key).and_then(|r| r.strip_prefix(':')) {
                e.extra.insert(key.into(), v.to_string());
            }
        }
    }
    if let Some(o) = object(rest) {
        e.extra.insert("object".into(), o.to_string());
    }
    out.push(e);
    Parsed::Events
}

/// After `Killed process `: `1234 (java) total-vm:…kB, anon-rss:…` or RHEL 6's
/// `1234, UID 48, (httpd) total-vm:…`.
fn oom(ctx: &Ctx<'_>, r: &str, scope: Option<&str>, out: &mut Vec<Event>) -> Parsed {
    let digits = r.bytes().take_while(u8::is_ascii_digit).count();
    let Ok(pid) = r[..digits].parse::<u32>() else {
        return Parsed::Unknown;
    };
    let rest = &r[digits..];
    let Some(open) = rest.find('(') else {
        return Parsed::Unknown;
    };
    let after_open = &rest[open + 1..];
    let stats_at = after_open.find(" total-vm:").unwrap_or(after_open.len());
    let Some(close) = after_open[..stats_at].rfind(')') else {
        return Parsed::Unknown;
    };
    let comm = &after_open[..close];
    let stats = &after_open[close + 1..];
    let mut e = ctx.event(EventType::OomKill);
    e.process = Some(comm.to_string());
    e.pid = Some(pid);
    if let Some(s) = scope {
        e.extra.insert("scope".into(), s.into());
    }
    if let Some(uid) = rest[..open]
        .split(", ")
        .find_map(|p| p.trim_matches([',', ' ']).strip_prefix("UID "))
    {
        e.extra.insert("uid".into(), uid.to_string());
    }
    for part in stats.split([',', ' ']).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once(':') else {
            continue;
        };
        let key = match k {
            "total-vm" => "total_vm",
            "anon-rss" => "anon_rss",
            "file-rss" => "file_rss",
            "shmem-rss" => "shmem_rss",
            "UID" => "uid",
            "pgtables" => "pgtables",
            "oom_score_adj" => "oom_score_adj",
            _ => continue,
        };
        e.extra.insert(key.into(), v.to_string());
    }
    out.push(e);
    Parsed::Events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(msg: &str) -> (Parsed, Vec<Event>) {
        crate::parse::feed_message(
            |c, m, o| Kernel::default().parse(c, m, o),
            "kernel",
            None,
            msg,
        )
    }
    fn one(msg: &str) -> Event {
        let (r, mut out) = run(msg);
        assert_eq!(r, Parsed::Events, "{msg}");
        assert_eq!(out.len(), 1);
        out.pop().unwrap()
    }

    #[test]
    fn dmesg_time() {
        assert_eq!(
            strip_dmesg_time("[ 3529.289825] [UFW BLOCK] IN="),
            "[UFW BLOCK] IN="
        );
        assert_eq!(strip_dmesg_time("[UFW BLOCK] IN="), "[UFW BLOCK] IN=");
        assert_eq!(strip_dmesg_time("[12.5]x"), "x");
        assert_eq!(strip_dmesg_time("["), "[");
    }

    #[test]
    fn segfaults() {
        let e = one("[ 1234.567890] nginx[4242]: segfault at 0 ip 00007f3a1b2c3d4e sp 00007ffd5e6f7a80 error 4 in libc.so.6[7f3a1b200000+195000] likely on CPU 3 (core 3, socket 0)");
        assert_eq!(e.kind, EventType::Segfault);
        assert_eq!(e.process.as_deref(), Some("nginx"));
        assert_eq!(e.pid, Some(4242));
        assert_eq!(e.extra["addr"], "0");
        assert_eq!(e.extra["ip"], "00007f3a1b2c3d4e");
        assert_eq!(e.extra["sp"], "00007ffd5e6f7a80");
        assert_eq!(e.extra["error"], "4");
        assert_eq!(e.extra["object"], "libc.so.6");
        let e = one("Web Content[9][77]: segfault at 7f0000000000 ip 00005555 sp 00007ffe error 6");
        assert_eq!(e.process.as_deref(), Some("Web Content[9]"));
        assert_eq!(e.pid, Some(77));
        assert!(!e.extra.contains_key("object"));
        let e = one("traps: python3[1234] general protection fault ip:7f5e0c9a1b2c sp:7ffc12345678 error:0 in libpython3.11.so.1.0[7f5e0c800000+2a0000]");
        assert_eq!(e.kind, EventType::Segfault);
        assert_eq!(e.extra["kind"], "general protection fault");
        assert_eq!(e.extra["ip"], "7f5e0c9a1b2c");
        assert_eq!(e.extra["error"], "0");
        assert_eq!(e.extra["object"], "libpython3.11.so.1.0");
    }

    #[test]
    fn oom_new_style_is_one_line() {
        let e = one("Out of memory: Killed process 1234 (java) total-vm:8123456kB, anon-rss:4012345kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:9876kB oom_score_adj:0");
        assert_eq!(e.kind, EventType::OomKill);
        assert_eq!(e.process.as_deref(), Some("java"));
        assert_eq!(e.pid, Some(1234));
        assert_eq!(e.extra["anon_rss"], "4012345kB");
        assert_eq!(e.extra["total_vm"], "8123456kB");
        assert_eq!(e.extra["uid"], "1000");
        assert_eq!(e.extra["oom_score_adj"], "0");
        assert_eq!(e.extra["scope"], "system");
        let e = one("Memory cgroup out of memory: Killed process 99 (node (worker)) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:500");
        assert_eq!(e.process.as_deref(), Some("node (worker)"));
        assert_eq!(e.extra["scope"], "cgroup");
    }

    #[test]
    fn oom_old_style_counts_the_killed_line() {
        assert_eq!(
            run("Out of memory: Kill process 1234 (java) score 900 or sacrifice child").0,
            Parsed::Ignored
        );
        let e = one("Killed process 1234 (java) total-vm:2048000kB, anon-rss:1024000kB, file-rss:0kB, shmem-rss:0kB");
        assert_eq!(e.pid, Some(1234));
        assert!(!e.extra.contains_key("scope"));
        let e = one("Killed process 2542, UID 48, (httpd) total-vm:1055740kB, anon-rss:901748kB, file-rss:88kB");
        assert_eq!(e.process.as_deref(), Some("httpd"));
        assert_eq!(e.extra["uid"], "48");
        for m in [
            "java invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0",
            "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/user.slice,task=java,pid=1234,uid=1000",
            "oom_reaper: reaped process 1234 (java), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
        ] {
            assert_eq!(run(m).0, Parsed::Ignored, "{m}");
        }
    }

    #[test]
    fn netfilter() {
        let e = one("[126140.629122] [UFW BLOCK] IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd SRC=203.0.113.9 DST=191.192.193.194 LEN=52 TOS=0x02 PREC=0x00 TTL=128 ID=9209 DF PROTO=TCP SPT=17833 DPT=22 WINDOW=8192 RES=0x00 CWR ECE SYN URGP=0");
        assert_eq!(e.kind, EventType::FirewallDrop);
        assert_eq!(e.src_ip, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(e.src_port, Some(17833));
        assert_eq!(e.extra["dst"], "191.192.193.194");
        assert_eq!(e.extra["dpt"], "22");
        assert_eq!(e.extra["proto"], "TCP");
        assert_eq!(e.extra["in"], "eth0");
        assert!(!e.extra.contains_key("out"));
        assert_eq!(e.extra["prefix"], "[UFW BLOCK]");
        assert_eq!(e.extra["action"], "BLOCK");
        let e = one("[10051.313745] DROP(src wan)IN=eth0 OUT= MAC=c2:56 SRC=205.205.205.205 DST=192.168.8.100 LEN=44 PROTO=TCP SPT=40952 DPT=23");
        assert_eq!(e.extra["prefix"], "DROP(src wan)");
        assert_eq!(e.src_ip, Some("205.205.205.205".parse().unwrap()));
        let e =
            one("IN= OUT=lo SRC=192.168.2.11 DST=192.168.2.11 LEN=52 PROTO=TCP SPT=43068 DPT=22");
        assert!(!e.extra.contains_key("prefix"));
        assert_eq!(e.extra["out"], "lo");
        let e = one("[UFW BLOCK] IN=eth0 OUT= MAC=33:33 SRC=2001:0db8:0000:0000:0000:0000:0000:0001 DST=ff02:0000:0000:0000:0000:0000:0000:0001 LEN=72 TC=0 HOPLIMIT=1 FLOWLBL=0 PROTO=UDP SPT=5353 DPT=5353 LEN=32");
        assert_eq!(e.src_ip, Some("2001:db8::1".parse().unwrap()));
        assert_eq!(e.extra["proto"], "UDP");
        let e = one("LOGIN=x IN=eth0 OUT= SRC=198.51.100.7 DST=10.0.0.1 PROTO=ICMP TYPE=8 CODE=0");
        assert_eq!(e.extra["prefix"], "LOGIN=x");
        assert_eq!(e.src_port, None);
        for m in [
            "[UFW ALLOW] IN=eth0 OUT= SRC=198.51.100.7 DST=10.0.0.1 PROTO=TCP SPT=1 DPT=22",
            "[UFW AUDIT] IN= OUT=ppp0 SRC=117.197.243.67 DST=218.248.255.163 LEN=62 PROTO=UDP SPT=57548 DPT=53 LEN=42",
            "[UFW AUDIT INVALID] IN=eth0 OUT= SRC=198.51.100.7 DST=10.0.0.1",
            "ssh-accept: IN=eth0 OUT= SRC=198.51.100.7 DST=10.0.0.1 PROTO=TCP SPT=1 DPT=22",
            "ARP IN=br0 OUT= MAC=ff:ff ARP HTYPE=1",
        ] {
            assert_eq!(run(m).0, Parsed::Ignored, "{m}");
        }
        assert_eq!(
            run("usb 1-1: new high-speed USB device number 2").0,
            Parsed::Unknown
        );
    }

    #[test]
    fn hostile_and_prefixes() {
        let x = "<img src=x onerror=alert(1)>";
        let e = one(&format!(
            "{x}[5]: segfault at 0 ip 1 sp 2 error 4 in {x}[1+2]"
        ));
        assert_eq!(e.process.as_deref(), Some(x));
        let e = one(&format!(
            "{x} IN=eth0 OUT= SRC=1.2.3.4 DST={x} PROTO=TCP SPT=1 DPT=2"
        ));
        assert_eq!(e.extra["prefix"], x);
        assert_eq!(
            run("[UFW BLOCK] IN=eth0 OUT= SRC=1.2.3.4;rm DST=x").0,
            Parsed::Ignored
        );
        for l in [
            "[ 1234.567890] nginx[4242]: segfault at 0 ip 00007f3a1b2c3d4e sp 00007ffd5e6f7a80 error 4 in libc.so.6[7f3a1b200000+195000]",
            "Out of memory: Killed process 1234 (jäva) total-vm:8123456kB, anon-rss:4012345kB, UID:1000",
            "Killed process 2542, UID 48, (httpd) total-vm:1055740kB",
            "[ 3529.289825] [UFW BLOCK] IN=eth0 OUT= MAC=00:11 SRC=2001:db8::1 DST=10.0.0.1 PROTO=UDP SPT=53 DPT=36427",
            "traps: python3[1234] general protection fault ip:7f sp:7f error:0 in libpython3.so[7f+2a]",
        ] {
            for (i, _) in l.char_indices() {
                let _ = run(&l[..i]);
            }
        }
    }
}
