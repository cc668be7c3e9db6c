//! Every event the parsers produce from the corpora is valid against
//! `schemas/event.schema.json`, and the schema's type list is exactly `EventType::ALL`.

mod common;

use picket::base::timestamp::LocalZone;
use picket::model::event::EventType;
use picket::replay::{replay, Input, ReplayOptions};

fn schema() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schemas/event.schema.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn schema_lists_every_event_type_and_nothing_else() {
    let s = schema();
    let listed: Vec<String> = s["properties"]["type"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let known: Vec<String> = EventType::ALL
        .iter()
        .map(|t| t.as_str().to_string())
        .collect();
    assert_eq!(
        listed, known,
        "schemas/event.schema.json's type enum is out of step with EventType::ALL"
    );
}

#[test]
fn every_corpus_event_is_schema_valid() {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema())
        .expect("the schema compiles");
    let files = [
        "loghub/OpenSSH/OpenSSH_2k.log",
        "loghub/Linux/Linux_2k.log",
        "elastic-examples/auth.log",
        "secrepo-auth/auth.log",
        "fail2ban/logs/sshd",
        "fail2ban/logs/pam-generic",
        "fail2ban/logs/dropbear",
    ];
    let mut checked = 0usize;
    let mut types = std::collections::BTreeSet::new();
    for rel in files {
        let path = common::corpus(rel);
        let opts = ReplayOptions {
            zone: LocalZone::utc(),
            ..Default::default()
        };
        let mut failures = Vec::new();
        replay(
            &Input::File(path),
            &opts,
            |events| {
                for e in events {
                    let json = serde_json::to_value(e).unwrap();
                    let errors: Vec<String> = validator
                        .iter_errors(&json)
                        .map(|err| format!("{err} at {}", err.instance_path))
                        .collect();
                    if !errors.is_empty() && failures.len() < 5 {
                        failures.push(format!("{}: {:?}", e.line, errors));
                    }
                    checked += 1;
                    types.insert(e.kind);
                }
            },
            |_| {},
        )
        .unwrap();
        assert!(
            failures.is_empty(),
            "{rel}: schema-invalid events:\n{}",
            failures.join("\n")
        );
    }
    // Also the shapes the corpora lack (dpkg, journald), from the fixtures.
    for rel in [
        "tests/fixtures/dpkg.log",
        "tests/fixtures/journal.json",
        "tests/fixtures/debian12-auth.log",
        "tests/fixtures/kern.log",
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
        let opts = ReplayOptions {
            zone: LocalZone::utc(),
            ..Default::default()
        };
        replay(
            &Input::File(path),
            &opts,
            |events| {
                for e in events {
                    let json = serde_json::to_value(e).unwrap();
                    assert!(validator.is_valid(&json), "{rel}: invalid event {json}");
                    checked += 1;
                    types.insert(e.kind);
                }
            },
            |_| {},
        )
        .unwrap();
    }
    println!("{checked} events checked against the schema; types seen: {types:?}");
    assert!(checked > 3000, "too few events: {checked}");
}
