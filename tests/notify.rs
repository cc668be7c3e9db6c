//! Notification channels against real receivers on loopback: a webhook receiver written
//! here (HTTP/1.1 over std's TcpListener) and Debian's aiosmtpd as an SMTP sink with
//! STARTTLS from a test CA. Alerts are fed to Picket's notifier as the store writer's
//! commit hook feeds them; deliveries are read back from the store.
//!
//! Proven: Picket's JSON and Slack's shape arrive (hostile text escaped); 500, 500, 200
//! is retried 1 s then 2 s apart and ends `sent`; a dead receiver ends `failed`; a rate
//! limit of 2 per minute turns 5 alerts into 2 messages and a digest of 3; a stuck channel
//! drops instead of blocking and records the drop; mail goes out over STARTTLS (and
//! implicit TLS) with the right subject and body, a CR/LF in a user name adds no header,
//! a server without STARTTLS or with an untrusted certificate gets nothing (no fallback
//! to plain), and a login with the password file works where a wrong one fails for good.

mod common;
#[path = "common/sinks.rs"]
mod sinks;

use std::path::Path;
use std::time::{Duration, Instant};

use picket::model::{Alert, Severity};
use picket::notify::{self, NotifyConfig};
use picket::store::alerts::StoredAlert;
use picket::store::notifications::{self as stored, Delivery};

use common::http::free_port;
use common::sys::wait_for;
use sinks::{header, make_certs, split_mail, Blackhole, Receiver, SmtpSink};

/// An alert as the engine raises it, built through serde (so fields other work adds to
/// `Alert`, with their defaults, need no change here).
fn alert(id: i64, severity: Severity, user: &str) -> StoredAlert {
    let mut alert: Alert = serde_json::from_value(serde_json::json!({
        "key": format!("k{id}"),
        "rule": "ssh-brute-force",
        "title": "SSH brute force",
        "severity": severity,
        "mitre": ["T1110.001"],
        "group": {"src_ip": "203.0.113.66", "user": user},
        "count": 5,
        "first_seen": "2027-01-15T08:00:00Z",
        "last_seen": "2027-01-15T08:00:04Z",
        "status": "open",
        "evidence": [format!(
            "2027-01-15T08:00:00+00:00 web1 sshd[4242]: Failed password for invalid user {user} from 203.0.113.66 port 50000 ssh2"
        )],
    }))
    .unwrap();
    alert.is_new = true;
    StoredAlert { id, alert }
}

fn config(yaml: &str) -> NotifyConfig {
    let cfg: NotifyConfig = serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    cfg.validate().unwrap_or_else(|e| panic!("{e:?}"));
    cfg
}

fn deliveries(data: &Path) -> Vec<Delivery> {
    let conn = picket::store::open_read_only(data).unwrap();
    let mut d = stored::recent(&conn, None, 100).unwrap();
    d.reverse(); // oldest first
    d
}

/// Waits until the store holds `n` deliveries of `channel` in a final state (not retrying).
fn settled(data: &Path, channel: &str, n: usize, timeout: Duration) -> Vec<Delivery> {
    wait_for(
        &format!("{n} settled deliveries on {channel}"),
        timeout,
        || {
            let d: Vec<Delivery> = deliveries(data)
                .into_iter()
                .filter(|d| d.channel == channel && d.status != "retrying")
                .collect();
            (d.len() >= n).then_some(d)
        },
    )
}

