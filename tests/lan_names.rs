//! Device names on a simulated LAN (root): a bridge in a "switch" namespace and hosts in
//! their own namespaces (prefix `pkn-`, addresses in 198.51.100.0/24), with real name
//! services: dnsmasq as the monitor's nameserver (its resolv.conf comes from
//! /etc/netns/pkn-mon/), avahi-daemon answering mDNS and Samba's nmbd answering NetBIOS.
//! `picket devices scan` and `picket run` in the monitor namespace name each host by the
//! protocol that should win (reverse DNS, else mDNS, else NetBIOS), leave a silent host
//! nameless, look a moved host up again, and keep a changed name in its history.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::netns::{api_in, devices_in, Lan};
use common::sys::{require_root, sh, wait_for, ChildGuard};
use serde_json::Value;

const PICKET: &str = env!("CARGO_BIN_EXE_picket");

/// `/etc/netns/<ns>/resolv.conf`, which `ip netns exec` bind-mounts over
/// /etc/resolv.conf: the monitor's own nameserver. Removed (with the directory) on drop.
struct NetnsResolvConf(PathBuf);

impl NetnsResolvConf {
    fn new(ns: &str, nameserver: &str) -> NetnsResolvConf {
        let dir = Path::new("/etc/netns").join(ns);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("resolv.conf"),
            format!("nameserver {nameserver}\n"),
        )
        .unwrap();
        NetnsResolvConf(dir)
    }
}

impl Drop for NetnsResolvConf {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0.join("resolv.conf"));
        let _ = std::fs::remove_dir(&self.0);
        let _ = std::fs::remove_dir("/etc/netns");
    }
}

/// A daemon in a namespace, its output in `log`; killed (and reaped) on drop.
fn spawn_in(ns: &str, log: &Path, program: &str, args: &[&str]) -> ChildGuard {
    let out = std::fs::File::create(log).unwrap();
    let err = out.try_clone().unwrap();
    ChildGuard(
        Command::new("ip")
            .args(["netns", "exec", ns, program])
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}")),
    )
}

/// dnsmasq answering `ptr` records (address, name) on `listen`:53, nothing else: no
/// upstream, no /etc/hosts, no configuration file, no pid file, no dropping to a user.
fn dnsmasq(ns: &str, dir: &Path, listen: &str, ptr: &[(&str, &str)]) -> ChildGuard {
    let mut args = vec![
        "--no-daemon".to_string(),
        "--conf-file=/dev/null".into(),
        "--no-resolv".into(),
        "--no-hosts".into(),
        "--port=53".into(),
        format!("--listen-address={listen}"),
        "--bind-interfaces".into(),
        "--pid-file=".into(),
        "--user=root".into(),
        "--group=root".into(),
        "--log-queries".into(),
        "--log-facility=-".into(),
    ];
    for (ip, name) in ptr {
        let rev: Vec<&str> = ip.split('.').rev().collect();
        args.push(format!(
            "--ptr-record={}.in-addr.arpa,{name}",
            rev.join(".")
        ));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    spawn_in(ns, &dir.join("dnsmasq.log"), "dnsmasq", &args)
}

/// avahi-daemon publishing `host_name`.local for the namespace's eth0 address. Its pid
/// file and socket live in /run/avahi-daemon, compiled in, so each instance gets its own
/// tmpfs on /run inside the mount namespace `ip netns exec` makes (nothing reaches the
/// host's /run); no D-Bus, no chroot, no privilege drop.
fn avahi(ns: &str, dir: &Path, host_name: &str) -> ChildGuard {
    let conf = dir.join(format!("avahi-{host_name}.conf"));
    std::fs::write(
        &conf,
        format!(
            "[server]\nhost-name={host_name}\nuse-ipv4=yes\nuse-ipv6=no\n\
             allow-interfaces=eth0\nenable-dbus=no\n\
             [publish]\npublish-addresses=yes\npublish-workstation=no\n"
        ),
    )
    .unwrap();
    let log = dir.join(format!("avahi-{host_name}.log"));
    let guard = spawn_in(
        ns,
        &log,
        "sh",
        &[
            "-c",
            "mount -t tmpfs tmpfs /run && mkdir /run/avahi-daemon && exec \"$@\"",
            "sh",
            "avahi-daemon",
            "--no-drop-root",
            "--no-chroot",
            "--no-rlimits",
            "--no-proc-title",
            "-f",
            conf.to_str().unwrap(),
        ],
    );
    wait_for(
        &format!("avahi-daemon as {host_name}.local"),
        Duration::from_secs(20),
        || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            text.contains(&format!("Host name is {host_name}.local"))
                .then_some(())
        },
    );
    guard
}

