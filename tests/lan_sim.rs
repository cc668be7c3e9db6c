//! LAN discovery on a simulated LAN (root): a bridge in a "switch" namespace and hosts in
//! their own namespaces, each with a MAC from a real vendor's OUI block and an address in
//! 198.51.100.0/24; `picket run` in a monitor namespace scans it with real ARP packets.
//! Discovery finds every host with the right address and MAC; a host taken down goes
//! offline; a new host and a MAC change raise their alerts; a host answering ARP for the
//! gateway's address is caught as spoofing; a trusted host's change is recorded but not
//! alerted; `picket devices scan` sees the same hosts.

mod common;

use std::process::Command;
use std::time::Duration;

use common::netns::{alerts_of, api_in, devices_in, picket_in, Lan};
use common::sys::{require_root, sh, wait_for};
use serde_json::Value;

const PICKET: &str = env!("CARGO_BIN_EXE_picket");

/// Picket's API from inside the monitor namespace (it listens on loopback port 8471).
fn api(ns: &str, auth: &str, method: &str, path: &str, body: Option<&str>) -> Value {
    api_in(ns, 8471, auth, method, path, body)
}

fn devices(ns: &str, auth: &str) -> Vec<Value> {
    devices_in(ns, 8471, auth)
}

fn device<'a>(list: &'a [Value], mac: &str) -> Option<&'a Value> {
    list.iter().find(|d| d["mac"] == mac)
}

const GW: (&str, &str) = ("00:1b:21:4a:00:01", "198.51.100.1"); // Intel
const PI: (&str, &str) = ("b8:27:eb:4a:00:10", "198.51.100.10"); // Raspberry Pi Foundation
const MAC_: (&str, &str) = ("00:1c:b3:4a:00:11", "198.51.100.11"); // Apple
const CAM: (&str, &str) = ("00:0c:29:4a:00:12", "198.51.100.12"); // VMware
const NAS: (&str, &str) = ("00:11:32:4a:00:13", "198.51.100.13"); // Synology
const MONITOR: (&str, &str) = ("00:25:90:4a:00:02", "198.51.100.2"); // Super Micro