#[test]
fn picket_json_and_slack_shapes_arrive_with_hostile_text_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start(&[]);
    let cfg = config(&format!(
        "channels:
  - name: ops
    kind: webhook
    url: {}
    headers: {{Authorization: Bearer s3cret-token}}
  - name: chat
    kind: slack
    url: {}
    min_severity: high
",
        rx.url("/hook/T0KEN"),
        rx.url("/slack/T1/B2/s3cret")
    ));
    let (notifier, board, workers) = notify::start(&cfg, dir.path()).unwrap();
    let hostile = "<!channel> `x` <https://evil.example|click> & *bold*";
    notifier.offer(&[
        alert(1, Severity::High, hostile),
        // Below the Slack channel's minimum: only the webhook gets it.
        alert(2, Severity::Medium, "bob"),
    ]);
    let hits = rx.wait_for(3, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        rx.hits().len(),
        3,
        "medium alerts do not reach the slack channel"
    );

    let to_hook: Vec<_> = hits.iter().filter(|h| h.path == "/hook/T0KEN").collect();
    assert_eq!(to_hook.len(), 2);
    let first = to_hook
        .iter()
        .find(|h| h.body["alerts"][0]["id"] == 1)
        .unwrap();
    assert_eq!(first.header("authorization"), Some("Bearer s3cret-token"));
    assert_eq!(first.header("content-type"), Some("application/json"));
    let b = &first.body;
    assert_eq!(b["source"], "picket");
    assert_eq!(b["digest"], false);
    assert!(b["host"].as_str().is_some_and(|h| !h.is_empty()));
    let a = &b["alerts"][0];
    assert_eq!(a["rule"], "ssh-brute-force");
    assert_eq!(a["title"], "SSH brute force");
    assert_eq!(a["severity"], "high");
    assert_eq!(a["mitre"][0], "T1110.001");
    assert_eq!(
        a["group"]["user"], hostile,
        "JSON carries the text as it was"
    );
    assert_eq!(a["count"], 5);
    assert_eq!(a["first_seen"], "2027-01-15T08:00:00Z");
    assert_eq!(a["evidence"].as_array().unwrap().len(), 1);

    let slack = hits.iter().find(|h| h.path.starts_with("/slack/")).unwrap();
    let text = slack.body["text"].as_str().unwrap();
    assert_eq!(slack.body.as_object().unwrap().len(), 1, "only `text`");
    // No `<…>` link or mention can form: `<` never appears, `>` only as a quote marker.
    assert!(!text.contains('<'), "{text}");
    assert!(
        text.lines().all(|l| !l.chars().skip(1).any(|c| c == '>')),
        "{text}"
    );
    assert!(text.contains("&lt;!channel&gt;"), "{text}");
    assert!(text.contains("SSH brute force"), "{text}");

    let sent = settled(dir.path(), "ops", 2, Duration::from_secs(5));
    assert!(sent
        .iter()
        .all(|d| d.status == "sent" && d.attempts == 1 && d.kind == "webhook"));
    let chat = settled(dir.path(), "chat", 1, Duration::from_secs(5));
    assert_eq!(chat[0].kind, "slack");

    // What the API shows of the channels: hosts, never the secrets.
    let summary = serde_json::to_string(&board.summaries()).unwrap();
    assert!(summary.contains(&rx.addr), "{summary}");
    for secret in ["T0KEN", "s3cret", "Bearer"] {
        assert!(!summary.contains(secret), "{secret} leaked: {summary}");
    }
    drop(notifier);
    workers.join_for(Duration::from_secs(5));
}

#[test]
fn a_receiver_answering_500_twice_is_retried_with_backoff_until_it_takes_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start(&[500, 500]);
    let cfg = config(&format!(
        "channels: [{{name: flaky, kind: webhook, url: '{}', retries: 5}}]",
        rx.url("/hook")
    ));
    let (notifier, _board, workers) = notify::start(&cfg, dir.path()).unwrap();
    notifier.offer(&[alert(1, Severity::High, "root")]);
    let hits = rx.wait_for(3, Duration::from_secs(15));
    assert_eq!(
        hits.iter().map(|h| h.status).collect::<Vec<_>>(),
        [500, 500, 200]
    );
    let gap1 = hits[1].at - hits[0].at;
    let gap2 = hits[2].at - hits[1].at;
    assert!(
        gap1 >= Duration::from_millis(950) && gap1 < Duration::from_millis(1800),
        "first retry after {gap1:?}"
    );
    assert!(
        gap2 >= Duration::from_millis(1950) && gap2 < Duration::from_millis(2800),
        "second retry after {gap2:?}"
    );
    let d = settled(dir.path(), "flaky", 1, Duration::from_secs(5));
    assert_eq!(d.len(), 1, "one message, one row");
    assert_eq!(d[0].status, "sent");
    assert_eq!(d[0].attempts, 3);
    assert_eq!(d[0].error, None);
    drop(notifier);
    workers.join_for(Duration::from_secs(5));
}

