//! Traffic accounting with real packets (root): a router namespace that forwards between
//! a LAN (198.51.100.0/24, two hosts on a bridge) and an outside host (203.0.113.5), with
//! an nftables forward chain that uses connection tracking, and `picket run` on the
//! router. Picket turns conntrack's byte accounting on, counts what each LAN device sent
//! and received, lists the busiest addresses, charts a device's minutes, and raises
//! TRAFFIC_PEAK (and the traffic-peak alert) for a host opening connections in a burst.
//! A second namespace that routes nothing and tracks no connections is counted from its
//! own TCP sockets, per remote address.

mod common;

use std::process::Command;
use std::time::Duration;

use common::netns;
use common::sys::{picket_cli, require_root, sh, sh_quiet, wait_for, ChildGuard};
use serde_json::Value;

const PYTHON: &str = "/usr/bin/python3";

/// Namespaces made by a test, killed and deleted on drop.
struct Namespaces(Vec<String>);

impl Namespaces {
    fn add(&mut self, name: &str) -> String {
        sh_quiet("ip", &["netns", "del", name]);
        sh("ip", &["netns", "add", name]);
        sh("ip", &["-n", name, "link", "set", "lo", "up"]);
        self.0.push(name.to_string());
        name.to_string()
    }

    /// A veth pair: `a_if` in `a`, `b_if` in `b`.
    fn link(&self, a: &str, a_if: &str, b: &str, b_if: &str) {
        let tmp = format!("{a_if}-{}", self.0.len());
        sh(
            "ip",
            &[
                "link", "add", &tmp, "type", "veth", "peer", "name", "pkt-tmp",
            ],
        );
        sh("ip", &["link", "set", &tmp, "netns", a]);
        sh("ip", &["-n", a, "link", "set", &tmp, "name", a_if]);
        sh("ip", &["link", "set", "pkt-tmp", "netns", b]);
        sh("ip", &["-n", b, "link", "set", "pkt-tmp", "name", b_if]);
        sh("ip", &["-n", a, "link", "set", a_if, "up"]);
        sh("ip", &["-n", b, "link", "set", b_if, "up"]);
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for ns in &self.0 {
            netns::remove(ns);
        }
    }
}

fn sysctl(ns: &str, setting: &str) {
    sh("ip", &["netns", "exec", ns, "sysctl", "-qw", setting]);
}

fn addr(ns: &str, dev: &str, cidr: &str) {
    sh("ip", &["-n", ns, "addr", "add", cidr, "dev", dev]);
}

/// Picket's API from inside `ns` (it listens on loopback port 8472).
fn api(ns: &str, auth: &str, path: &str) -> Value {
    netns::api_in(ns, 8472, auth, "GET", path, None)
}

/// Waits for the traffic reader's first reading (the baseline) and returns its status.
fn first_reading(ns: &str, auth: &str) -> Value {
    wait_for("the first traffic reading", Duration::from_secs(30), || {
        let s = api(ns, auth, "/api/traffic")["status"].clone();
        (!s.is_null()).then_some(s)
    })
}

fn peer<'a>(top: &'a Value, addr: &str) -> Option<&'a Value> {
    top["peers"].as_array()?.iter().find(|p| p["addr"] == addr)
}

/// A TCP server in `ns` on `port` that sends `bytes` to each client, then waits for it
/// to close.
fn serve(ns: &str, ip: &str, port: u16, bytes: usize) -> ChildGuard {
    let code = format!(
        "import socket,threading\n\
         s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('{ip}',{port})); s.listen(512)\n\
         def one(c):\n\
         \x20   try:\n\
         \x20       c.sendall(b'x'*{bytes}); c.recv(1)\n\
         \x20   finally: c.close()\n\
         while True:\n\
         \x20   c,_=s.accept(); threading.Thread(target=one,args=(c,),daemon=True).start()\n"
    );
    let g = ChildGuard(
        Command::new("ip")
            .args(["netns", "exec", ns, PYTHON, "-c", &code])
            .spawn()
            .unwrap(),
    );
    wait_for("the server", Duration::from_secs(10), || {
        let out = sh("ip", &["netns", "exec", ns, "ss", "-Hltn"]);
        out.contains(&format!("{ip}:{port}")).then_some(())
    });
    g
}

/// From `ns`, `count` connections to ip:port, each reading the `per` bytes the server
/// sends; all held open `hold` seconds more, then closed.
fn fetch(ns: &str, ip: &str, port: u16, count: usize, per: usize, hold: f64) {
    let code = format!(
        "import socket,time\n\
         cs=[socket.create_connection(('{ip}',{port})) for i in range({count})]\n\
         for c in cs:\n\
         \x20   c.settimeout(10); got=0\n\
         \x20   while got < {per}:\n\
         \x20       b=c.recv(65536)\n\
         \x20       assert b, 'closed early'\n\
         \x20       got+=len(b)\n\
         time.sleep({hold})\n\
         for c in cs: c.close()\n"
    );
    sh("ip", &["netns", "exec", ns, PYTHON, "-c", &code]);
}

