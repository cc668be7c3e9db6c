//! The snapshot collectors in a real `picket run`: a program started from /tmp and a new
//! listening port raise alerts within one collection interval, and the API shows the
//! process table and the listeners with their owners.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::http::{get_ok, request};
use common::sys::{add_user, bearer, wait_for, Picket};

/// The tests open listeners: each would be a new port to the other's daemon.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `picket run` on `dir` with `config` as picket.yaml and `extra` arguments, an admin
/// token, and its first snapshot taken (the baseline).
fn snapshot_daemon(
    dir: &std::path::Path,
    config: &str,
    extra: &[&str],
) -> (Picket, String, String) {
    let data = dir.join("data");
    let d = data.to_str().unwrap();
    let config_file = dir.join("picket.yaml");
    std::fs::write(&config_file, config).unwrap();
    std::fs::write(dir.join("auth.log"), "").unwrap();
    add_user(d, "alice", "admin", "correct horse battery");
    let auth = bearer(d, "alice");
    let log = dir.join("auth.log");
    let mut args = vec![
        "--config",
        config_file.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--data-dir",
        d,
    ];
    args.extend_from_slice(extra);
    let (p, addr) = Picket::serve(&args);
    wait_for("the first snapshot", Duration::from_secs(10), || {
        (!get_ok(&addr, "/api/processes", &auth)["taken"].is_null()).then_some(())
    });
    (p, addr, auth)
}

#[test]
fn a_program_from_tmp_and_a_new_port_raise_alerts_within_one_interval() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    // The interval from picket.yaml (the flag is tested by the other test daemons).
    let (_p, addr, auth) = snapshot_daemon(dir.path(), "snapshot_interval_secs: 1\n", &[]);
    let get = |path: &str| get_ok(&addr, path, &auth);

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

/// The port baseline: learned on the first snapshot (and kept), edited by an admin,
/// completed by picket.yaml's allowlist; a port opened while Picket was stopped and not
/// expected raises the alert at the next start.
#[test]
fn the_port_baseline_is_learned_kept_and_edited() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let allowed = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let allowed_port = allowed.local_addr().unwrap().port();
    drop(allowed); // closed before the first snapshot: known only from the allowlist
    let config = dir.path().join("picket.yaml");
    std::fs::write(
        &config,
        format!(
            "snapshot_interval_secs: 1\nchecks_interval_secs: 0\nfile_integrity: {{enabled: false}}\n\
             port_allowlist: [tcp/{allowed_port}]\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("auth.log"), "").unwrap();
    add_user(d, "alice", "admin", "correct horse battery");
    add_user(d, "victor", "viewer", "correct horse battery");
    let (admin, viewer) = (bearer(d, "alice"), bearer(d, "victor"));
    let start = || {
        Picket::serve(&[
            "--config",
            config.to_str().unwrap(),
            "--log",
            dir.path().join("auth.log").to_str().unwrap(),
            "--data-dir",
            d,
        ])
    };
    let call = |addr: &str, method: &str, path: &str, auth: &str, body: Option<&str>| {
        request(
            addr,
            method,
            path,
            &[
                ("Authorization", auth),
                ("Content-Type", "application/json"),
            ],
            body,
        )
    };
    let get = |addr: &str, path: &str| get_ok(addr, path, &admin);
    let alerted = |addr: &str, port: u16| {
        get(addr, "/api/alerts?limit=200")["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| {
                a["rule"] == "new-listening-port"
                    && a["group"]["extra.port"].as_str() == Some(port.to_string().as_str())
            })
    };
    let expected_of = |addr: &str, port: u16| {
        get(addr, "/api/ports")["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["port"] == port && q["proto"] == "tcp")
            .map(|q| q["expected"].clone())
    };

    let (p, addr) = start();
    let api_port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
    let learned = wait_for("the learned baseline", Duration::from_secs(10), || {
        let items = get(&addr, "/api/ports/baseline")["items"]
            .as_array()
            .unwrap()
            .clone();
        (!items.is_empty()).then_some(items)
    });
    assert!(
        learned
            .iter()
            .any(|e| e["port"] == api_port && e["source"] == "learned"),
        "Picket's own listener is in the first snapshot: {learned:?}"
    );

    // An allowlisted port and an unexpected one open.
    let a = std::net::TcpListener::bind(("0.0.0.0", allowed_port)).unwrap();
    let b = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let b_port = b.local_addr().unwrap().port();
    wait_for(
        "the alert for the unexpected port",
        Duration::from_secs(10),
        || alerted(&addr, b_port).then_some(()),
    );
    assert!(!alerted(&addr, allowed_port));
    assert_eq!(expected_of(&addr, allowed_port), Some("allowlist".into()));
    assert_eq!(expected_of(&addr, b_port), Some(serde_json::Value::Null));

    // An admin adds it to the baseline; a viewer may not.
    let body =
        format!("{{\"proto\": \"tcp\", \"port\": {b_port}, \"note\": \"the test's service\"}}");
    assert_eq!(
        call(&addr, "POST", "/api/ports/baseline", &viewer, Some(&body)).status,
        403
    );
    let r = call(&addr, "POST", "/api/ports/baseline", &admin, Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["source"], "admin");
    assert_eq!(expected_of(&addr, b_port), Some("baseline".into()));

    // Stopped; a port opens meanwhile; at the next start it alerts, the baseline does not.
    p.stop();
    let c = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let c_port = c.local_addr().unwrap().port();
    let (_p, addr) = start();
    wait_for(
        "the alert for the port opened while stopped",
        Duration::from_secs(10),
        || alerted(&addr, c_port).then_some(()),
    );
    let opened = get(&addr, "/api/events?type=PORT_OPENED&limit=500");
    let b_event = opened["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["extra"]["port"].as_str() == Some(b_port.to_string().as_str())
                && e["extra"]["initial"] == "true"
        })
        .cloned()
        .expect("b's event at the second start");
    assert_eq!(b_event["extra"]["expected"], "baseline");
    let learned_again = get(&addr, "/api/ports/baseline")["items"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        !learned_again.iter().any(|e| e["port"] == c_port),
        "the baseline is learned once, not at every start"
    );

    // Removed again.
    let id = format!("/api/ports/baseline/tcp-{b_port}");
    assert_eq!(call(&addr, "DELETE", &id, &admin, None).status, 204);
    assert_eq!(call(&addr, "DELETE", &id, &admin, None).status, 404);
    assert_eq!(
        call(&addr, "DELETE", "/api/ports/baseline/sctp-1", &admin, None).status,
        400
    );
    assert!(!get(&addr, "/api/ports/baseline")["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["port"] == b_port));
    let audit = get(&addr, "/api/audit");
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"ports.baseline.add") && actions.contains(&"ports.baseline.remove"));
    drop((a, b, c));
}