#[test]
fn a_dead_receiver_ends_in_a_failed_delivery_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens there: connections are refused.
    let url = format!("http://127.0.0.1:{}/hook/s3cret-path", free_port());
    let cfg = config(&format!(
        "channels: [{{name: dead, kind: webhook, url: '{url}', retries: 2}}]"
    ));
    let (notifier, _board, workers) = notify::start(&cfg, dir.path()).unwrap();
    let t = Instant::now();
    notifier.offer(&[alert(1, Severity::Critical, "root")]);
    // Retrying after the first attempt, then failed after 1 s + 2 s.
    wait_for("a retrying row", Duration::from_secs(5), || {
        deliveries(dir.path())
            .first()
            .filter(|d| d.status == "retrying")
            .map(|_| ())
    });
    let d = settled(dir.path(), "dead", 1, Duration::from_secs(10));
    assert!(
        t.elapsed() >= Duration::from_millis(2900),
        "gave up after {:?}",
        t.elapsed()
    );
    assert_eq!(d[0].status, "failed");
    assert_eq!(d[0].attempts, 3);
    let err = d[0].error.as_deref().unwrap();
    assert!(err.contains("127.0.0.1"), "{err}");
    assert!(
        !err.contains("s3cret-path"),
        "the URL's path stays out of errors: {err}"
    );
    drop(notifier);
    workers.join_for(Duration::from_secs(5));
}

#[test]
fn two_per_minute_sends_two_alerts_alone_and_a_digest_of_the_other_three() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start(&[]);
    let cfg = config(&format!(
        "channels: [{{name: limited, kind: webhook, url: '{}', rate_limit: {{max: 2, per_secs: 60}}, digest_secs: 2}}]",
        rx.url("/hook")
    ));
    let (notifier, _board, workers) = notify::start(&cfg, dir.path()).unwrap();
    let t = Instant::now();
    let alerts: Vec<_> = (1..=5).map(|i| alert(i, Severity::High, "root")).collect();
    notifier.offer(&alerts);
    let hits = rx.wait_for(3, Duration::from_secs(10));
    let digest_after = hits[2].at - t;
    std::thread::sleep(Duration::from_millis(500));
    let hits = rx.hits();
    assert_eq!(
        hits.len(),
        3,
        "two single messages and one digest: {hits:#?}"
    );
    let ids = |h: &sinks::Hit| -> Vec<i64> {
        h.body["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids(&hits[0]), [1]);
    assert_eq!(ids(&hits[1]), [2]);
    assert_eq!(hits[0].body["digest"], false);
    assert_eq!(hits[2].body["digest"], true);
    assert_eq!(
        ids(&hits[2]),
        [3, 4, 5],
        "the digest carries every held alert"
    );
    assert!(
        digest_after >= Duration::from_millis(1900),
        "digest after {digest_after:?}"
    );
    let d = settled(dir.path(), "limited", 3, Duration::from_secs(5));
    assert_eq!(d.iter().map(|d| d.alerts).collect::<Vec<_>>(), [1, 1, 3]);
    assert!(
        d[2].subject.starts_with("[Picket] digest: 3 alerts"),
        "{}",
        d[2].subject
    );
    drop(notifier);
    workers.join_for(Duration::from_secs(5));
}

#[test]
fn a_channel_stuck_on_a_blackholed_server_drops_alerts_instead_of_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let hole = Blackhole::start();
    let cfg = config(&format!(
        "channels: [{{name: stuck, kind: webhook, url: 'http://127.0.0.1:{}/hook', retries: 0, timeout_secs: 2}}]",
        hole.port
    ));
    let (notifier, board, workers) = notify::start_with_queue(&cfg, dir.path(), 2).unwrap();
    // The worker takes the first alert and waits on the blackhole; two more fill the queue.
    notifier.offer(&[alert(1, Severity::High, "a")]);
    wait_for("the worker to connect", Duration::from_secs(5), || {
        (hole.connections() > 0).then_some(())
    });
    let t = Instant::now();
    let more: Vec<_> = (2..=11).map(|i| alert(i, Severity::High, "a")).collect();
    notifier.offer(&more);
    assert!(
        t.elapsed() < Duration::from_millis(50),
        "offering waited {:?}",
        t.elapsed()
    );
    assert_eq!(board.summaries()[0].dropped, 8, "ten offered, two queued");
    // Once the attempt times out, the worker records the timeout and the drop.
    let d = settled(dir.path(), "stuck", 2, Duration::from_secs(10));
    let drop_row = d
        .iter()
        .find(|d| d.subject == "8 alerts not sent")
        .expect("a row for the drop");
    assert_eq!(drop_row.status, "failed");
    assert!(drop_row
        .error
        .as_deref()
        .unwrap()
        .contains("dropped rather than hold up detection"));
    let timed_out = d.iter().find(|d| d.alerts == 1).unwrap();
    assert_eq!(timed_out.status, "failed");
    drop(notifier);
    workers.join_for(Duration::from_secs(1));
}

