//! `picket run` end to end with notifications: a picket.yaml with a webhook channel, an
//! email channel to Debian's aiosmtpd over STARTTLS, and an email channel to an SMTP
//! server that accepts connections and never answers. SSH brute-force lines appended to
//! the tailed log raise an alert that reaches the webhook and the mailbox, and
//! `/api/notifications` shows the deliveries (and the blackholed channel's failure);
//! while that channel hangs, a second attack is stored and delivered to the webhook
//! without waiting for it. `POST /api/notifications/test` reports each channel, and
//! another detector's incident posted to `POST /api/alert` is notified (once).

mod common;
#[path = "common/sinks.rs"]
mod sinks;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::http::{get_ok, request};
use common::sys::{add_user, bearer, copy_rules, wait_for, Picket};
use sinks::{header, make_certs, split_mail, Blackhole, Receiver, SmtpSink};

/// Six failed passwords from `ip`, stamped now: the ssh-brute-force rule fires at the 5th.
fn brute_force(log: &Path, ip: &str) {
    let mut text = String::new();
    for i in 0..6 {
        let now = jiff::Zoned::now().strftime("%Y-%m-%dT%H:%M:%S%.6f%:z");
        text.push_str(&format!(
            "{now} web1 sshd[{}]: Failed password for invalid user admin from {ip} port {} ssh2\n",
            4100 + i,
            51000 + i
        ));
    }
    let mut f = std::fs::OpenOptions::new().append(true).open(log).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// The store's id of the alert raised for `ip`, once stored.
fn stored_alert(data: &Path, ip: &str, timeout: Duration) -> i64 {
    wait_for(&format!("the alert for {ip} in the store"), timeout, || {
        let conn = picket::store::open_read_only(data).ok()?;
        conn.query_row(
            "SELECT id FROM alerts WHERE rule = 'ssh-brute-force' AND src_ip = ?1",
            [ip],
            |r| r.get::<_, i64>(0),
        )
        .ok()
    })
}

fn webhook_alert_ids(rx: &Receiver) -> Vec<i64> {
    rx.hits()
        .iter()
        .flat_map(|h| h.body["alerts"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a["id"].as_i64())
        .collect()
}

#[test]
fn an_alert_reaches_the_webhook_and_the_mailbox_and_a_blackholed_smtp_server_stalls_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(&log, "").unwrap();
    let rules = copy_rules(dir.path(), &["ssh-brute-force.yaml"]);
    let certs = make_certs(dir.path());
    let sink = SmtpSink::start(dir.path(), Some(&certs));
    let hook = Receiver::start(&[]);
    let hole = Blackhole::start();
    let config = dir.path().join("picket.yaml");
    std::fs::write(
        &config,
        format!(
            "snapshot_interval_secs: 0
metrics_interval_secs: 0
checks_interval_secs: 0
file_integrity: {{enabled: false}}
notifications:
  channels:
    - name: ops-webhook
      kind: webhook
      url: {url}
      headers: {{Authorization: Bearer hook-s3cret}}
      min_severity: high
    - name: mail
      kind: email
      smtp: {{host: localhost, port: {smtp}, tls: starttls, ca_file: {ca}}}
      from: picket@example.org
      to: [ops@example.org]
    - name: stuck-mail
      kind: email
      retries: 0
      timeout_secs: 3
      smtp: {{host: 127.0.0.1, port: {hole}, tls: none}}
      from: picket@example.org
      to: [ops@example.org]
",
            url = hook.url("/picket/hook-path-s3cret"),
            smtp = sink.port,
            ca = certs.ca.display(),
            hole = hole.port,
        ),
    )
    .unwrap();
    add_user(d, "alice", "admin", "correct horse battery");
    add_user(d, "bob", "viewer", "viewer password");
    let auth = bearer(d, "alice");
    let viewer = bearer(d, "bob");
    let (picket, addr) = Picket::serve(&[
        "--config",
        config.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--data-dir",
        d,
        "--rules",
        rules.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_millis(500));

    // The first attack: stored, then sent to the webhook and by mail.
    let appended = Instant::now();
    brute_force(&log, "203.0.113.66");
    let first = stored_alert(&data, "203.0.113.66", Duration::from_secs(10));
    let stored_after = appended.elapsed();
    let hits = hook.wait_for(1, Duration::from_secs(10));
    let webhook_after = hits[0].at - appended;
    eprintln!(
        "log lines appended → alert stored {stored_after:?}, webhook received {webhook_after:?}"
    );
    assert_eq!(hits[0].path, "/picket/hook-path-s3cret");
    assert_eq!(hits[0].header("authorization"), Some("Bearer hook-s3cret"));
    assert_eq!(hits[0].body["alerts"][0]["id"], first);
    assert_eq!(hits[0].body["alerts"][0]["group"]["src_ip"], "203.0.113.66");
    assert_eq!(
        hits[0].body["alerts"][0]["count"], 6,
        "raised and updated in one commit, sent once in its last state"
    );

    // The second attack while the stuck channel still waits on its first message: its
    // alert is stored and delivered to the webhook at once.
    assert!(
        hole.connections() >= 1,
        "the stuck channel is connected to the blackhole"
    );
    let appended2 = Instant::now();
    brute_force(&log, "203.0.113.67");
    let second = stored_alert(&data, "203.0.113.67", Duration::from_secs(10));
    let stored2_after = appended2.elapsed();
    assert!(
        stored2_after < Duration::from_secs(2),
        "detection waited for the blackholed SMTP server: stored after {stored2_after:?}"
    );
    wait_for(
        "the second alert at the webhook",
        Duration::from_secs(2),
        || webhook_alert_ids(&hook).contains(&second).then_some(()),
    );
    eprintln!(
        "second alert stored {stored2_after:?} after its lines, while the stuck channel hangs"
    );

    // Both alerts arrive by mail, over STARTTLS.
    let mails = sink.wait_for(2, Duration::from_secs(15));
    let subjects: Vec<String> = mails
        .iter()
        .map(|m| header(&split_mail(m).0, "subject").join(""))
        .collect();
    for ip in ["203.0.113.66", "203.0.113.67"] {
        assert!(
            subjects
                .iter()
                .any(|s| s == &format!("[Picket] high: SSH brute force from one address ({ip})")),
            "{subjects:?}"
        );
    }

    // The API shows channels (without secrets) and deliveries, the stuck channel failed.
    let n = wait_for(
        "the stuck channel's two failures",
        Duration::from_secs(15),
        || {
            let n = get_ok(&addr, "/api/notifications", &auth);
            let failed = n["deliveries"]
                .as_array()?
                .iter()
                .filter(|d| d["channel"] == "stuck-mail" && d["status"] == "failed")
                .count();
            (failed == 2).then_some(n)
        },
    );
    let text = n.to_string();
    for secret in ["hook-s3cret", "hook-path-s3cret", "Bearer"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let channels = n["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 3);
    assert_eq!(channels[0]["name"], "ops-webhook");
    assert_eq!(channels[0]["target"], hook.addr.as_str());
    assert_eq!(channels[1]["target"], "ops@example.org");
    let deliveries = n["deliveries"].as_array().unwrap();
    let sent = |ch: &str| {
        deliveries
            .iter()
            .filter(|d| d["channel"] == ch && d["status"] == "sent")
            .count()
    };
    assert_eq!(sent("ops-webhook"), 2, "{deliveries:#?}");
    assert_eq!(sent("mail"), 2, "{deliveries:#?}");
    let stuck = deliveries
        .iter()
        .find(|d| d["channel"] == "stuck-mail")
        .unwrap();
    assert!(
        stuck["error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("timed out")
            || stuck["error"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("timeout"),
        "{stuck:#}"
    );
    assert!(n["failures"].as_u64().unwrap() >= 2);

    // Send test: every channel reports, the stuck one fails; the change is audited.
    let r = request(
        &addr,
        "POST",
        "/api/notifications/test",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        Some("{}"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let results: Vec<(String, bool)> = r.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["channel"].as_str().unwrap().to_string(),
                x["ok"] == Value::Bool(true),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            ("ops-webhook".to_string(), true),
            ("mail".to_string(), true),
            ("stuck-mail".to_string(), false)
        ]
    );
    let test_hit = hook.wait_for(3, Duration::from_secs(5));
    assert!(test_hit.iter().any(|h| h.body["test"] == true));
    // A viewer sees the channels and deliveries but cannot send.
    assert_eq!(
        get_ok(&addr, "/api/notifications", &viewer)["channels"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let refused = request(
        &addr,
        "POST",
        "/api/notifications/test",
        &[("Authorization", &viewer)],
        None,
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    let unknown = request(
        &addr,
        "POST",
        "/api/notifications/test",
        &[("Authorization", &auth)],
        Some(r#"{"channel":"nope"}"#),
    );
    assert_eq!(unknown.status, 404);
    let audit = get_ok(&addr, "/api/audit?limit=10", &auth);
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "notify.test" && e["user"] == "alice"),
        "{audit:#}"
    );

    // Another detector's incident (`POST /api/alert`) takes the same path to the webhook,
    // once: posting the same incident id again updates its alert and notifies nobody.
    let incident = serde_json::json!({
        "id": "ids-4711",
        "ip": "198.51.100.77",
        "type": "web-scan",
        "severity": "critical",
        "timestamp": "2026-11-21T10:05:00Z",
        "source_log": "/var/log/nginx/access.log",
        "target": "nginx",
        "rule": "31101",
        "detector": "wazuh",
    })
    .to_string();
    let before = hook.hits().len();
    for _ in 0..2 {
        let r = request(
            &addr,
            "POST",
            "/api/alert",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            Some(&incident),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let hits = hook.wait_for(before + 1, Duration::from_secs(5));
    let ingested = &hits[before].body["alerts"][0];
    assert_eq!(ingested["severity"], "critical");
    assert_eq!(ingested["group"]["src_ip"], "198.51.100.77");
    assert_eq!(ingested["type"], "web-scan");
    assert_eq!(ingested["source_log"], "/var/log/nginx/access.log");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        hook.hits().len(),
        before + 1,
        "the re-posted incident was notified twice"
    );
    picket.stop();
}