#[test]
fn a_router_counts_forwarded_traffic_per_device_and_alerts_a_connection_burst() {
    require_root("network namespaces");
    let mut ns = Namespaces(Vec::new());
    let router = ns.add("pkt-router");
    let pc = ns.add("pkt-pc");
    let tv = ns.add("pkt-tv");
    let outside = ns.add("pkt-out");
    // The LAN: a bridge on the router with both hosts; the outside: one link.
    sh(
        "ip",
        &["-n", &router, "link", "add", "br0", "type", "bridge"],
    );
    sh("ip", &["-n", &router, "link", "set", "br0", "up"]);
    addr(&router, "br0", "198.51.100.1/24");
    for (host, ip, mac) in [
        (&pc, "198.51.100.10/24", "00:1b:21:4b:00:10"),
        (&tv, "198.51.100.11/24", "00:11:32:4b:00:11"),
    ] {
        let port = format!("p-{}", &host[4..]);
        ns.link(&router, &port, host, "eth0");
        sh(
            "ip",
            &["-n", &router, "link", "set", &port, "master", "br0"],
        );
        sh("ip", &["-n", host, "link", "set", "eth0", "address", mac]);
        addr(host, "eth0", ip);
        sh(
            "ip",
            &["-n", host, "route", "add", "default", "via", "198.51.100.1"],
        );
    }
    ns.link(&router, "wan0", &outside, "eth0");
    addr(&router, "wan0", "203.0.113.1/24");
    addr(&outside, "eth0", "203.0.113.5/24");
    sh(
        "ip",
        &[
            "-n",
            &outside,
            "route",
            "add",
            "default",
            "via",
            "203.0.113.1",
        ],
    );
    sysctl(&router, "net.ipv4.ip_forward=1");
    // A router's usual stateful forward rule: it makes the kernel track connections here.
    sh(
        "ip",
        &[
            "netns", "exec", &router, "nft",
            "add table inet pkt; add chain inet pkt routed { type filter hook forward priority 0; policy accept; }; add rule inet pkt routed ct state established,related accept",
        ],
    );
    sysctl(&router, "net.netfilter.nf_conntrack_acct=0");

    let dir = tempfile::tempdir().unwrap();
    let (_picket, auth) = netns::picket_in(
        &router,
        dir.path(),
        8472,
        "lan: { interval_secs: 2, rate_per_sec: 2000 }\n\
         traffic: { interval_secs: 1, peak_connections_per_min: 50, peak_packets_per_min: 0 }\n",
    );
    let status = first_reading(&router, &auth);
    assert_eq!(status["source"], "conntrack", "{status}");
    assert_eq!(status["view"], "forwarded", "{status}");
    assert_eq!(status["forwarding"], true, "{status}");
    let acct = sh(
        "ip",
        &[
            "netns",
            "exec",
            &router,
            "sysctl",
            "-n",
            "net.netfilter.nf_conntrack_acct",
        ],
    );
    assert_eq!(acct.trim(), "1", "Picket turns byte accounting on");

    // The PC downloads 2 MB from outside over 2 connections; the TV opens 120 small ones.
    let _server = serve(&outside, "203.0.113.5", 8080, 1_000_000);
    fetch(&pc, "203.0.113.5", 8080, 2, 1_000_000, 0.0);
    // And sends 5 UDP datagrams of 1,000 bytes (1,028 on the wire): conntrack counts UDP.
    sh(
        "ip",
        &[
            "netns", "exec", &pc, PYTHON, "-c",
            "import socket\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor i in range(5): s.sendto(b'u'*1000, ('203.0.113.5', 9999))",
        ],
    );
    let _small = serve(&outside, "203.0.113.5", 8081, 100);
    fetch(&tv, "203.0.113.5", 8081, 120, 100, 0.0);

    let top = wait_for("both devices counted", Duration::from_secs(30), || {
        let t = api(&router, &auth, "/api/traffic?since=10m");
        let pc_ok =
            peer(&t, "198.51.100.10").is_some_and(|p| p["rx_bytes"].as_i64() >= Some(2_000_000));
        let tv_ok =
            peer(&t, "198.51.100.11").is_some_and(|p| p["connections"].as_i64() >= Some(120));
        (pc_ok && tv_ok).then_some(t)
    });
    let p = peer(&top, "198.51.100.10").unwrap();
    assert_eq!(p["scope"], "forwarded", "{p}");
    // The downloads and datagrams: 2 MB in, 5 × 1,028 bytes out at least.
    assert!(p["rx_bytes"].as_i64().unwrap() < 2_200_000, "{p}");
    assert!(p["tx_bytes"].as_i64().unwrap() >= 5 * 1028, "{p}");
    assert!(p["connections"].as_i64().unwrap() >= 3, "{p}");
    assert!(
        p["rx_packets"].as_i64().unwrap() >= 5 && p["tx_packets"].as_i64().unwrap() >= 5,
        "{p}"
    );
    // The busiest first; the outside host is not a device of this LAN (it was reached, not routed for).
    assert_eq!(top["peers"][0]["addr"], "198.51.100.10", "{top}");
    assert!(peer(&top, "203.0.113.5").is_none(), "{top}");

    // `picket traffic` reads the same from the store.
    let data = dir.path().join("data");
    let cli = |args: &[&str]| {
        picket_cli(
            &[args, &["--data-dir", data.to_str().unwrap()]].concat(),
            "",
        )
    };
    let json = cli(&["traffic", "--json", "--since", "10m"]);
    let first: Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(first["addr"], "198.51.100.10", "{json}");
    let table = cli(&["traffic", "--scope", "forwarded"]);
    assert!(
        table.starts_with("# this host routes traffic: per LAN device"),
        "{table}"
    );
    assert!(table.contains("198.51.100.11"), "{table}");

    // Discovery found the PC: its page's series add up to the same totals.
    let dev = wait_for("the PC as a device", Duration::from_secs(30), || {
        let t = api(&router, &auth, "/api/traffic?since=10m");
        peer(&t, "198.51.100.10").and_then(|p| p["device"]["id"].as_i64())
    });
    let series = api(
        &router,
        &auth,
        &format!("/api/traffic/devices/{dev}?since=1h"),
    );
    assert_eq!(series["resolution_s"], 60, "{series}");
    assert!(
        series["totals"]["rx_bytes"].as_i64().unwrap() >= 2_000_000,
        "{series}"
    );
    assert!(!series["points"].as_array().unwrap().is_empty(), "{series}");
    assert_eq!(series["status"]["view"], "forwarded");

    // The TV's burst of connections is a TRAFFIC_PEAK and an alert, once.
    let found = wait_for("the traffic-peak alert", Duration::from_secs(30), || {
        let a = netns::alerts_of(&dir.path().join("data"), "traffic-peak");
        (!a.is_empty()).then_some(a)
    });
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0]["group"]["src_ip"], "198.51.100.11",
        "{:?}",
        found[0]
    );
}