/// Samba's nmbd registering `netbios_name` on eth0 only, with every directory it writes
/// in `dir` (nothing in /var/lib/samba or /run/samba), not a master browser.
fn nmbd(ns: &str, dir: &Path, netbios_name: &str) -> ChildGuard {
    let d = dir.join(format!("nmbd-{netbios_name}"));
    for sub in ["lock", "state", "cache", "pid", "private", "log"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    let p = |sub: &str| d.join(sub).to_str().unwrap().to_string();
    let conf = d.join("smb.conf");
    std::fs::write(
        &conf,
        format!(
            "[global]\nnetbios name = {netbios_name}\nworkgroup = PKNTEST\ninterfaces = eth0\n\
             bind interfaces only = yes\nlock directory = {}\nstate directory = {}\n\
             cache directory = {}\npid directory = {}\nprivate dir = {}\nlog file = {}/%m.log\n\
             local master = no\ndomain master = no\npreferred master = no\nwins support = no\n\
             dns proxy = no\n",
            p("lock"),
            p("state"),
            p("cache"),
            p("pid"),
            p("private"),
            p("log")
        ),
    )
    .unwrap();
    spawn_in(
        ns,
        &d.join("nmbd.out"),
        "nmbd",
        &[
            "-F",
            "--no-process-group",
            "--debug-stdout",
            "-s",
            conf.to_str().unwrap(),
        ],
    )
}

/// Waits until `ip` lists `name` as its workstation name (nmbd registers its names a few
/// seconds after it starts), asked with Samba's own nmblookup from `from`.
fn wait_for_netbios(from: &str, ip: &str, name: &str) {
    wait_for(
        &format!("nmbd's {name} at {ip}"),
        // nmbd registers its names after a start-up delay that a loaded machine stretches:
        // a bound, not a wait (the lookup is retried until the name answers).
        Duration::from_secs(90),
        || {
            let out = Command::new("ip")
                .args(["netns", "exec", from, "nmblookup", "-A", ip])
                .output()
                .ok()?;
            let text = String::from_utf8_lossy(&out.stdout);
            text.lines()
                .any(|l| {
                    l.trim_start().starts_with(name)
                        && l.contains("<00>")
                        && !l.contains("<GROUP>")
                        && l.contains("<ACTIVE>")
                })
                .then_some(())
        },
    );
}

/// Runs Picket in `ns` with `args` and returns its standard output; fails when it has
/// not finished in a minute (a bounded names step ends in about a second).
fn picket_in(ns: &str, args: &[&str]) -> String {
    let mut child = ChildGuard(
        Command::new("ip")
            .args(["netns", "exec", ns, PICKET])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let status = wait_for(
        &format!("picket {args:?} to finish"),
        Duration::from_secs(60),
        || child.0.try_wait().unwrap(),
    );
    let mut out = String::new();
    let mut err = String::new();
    use std::io::Read;
    child
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "picket {args:?} failed: {err}");
    out
}

/// Picket's API from inside the monitor namespace (it listens on loopback port 8472).
fn api(ns: &str, auth: &str, path: &str) -> Value {
    api_in(ns, 8472, auth, "GET", path, None)
}

fn devices(ns: &str, auth: &str) -> Vec<Value> {
    devices_in(ns, 8472, auth)
}

/// The (hostname, source) of the entry with `key` = `value`, null when nameless.
fn name_of<'a>(list: &'a [Value], key: &str, value: &str) -> Option<(&'a Value, &'a Value)> {
    list.iter()
        .find(|d| d[key] == value)
        .map(|d| (&d["hostname"], &d["hostname_source"]))
}

// Hosts: MACs from real vendors' blocks, addresses in 198.51.100.0/24.
const MONITOR: (&str, &str) = ("00:25:90:4b:00:02", "198.51.100.2");
/// The nameserver; it has a PTR record of its own.
const NS: (&str, &str) = ("00:1b:21:4b:00:35", "198.51.100.53");
/// In DNS and on mDNS: DNS wins.
const FILES: (&str, &str) = ("00:11:32:4b:00:10", "198.51.100.10");
/// On mDNS and NetBIOS: mDNS wins.
const PRINTER: (&str, &str) = ("00:00:48:4b:00:20", "198.51.100.20");
/// NetBIOS only.
const WINBOX: (&str, &str) = ("00:1c:b3:4b:00:30", "198.51.100.30");
/// Answers nothing.
const QUIET: (&str, &str) = ("b8:27:eb:4b:00:40", "198.51.100.40");
/// Where WINBOX moves later: an address DNS has a name for.
const WINBOX_MOVED: &str = "198.51.100.31";

