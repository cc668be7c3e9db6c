//! File integrity in a real `picket run`: a key added to an authorized_keys file, an
//! account file saved atomically, a new cron job, a new user's authorized_keys (found by
//! the periodic verification), log truncation and deletion raise their events and alerts
//! within seconds; log rotation (rename and copytruncate) does not; a change made while
//! Picket was stopped is reported at the next start.

mod common;

use std::path::Path;
use std::time::Duration;

use common::http::get_ok;
use common::sys::{add_user, bearer, wait_for, Picket};
use serde_json::Value;

struct Daemon {
    addr: String,
    auth: String,
    _p: Picket,
}

impl Daemon {
    fn start(config: &Path, data: &str, auth: &str) -> Daemon {
        let (p, addr) = Picket::serve(&[
            "--config",
            config.to_str().unwrap(),
            "--journald",
            "off",
            "--data-dir",
            data,
        ]);
        // The watch is set and the first states are saved when the checkpoint exists.
        wait_for(
            "the file integrity baseline",
            Duration::from_secs(10),
            || {
                let c = rusqlite::Connection::open(Path::new(data).join("picket.sqlite")).ok()?;
                c.query_row(
                    "SELECT 1 FROM checkpoints WHERE name = 'fim:files'",
                    [],
                    |_| Ok(()),
                )
                .ok()
            },
        );
        Daemon {
            addr,
            auth: auth.to_string(),
            _p: p,
        }
    }

    fn get(&self, path: &str) -> Value {
        get_ok(&self.addr, path, &self.auth)
    }

    fn events(&self, kind: &str) -> Vec<Value> {
        self.get(&format!("/api/events?type={kind}&limit=200"))["items"]
            .as_array()
            .unwrap()
            .clone()
    }

    fn wait_event(&self, kind: &str, what: &str, f: impl Fn(&Value) -> bool) -> Value {
        wait_for(what, Duration::from_secs(8), || {
            self.events(kind).into_iter().find(|e| f(e))
        })
    }

