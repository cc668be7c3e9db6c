//! The API end to end against a real `picket run`: authentication (sessions, CSRF, roles,
//! bearer tokens, rate limiting), a live alert from appended log lines (over the stream
//! too), status changes with their audit trail, rule validation and saving, and hostile
//! text passed through as data.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::http::{free_port, request, Resp};
use common::sys::{add_user, copy_rules, picket_cli as picket, wait_for, Picket};

const XSS: &str = "<img src=x onerror=alert(1)>";

struct Client {
    addr: String,
    cookie: String,
    csrf: String,
    set_cookie: String,
}

impl Client {
    fn login(addr: &str, user: &str, password: &str) -> Client {
        let r = request(
            addr,
            "POST",
            "/api/login",
            &[("Content-Type", "application/json")],
            Some(&serde_json::json!({ "username": user, "password": password }).to_string()),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let set = r
            .header("set-cookie")
            .expect("a session cookie")
            .to_string();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
        Client {
            addr: addr.to_string(),
            cookie: set.split(';').next().unwrap().to_string(),
            set_cookie: set.clone(),
            csrf: r.json()["csrf"].as_str().unwrap().to_string(),
        }
    }
    fn get(&self, path: &str) -> Resp {
        request(&self.addr, "GET", path, &[("Cookie", &self.cookie)], None)
    }
    fn send(&self, method: &str, path: &str, body: &serde_json::Value) -> Resp {
        request(
            &self.addr,
            method,
            path,
            &[
                ("Cookie", &self.cookie),
                ("X-CSRF-Token", &self.csrf),
                ("Content-Type", "application/json"),
            ],
            Some(&body.to_string()),
        )
    }
}

fn error_code(r: &Resp) -> String {
    r.json()["error"]["code"].as_str().unwrap_or("").to_string()
}

#[test]
fn the_api_serves_live_alerts_to_authenticated_users_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rules = copy_rules(dir.path(), &["ssh-brute-force.yaml", "ssh-root-login.yaml"]);
    let log = dir.path().join("auth.log");
    std::fs::write(&log, "").unwrap();
    let d = data.to_str().unwrap();
    add_user(d, "alice", "admin", "correct horse battery");
    add_user(d, "bob", "viewer", "viewer password");
    let token = picket(
        &[
            "token",
            "create",
            "script",
            "--user",
            "bob",
            "--data-dir",
            d,
        ],
        "",
    )
    .trim()
    .to_string();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let _p = Picket::start(&[
        "--log",
        log.to_str().unwrap(),
        "--data-dir",
        d,
        "--rules",
        rules.to_str().unwrap(),
        "--listen",
        &addr,
    ]);
    wait_for("the API", Duration::from_secs(20), || {
        TcpStream::connect(&addr).ok().map(|_| ())
    });

