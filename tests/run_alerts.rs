//! `picket run` end to end through the rule engine: lines appended to a tailed log become
//! events and alerts in the store, `picket alerts` shows them, and a broken rule file next
//! to a good one is reported while the good one keeps working.

mod common;

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use common::sys::{wait_for, Picket};

#[test]
fn appended_failures_raise_a_stored_alert_and_a_broken_rule_is_only_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    let data = dir.path().join("data");
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/rules/ssh-brute-force.yaml"),
        rules.join("ssh-brute-force.yaml"),
    )
    .unwrap();
    std::fs::write(
        rules.join("broken.yaml"),
        "id: broken\ntitle: t\nseverity: high\nmatch: { type: FAILED_LOGN }\n",
    )
    .unwrap();
    std::fs::write(&log, "").unwrap();
    let picket = Picket::start(&[
        "--log",
        log.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_millis(500));
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    for i in 0..6 {
        writeln!(f, "2026-11-21T10:00:0{i}+00:00 web sshd[77{i}]: Failed password for root from 203.0.113.9 port 4000{i} ssh2").unwrap();
    }
    drop(f);
    let count = wait_for("the brute-force alert", Duration::from_secs(20), || {
        let conn = picket::store::open_read_only(&data).ok()?;
        conn.query_row(
            "SELECT count FROM alerts WHERE rule = 'ssh-brute-force' AND src_ip = '203.0.113.9'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .ok()
        .filter(|c| *c == 6)
    });
    assert_eq!(count, 6, "fired at 5, the 6th folded in by suppression");
    picket.stop();

    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(["alerts", "--json", "--data-dir", data.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let alerts: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(alerts.len(), 1, "{text}");
    assert_eq!(alerts[0]["rule"], "ssh-brute-force");
    assert_eq!(alerts[0]["status"], "open");
    assert_eq!(alerts[0]["evidence"].as_array().unwrap().len(), 6);
}

/// `response.allowlist_applies_to: alerts`: an allowlisted address's brute force raises
/// nothing, while another address's does (with the default, `actions`, both would alert
/// and only the ban would be spared).
#[test]
fn the_allowlist_can_keep_alerts_from_being_raised() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    let data = dir.path().join("data");
    let config = dir.path().join("picket.yaml");
    std::fs::write(
        &config,
        "snapshot_interval_secs: 0\nchecks_interval_secs: 0\nfile_integrity: { enabled: false }\n\
         response:\n  allowlist: [198.51.100.0/24]\n  allowlist_applies_to: alerts\n",
    )
    .unwrap();
    std::fs::write(&log, "").unwrap();
    let rules = common::sys::copy_rules(dir.path(), &["ssh-brute-force.yaml"]);
    let picket = Picket::start(&[
        "--config",
        config.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_millis(500));
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    // The allowlisted address first: by the time the other's alert is stored, its lines
    // have been through the engine.
    for ip in ["198.51.100.9", "203.0.113.9"] {
        for i in 0..6 {
            writeln!(f, "2026-11-21T10:00:0{i}+00:00 web sshd[77{i}]: Failed password for root from {ip} port 4000{i} ssh2").unwrap();
        }
    }
    drop(f);
    wait_for("the other address's alert", Duration::from_secs(20), || {
        let conn = picket::store::open_read_only(&data).ok()?;
        conn.query_row(
            "SELECT count(*) FROM alerts WHERE src_ip = '203.0.113.9'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .ok()
        .filter(|c| *c == 1)
    });
    picket.stop();
    let conn = picket::store::open_read_only(&data).unwrap();
    let spared: i64 = conn
        .query_row(
            "SELECT count(*) FROM alerts WHERE src_ip = '198.51.100.9'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(spared, 0, "the allowlisted address raised an alert");
    let events: i64 = conn
        .query_row(
            "SELECT count(*) FROM events WHERE src_ip = '198.51.100.9'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(events, 6, "its events are still stored");
}
