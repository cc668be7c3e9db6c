//! The default ruleset: every file in `rules/` is embedded, compiles, carries ATT&CK ids
//! and tests, and every test passes.

use std::collections::BTreeSet;

use picket::engine::load::{defaults, load_dir, DEFAULT_RULES};
use picket::engine::ruletest;

#[test]
fn every_rule_file_is_embedded() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".rhai"))
        .collect();
    let embedded: BTreeSet<String> = DEFAULT_RULES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        embedded, on_disk,
        "src/engine/load.rs DEFAULT_RULES must list exactly the files in rules/"
    );
    let from_dir = load_dir(&dir).unwrap();
    assert!(from_dir.errors.is_empty(), "{:#?}", from_dir.errors);
    assert_eq!(from_dir.rules.len(), DEFAULT_RULES.len());
}

#[test]
fn default_rules_compile_with_mitre_ids_and_tests() {
    let loaded = defaults();
    assert!(
        loaded.errors.is_empty(),
        "{}",
        loaded
            .errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    for r in &loaded.rules {
        assert!(!r.mitre.is_empty(), "{} has no ATT&CK id", r.id);
        assert!(!r.tests.is_empty(), "{} has no tests", r.id);
        assert!(
            r.tests.iter().any(|t| t.expect.alerts > 0),
            "{} has no test that fires",
            r.id
        );
    }
}

#[test]
fn every_default_rule_test_passes() {
    let loaded = defaults();
    let mut failures = Vec::new();
    let mut n = 0;
    for r in &loaded.rules {
        for o in ruletest::run(r) {
            n += 1;
            if let Some(f) = o.failure {
                failures.push(format!("{} / {}: {f}", o.rule, o.test));
            }
        }
    }
    println!("{n} rule tests run");
    assert!(
        failures.is_empty(),
        "failing rule tests:\n{}",
        failures.join("\n")
    );
}

/// The example rules (examples/rules: the distributed brute force in Rhai, which the
/// Rhai benchmark runs) compile and pass their own tests too.
#[test]
fn example_rules_compile_and_pass_their_tests() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rules");
    let loaded = load_dir(&dir).unwrap();
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert!(!loaded.rules.is_empty());
    for r in &loaded.rules {
        for o in ruletest::run(r) {
            assert!(
                o.failure.is_none(),
                "{} / {}: {:?}",
                o.rule,
                o.test,
                o.failure
            );
        }
    }
}