fn mail_channel(name: &str, port: u16, tls: &str, ca: Option<&Path>) -> String {
    format!(
        "  - name: {name}
    kind: email
    retries: 0
    timeout_secs: 10
    smtp: {{host: localhost, port: {port}, tls: {tls}{}}}
    from: Picket <picket@example.org>
    to: [ops@example.org]
",
        ca.map(|c| format!(", ca_file: {}", c.display()))
            .unwrap_or_default()
    )
}

#[test]
fn mail_goes_out_over_starttls_and_a_crlf_in_a_user_name_adds_no_header() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs(dir.path());
    let sink = SmtpSink::start(dir.path(), Some(&certs));
    let smtps = SmtpSink::start_implicit_tls(dir.path(), &certs);
    let cfg = config(&format!(
        "channels:\n{}{}",
        mail_channel("mail", sink.port, "starttls", Some(&certs.ca)),
        mail_channel("smtps", smtps.port, "tls", Some(&certs.ca))
    ));
    let (notifier, board, workers) = notify::start(&cfg, dir.path()).unwrap();
    notifier.offer(&[alert(
        1,
        Severity::High,
        "x\r\nBcc: evil@example.org\r\nX-Injected: yes",
    )]);
    let mails = sink.wait_for(1, Duration::from_secs(15));
    let (headers, body) = split_mail(&mails[0]);
    let subject = header(&headers, "subject");
    assert_eq!(
        subject,
        ["[Picket] high: SSH brute force (203.0.113.66, user=x  Bcc: evil@example.org  X-Injected: yes)"],
        "{headers:#?}"
    );
    assert!(header(&headers, "bcc").is_empty(), "{headers:#?}");
    assert!(header(&headers, "x-injected").is_empty(), "{headers:#?}");
    assert_eq!(
        header(&headers, "x-rcptto"),
        ["ops@example.org"],
        "one recipient only"
    );
    assert_eq!(header(&headers, "x-mailfrom"), ["picket@example.org"]);
    assert_eq!(header(&headers, "to"), ["ops@example.org"]);
    assert!(body.contains("[high] SSH brute force"), "{body}");
    assert!(body.contains("rule: ssh-brute-force (alert 1)"), "{body}");
    assert!(body.contains("src_ip: 203.0.113.66"), "{body}");
    assert!(
        body.contains("Failed password for invalid user x  Bcc"),
        "{body}"
    );
    let d = settled(dir.path(), "mail", 1, Duration::from_secs(5));
    assert_eq!(d[0].status, "sent");
    assert_eq!(d[0].kind, "email");
    // Implicit TLS (`tls: tls`) delivers the same mail.
    let (headers, _) = split_mail(&smtps.wait_for(1, Duration::from_secs(15))[0]);
    assert_eq!(header(&headers, "subject"), subject);
    assert_eq!(board.summaries()[0].target, "ops@example.org");
    drop(notifier);
    workers.join_for(Duration::from_secs(5));
}

