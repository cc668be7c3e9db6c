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