    // Without authentication: only health and the login page.
    assert_eq!(
        request(&addr, "GET", "/api/health", &[], None).json()["status"],
        "ok"
    );
    for path in [
        "/api/alerts",
        "/api/events",
        "/api/rules",
        "/api/audit",
        "/api/stream",
        "/api/metrics",
    ] {
        let r = request(&addr, "GET", path, &[], None);
        assert_eq!(
            (r.status, error_code(&r).as_str()),
            (401, "unauthenticated"),
            "{path}"
        );
    }
    let r = request(&addr, "GET", "/", &[], None);
    assert_eq!((r.status, r.header("location")), (302, Some("/login.html")));
    let r = request(&addr, "GET", "/login.html", &[], None);
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-security-policy")
        .unwrap()
        .contains("script-src 'self'"));
    // Assets revalidate: the same ETag answers 304 with no body.
    let etag = r.header("etag").expect("an ETag").to_string();
    let again = request(
        &addr,
        "GET",
        "/login.html",
        &[("If-None-Match", &etag)],
        None,
    );
    assert_eq!((again.status, again.body.as_str()), (304, ""));
    assert_eq!(request(&addr, "GET", "/api/nope", &[], None).status, 404);

    let bad = request(
        &addr,
        "POST",
        "/api/login",
        &[],
        Some(r#"{"username":"alice","password":"wrong password"}"#),
    );
    assert_eq!(
        (bad.status, error_code(&bad).as_str()),
        (401, "unauthenticated")
    );
    // Behind a TLS proxy the cookie is Secure.
    let r = request(
        &addr,
        "POST",
        "/api/login",
        &[("X-Forwarded-Proto", "https")],
        Some(r#"{"username":"alice","password":"correct horse battery"}"#),
    );
    assert_eq!(r.status, 200);
    assert!(r.header("set-cookie").unwrap().contains("; Secure"));
    let alice = Client::login(&addr, "alice", "correct horse battery");
    assert!(
        !alice.set_cookie.contains("Secure"),
        "plain HTTP on loopback"
    );
    assert_eq!(alice.get("/api/session").json()["user"]["role"], "admin");
    assert_eq!(alice.get("/").status, 200);

    // A live alert: the stream sees it, the list has it, hostile text stays data.
    let mut lines = open_stream(&addr, &alice.cookie, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    for i in 0..6 {
        writeln!(f, "2026-11-21T10:00:0{i}+00:00 web sshd[9{i}]: Failed password for invalid user {XSS} from 203.0.113.9 port 4000{i} ssh2").unwrap();
    }
    drop(f);
    let appended = Instant::now();
    let mut got_alert = false;
    let mut line = String::new();
    while appended.elapsed() < Duration::from_secs(10) {
        line.clear();
        if lines.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if line.trim() == "event:alert" {
            got_alert = true;
            break;
        }
    }
    assert!(got_alert, "no alert on the stream within 10 s");
    println!(
        "alert on the stream {:?} after the lines were appended",
        appended.elapsed()
    );

    let list = wait_for("the alert in the list", Duration::from_secs(10), || {
        let v = alice.get("/api/alerts?status=open&limit=10").json();
        (v["items"].as_array()?.len() == 1).then_some(v)
    });
    let alert = &list["items"][0];
    assert_eq!(alert["rule"], "ssh-brute-force");
    assert!(
        alert["evidence"][0].as_str().unwrap().contains(XSS),
        "evidence keeps the raw text"
    );
    let id = alert["id"].as_i64().unwrap();
    let events = alice.get("/api/events?type=FAILED_LOGIN&limit=2").json();
    assert_eq!(events["items"].as_array().unwrap().len(), 2);
    assert!(events["next_cursor"].is_string());
    let page2 = alice.get(&format!(
        "/api/events?type=FAILED_LOGIN&limit=2&cursor={}",
        events["next_cursor"].as_str().unwrap()
    ));
    assert_eq!(page2.json()["items"].as_array().unwrap().len(), 2);
    assert_ne!(page2.json()["items"][0]["id"], events["items"][0]["id"]);
    assert_eq!(alice.get("/api/events?type=NOPE").status, 400);

    // Changes need the CSRF token, and an admin.
    let no_csrf = request(
        &addr,
        "PATCH",
        &format!("/api/alerts/{id}"),
        &[("Cookie", &alice.cookie)],
        Some(r#"{"status":"resolved"}"#),
    );
    assert_eq!(
        (no_csrf.status, error_code(&no_csrf).as_str()),
        (403, "forbidden")
    );
    let bob = Client::login(&addr, "bob", "viewer password");
    let r = bob.send(
        "PATCH",
        &format!("/api/alerts/{id}"),
        &serde_json::json!({ "status": "resolved" }),
    );
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (403, "forbidden"),
        "a viewer cannot resolve"
    );
    let r = alice.send(
        "PATCH",
        &format!("/api/alerts/{id}"),
        &serde_json::json!({ "status": "resolved" }),
    );
    assert_eq!(
        (r.status, r.json()["status"].as_str()),
        (200, Some("resolved"))
    );
    assert_eq!(alice.get("/api/alerts/counts").json()["resolved"], 1);
    let r = alice.send(
        "POST",
        "/api/alerts/status",
        &serde_json::json!({ "ids": [id], "status": "acknowledged" }),
    );
    assert_eq!(r.json()["updated"], 1);

    // Bearer tokens act as their user, without CSRF; revoked ones stop working.
    let auth = format!("Bearer {token}");
    assert_eq!(
        request(
            &addr,
            "GET",
            "/api/alerts",
            &[("Authorization", &auth)],
            None
        )
        .status,
        200
    );
    let r = request(
        &addr,
        "PATCH",
        &format!("/api/alerts/{id}"),
        &[("Authorization", &auth)],
        Some(r#"{"status":"open"}"#),
    );
    assert_eq!(r.status, 403, "the token's user is a viewer");
    // Revoked from the command line, the token stops working within a second (the
    // server trusts a checked credential that long).
    picket(&["token", "revoke", "1", "--data-dir", d], "");
    let revoked = Instant::now();
    wait_for("the revoked token to fail", Duration::from_secs(5), || {
        let r = request(
            &addr,
            "GET",
            "/api/alerts",
            &[("Authorization", &auth)],
            None,
        );
        (r.status == 401).then_some(())
    });
    assert!(
        revoked.elapsed() < Duration::from_millis(1500),
        "a revoked token worked for {:?}",
        revoked.elapsed()
    );

    // Rules: validate with positions, save, and the file is there for hot reload.
    let broken = "id: x\ntitle: t\nseverity: high\nmatch: { type: FAILED_LOGN }\n";
    let v = alice
        .send(
            "POST",
            "/api/rules/validate",
            &serde_json::json!({ "file": "x.yaml", "source": broken }),
        )
        .json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"][0]["line"], 4, "{v}");
    let r = alice.send(
        "PUT",
        "/api/rules/x",
        &serde_json::json!({ "file": "x.yaml", "source": broken }),
    );
    assert_eq!((r.status, error_code(&r).as_str()), (422, "invalid"));
    let src = alice.get("/api/rules/ssh-brute-force").json()["source"]
        .as_str()
        .unwrap()
        .to_string();
    let edited = src.replacen("title: ", "title: Edited ", 1);
    let r = alice.send(
        "PUT",
        "/api/rules/ssh-brute-force",
        &serde_json::json!({ "file": "ssh-brute-force.yaml", "source": edited }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        std::fs::read_to_string(rules.join("ssh-brute-force.yaml")).unwrap(),
        edited
    );
    wait_for("the reloaded title", Duration::from_secs(10), || {
        let v = alice.get("/api/rules/ssh-brute-force").json();
        v["title"].as_str()?.starts_with("Edited").then_some(())
    });
    let r = alice.send(
        "PATCH",
        "/api/rules/ssh-root-login",
        &serde_json::json!({ "enabled": false }),
    );
    assert_eq!(
        (r.status, r.json()["enabled"].as_bool()),
        (200, Some(false))
    );
    let tested = alice
        .send(
            "POST",
            "/api/rules/test",
            &serde_json::json!({ "file": "ssh-brute-force.yaml", "source": edited }),
        )
        .json();
    assert_eq!(tested["ok"], true, "{tested}");

    // The audit log has who did what.
    let audit = alice.get("/api/audit?limit=100").json();
    let actions: Vec<(String, bool)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["ok"].as_bool().unwrap(),
            )
        })
        .collect();
    for want in [
        ("login", false),
        ("login", true),
        ("alert.status", true),
        ("rule.save", true),
        ("rule.disable", true),
        ("user.add", true),
        ("token.create", true),
    ] {
        assert!(
            actions.iter().any(|(a, ok)| a == want.0 && *ok == want.1),
            "{want:?} not in {actions:?}"
        );
    }

    // Logins are rate limited per address.
    let mut last = 0;
    for _ in 0..6 {
        last = request(
            &addr,
            "POST",
            "/api/login",
            &[],
            Some(r#"{"username":"alice","password":"guess guess"}"#),
        )
        .status;
    }
    assert_eq!(last, 429);
    let r = request(
        &addr,
        "POST",
        "/api/login",
        &[],
        Some(r#"{"username":"alice","password":"correct horse battery"}"#),
    );
    assert_eq!(r.status, 429, "even the right password waits");
    assert!(r.header("retry-after").is_some());

    // Logout ends the session.
    let r = alice.send("POST", "/api/logout", &serde_json::json!({}));
    assert_eq!(r.status, 204);
    assert_eq!(alice.get("/api/alerts").status, 401);
}

/// `/api/stream` with a session cookie, its lines read with `timeout` per read.
fn open_stream(addr: &str, cookie: &str, timeout: Duration) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /api/stream HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n"
    )
    .unwrap();
    stream.set_read_timeout(Some(timeout)).unwrap();
    BufReader::new(stream)
}

/// Reads the stream for `d`, counting its `event:` lines by name.
fn stream_events(
    lines: &mut BufReader<TcpStream>,
    d: Duration,
) -> std::collections::BTreeMap<String, usize> {
    let mut seen = std::collections::BTreeMap::new();
    let start = Instant::now();
    let mut line = String::new();
    while start.elapsed() < d {
        line.clear();
        match lines.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {
                if let Some(name) = line.trim().strip_prefix("event:") {
                    *seen.entry(name.to_string()).or_insert(0) += 1;
                }
            }
            // The read timeout: nothing more arrived.
            Err(_) => {}
        }
    }
    seen
}