#[test]
fn starttls_required_never_falls_back_to_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs(dir.path());
    // A server that offers no STARTTLS at all.
    let plain = SmtpSink::start(dir.path(), None);
    // And one whose certificate this channel does not trust (no ca_file).
    let untrusted = SmtpSink::start(dir.path(), Some(&certs));
    let cfg = config(&format!(
        "channels:\n{}{}",
        mail_channel("no-starttls", plain.port, "starttls", None),
        mail_channel("untrusted", untrusted.port, "starttls", None)
    ));
    let (notifier, _board, workers) = notify::start(&cfg, dir.path()).unwrap();
    notifier.offer(&[alert(1, Severity::High, "root")]);
    let d = settled(dir.path(), "no-starttls", 1, Duration::from_secs(15));
    assert_eq!(d[0].status, "failed");
    let err = d[0].error.as_deref().unwrap();
    assert!(err.contains("STARTTLS"), "{err}");
    let d = settled(dir.path(), "untrusted", 1, Duration::from_secs(15));
    assert_eq!(d[0].status, "failed", "an unknown certificate is refused");
    std::thread::sleep(Duration::from_millis(500));
    assert!(plain.messages().is_empty(), "nothing was sent in the clear");
    assert!(untrusted.messages().is_empty());
    drop(notifier);
    workers.join_for(Duration::from_secs(5));
}

#[test]
fn mail_logs_in_with_the_password_file_and_a_wrong_password_is_a_recorded_failure() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs(dir.path());
    let sink = SmtpSink::start_with_login(dir.path(), &certs, "picket", "pa55 word");
    let good = dir.path().join("smtp.pass");
    std::fs::write(&good, "pa55 word\n").unwrap();
    let bad = dir.path().join("wrong.pass");
    std::fs::write(&bad, "guess\n").unwrap();
    let channel = |name: &str, file: &Path| {
        format!(
            "  - name: {name}
    kind: email
    retries: 3
    smtp: {{host: localhost, port: {}, tls: starttls, ca_file: {}, username: picket, password_file: {}}}
    from: picket@example.org
    to: [ops@example.org]
",
            sink.port,
            certs.ca.display(),
            file.display()
        )
    };
    let cfg = config(&format!(
        "channels:\n{}{}",
        channel("mail", &good),
        channel("wrong-password", &bad)
    ));
    let (notifier, _board, workers) = notify::start(&cfg, dir.path()).unwrap();
    notifier.offer(&[alert(1, Severity::High, "root")]);
    let mails = sink.wait_for(1, Duration::from_secs(15));
    let (headers, _) = split_mail(&mails[0]);
    assert_eq!(header(&headers, "x-rcptto"), ["ops@example.org"]);
    let d = settled(dir.path(), "mail", 1, Duration::from_secs(5));
    assert_eq!(d[0].status, "sent");
    // A refused login (535) is final: no retries despite `retries: 3`.
    let d = settled(dir.path(), "wrong-password", 1, Duration::from_secs(10));
    assert_eq!(d[0].status, "failed");
    assert_eq!(d[0].attempts, 1);
    let err = d[0].error.as_deref().unwrap();
    assert!(
        err.contains("535") || err.to_lowercase().contains("authentication"),
        "{err}"
    );
    assert!(
        !err.contains("guess"),
        "the password stays out of errors: {err}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        sink.messages().len(),
        1,
        "only the channel that logged in sent mail"
    );
    drop(notifier);
    workers.join_for(Duration::from_secs(5));
}
