//! Hot reload of the rule directory while `picket run` watches a log: an editor-style
//! atomic save (temporary file, then rename) takes effect within a second; a rule that keeps
//! its file keeps its state when another file changes; a broken edit keeps the last good
//! version running; deleting the file removes the rule.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use common::sys::{wait_for, Picket};

const RULE: &str = "id: brute\ntitle: t\nseverity: high\nmatch: { type: FAILED_LOGIN }\nthreshold: { count: COUNT, within: 10m, group_by: [src_ip] }\n";

fn atomic_save(dir: &Path, name: &str, text: &str) {
    let tmp = dir.join(format!(".{name}.swp"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

fn fail(log: &Path, ip: &str, n: usize) {
    let mut f = std::fs::OpenOptions::new().append(true).open(log).unwrap();
    for i in 0..n {
        writeln!(f, "2026-11-21T10:00:{i:02}+00:00 web sshd[9{i}]: Failed password for root from {ip} port 4000{i} ssh2").unwrap();
    }
}

fn alert_count(data: &Path, ip: &str) -> Option<i64> {
    let conn = picket::store::open_read_only(data).ok()?;
    conn.query_row(
        "SELECT count FROM alerts WHERE rule = 'brute' AND src_ip = ?1",
        [ip],
        |r| r.get(0),
    )
    .ok()
}

/// Waits long enough for a poll and a commit, then says whether an alert exists.
fn settled_alert(data: &Path, ip: &str) -> Option<i64> {
    std::thread::sleep(Duration::from_millis(1500));
    alert_count(data, ip)
}

#[test]
fn edits_apply_within_a_second_and_broken_edits_keep_the_last_good_rule() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    let log = dir.path().join("auth.log");
    let data = dir.path().join("data");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(&log, "").unwrap();
    atomic_save(&rules, "brute.yaml", &RULE.replace("COUNT", "5"));
    let picket = Picket::start(&[
        "--log",
        log.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_millis(800));

    // Threshold 5: three failures are not enough.
    fail(&log, "203.0.113.1", 3);
    assert_eq!(settled_alert(&data, "203.0.113.1"), None);

    // Edit the threshold to 2 with an atomic save; one second later it is in force.
    atomic_save(&rules, "brute.yaml", &RULE.replace("COUNT", "2"));
    std::thread::sleep(Duration::from_secs(1));
    fail(&log, "203.0.113.2", 2);
    wait_for(
        "the alert under the edited threshold",
        Duration::from_secs(10),
        || alert_count(&data, "203.0.113.2"),
    );

    // Another file changes: the unchanged rule keeps its state (one failure before, one after).
    fail(&log, "203.0.113.3", 1);
    std::thread::sleep(Duration::from_millis(500));
    atomic_save(
        &rules,
        "other.yaml",
        "id: other\ntitle: t\nseverity: low\nmatch: { type: ROOT_LOGIN }\n",
    );
    std::thread::sleep(Duration::from_secs(1));
    fail(&log, "203.0.113.3", 1);
    wait_for(
        "the alert from state kept across a reload",
        Duration::from_secs(10),
        || alert_count(&data, "203.0.113.3"),
    );

    // A broken edit: the last good version (threshold 2) keeps running.
    atomic_save(&rules, "brute.yaml", "id: brute\ntitle: t\nseverity: hgh\n");
    std::thread::sleep(Duration::from_secs(1));
    fail(&log, "203.0.113.4", 2);
    wait_for(
        "the alert from the last good version",
        Duration::from_secs(10),
        || alert_count(&data, "203.0.113.4"),
    );

    // Deleted: no more alerts from it.
    std::fs::remove_file(rules.join("brute.yaml")).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    fail(&log, "203.0.113.5", 6);
    assert_eq!(settled_alert(&data, "203.0.113.5"), None);
    picket.stop();
}
