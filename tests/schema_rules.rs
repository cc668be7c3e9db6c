//! `schemas/rule.schema.json` and the rule loader agree: every rule in `rules/` is valid
//! against the schema, snippets that Picket accepts are schema-valid, snippets that it
//! rejects are rejected by the schema too, and the schema's event types are exactly
//! `EventType::ALL`.

use std::path::Path;

use picket::engine::compile::compile_yaml;
use picket::model::event::EventType;
use serde_json::Value;

fn schema() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schemas/rule.schema.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn validator() -> jsonschema::Validator {
    jsonschema::options()
        .build(&schema())
        .expect("the rule schema compiles")
}

fn schema_errors(v: &jsonschema::Validator, yaml: &str) -> Vec<String> {
    let json: Value = serde_saphyr::from_str::<Value>(yaml).expect("snippet is YAML");
    v.iter_errors(&json)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect()
}

const HEAD: &str = "id: r\ntitle: t\nseverity: low\nmatch:\n  type: FAILED_LOGIN\n";

#[test]
fn schema_lists_every_event_type_and_nothing_else() {
    let s = schema();
    let listed: Vec<&str> = s["$defs"]["eventType"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(
        listed, known,
        "schemas/rule.schema.json's eventType enum is out of step with EventType::ALL"
    );
}

#[test]
fn every_default_rule_is_schema_valid() {
    let v = validator();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let errors = schema_errors(&v, &text);
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        n += 1;
    }
    assert!(n >= 15, "only {n} rule files");
}

/// Snippets both sides accept: the schema must not be stricter than the loader on these.
#[test]
fn rules_picket_accepts_are_schema_valid() {
    let v = validator();
    let ok = [
        HEAD.to_string(),
        format!("{HEAD}group_by: [user, extra.unit]\nsuppress: 90\n"),
        format!("{HEAD}threshold: {{ count: 3, within: 60 }}\ndistinct: ~\nsequence: ~\n"),
        format!("{HEAD}threshold: {{ count: 3, within: 2h }}\ngroup_by: []\n"),
        format!("{HEAD}distinct: {{ field: src, count: 2, within: 1w, group_by: [host] }}\n"),
        format!("{HEAD}  where:\n    src_port: 22\n    outcome: {{ in: [failure, 1, true] }}\n    user: {{ not: {{ not: {{ regex: '^r' }} }}, exists: true }}\n    src_ip: {{ cidr: 10.0.0.0/8 }}\n  any:\n    - {{ program: sshd }}\n    - {{ extra.service: {{ equals: login }} }}\n"),
        format!("{HEAD}sequence:\n  within: 30m\n  steps:\n    - {{ type: [FAILED_LOGIN, INVALID_USER], count: 5 }}\n    - {{ type: LOGIN_SUCCESS, where: {{ method: password }} }}\n"),
        format!("{HEAD}allowlist: {{ cidrs: ['::1'], users: [backup], hosts: [] }}\nenabled: false\nmitre: [T1110, T1110.001]\nresponse: [block_ip]\n"),
        format!("{HEAD}response: [kill_process, block_ip]\nban_time: 1h\n"),
        format!("{HEAD}tests:\n  - name: a\n    lines: ~\n    events: [{{ ts: '2026-01-01T00:00:00Z', type: FAILED_LOGIN }}]\n    expect: {{ alerts: 1, group: {{ src_port: 22 }}, count: ~ }}\n"),
    ];
    for yaml in &ok {
        if let Err(e) = compile_yaml(yaml, Path::new("ok.yaml")) {
            panic!("Picket rejects a snippet meant to be valid:\n{yaml}\n{e:?}");
        }
        let errors = schema_errors(&v, yaml);
        assert!(
            errors.is_empty(),
            "the schema rejects what Picket accepts:\n{yaml}\n{errors:#?}"
        );
    }
}

