//! Incidents end to end with `picket run`: alerts from one address become one incident
//! with a timeline (alerts, the dry-run ban, people's owner, note and close), other
//! detectors' incidents posted to `/api/alert` take the same path (stored, grouped,
//! `block_ip` ordered) or are refused with every reason, `picket incidents` shows them,
//! and both what is accepted and what is served agree with `schemas/incident.schema.json`.

mod common;

use std::io::Write;
use std::time::Duration;

use common::http::{get_ok, request};
use common::sys::{add_user, bearer, copy_rules, picket_cli, wait_for, Picket};
use serde_json::{json, Value};

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schemas/incident.schema.json"
    ))
    .unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&serde_json::from_str(&text).unwrap())
        .expect("the schema compiles")
}

fn assert_valid(v: &jsonschema::Validator, incident: &Value) {
    let errors: Vec<String> = v.iter_errors(incident).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{incident}: {errors:?}");
}

fn good() -> Value {
    json!({
        "id": "ids-31101-7",
        "ip": "198.51.100.77",
        "type": "web-scan",
        "severity": "high",
        "timestamp": "2026-11-21T10:05:00Z",
        "source_log": "/var/log/nginx/access.log",
        "target": "nginx",
        "rule": "31101",
        "detector": "wazuh",
        "evidence": ["198.51.100.77 - - \"GET /<script>alert(1)</script> HTTP/1.1\" 404"],
        "response": ["block_ip"]
    })
}

#[test]
fn the_schema_and_the_api_agree_on_what_is_an_incident() {
    let v = schema();
    let mut cases: Vec<Value> = vec![good()];
    let edits: Vec<(&str, Value)> = vec![
        ("ip", json!("1.2.3.4; rm -rf /")),
        ("ip", json!("$(reboot)")),
        ("ip", json!("2001:db8::1")),
        ("ip", json!(42)),
        ("severity", json!("urgent")),
        ("severity", json!("critical")),
        ("timestamp", json!("yesterday")),
        ("timestamp", json!("2026-11-21T10:05:00.123+02:00")),
        ("type", json!("")),
        ("type", json!("brute force")),
        ("rule", json!("r\nInjected: yes")),
        ("target", json!("line\u{1b}[31m")),
        ("target", json!("x".repeat(257))),
        ("status", json!("closed")),
        ("status", json!("open")),
        ("id", json!(7)),
        ("id", json!(-7)),
        ("id", json!("a b")),
        ("mitre", json!(["T1110.001", "T1078"])),
        ("mitre", json!(["T11"])),
        ("response", json!(["kill_process"])),
        ("response", json!("block_ip")),
        ("count", json!(0)),
        ("count", json!(3)),
        ("evidence", json!(vec!["x"; 21])),
        ("colour", json!("red")),
        ("owner", json!("alice")),
    ];
    for (k, val) in edits {
        let mut c = good();
        c[k] = val;
        cases.push(c);
    }
    for remove in ["type", "severity", "timestamp", "rule", "source_log"] {
        let mut c = good();
        c.as_object_mut().unwrap().remove(remove);
        cases.push(c);
    }
    let mut nobody = good();
    for k in ["ip", "target", "response"] {
        nobody.as_object_mut().unwrap().remove(k);
    }
    cases.push(nobody.clone());
    nobody["user"] = json!("root");
    cases.push(nobody);
    for c in &cases {
        let by_schema = v.is_valid(c);
        let by_api = picket::ingest::to_alert(c);
        assert_eq!(
            by_schema,
            by_api.is_ok(),
            "{c}: schema says {by_schema}, the API says {:?}",
            by_api.err()
        );
    }
}

