//! Host metrics in a real `picket run`: sampled on the configured interval, stored (they
//! survive a restart) and served by `/api/metrics/history` with every series family.

mod common;

use std::time::Duration;

use common::http::request;
use common::sys::{add_user, bearer, wait_for, Picket};

#[test]
fn metrics_are_sampled_stored_and_served() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    std::fs::write(dir.path().join("auth.log"), "").unwrap();
    add_user(d, "alice", "viewer", "correct horse battery");
    let auth = bearer(d, "alice");
    let start = || {
        Picket::serve(&[
            "--log",
            dir.path().join("auth.log").to_str().unwrap(),
            "--data-dir",
            d,
            "--metrics-interval",
            "1",
        ])
    };
    let get =
        |addr: &str, path: &str| request(addr, "GET", path, &[("Authorization", &auth)], None);

    let (p, addr) = start();
    let history = wait_for("three samples", Duration::from_secs(10), || {
        let h = get(&addr, "/api/metrics/history?since=2m&points=120").json();
        (h["points"].as_array().unwrap().len() >= 3).then_some(h)
    });
    assert_eq!(history["resolution_s"], 0);
    let available: Vec<&str> = history["available"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for name in [
        "cpu",
        "cpu0",
        "load1",
        "mem_percent",
        "swap_total",
        "net:lo:rx_bps",
    ] {
        assert!(
            available.contains(&name),
            "{name} missing from {available:?}"
        );
    }
    assert!(available
        .iter()
        .any(|n| n.starts_with("disk:") && n.ends_with(":used_percent")));
    let last = &history["points"].as_array().unwrap().last().unwrap()["v"];
    let mem = last["mem_percent"].as_f64().unwrap();
    assert!(mem > 0.0 && mem < 100.0, "{mem}");
    // The live figures come from the same samples.
    let m = get(&addr, "/api/metrics").json();
    assert!(m["host"]["mem_total"].as_u64().unwrap() > 0, "{m}");

    // Only the series asked for.
    let only = get(
        &addr,
        "/api/metrics/history?since=2m&points=120&series=cpu,load1",
    )
    .json();
    for p in only["points"].as_array().unwrap() {
        let keys: Vec<&String> = p["v"].as_object().unwrap().keys().collect();
        assert!(
            keys.iter().all(|k| *k == "cpu" || *k == "load1"),
            "{keys:?}"
        );
    }
    // A day in 360 points asks for one-minute averages; a daemon this young may have none
    // yet, and then its samples answer rather than nothing.
    let day = get(&addr, "/api/metrics/history?since=24h").json();
    assert!(
        matches!(day["resolution_s"].as_i64(), Some(0 | 60)),
        "{}",
        day["resolution_s"]
    );
    assert!(!day["points"].as_array().unwrap().is_empty());
    assert_eq!(get(&addr, "/api/metrics/history?points=0").status, 400);
    assert_eq!(
        get(&addr, "/api/metrics/history?since=tomorrow").status,
        400
    );

    // Stored: after a restart the earlier samples are still there.
    let before = history["points"].as_array().unwrap().len();
    p.stop();
    let (_p, addr) = start();
    let after = get(&addr, "/api/metrics/history?since=2m&points=120").json()["points"]
        .as_array()
        .unwrap()
        .len();
    assert!(
        after >= before,
        "{after} points after the restart, {before} before"
    );
}
