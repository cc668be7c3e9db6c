//! `picket run` on a host that logs only to the journal, as a fresh Debian 12 does: a real
//! systemd-journald (started by hand; no systemd as PID 1), a real OpenSSH sshd in a
//! network namespace logging into it, and real failed logins from another namespace.
//! Proves the journal source maps fields into the same parsers and resumes from its saved
//! cursor after a clean stop and after a kill: every attempt counted exactly once.

mod common;

use std::time::Duration;

use common::sys::{ensure_journald, require_root, ssh_fail, wait_for, NetnsPair, Picket, Sshd};

fn failures_for(data: &std::path::Path, user: &str) -> (i64, i64) {
    let Ok(conn) = picket::store::open_read_only(data) else {
        return (0, 0);
    };
    let q = |t: &str| -> i64 {
        conn.query_row(
            "SELECT count(*) FROM events WHERE type = ?1 AND user = ?2 AND src_ip = '203.0.113.66'",
            [t, user],
            |r| r.get(0),
        )
        .unwrap_or(0)
    };
    (q("INVALID_USER"), q("FAILED_LOGIN"))
}

#[test]
fn journal_source_counts_real_sshd_failures_once_across_restarts() {
    require_root("the journald test");
    ensure_journald();
    let net = NetnsPair::new("pkj", "203.0.113.1", "203.0.113.66");
    let sshd = Sshd::start(&net.server, &net.server_ip);
    let data = tempfile::tempdir().unwrap();
    let data_arg = data.path().to_str().unwrap().to_string();
    let run_args = ["--journald", "only", "--data-dir", data_arg.as_str()];
    let tag = std::process::id();
    let users: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|s| format!("pkj{tag}{s}"))
        .collect();

    // 1. Picket running: attempts are read live.
    let picket = Picket::start(&run_args);
    std::thread::sleep(Duration::from_secs(1));
    ssh_fail(&net.client, &users[0], &net.server_ip, 2, sshd.dir.path());
    wait_for(
        "the first attempts in the store",
        Duration::from_secs(20),
        || (failures_for(data.path(), &users[0]) == (1, 2)).then_some(()),
    );
    picket.stop();

    // 2. Picket stopped: attempts made meanwhile are picked up from the saved cursor.
    ssh_fail(&net.client, &users[1], &net.server_ip, 2, sshd.dir.path());
    let picket = Picket::start(&run_args);
    wait_for(
        "attempts made while Picket was stopped",
        Duration::from_secs(20),
        || (failures_for(data.path(), &users[1]) == (1, 2)).then_some(()),
    );

    // 3. Killed (no clean stop), attempts, restarted.
    picket.kill();
    ssh_fail(&net.client, &users[2], &net.server_ip, 2, sshd.dir.path());
    let picket = Picket::start(&run_args);
    wait_for(
        "attempts made after a kill",
        Duration::from_secs(20),
        || (failures_for(data.path(), &users[2]) == (1, 2)).then_some(()),
    );
    std::thread::sleep(Duration::from_secs(1));
    picket.stop();

    // Nothing was read twice.
    for u in &users {
        assert_eq!(failures_for(data.path(), u), (1, 2), "events for {u}");
    }
    // The events carry the journal's fields: host, program, pid, and the rendered line.
    let conn = picket::store::open_read_only(data.path()).unwrap();
    let (program, source, line): (String, String, String) = conn
        .query_row("SELECT program, source, json_extract(json, '$.line') FROM events WHERE user = ?1 AND type = 'FAILED_LOGIN' LIMIT 1", [&users[0]], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(program, "sshd");
    assert_eq!(source, "journald");
    assert!(
        line.contains(&format!(
            "Failed password for invalid user {} from 203.0.113.66",
            users[0]
        )),
        "{line}"
    );
}