/// Snippets the loader rejects: the schema must reject them too.
#[test]
fn rules_picket_rejects_are_schema_invalid() {
    let v = validator();
    let bad = [
        ("unknown top-level key", format!("{HEAD}severty: high\n")),
        ("unknown key in match", format!("{HEAD}  were: {{ user: root }}\n")),
        (
            "unknown key in threshold",
            format!("{HEAD}threshold: {{ count: 3, within: 60s, per: [user] }}\n"),
        ),
        (
            "bad severity",
            "id: r\ntitle: t\nseverity: severe\nmatch: { type: SUDO }\n".into(),
        ),
        (
            "threshold and distinct",
            format!("{HEAD}threshold: {{ count: 3, within: 60s }}\ndistinct: {{ field: user, count: 3, within: 60s }}\n"),
        ),
        (
            "threshold and sequence",
            format!("{HEAD}threshold: {{ count: 3, within: 60s }}\nsequence: {{ within: 1m, steps: [{{ type: SUDO }}, {{ type: SUDO }}] }}\n"),
        ),
        ("bad mitre id", format!("{HEAD}mitre: [T1110.1]\n")),
        ("unknown response", format!("{HEAD}response: [blok_ip]\n")),
        ("ban_time without block_ip", format!("{HEAD}ban_time: 1h\n")),
        (
            "ban_time with another response",
            format!("{HEAD}response: [kill_process]\nban_time: 1h\n"),
        ),
        ("zero ban_time", format!("{HEAD}response: [block_ip]\nban_time: 0s\n")),
        ("mitre id without T", format!("{HEAD}mitre: ['1110']\n")),
        (
            "unknown condition key",
            format!("{HEAD}  where: {{ user: {{ equal: root }} }}\n"),
        ),
        (
            "unknown condition key under not",
            format!("{HEAD}  where: {{ user: {{ not: {{ matches: root }} }} }}\n"),
        ),
        ("empty condition", format!("{HEAD}  where: {{ user: {{}} }}\n")),
        ("float condition", format!("{HEAD}  where: {{ user: 1.5 }}\n")),
        ("unknown field", format!("{HEAD}  where: {{ username: root }}\n")),
        ("type is not a field", format!("{HEAD}  where: {{ type: SUDO }}\n")),
        (
            "unknown event type",
            "id: r\ntitle: t\nseverity: low\nmatch: { type: LOGIN_FAILED }\n".into(),
        ),
        (
            "no event type",
            "id: r\ntitle: t\nseverity: low\nmatch: { type: [] }\n".into(),
        ),
        (
            "bad id",
            "id: SSH Brute\ntitle: t\nseverity: low\nmatch: { type: SUDO }\n".into(),
        ),
        ("missing title", "id: r\nseverity: low\nmatch: { type: SUDO }\n".into()),
        ("bad duration unit", format!("{HEAD}suppress: 2y\n")),
        ("zero duration", format!("{HEAD}threshold: {{ count: 3, within: 0s }}\n")),
        ("zero threshold", format!("{HEAD}threshold: {{ count: 0, within: 1m }}\n")),
        ("distinct of one", format!("{HEAD}distinct: {{ field: user, count: 1, within: 1m }}\n")),
        (
            "sequence of one step",
            format!("{HEAD}sequence: {{ within: 1m, steps: [{{ type: SUDO }}] }}\n"),
        ),
        (
            "top-level group_by with threshold",
            format!("{HEAD}threshold: {{ count: 3, within: 1m }}\ngroup_by: [user]\n"),
        ),
        ("bad group_by field", format!("{HEAD}group_by: [extra.]\n")),
        ("unknown allowlist key", format!("{HEAD}allowlist: {{ ips: [10.0.0.1] }}\n")),
        (
            "unknown test key",
            format!("{HEAD}tests: [{{ name: a, expect: {{ alerts: 0 }}, skip: true }}]\n"),
        ),
        (
            "unknown expect key",
            format!("{HEAD}tests: [{{ name: a, expect: {{ alerts: 0, alert: 1 }} }}]\n"),
        ),
    ];
    let mut failures = Vec::new();
    for (what, yaml) in &bad {
        let picket = compile_yaml(yaml, Path::new("bad.yaml")).is_err();
        let schema = !schema_errors(&v, yaml).is_empty();
        if !picket || !schema {
            failures.push(format!(
                "{what}: rejected by Picket: {picket}, by the schema: {schema}\n{yaml}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