#[test]
fn a_simulated_lan_is_discovered_and_its_changes_alerted() {
    require_root("a simulated LAN of network namespaces");
    let mut lan = Lan::new("pkl");
    lan.plug("gw", GW.0, GW.1);
    lan.plug("pi", PI.0, PI.1);
    lan.plug("mac", MAC_.0, MAC_.1);
    lan.plug("cam", CAM.0, CAM.1);
    lan.plug("nas", NAS.0, NAS.1);
    lan.plug("mon", MONITOR.0, MONITOR.1);
    let mon = lan.ns("mon");
    sh("ip", &["-n", &mon, "route", "add", "default", "via", GW.1]);

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (_picket, auth) = picket_in(
        &mon,
        dir.path(),
        8471,
        "lan: { interval_secs: 1, absent_secs: 5, rate_per_sec: 2000 }\n",
    );

    // Every host, with its address and MAC.
    let list = wait_for("five devices", Duration::from_secs(30), || {
        let l = devices(&mon, &auth);
        (l.len() == 5).then_some(l)
    });
    for ((mac, ip), vendor) in [
        (GW, "Intel Corporate"),
        (PI, "Raspberry Pi Foundation"),
        (MAC_, "Apple, Inc."),
        (CAM, "VMware, Inc."),
        (NAS, "Synology Incorporated"),
    ] {
        let dev = device(&list, mac).unwrap_or_else(|| panic!("{mac} not found in {list:?}"));
        assert_eq!(dev["vendor"], vendor, "{dev}");
        assert_eq!(dev["ip"], ip, "{dev}");
        assert_eq!(dev["online"], true);
        assert_eq!(dev["randomized"], false);
    }
    // Their IPv6 link-local addresses too, from NDP (after an echo to ff02::1).
    wait_for("IPv6 addresses from NDP", Duration::from_secs(20), || {
        let l = devices(&mon, &auth);
        [GW.0, PI.0, NAS.0]
            .iter()
            .all(|mac| {
                device(&l, mac)
                    .is_some_and(|d| d["ipv6"].as_str().is_some_and(|a| a.starts_with("fe80::")))
            })
            .then_some(())
    });
    wait_for(
        "a new-device alert for each",
        Duration::from_secs(10),
        || (alerts_of(&data, "lan-new-device").len() == 5).then_some(()),
    );
    let counts = api(&mon, &auth, "GET", "/api/devices", None);
    assert_eq!(
        (counts["total"].as_i64(), counts["new_today"].as_i64()),
        (Some(5), Some(5))
    );

    // Trust the Pi; then it moves to another address: recorded, not alerted.
    let pi_id = device(&list, PI.0).unwrap()["id"].as_i64().unwrap();
    let r = api(
        &mon,
        &auth,
        "PATCH",
        &format!("/api/devices/{pi_id}"),
        Some(r#"{"trusted": true, "name": "kitchen pi"}"#),
    );
    assert_eq!(
        (r["trusted"].as_bool(), r["name"].as_str()),
        (Some(true), Some("kitchen pi")),
        "{r}"
    );
    let pi = lan.ns("pi");
    sh("ip", &["-n", &pi, "addr", "flush", "dev", "eth0"]);
    sh(
        "ip",
        &["-n", &pi, "addr", "add", "198.51.100.20/24", "dev", "eth0"],
    );
    wait_for("the Pi's new address", Duration::from_secs(15), || {
        let h = api(&mon, &auth, "GET", &format!("/api/devices/{pi_id}"), None);
        (h["ip"] == "198.51.100.20").then_some(h)
    });

    // The camera is unplugged: offline after the absence.
    sh("ip", &["-n", &lan.ns("cam"), "link", "set", "eth0", "down"]);
    wait_for("the camera offline", Duration::from_secs(45), || {
        let l = devices(&mon, &auth);
        (device(&l, CAM.0)?["online"] == false).then_some(())
    });

    // The Mac's network card is replaced: a new device, and the address changing hands.
    let mac_ns = lan.ns("mac");
    sh("ip", &["-n", &mac_ns, "link", "set", "eth0", "down"]);
    sh(
        "ip",
        &[
            "-n",
            &mac_ns,
            "link",
            "set",
            "eth0",
            "address",
            "00:1c:b3:4a:00:99",
        ],
    );
    sh("ip", &["-n", &mac_ns, "link", "set", "eth0", "up"]);
    wait_for("the address-changed alert", Duration::from_secs(20), || {
        alerts_of(&data, "lan-device-changed")
            .iter()
            .any(|a| a["group"]["extra.mac"] == "00:1c:b3:4a:00:99")
            .then_some(())
    });

    // A stranger joins.
    let stranger = "dc:a6:32:4a:00:30";
    lan.plug("new", stranger, "198.51.100.30");
    wait_for("the stranger's alert", Duration::from_secs(20), || {
        alerts_of(&data, "lan-new-device")
            .iter()
            .any(|a| a["group"]["extra.mac"] == stranger)
            .then_some(())
    });

    // A phone with a randomized MAC: no vendor, its own alert; known vendors raised none.
    let phone = "02:5e:a1:4a:00:31";
    lan.plug("phone", phone, "198.51.100.31");
    wait_for(
        "the randomized MAC's alert",
        Duration::from_secs(20),
        || {
            alerts_of(&data, "lan-randomized-or-unknown-vendor")
                .iter()
                .any(|a| a["group"]["extra.mac"] == phone)
                .then_some(())
        },
    );
    let odd: Vec<Value> = alerts_of(&data, "lan-randomized-or-unknown-vendor");
    assert_eq!(odd.len(), 1, "only the randomized MAC: {odd:?}");
    let l = devices(&mon, &auth);
    let p = device(&l, phone).unwrap();
    assert_eq!(
        (p["randomized"].as_bool(), p["vendor"].is_null()),
        (Some(true), true),
        "{p}"
    );
    assert_eq!(
        device(&l, stranger).unwrap()["vendor"],
        "Raspberry Pi Trading Ltd"
    );

    // The NAS answers ARP for the gateway's address too: spoofing.
    sh(
        "ip",
        &[
            "-n",
            &lan.ns("nas"),
            "addr",
            "add",
            &format!("{}/32", GW.1),
            "dev",
            "eth0",
        ],
    );
    let spoof = wait_for("the ARP spoofing alert", Duration::from_secs(20), || {
        alerts_of(&data, "lan-arp-spoofing").into_iter().next()
    });
    assert_eq!(spoof["severity"], "critical");
    assert_eq!(spoof["group"]["src_ip"], GW.1);
    assert_eq!(spoof["group"]["extra.mac"], NAS.0);

    // The trusted Pi's move is in its history but raised nothing.
    let h = api(&mon, &auth, "GET", &format!("/api/devices/{pi_id}"), None);
    let kinds: Vec<&str> = h["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"DEVICE_IP_CHANGED") && kinds.contains(&"CHANGED"),
        "{kinds:?}"
    );
    assert!(
        !alerts_of(&data, "lan-device-changed")
            .iter()
            .any(|a| a["group"]["extra.mac"] == PI.0),
        "the trusted Pi raised an alert"
    );

    // `picket devices scan` from the monitor sees who answers now.
    let seen: Vec<Value> = sh(
        "ip",
        &["netns", "exec", &mon, PICKET, "devices", "scan", "--json"],
    )
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect();
    for (mac, ip) in [
        (GW.0, GW.1),
        (NAS.0, GW.1),
        (stranger, "198.51.100.30"),
        (PI.0, "198.51.100.20"),
    ] {
        assert!(
            seen.iter().any(|s| s["mac"] == mac && s["ip"] == ip),
            "{mac} at {ip} not in the scan: {seen:?}"
        );
    }
    assert!(
        !seen.iter().any(|s| s["mac"] == CAM.0),
        "the unplugged camera answered"
    );

    // Without CAP_NET_RAW (as nobody): no ARP scan, but a ping sweep over unprivileged
    // ICMP sockets fills the emptied neighbour table with the hosts that are up.
    sh(
        "ip",
        &[
            "netns",
            "exec",
            &mon,
            "sysctl",
            "-qw",
            "net.ipv4.ping_group_range=0 2147483647",
        ],
    );
    sh("ip", &["-n", &mon, "neigh", "flush", "all"]);
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &mon,
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
        ])
        .args(["--clear-groups", "--", PICKET, "devices", "scan", "--json"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("CAP_NET_RAW"),
        "no word about the missing capability: {said}"
    );
    let seen: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for mac in [PI.0, stranger, "00:1c:b3:4a:00:99"] {
        assert!(
            seen.iter().any(|s| s["mac"] == mac),
            "{mac} not found by the unprivileged sweep: {seen:?}"
        );
    }
}