#[test]
fn the_stream_announces_rule_changes_only_when_rules_change() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rules = copy_rules(dir.path(), &["ssh-root-login.yaml"]);
    let rule = rules.join("ssh-root-login.yaml");
    let d = data.to_str().unwrap();
    add_user(d, "alice", "admin", "correct horse battery");
    let (_p, addr) = Picket::serve(&[
        "--log",
        dir.path().join("auth.log").to_str().unwrap(),
        "--data-dir",
        d,
        "--rules",
        rules.to_str().unwrap(),
    ]);
    let alice = Client::login(&addr, "alice", "correct horse battery");
    let mut lines = open_stream(&addr, &alice.cookie, Duration::from_millis(200));

    // Reading the rules (here through the API, which opens the file) changes nothing.
    for _ in 0..5 {
        assert_eq!(alice.get("/api/rules/ssh-root-login").status, 200);
    }
    let idle = stream_events(&mut lines, Duration::from_secs(3));
    assert_eq!(
        idle.get("rules"),
        None,
        "rule updates with no change: {idle:?}"
    );

    // An edit is announced, once.
    let text = std::fs::read_to_string(&rule).unwrap();
    std::fs::write(&rule, text.replace("severity: high", "severity: critical")).unwrap();
    let edited = stream_events(&mut lines, Duration::from_secs(3));
    assert_eq!(edited.get("rules"), Some(&1), "{edited:?}");
    assert_eq!(
        alice.get("/api/rules/ssh-root-login").json()["severity"],
        "critical"
    );

    // Import answers with rule ids and file names, never the server's paths.
    let bundle = alice.get("/api/rules/export?format=yaml").body;
    let import = |path: &str| {
        request(
            &addr,
            "POST",
            path,
            &[
                ("Cookie", &alice.cookie),
                ("X-CSRF-Token", &alice.csrf),
                ("Content-Type", "application/yaml"),
            ],
            Some(&bundle),
        )
    };
    let r = import("/api/rules/import?replace=true");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        serde_json::json!({"imported": ["ssh-root-login"], "removed": []})
    );
    // Without replace, the same ids conflict.
    let r = import("/api/rules/import");
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(!r.body.contains(rules.to_str().unwrap()), "{}", r.body);
}
