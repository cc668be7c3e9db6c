//! Blocking for real with nftables, inside network namespaces (root): `picket block`
//! cuts a client off within the same second and the kernel lets it back in when the ban
//! expires; `unblock` lifts it; loopback, this host and the allowlist are refused;
//! injection attempts never reach `nft`; and `picket run` with `block_ip` enforced blocks
//! the address a rule names, within a second of the line that crosses its threshold.

mod common;

use std::io::Write;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::sys::{add_user, bearer, require_root, sh, wait_for, NetnsPair, Sshd};

const PICKET: &str = env!("CARGO_BIN_EXE_picket");

/// `picket ARGS` inside the namespace.
fn picket_in(ns: &str, args: &[&str]) -> Output {
    Command::new("ip")
        .args(["netns", "exec", ns, PICKET])
        .args(args)
        .output()
        .expect("running picket in the namespace")
}

/// Whether the client reaches the server's port 22 within a second.
fn reaches(pair: &NetnsPair) -> bool {
    Command::new("ip")
        .args(["netns", "exec", &pair.client, "timeout", "1", "bash", "-c"])
        .arg(format!("exec 3<>/dev/tcp/{}/22", pair.server_ip))
        .status()
        .is_ok_and(|s| s.success())
}

/// The addresses in Picket's sets, as the kernel has them.
fn kernel_set(ns: &str) -> String {
    let out = Command::new("ip")
        .args([
            "netns", "exec", ns, "nft", "list", "table", "inet", "picket",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A server namespace running sshd and a client namespace that reaches it, and a
/// picket.yaml in `dir` with a data directory and `response` (YAML lines).
fn sshd_pair_and_config(
    prefix: &str,
    client_ip: &str,
    dir: &std::path::Path,
    response: &str,
) -> (NetnsPair, Sshd, String) {
    let pair = NetnsPair::new(prefix, "203.0.113.1", client_ip);
    let sshd = Sshd::start(&pair.server, &pair.server_ip);
    wait_for("sshd to listen", Duration::from_secs(10), || {
        reaches(&pair).then_some(())
    });
    let config = dir.join("picket.yaml");
    std::fs::write(
        &config,
        format!(
            "data_dir: {}\nresponse:\n{response}",
            dir.join("data").display()
        ),
    )
    .unwrap();
    (pair, sshd, config.to_str().unwrap().to_string())
}

#[test]
fn picket_block_cuts_a_client_off_and_the_kernel_lets_it_back() {
    require_root("blocking with nftables");
    let dir = tempfile::tempdir().unwrap();
    let (pair, _sshd, config) = sshd_pair_and_config(
        "pkblk",
        "203.0.113.66",
        dir.path(),
        "  allowlist: [198.51.100.0/24]\n",
    );
    let c = config.as_str();

    // Blocked for 3 s: cut off at once, back after the kernel's timeout.
    let out = picket_in(
        &pair.server,
        &["block", "203.0.113.66", "--for", "3s", "--config", c],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let started = Instant::now();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "blocked 203.0.113.66 for 3 s"
    );
    assert!(kernel_set(&pair.server).contains("203.0.113.66"));
    assert!(!reaches(&pair), "the client still connects");
    let bans = picket_in(&pair.server, &["bans", "--json", "--config", c]);
    let text = String::from_utf8_lossy(&bans.stdout);
    assert!(
        text.contains("\"ip\":\"203.0.113.66\"") && text.contains("\"mode\":\"enforce\""),
        "{text}"
    );
    std::thread::sleep(
        Duration::from_secs(3).saturating_sub(started.elapsed()) + Duration::from_millis(500),
    );
    wait_for("the ban to expire", Duration::from_secs(5), || {
        reaches(&pair).then_some(())
    });
    assert!(!kernel_set(&pair.server).contains("203.0.113.66"));

    // Blocked for long, lifted by hand.
    assert!(picket_in(
        &pair.server,
        &["block", "203.0.113.66", "--for", "1h", "--config", c]
    )
    .status
    .success());
    assert!(!reaches(&pair));
    let out = picket_in(&pair.server, &["unblock", "203.0.113.66", "--config", c]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(reaches(&pair), "unblock did not lift the ban");

    // Never: loopback, this host (the server's own address here), the allowlist.
    for (ip, why) in [
        ("127.0.0.1", "loopback"),
        ("203.0.113.1", "this host's addresses"),
        ("198.51.100.9", "allowlist"),
    ] {
        let out = picket_in(&pair.server, &["block", ip, "--config", c]);
        assert_eq!(out.status.code(), Some(1), "{ip}");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains(why), "{ip}: {said}");
    }
    // Hostile input never reaches nft: refused while parsing, nothing changes.
    let before = kernel_set(&pair.server);
    for evil in [
        "1.2.3.4; nft flush ruleset",
        "$(touch /tmp/picket-pwned)",
        "1.2.3.4\nflush ruleset",
        "1.2.3.4 } ; flush ruleset ; add element inet picket blocked4 { 5.6.7.8",
        "`reboot`",
    ] {
        let out = picket_in(&pair.server, &["block", evil, "--config", c]);
        assert_eq!(out.status.code(), Some(2), "{evil:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("is not an IPv4 or IPv6 address"),
            "{evil:?}"
        );
    }
    assert_eq!(kernel_set(&pair.server), before);
    assert!(!std::path::Path::new("/tmp/picket-pwned").exists());
}

#[test]
fn picket_run_blocks_the_address_a_rule_names_within_a_second() {
    require_root("blocking with nftables");
    let pair = NetnsPair::new("pkrun", "203.0.113.1", "203.0.113.77");
    let _sshd = Sshd::start(&pair.server, &pair.server_ip);
    wait_for("sshd to listen", Duration::from_secs(10), || {
        reaches(&pair).then_some(())
    });
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("brute.yaml"),
        "id: brute\ntitle: Brute force\nseverity: high\nmitre: [T1110.001]\n\
         match: { type: FAILED_LOGIN }\n\
         threshold: { count: 5, within: 60s, group_by: [src_ip] }\nresponse: [block_ip]\n",
    )
    .unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(&log, "").unwrap();
    let config = dir.path().join("picket.yaml");
    std::fs::write(
        &config,
        "snapshot_interval_secs: 0\nmetrics_interval_secs: 0\nchecks_interval_secs: 0\n\
         file_integrity: {enabled: false}\njournald: off\n\
         response:\n  block_ip: {mode: enforce, ban_time_secs: 60}\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    add_user(d, "alice", "admin", "correct horse battery");
    add_user(d, "victor", "viewer", "correct horse battery");
    let (admin, viewer) = (bearer(d, "alice"), bearer(d, "victor"));
    let mut daemon = Command::new("ip")
        .args(["netns", "exec", &pair.server, PICKET, "run", "--config"])
        .arg(&config)
        .args([
            "--rules",
            rules.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
        ])
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:8470",
        ])
        .spawn()
        .unwrap();
    // The tailer is ready once the daemon saved the log's first checkpoint.
    wait_for("picket run", Duration::from_secs(20), || {
        let c = rusqlite::Connection::open(data.join("picket.sqlite")).ok()?;
        c.query_row(
            "SELECT 1 FROM checkpoints WHERE name LIKE 'file:%'",
            [],
            |_| Ok(()),
        )
        .ok()
    });
    let line = |n: u32| {
        format!(
            "2026-11-21T10:00:0{n}+00:00 web sshd[{n}]: Failed password for root from {} port 5000{n} ssh2\n",
            pair.client_ip
        )
    };
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    for n in 1..=4 {
        f.write_all(line(n).as_bytes()).unwrap();
    }
    f.flush().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(reaches(&pair), "blocked before the threshold");
    let crossed = Instant::now();
    f.write_all(line(5).as_bytes()).unwrap();
    f.flush().unwrap();
    wait_for("the nft element", Duration::from_secs(3), || {
        kernel_set(&pair.server)
            .contains(&pair.client_ip)
            .then_some(())
    });
    let took = crossed.elapsed();
    println!("blocked {took:?} after the line that crossed the threshold");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert!(!reaches(&pair));

    // Hostile "addresses" in log lines, six of each to cross the threshold: the parser
    // makes no event of them (they are not addresses), and nothing reaches nft. A normal
    // line after them shows they have been read.
    let hostile = [
        "1.2.3.4; nft flush ruleset",
        "$(nft flush ruleset)",
        "`reboot`",
        "1.2.3.4 } ; flush ruleset ; add element inet picket blocked4 { 5.6.7.8",
    ];
    // The firewall as the kernel lists it, without the countdown of running bans.
    let firewall = || {
        regex::Regex::new(r" expires [0-9a-z]+")
            .unwrap()
            .replace_all(&kernel_set(&pair.server), "")
            .into_owned()
    };
    let before = firewall();
    for (i, evil) in hostile.iter().enumerate() {
        for n in 0..6 {
            writeln!(f, "2026-11-21T10:01:{i}{n}+00:00 web sshd[9{i}{n}]: Failed password for root from {evil} port 4000{n} ssh2").unwrap();
        }
    }
    writeln!(f, "2026-11-21T10:02:00+00:00 web sshd[999]: Accepted password for alice from 198.51.100.20 port 40100 ssh2").unwrap();
    f.flush().unwrap();
    wait_for(
        "the line after the hostile ones",
        Duration::from_secs(10),
        || {
            let c = rusqlite::Connection::open(data.join("picket.sqlite")).ok()?;
            c.query_row(
                "SELECT 1 FROM events WHERE src_ip = '198.51.100.20'",
                [],
                |_| Ok(()),
            )
            .ok()
        },
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(firewall(), before, "the hostile lines changed the firewall");
    let c = rusqlite::Connection::open(data.join("picket.sqlite")).unwrap();
    let banned: Vec<String> = c
        .prepare("SELECT DISTINCT ip FROM bans")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        banned,
        vec![pair.client_ip.as_str()],
        "only the real address was banned"
    );

    // The API, from inside the namespace: list, lift, block again; refusals; roles.
    let api = |method: &str, path: &str, auth: &str, body: Option<&str>| -> (u16, String) {
        let mut cmd = Command::new("ip");
        cmd.args([
            "netns",
            "exec",
            &pair.server,
            "curl",
            "-s",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
        ])
        .args(["-X", method, "-H", &format!("Authorization: {auth}")])
        .args(["-H", "Content-Type: application/json"]);
        if let Some(b) = body {
            cmd.args(["--data-binary", b]);
        }
        let out = cmd
            .arg(format!("http://127.0.0.1:8470{path}"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (code.trim().parse().unwrap_or(0), body.to_string())
    };
    let ip = pair.client_ip.as_str();
    let (code, body) = api("GET", "/api/bans", &viewer, None);
    assert_eq!(code, 200, "{body}");
    assert!(
        body.contains(ip) && body.contains("\"mode\":\"enforce\""),
        "{body}"
    );
    assert_eq!(
        api("DELETE", &format!("/api/bans/{ip}"), &viewer, None).0,
        403
    );
    let (code, body) = api("DELETE", &format!("/api/bans/{ip}"), &admin, None);
    assert_eq!((code, body.contains("\"lifted\":1")), (200, true), "{body}");
    assert!(reaches(&pair), "the API's unblock did not lift the ban");
    let block = format!("{{\"ip\": \"{ip}\", \"for\": \"1h\", \"reason\": \"seen in the test\"}}");
    assert_eq!(api("POST", "/api/bans", &viewer, Some(&block)).0, 403);
    let (code, body) = api("POST", "/api/bans", &admin, Some(&block));
    assert_eq!(code, 200, "{body}");
    assert!(
        body.contains("\"enforced\":true") && body.contains("\"for_s\":3600"),
        "{body}"
    );
    assert!(!reaches(&pair));
    assert_eq!(
        api("POST", "/api/bans", &admin, Some(r#"{"ip": "127.0.0.1"}"#)).0,
        409
    );
    assert_eq!(
        api(
            "POST",
            "/api/bans",
            &admin,
            Some(r#"{"ip": "1.2.3.4; nft flush ruleset"}"#)
        )
        .0,
        400
    );
    let (_, audit) = api("GET", "/api/audit", &admin, None);
    assert!(
        audit.contains("ban.add") && audit.contains("ban.remove"),
        "{audit}"
    );
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    let _ = daemon.wait();
    // The kernel keeps the ban without Picket.
    assert!(kernel_set(&pair.server).contains(&pair.client_ip));
    sh(
        "ip",
        &[
            "netns",
            "exec",
            &pair.server,
            "nft",
            "delete",
            "table",
            "inet",
            "picket",
        ],
    );
}

/// The fallback for hosts without nftables: with `backend: iptables`, a ban is an element
/// with a timeout in Picket's ipset, matched by one DROP rule Picket adds once; it cuts
/// the client off, the kernel lets it back when it expires, and `unblock` lifts it.
#[test]
fn iptables_and_ipset_block_when_chosen() {
    require_root("blocking with iptables and ipset");
    let dir = tempfile::tempdir().unwrap();
    let (pair, _sshd, config) = sshd_pair_and_config(
        "pkips",
        "203.0.113.67",
        dir.path(),
        "  block_ip: { backend: iptables }\n",
    );
    let c = config.as_str();
    let in_server = |program: &str, args: &[&str]| {
        let out = Command::new("ip")
            .args(["netns", "exec", &pair.server, program])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for _ in 0..2 {
        let out = picket_in(
            &pair.server,
            &["block", "203.0.113.67", "--for", "3s", "--config", c],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let started = Instant::now();
    assert!(in_server("ipset", &["list", "picket4"]).contains("203.0.113.67 timeout"));
    let rules = in_server("iptables", &["-S", "INPUT"]);
    assert_eq!(
        rules.matches("--match-set picket4 src -j DROP").count(),
        1,
        "one rule however many bans: {rules}"
    );
    assert!(
        !kernel_set(&pair.server).contains("203.0.113.67"),
        "nftables was not used"
    );
    assert!(!reaches(&pair), "the client still connects");
    std::thread::sleep(Duration::from_secs(3).saturating_sub(started.elapsed()));
    wait_for("the ban to expire", Duration::from_secs(5), || {
        reaches(&pair).then_some(())
    });
    assert!(picket_in(
        &pair.server,
        &["block", "203.0.113.67", "--for", "1h", "--config", c]
    )
    .status
    .success());
    assert!(!reaches(&pair));
    let out = picket_in(&pair.server, &["unblock", "203.0.113.67", "--config", c]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(reaches(&pair), "unblock did not lift the ban");
    assert!(!in_server("ipset", &["list", "picket4"]).contains("203.0.113.67"));
}

/// IPv6 goes in Picket's `blocked6` set and is cut off like IPv4. (2001:db8::/32 is the
/// documentation prefix, the IPv6 counterpart of 203.0.113.0/24.)
#[test]
fn ipv6_addresses_are_blocked_too() {
    require_root("blocking with nftables");
    let dir = tempfile::tempdir().unwrap();
    let (pair, _sshd4, config) =
        sshd_pair_and_config("pkv6", "203.0.113.68", dir.path(), "  allowlist: []\n");
    let (server6, client6) = ("2001:db8:113::1", "2001:db8:113::68");
    for (ns, dev, addr) in [
        (&pair.server, "pkv6-s", server6),
        (&pair.client, "pkv6-c", client6),
    ] {
        common::sys::sh(
            "ip",
            &[
                "-n",
                ns,
                "addr",
                "add",
                &format!("{addr}/64"),
                "dev",
                dev,
                "nodad",
            ],
        );
    }
    let _sshd6 = Sshd::start(&pair.server, server6);
    let reaches6 = || {
        Command::new("ip")
            .args(["netns", "exec", &pair.client, "timeout", "1", "bash", "-c"])
            .arg(format!("exec 3<>/dev/tcp/{server6}/22"))
            .status()
            .is_ok_and(|s| s.success())
    };
    wait_for("sshd to listen on IPv6", Duration::from_secs(10), || {
        reaches6().then_some(())
    });
    let out = picket_in(
        &pair.server,
        &["block", client6, "--for", "1h", "--config", &config],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let set = Command::new("ip")
        .args([
            "netns",
            "exec",
            &pair.server,
            "nft",
            "list",
            "set",
            "inet",
            "picket",
            "blocked6",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&set.stdout).contains(client6));
    assert!(!reaches6(), "the IPv6 client still connects");
    assert!(reaches(&pair), "its IPv4 address was not banned");
    let out = picket_in(&pair.server, &["unblock", client6, "--config", &config]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(reaches6(), "unblock did not lift the IPv6 ban");
}
