//! `picket run` as an unprivileged user: a log it cannot read gets one clear line naming
//! the file and the fix, and Picket keeps running on the logs it can read.

mod common;

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::sys::{require_root, wait_for};

#[test]
fn an_unreadable_log_is_named_once_with_the_fix_and_the_rest_is_read() {
    require_root("switching to the `nobody` user");
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let secret = dir.path().join("auth.log");
    let open = dir.path().join("public.log");
    let data = dir.path().join("data");
    std::fs::write(&secret, "").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&open, "").unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();

    let mut child = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_picket"))
        .args([
            "run",
            "--start-at",
            "beginning",
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--rules",
            concat!(env!("CARGO_MANIFEST_DIR"), "/rules"),
            "--lan-interval",
            "0",
        ])
        .args([
            "--log",
            secret.to_str().unwrap(),
            "--log",
            open.to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("setpriv (package util-linux)");

    // The readable log is read although the other one is not.
    std::fs::write(&open, "2026-11-21T11:45:39.328904+00:00 web01 sshd[8018]: Failed password for root from 203.0.113.7 port 4242 ssh2\n").unwrap();
    wait_for("the readable log's event", Duration::from_secs(20), || {
        let conn = picket::store::open_read_only(&data).ok()?;
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM events WHERE src_ip = '203.0.113.7'",
                [],
                |r| r.get(0),
            )
            .ok()?;
        (n == 1).then_some(())
    });
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        status.success(),
        "picket should stop cleanly: {status:?}\n{stderr}"
    );
    let complaints: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(secret.to_str().unwrap()) && l.contains("adm"))
        .collect();
    assert_eq!(
        complaints.len(),
        1,
        "one line naming the file and the fix, got:\n{stderr}"
    );
}
