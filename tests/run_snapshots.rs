//! The snapshot collectors in a real `picket run`: a program started from /tmp and a new
//! listening port raise alerts within one collection interval, and the API shows the
//! process table and the listeners with their owners.

mod common;

use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::http::{free_port, request};
use common::sys::{add_user, picket_cli, wait_for, Picket};

#[test]
fn a_program_from_tmp_and_a_new_port_raise_alerts_within_one_interval() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    // The interval from picket.yaml (the flag is tested by the other test daemons).
    let config = dir.path().join("picket.yaml");
    std::fs::write(&config, "snapshot_interval_secs: 1\n").unwrap();
    std::fs::write(dir.path().join("auth.log"), "").unwrap();
    add_user(d, "alice", "admin", "correct horse battery");
    let token = picket_cli(
        &["token", "create", "t", "--user", "alice", "--data-dir", d],
        "",
    )
    .trim()
    .to_string();
    let auth = format!("Bearer {token}");
    let addr = format!("127.0.0.1:{}", free_port());
    let _p = Picket::start(&[
        "--config",
        config.to_str().unwrap(),
        "--log",
        dir.path().join("auth.log").to_str().unwrap(),
        "--data-dir",
        d,
        "--listen",
        &addr,
    ]);
    wait_for("the API", Duration::from_secs(20), || {
        TcpStream::connect(&addr).ok().map(|_| ())
    });
    let get = |path: &str| {
        let r = request(&addr, "GET", path, &[("Authorization", &auth)], None);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.json()
    };
    // The first snapshot is the baseline.
    wait_for("the first snapshot", Duration::from_secs(10), || {
        (!get("/api/processes")["taken"].is_null()).then_some(())
    });

    // A copy of sleep, run from a scratch directory under /tmp.
    let scratch = tempfile::Builder::new()
        .prefix("picket-snap-")
        .tempdir_in("/tmp")
        .unwrap();
    let exe = scratch.path().join("updater");
    std::fs::copy("/bin/sleep", &exe).unwrap();
    let mut child = Command::new(&exe)
        .arg("30")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // And a new listener on every address (no traffic is sent anywhere).
    let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Ports are text in events and alert groups.
    let port_text = port.to_string();
    let port_text = Some(port_text.as_str());
    let started = Instant::now();

    let alerts = wait_for("both alerts", Duration::from_secs(10), || {
        let items = get("/api/alerts?limit=50")["items"]
            .as_array()
            .unwrap()
            .clone();
        let process = items.iter().any(|a| {
            a["rule"] == "suspicious-process" && a["group"]["path"] == exe.to_str().unwrap()
        });
        let listening = items.iter().any(|a| {
            a["rule"] == "new-listening-port" && a["group"]["extra.port"].as_str() == port_text
        });
        (process && listening).then_some(items)
    });
    println!("both alerts after {:?}", started.elapsed());
    // One interval (1 s) plus the engine and the store: well under three.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "alerts took {:?} with a 1 s interval",
        started.elapsed()
    );
    assert!(
        alerts
            .iter()
            .all(|a| a["rule"] != "new-listening-port"
                || a["group"]["extra.port"].as_str() == port_text),
        "baseline ports raised alerts: {alerts:#?}"
    );

    // The API shows the process and the listener, with its owner.
    let procs = get(&format!("/api/processes?q={}", child.id()));
    let p = procs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == child.id())
        .cloned()
        .expect("the process in /api/processes");
    assert_eq!(p["exe"], exe.to_str().unwrap());
    assert_eq!(p["cmdline"], format!("{} 30", exe.display()));
    let ports = get("/api/ports");
    let l = ports["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["port"] == port && q["proto"] == "tcp")
        .cloned()
        .expect("the listener in /api/ports");
    assert_eq!(l["pid"], std::process::id());
    assert_eq!(l["exe"], std::env::current_exe().unwrap().to_str().unwrap());

    // Closing the port is an event too.
    drop(listener);
    wait_for("PORT_CLOSED", Duration::from_secs(5), || {
        let ev = get("/api/events?type=PORT_CLOSED&limit=50");
        ev["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["extra"]["port"].as_str() == port_text)
            .then_some(())
    });
    let _ = child.kill();
    let _ = child.wait();
}