#[test]
fn a_host_that_routes_nothing_counts_its_own_tcp_connections_per_remote() {
    require_root("network namespaces");
    let mut ns = Namespaces(Vec::new());
    let server = ns.add("pkt-srv");
    let client = ns.add("pkt-cli");
    ns.link(&server, "eth0", &client, "eth0");
    addr(&server, "eth0", "203.0.113.20/24");
    addr(&client, "eth0", "203.0.113.21/24");
    sysctl(&server, "net.ipv4.ip_forward=0");

    let dir = tempfile::tempdir().unwrap();
    let (_picket, auth) = netns::picket_in(
        &server,
        dir.path(),
        8472,
        "lan: { interval_secs: 0 }\ntraffic: { interval_secs: 1 }\n",
    );
    first_reading(&server, &auth);

    let _srv = serve(&server, "203.0.113.20", 9000, 3_000_000);
    // Held open past a reading: a socket is seen only while it exists.
    fetch(&client, "203.0.113.20", 9000, 1, 3_000_000, 2.5);
    let top = wait_for("the client counted", Duration::from_secs(30), || {
        let t = api(&server, &auth, "/api/traffic?since=10m&scope=host");
        peer(&t, "203.0.113.21")
            .is_some_and(|p| p["rx_bytes"].as_i64() >= Some(3_000_000))
            .then_some(t)
    });
    // Connection tracking is loaded on this machine but nothing uses it in this namespace:
    // the sockets are counted, and the status says so.
    let status = &top["status"];
    assert_eq!(status["source"], "sockets", "{status}");
    assert_eq!(status["view"], "host", "{status}");
    assert_eq!(status["forwarding"], false, "{status}");
    assert!(status["note"].as_str().unwrap().contains("TCP"), "{status}");
    let p = peer(&top, "203.0.113.21").unwrap();
    assert_eq!(p["scope"], "host", "{p}");
    assert!(
        p["rx_bytes"].as_i64().unwrap() <= 3_000_000,
        "acknowledged bytes only: {p}"
    );
    assert!(
        p["rx_packets"].as_i64().unwrap() > 0 && p["connections"].as_i64().unwrap() == 1,
        "{p}"
    );
    // Nothing of this host's talk with itself, and no forwarded view.
    assert!(
        top["peers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["addr"] != "127.0.0.1"),
        "{top}"
    );
    assert!(api(&server, &auth, "/api/traffic?scope=forwarded")["peers"]
        .as_array()
        .unwrap()
        .is_empty());
}