#[test]
fn alerts_become_incidents_people_follow_and_other_detectors_feed() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let rules = copy_rules(
        dir.path(),
        &["ssh-brute-force.yaml", "ssh-login-after-failures.yaml"],
    );
    std::fs::write(&log, "").unwrap();
    add_user(d, "alice", "admin", "correct horse battery");
    add_user(d, "bob", "viewer", "viewer password");
    let alice = bearer(d, "alice");
    let bob = bearer(d, "bob");
    let (picket, addr) = Picket::serve(&[
        "--log",
        log.to_str().unwrap(),
        "--data-dir",
        d,
        "--rules",
        rules.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_millis(300));
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    for i in 0..6 {
        writeln!(f, "2026-11-21T10:00:0{i}+00:00 web sshd[77{i}]: Failed password for root from 203.0.113.9 port 4000{i} ssh2").unwrap();
    }
    writeln!(f, "2026-11-21T10:00:30+00:00 web sshd[780]: Accepted password for root from 203.0.113.9 port 40100 ssh2").unwrap();
    drop(f);

    let validator = schema();
    // Two rules' alerts from one address: one incident, at the higher severity.
    let incident = wait_for(
        "one incident of two alerts",
        Duration::from_secs(20),
        || {
            let list = get_ok(&addr, "/api/incidents?status=active", &alice);
            let items = list["items"].as_array()?.clone();
            (items.len() == 1 && items[0]["alerts"] == 2).then(|| items[0].clone())
        },
    );
    assert_valid(&validator, &incident);
    assert_eq!(incident["ip"], "203.0.113.9");
    assert_eq!(incident["severity"], "critical");
    assert_eq!(incident["rule"], "ssh-brute-force");
    assert_eq!(incident["type"], "ssh-brute-force");
    assert_eq!(incident["status"], "active");
    assert_eq!(incident["target"], "sshd");
    assert_eq!(
        incident["timestamp"], "2026-11-21T10:00:00Z",
        "its first failure"
    );
    assert!(incident["source_log"]
        .as_str()
        .unwrap()
        .ends_with("auth.log"));
    let id = incident["id"].as_i64().unwrap();
    let path = format!("/api/incidents/{id}");

    // Its timeline: both alerts, and the ban block_ip recorded in dry-run (the default).
    let detail = wait_for("the ban on the timeline", Duration::from_secs(10), || {
        let d = get_ok(&addr, &path, &alice);
        d["timeline"]
            .as_array()?
            .iter()
            .any(|e| {
                e["kind"] == "action"
                    && e["text"]
                        .as_str()
                        .unwrap_or("")
                        .contains("would block 203.0.113.9")
            })
            .then_some(d)
    });
    let kinds: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "alert").count(),
        2,
        "{detail}"
    );
    assert_eq!(detail["alert_list"].as_array().unwrap().len(), 2);

    // People: a viewer may look but not change; an admin takes it, notes, closes.
    let patch = |auth: &str, body: Value| {
        request(
            &addr,
            "PATCH",
            &path,
            &[
                ("authorization", auth),
                ("content-type", "application/json"),
            ],
            Some(&body.to_string()),
        )
    };
    assert_eq!(patch(&bob, json!({ "status": "closed" })).status, 403);
    assert_eq!(patch(&alice, json!({})).status, 400);
    assert_eq!(patch(&alice, json!({ "status": "gone" })).status, 400);
    let r = patch(
        &alice,
        json!({ "owner": "alice", "note": "<img src=x onerror=alert(1)> checked", "status": "closed" }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let closed = r.json();
    assert_eq!(
        (closed["status"].as_str(), closed["owner"].as_str()),
        (Some("closed"), Some("alice"))
    );
    assert_valid(&validator, &closed);
    let detail = get_ok(&addr, &path, &alice);
    let texts: Vec<(String, String)> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (kind, text) in [
        ("owner", "owner: alice"),
        ("note", "<img src=x onerror=alert(1)> checked"),
        ("status", "closed"),
    ] {
        assert!(
            texts.contains(&(kind.to_string(), text.to_string())),
            "{kind} {text} in {texts:?}"
        );
    }
    let audit = get_ok(&addr, "/api/audit", &alice);
    assert!(audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "incident.update"));
    assert_eq!(
        request(
            &addr,
            "GET",
            "/api/incidents/999",
            &[("authorization", &alice)],
            None
        )
        .status,
        404
    );

    // Another detector's incident: every problem reported, nothing stored.
    let post = |auth: &str, body: &str| {
        request(
            &addr,
            "POST",
            "/api/alert",
            &[
                ("authorization", auth),
                ("content-type", "application/json"),
            ],
            Some(body),
        )
    };
    let mut bad = good();
    bad["ip"] = json!("198.51.100.77; nft flush ruleset");
    bad["severity"] = json!("urgent");
    bad["timestamp"] = json!("$(date)");
    let r = post(&alice, &bad.to_string());
    assert_eq!(r.status, 400, "{}", r.body);
    let details: Vec<String> = r.json()["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_string())
        .collect();
    for field in ["ip:", "severity:", "timestamp:"] {
        assert!(
            details.iter().any(|d| d.starts_with(field)),
            "{field} in {details:?}"
        );
    }
    assert_eq!(post(&bob, &good().to_string()).status, 403);
    assert_eq!(post(&alice, "{not json").status, 400);

    // A good one: stored, grouped into an incident of its own, block_ip ordered.
    let r = post(&alice, &good().to_string());
    assert_eq!(r.status, 201, "{}", r.body);
    let item = r.json()["items"][0].clone();
    let (alert_id, ext) = (
        item["alert"].as_i64().unwrap(),
        item["incident"].as_i64().unwrap(),
    );
    assert_ne!(ext, id);
    let ext_incident = get_ok(&addr, &format!("/api/incidents/{ext}"), &alice);
    assert_valid(
        &validator,
        &ext_incident
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "timeline" | "alert_list"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    );
    assert_eq!(ext_incident["type"], "web-scan");
    assert_eq!(ext_incident["rule"], "31101");
    assert_eq!(ext_incident["source_log"], "/var/log/nginx/access.log");
    assert_eq!(ext_incident["ip"], "198.51.100.77");
    let stored = get_ok(&addr, &format!("/api/alerts/{alert_id}"), &alice);
    assert_eq!(stored["evidence"][0], good()["evidence"][0]);
    wait_for(
        "the dry-run ban of the posted address",
        Duration::from_secs(10),
        || {
            let bans = get_ok(&addr, "/api/bans", &alice);
            bans["items"]
                .as_array()?
                .iter()
                .any(|b| {
                    b["ip"] == "198.51.100.77" && b["mode"] == "dry-run" && b["reason"] == "31101"
                })
                .then_some(())
        },
    );
    // Posting it again (same detector id) updates the same alert, not a new one.
    let mut again = good();
    again["count"] = json!(4);
    let r = post(&alice, &again.to_string());
    assert_eq!(r.json()["items"][0]["alert"].as_i64(), Some(alert_id));
    let ext_incident = get_ok(&addr, &format!("/api/incidents/{ext}"), &alice);
    assert_eq!(ext_incident["alerts"], 1);
    let counts = get_ok(&addr, "/api/incidents/counts", &alice);
    assert_eq!(
        (counts["active"].as_i64(), counts["closed"].as_i64()),
        (Some(1), Some(1))
    );
    picket.stop();

    // The CLI reads the same store.
    let cli = |args: &[&str]| picket_cli(&[args, &["--data-dir", d]].concat(), "");
    let lines: Vec<Value> = cli(&["incidents", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for l in &lines {
        assert_valid(&validator, l);
    }
    let active = cli(&["incidents", "--status", "active"]);
    assert!(
        active.contains("198.51.100.77") && !active.contains("203.0.113.9"),
        "{active}"
    );
    let one = cli(&["incidents", &id.to_string()]);
    assert!(
        one.contains("timeline:")
            && one.contains("owner: alice")
            && one.contains("would block 203.0.113.9"),
        "{one}"
    );
}