/// kill_process enforced: a program started from /tmp is terminated within a couple of
/// snapshot intervals, and the audit log says so.
#[test]
fn kill_process_terminates_a_program_run_from_tmp() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    // Only the test's own program: enforced kills must never reach the host's processes.
    std::fs::write(
        rules.join("kill-test.yaml"),
        "id: kill-test\ntitle: A program from the test's scratch directory\nseverity: high\n\
         mitre: [T1059.004]\nmatch:\n  type: PROCESS_STARTED\n  where:\n    \
         path: { regex: '^/tmp/picket-kill-[^/]+/miner$' }\n\
         group_by: [pid, path]\nresponse: [kill_process]\n",
    )
    .unwrap();
    let (_p, addr, auth) = snapshot_daemon(
        dir.path(),
        "snapshot_interval_secs: 1\nchecks_interval_secs: 0\nfile_integrity: {enabled: false}\n\
         response:\n  kill_process: {mode: enforce, grace_secs: 2}\n",
        &["--rules", rules.to_str().unwrap()],
    );
    let get = |path: &str| get_ok(&addr, path, &auth);
    let scratch = tempfile::Builder::new()
        .prefix("picket-kill-")
        .tempdir_in("/tmp")
        .unwrap();
    let exe = scratch.path().join("miner");
    std::fs::copy("/bin/sleep", &exe).unwrap();
    let mut child = Command::new(&exe).arg("60").spawn().unwrap();
    let started = Instant::now();
    let status = wait_for(
        "the process to be terminated",
        Duration::from_secs(10),
        || child.try_wait().unwrap(),
    );
    println!("terminated {:?} after it started", started.elapsed());
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    let audit = wait_for("the audit entry", Duration::from_secs(5), || {
        let a = get("/api/audit");
        a["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "process.kill")
            .cloned()
    });
    assert!(
        audit["target"]
            .as_str()
            .unwrap()
            .ends_with(exe.to_str().unwrap()),
        "{audit}"
    );
}
