//! `schemas/ruleset.schema.json` describes what `picket rules export` writes, and the
//! bundles import refuses are refused by the schema too where the schema can tell.

use std::path::Path;

use picket::engine::bundle::{export, parse_and_check};

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schemas/ruleset.schema.json"
    ))
    .unwrap();
    jsonschema::options()
        .build(&serde_json::from_str(&text).unwrap())
        .unwrap()
}

#[test]
fn exported_bundles_are_schema_valid_in_both_formats() {
    let v = validator();
    let bundle = export(None).unwrap();
    let json = serde_json::to_value(&bundle).unwrap();
    assert!(
        v.is_valid(&json),
        "{:?}",
        v.iter_errors(&json)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    let yaml = serde_saphyr::to_string(&bundle).unwrap();
    let from_yaml: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
    assert!(v.is_valid(&from_yaml));
    assert!(
        parse_and_check(&yaml, Path::new("b.yaml")).is_ok(),
        "the YAML export imports"
    );
}

#[test]
fn schema_and_importer_refuse_the_same_shapes() {
    let v = validator();
    for bad in [
        r#"{"picket_ruleset": 2, "rules": []}"#,
        r#"{"picket_ruleset": 1, "rules": [], "more": true}"#,
        r#"{"picket_ruleset": 1, "rules": [{"file": "../x.yaml", "source": "id: x"}]}"#,
        r#"{"picket_ruleset": 1, "rules": [{"file": ".x.yaml", "source": "id: x"}]}"#,
        r#"{"picket_ruleset": 1, "rules": [{"file": "x.sh", "source": "id: x"}]}"#,
        r#"{"picket_ruleset": 1, "rules": [{"file": "x.yaml"}]}"#,
    ] {
        let json: serde_json::Value = serde_json::from_str(bad).unwrap();
        assert!(!v.is_valid(&json), "schema accepts {bad}");
        assert!(
            parse_and_check(bad, Path::new("b.json")).is_err(),
            "importer accepts {bad}"
        );
    }
}