    fn wait_alert(&self, rule: &str, path: &str) -> Value {
        wait_for(&format!("{rule} on {path}"), Duration::from_secs(8), || {
            self.get("/api/alerts?limit=200")["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["rule"] == rule && a["group"]["path"] == path)
                .cloned()
        })
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[test]
fn watched_files_and_logs_raise_events_and_alerts() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let r = root.to_str().unwrap();
    for d in ["etc", "home/bob/.ssh", "cron.d", "log"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let passwd = root.join("etc/passwd");
    std::fs::write(&passwd, "root:x:0:0:root:/root:/bin/bash\n").unwrap();
    let keys = root.join("home/bob/.ssh/authorized_keys");
    std::fs::write(&keys, "ssh-ed25519 AAAAC3Nza bob@laptop\n").unwrap();
    let auth_log = root.join("log/auth.log");
    std::fs::write(
        &auth_log,
        "Nov 21 10:00:00 h sshd[1]: Accepted publickey for bob\n",
    )
    .unwrap();
    let syslog = root.join("log/syslog");
    std::fs::write(&syslog, "Nov 21 10:00:00 h cron[2]: (root) CMD (true)\n").unwrap();
    std::fs::write(root.join("app.log"), "").unwrap();
    let config = root.join("picket.yaml");
    std::fs::write(
        &config,
        format!(
            "snapshot_interval_secs: 0\nchecks_interval_secs: 0\nlogs: [{{path: {r}/app.log}}]\n\
             file_integrity:\n  paths: [{r}/etc/passwd, '{r}/home/*/.ssh/authorized_keys', {r}/cron.d/]\n  \
             log_dir: {r}/log\n  verify_interval_secs: 2\n"
        ),
    )
    .unwrap();
    let data = root.join("data");
    let d = data.to_str().unwrap();
    add_user(d, "alice", "admin", "correct horse battery");
    let auth = bearer(d, "alice");
    let p = Daemon::start(&config, d, &auth);
    assert!(p.events("FILE_CHANGED").is_empty(), "the first run learns");

    // A key appended: the alert names the file; the event has both hashes.
    append(&keys, "ssh-ed25519 AAAAC3Nzb intruder@evil\n");
    let k = keys.to_str().unwrap();
    let alert = p.wait_alert("authorized-keys-changed", k);
    assert_eq!(alert["severity"], "high");
    let e = p.wait_event("FILE_CHANGED", "the keys event", |e| e["path"] == k);
    assert_eq!(e["extra"]["change"], "modified");
    assert_ne!(e["extra"]["before_sha256"], e["extra"]["after_sha256"]);
    assert_eq!(e["extra"]["after_sha256"].as_str().unwrap().len(), 64);

    // An editor's atomic save of passwd (write a temporary file, rename it over).
    let tmp = root.join("etc/.passwd.swp");
    std::fs::write(
        &tmp,
        "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/:/bin/sh\n",
    )
    .unwrap();
    std::fs::rename(&tmp, &passwd).unwrap();
    let pw = passwd.to_str().unwrap();
    let e = p.wait_event("FILE_CHANGED", "the passwd event", |e| e["path"] == pw);
    assert_eq!(e["extra"]["package_manager"], "false");
    assert!(e["line"].as_str().unwrap().contains("size=32 -> "), "{e}");

    // A new cron job, and a new user's key found by the periodic verification.
    std::fs::write(root.join("cron.d/backdoor"), "* * * * * root /tmp/x\n").unwrap();
    let cron = root.join("cron.d/backdoor");
    let e = p.wait_event("FILE_CHANGED", "the cron event", |e| {
        e["path"] == cron.to_str().unwrap()
    });
    assert_eq!(e["extra"]["change"], "created");
    std::fs::create_dir_all(root.join("home/eve/.ssh")).unwrap();
    let eve = root.join("home/eve/.ssh/authorized_keys");
    std::fs::write(&eve, "ssh-rsa AAAAB3 eve\n").unwrap();
    p.wait_alert("authorized-keys-changed", eve.to_str().unwrap());

    // Rotations are quiet: rename + new file, then copytruncate.
    std::fs::rename(&auth_log, root.join("log/auth.log.1")).unwrap();
    std::fs::write(&auth_log, "").unwrap();
    append(
        &auth_log,
        "Nov 21 10:05:00 h sshd[3]: Accepted publickey for bob\n",
    );
    std::fs::copy(&syslog, root.join("log/syslog.1")).unwrap();
    std::fs::write(&syslog, "").unwrap();
    // Tampering is not: `: > auth.log` and `rm syslog`.
    std::thread::sleep(Duration::from_millis(600));
    std::fs::write(&auth_log, "").unwrap();
    let al = auth_log.to_str().unwrap();
    let e = p.wait_event("LOG_TRUNCATED", "the truncation", |e| e["path"] == al);
    assert_eq!(e["extra"]["size_after"], "0");
    p.wait_alert("log-tampering", al);
    std::fs::remove_file(&syslog).unwrap();
    let sl = syslog.to_str().unwrap();
    p.wait_alert("log-tampering", sl);
    let tampering: Vec<Value> = ["LOG_TRUNCATED", "LOG_DELETED"]
        .iter()
        .flat_map(|k| p.events(k))
        .collect();
    assert_eq!(
        tampering.len(),
        2,
        "rotations were reported: {tampering:#?}"
    );

    // Stopped, changed, started again: the change is reported as made while stopped.
    drop(p);
    std::fs::write(&passwd, "root:x:0:0:root:/root:/bin/zsh\n").unwrap();
    let p = Daemon::start(&config, d, &auth);
    let e = p.wait_event("FILE_CHANGED", "the change made while stopped", |e| {
        e["path"] == pw && e["extra"]["while_stopped"] == "true"
    });
    assert_eq!(e["extra"]["change"], "modified");
    // Nothing else changed: nothing else is reported at this start.
    std::thread::sleep(Duration::from_millis(500));
    let at_start = p
        .events("FILE_CHANGED")
        .into_iter()
        .filter(|e| e["extra"]["while_stopped"] == "true")
        .count();
    assert_eq!(at_start, 1);
}

/// Debian's logrotate, four forced rounds over two logs (one rotated by rename with
/// `delaycompress`, one by `copytruncate` with immediate compression, both expiring old
/// archives) with lines written between rounds: no LOG_DELETED or LOG_TRUNCATED. Then
/// a recent archive deleted while older ones remain is reported.
#[test]
fn logrotate_is_not_tampering() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let r = root.to_str().unwrap();
    let logs = root.join("log");
    std::fs::create_dir_all(&logs).unwrap();
    let (app, web) = (logs.join("app.log"), logs.join("web.log"));
    std::fs::write(&app, "start\n").unwrap();
    std::fs::write(&web, "start\n").unwrap();
    let conf = root.join("logrotate.conf");
    std::fs::write(
        &conf,
        format!(
            "{r}/log/app.log {{\n  rotate 2\n  compress\n  delaycompress\n  create 0640 root root\n  missingok\n}}\n\
             {r}/log/web.log {{\n  rotate 2\n  compress\n  copytruncate\n  missingok\n}}\n"
        ),
    )
    .unwrap();
    std::fs::write(root.join("tail.log"), "").unwrap();
    let config = root.join("picket.yaml");
    std::fs::write(
        &config,
        format!(
            "snapshot_interval_secs: 0\nchecks_interval_secs: 0\nlogs: [{{path: {r}/tail.log}}]\n\
             file_integrity:\n  paths: []\n  log_dir: {r}/log\n  verify_interval_secs: 60\n"
        ),
    )
    .unwrap();
    let data = root.join("data");
    let d = data.to_str().unwrap();
    add_user(d, "alice", "admin", "correct horse battery");
    let p = Daemon::start(&config, d, &bearer(d, "alice"));

    for round in 0..4 {
        append(&app, &format!("app line {round}\n").repeat(50));
        append(&web, &format!("web line {round}\n").repeat(50));
        let out = std::process::Command::new("logrotate")
            .args(["-f", "-s"])
            .arg(root.join("logrotate.state"))
            .arg(&conf)
            .output()
            .expect("logrotate (Debian's logrotate package; tests/run.sh installs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Let each round settle, as days apart would.
        std::thread::sleep(Duration::from_millis(700));
    }
    let mut names: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "app.log",
            "app.log.1",
            "app.log.2.gz",
            "web.log",
            "web.log.1.gz",
            "web.log.2.gz"
        ],
        "logrotate did not rotate as expected"
    );
    std::thread::sleep(Duration::from_millis(500));
    for kind in ["LOG_DELETED", "LOG_TRUNCATED"] {
        assert!(p.events(kind).is_empty(), "{kind}: {:#?}", p.events(kind));
    }

    // An intruder removes yesterday's archive but leaves the older one.
    let recent = logs.join("app.log.1");
    std::fs::remove_file(&recent).unwrap();
    p.wait_alert("log-tampering", recent.to_str().unwrap());
}