#[test]
fn devices_are_named_by_reverse_dns_then_mdns_then_netbios() {
    require_root("a simulated LAN of network namespaces");
    let dir = tempfile::tempdir().unwrap();
    let mut lan = Lan::new("pkn");
    let mon = lan.plug("mon", MONITOR.0, MONITOR.1);
    let ns = lan.plug("ns", NS.0, NS.1);
    let files = lan.plug("files", FILES.0, FILES.1);
    let printer = lan.plug("printer", PRINTER.0, PRINTER.1);
    let winbox = lan.plug("winbox", WINBOX.0, WINBOX.1);
    lan.plug("quiet", QUIET.0, QUIET.1);
    let _resolv = NetnsResolvConf::new(&mon, NS.1);

    let _dns = dnsmasq(
        &ns,
        dir.path(),
        NS.1,
        &[
            (NS.1, "ns.example"),
            (FILES.1, "fileserver.example"),
            (WINBOX_MOVED, "winbox.example"),
        ],
    );
    let _files_mdns = avahi(&files, dir.path(), "files-mdns");
    let _printer_mdns = avahi(&printer, dir.path(), "printer");
    let _printer_nb = nmbd(&printer, dir.path(), "PRINTERNB");
    let _winbox_nb = nmbd(&winbox, dir.path(), "WINBOX");
    wait_for_netbios(&mon, PRINTER.1, "PRINTERNB");
    wait_for_netbios(&mon, WINBOX.1, "WINBOX");

    // `picket devices scan`: one lookup for everything it found, in the JSON lines.
    let out = picket_in(&mon, &["devices", "scan", "--interface", "eth0", "--json"]);
    let seen: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let want = [
        (NS.1, Some(("ns.example", "dns"))),
        (FILES.1, Some(("fileserver.example", "dns"))),
        (PRINTER.1, Some(("printer.local", "mdns"))),
        (WINBOX.1, Some(("WINBOX", "netbios"))),
        (QUIET.1, None),
    ];
    for (ip, name) in want {
        let got = name_of(&seen, "ip", ip).unwrap_or_else(|| panic!("{ip} not scanned: {seen:?}"));
        match name {
            Some((n, via)) => assert_eq!(got, (&Value::from(n), &Value::from(via)), "{ip}"),
            None => assert!(got.0.is_null() && got.1.is_null(), "{ip}: {got:?}"),
        }
    }
    // The scan's other fields are as before.
    let quiet = seen.iter().find(|s| s["ip"] == QUIET.1).unwrap();
    assert_eq!(quiet["mac"], QUIET.0);
    assert_eq!(quiet["vendor"], "Raspberry Pi Foundation");
    // Without names: no lookups, null names.
    let out = picket_in(
        &mon,
        &[
            "devices",
            "scan",
            "--interface",
            "eth0",
            "--json",
            "--no-names",
        ],
    );
    assert!(out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .all(|s| s["hostname"].is_null()));

    // `picket run`: names land in the store and the API.
    let (_picket, auth) = common::netns::picket_in(
        &mon,
        dir.path(),
        8472,
        "lan: { interval_secs: 2, absent_secs: 600, interfaces: [eth0], names_timeout_ms: 1000 }\n",
    );
    let list = wait_for("every host named", Duration::from_secs(40), || {
        let l = devices(&mon, &auth);
        let named = l.iter().filter(|d| !d["hostname"].is_null()).count();
        (l.len() == 5 && named == 4).then_some(l)
    });
    for (ip, name) in want {
        let got = name_of(&list, "ip", ip).unwrap();
        match name {
            Some((n, via)) => assert_eq!(got, (&Value::from(n), &Value::from(via)), "{ip}"),
            None => assert!(got.0.is_null(), "{ip}: {got:?}"),
        }
    }

    // WINBOX moves to an address DNS has a name for: looked up again at once, and the
    // change is in its history.
    sh("ip", &["-n", &winbox, "addr", "flush", "dev", "eth0"]);
    sh(
        "ip",
        &[
            "-n",
            &winbox,
            "addr",
            "add",
            &format!("{WINBOX_MOVED}/24"),
            "dev",
            "eth0",
        ],
    );
    let moved = wait_for("WINBOX's new name", Duration::from_secs(30), || {
        let l = devices(&mon, &auth);
        let d = l.into_iter().find(|d| d["mac"] == WINBOX.0)?;
        (d["hostname"] == "winbox.example").then_some(d)
    });
    assert_eq!(moved["hostname_source"], "dns");
    assert_eq!(moved["ip"], WINBOX_MOVED);
    let id = moved["id"].as_i64().unwrap();
    let h = api(&mon, &auth, &format!("/api/devices/{id}"));
    let changes: Vec<&str> = h["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "HOSTNAME_CHANGED")
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    assert_eq!(
        changes,
        [format!(
            "hostname WINBOX is now winbox.example (dns) at {WINBOX_MOVED}"
        )],
        "{h}"
    );
    // The others keep their names, looked up once by `picket run` (not every round):
    // the nameserver was asked for the file server's name twice in all, by the first scan
    // and by the run's first round.
    let l = devices(&mon, &auth);
    assert_eq!(
        name_of(&l, "mac", PRINTER.0),
        Some((&Value::from("printer.local"), &Value::from("mdns")))
    );
    let queries = std::fs::read_to_string(dir.path().join("dnsmasq.log")).unwrap();
    let asked = queries
        .lines()
        .filter(|l| l.contains("query[PTR] 10.100.51.198.in-addr.arpa from 198.51.100.2"))
        .count();
    assert_eq!(asked, 2, "{queries}");
}
