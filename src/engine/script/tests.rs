//! Script rules end to end: compilation errors, the state API, the sandbox's limits.

use super::*;
use std::sync::Arc;

use crate::base::timestamp::Timestamp;
use crate::engine::compile::compile_yaml;
use crate::engine::compile::Kind;
use crate::engine::runtime::{Engine, RuleSet};
use crate::model::event::EventType;

pub(super) fn script(src: &str) -> Arc<Rule> {
    let text = format!(
        "const META = #{{ id: \"s\", title: \"s\", severity: \"low\", types: [\"ROOT_LOGIN\"] }};\n{src}"
    );
    Arc::new(compile_script(&text, Path::new("t.rhai")).unwrap())
}

pub(super) fn engine_with(rules: Vec<Arc<Rule>>) -> Engine {
    Engine::new(Arc::new(RuleSet::new(rules)))
}

pub(super) fn root_login(secs: i64) -> Event {
    let mut e = Event::new(
        Timestamp::from_secs(secs),
        EventType::RootLogin,
        "t",
        &format!("line {secs}"),
    );
    e.user = Some("root".into());
    e
}

fn status(eng: &Engine) -> ScriptStatus {
    eng.script_statuses()
        .into_iter()
        .find(|(id, _)| id == "s")
        .unwrap()
        .1
}

const YAML: &str = "id: y\ntitle: y\nseverity: low\nmatch: { type: ROOT_LOGIN }\n";

#[test]
fn an_endless_loop_is_stopped_and_other_rules_keep_firing() {
    for body in ["loop {}", "while true {}", "let i = 0; loop { i += 1; }"] {
        let s = script(&format!("fn on_event(ev) {{\n  {body}\n}}\n"));
        let y = Arc::new(compile_yaml(YAML, Path::new("y.yaml")).unwrap());
        let mut eng = engine_with(vec![s, y]);
        let mut out = Vec::new();
        for t in 0..3 {
            eng.on_event(&root_login(t), &mut out);
        }
        assert_eq!(out.len(), 3, "the YAML rule fired on every event");
        assert!(out.iter().all(|a| a.rule == "y"));
        let st = status(&eng);
        assert_eq!(st.failures, 3);
        assert!(!st.disabled);
        let err = st.last_error.unwrap();
        assert!(err.contains("Too many operations"), "{err}");
        assert!(err.contains("t.rhai:2:"), "{err}");
        assert!(err.ends_with("(event: line 2)"), "{err}");
    }
}

#[test]
fn a_failing_script_is_reported_with_its_position_and_disabled_after_repeated_failures() {
    let s = script("fn on_event(ev) {\n    let x = 1;\n    throw \"boom\";\n}\n");
    let mut eng = engine_with(vec![s]);
    let mut out = Vec::new();
    for t in 0..(MAX_CONSECUTIVE_FAILURES as i64 - 1) {
        eng.on_event(&root_login(t), &mut out);
    }
    let st = status(&eng);
    assert!(!st.disabled);
    let err = st.last_error.unwrap();
    assert!(err.starts_with("rule s: t.rhai:4:5: "), "{err}");
    assert!(err.contains("boom"), "{err}");
    assert!(err.ends_with("(event: line 8)"), "{err}");
    for t in 100..105 {
        eng.on_event(&root_login(t), &mut out);
    }
    let st = status(&eng);
    assert!(st.disabled);
    assert_eq!(
        st.failures, MAX_CONSECUTIVE_FAILURES as u64,
        "a disabled rule is no longer called"
    );
    assert!(out.is_empty());
}

#[test]
fn a_success_resets_the_consecutive_failures() {
    let s = script("fn on_event(ev) {\n  if ev.ts % 2000000 == 0 { throw \"even\"; }\n}\n");
    let mut eng = engine_with(vec![s]);
    let mut out = Vec::new();
    for t in 0..100 {
        eng.on_event(&root_login(t), &mut out);
    }
    let st = status(&eng);
    assert!(!st.disabled);
    assert_eq!(st.failures, 50);
}

#[test]
fn meta_response_and_ban_time_are_checked() {
    let script = |extra: &str| {
        format!("const META = #{{ id: \"s\", title: \"s\", severity: \"low\", types: [\"SUDO\"]{extra} }};\nfn on_event(ev) {{}}")
    };
    let rule = compile_script(
        &script(", response: [\"block_ip\"], ban_time: \"30m\""),
        Path::new("t.rhai"),
    )
    .unwrap();
    assert_eq!(
        (rule.response.clone(), rule.ban_time),
        (vec!["block_ip".to_string()], Some(1800))
    );
    for (extra, says) in [
        (", response: [\"blok_ip\"]", "unknown response `blok_ip`"),
        (", ban_time: \"1h\"", "add block_ip to response"),
        (", response: [\"block_ip\"], ban_time: 0", "0 seconds"),
    ] {
        let errs = compile_script(&script(extra), Path::new("t.rhai")).unwrap_err();
        assert!(
            errs.iter().any(|e| e.message.contains(says)),
            "{extra}: {errs:?}"
        );
    }
}

#[test]
fn eval_and_import_are_refused() {
    let text = |body: &str| {
        format!("const META = #{{ id: \"s\", title: \"s\", severity: \"low\", types: [\"SUDO\"] }};\n{body}")
    };
    let bad = [
        "fn on_event(ev) { eval(\"1\") }",
        "import \"x\" as x;\nfn on_event(ev) {}",
        "fn on_event(ev) { import \"x\" as x; }",
    ];
    for b in bad {
        assert!(
            compile_script(&text(b), Path::new("t.rhai")).is_err(),
            "{b} compiled"
        );
    }
    // Not even through a function pointer.
    let s = compile_script(
        &text("fn on_event(ev) { let f = Fn(\"ev\" + \"al\"); f.call(\"1\") }"),
        Path::new("t.rhai"),
    );
    if let Ok(rule) = s {
        let Kind::Script(sc) = &rule.kind else {
            unreachable!()
        };
        let st: Shared = Default::default();
        let mut e = root_login(1);
        e.kind = EventType::Sudo;
        assert!(sc.call(Path::new("t.rhai"), &st, &e).is_err());
    }
}

#[test]
fn string_and_array_sizes_are_limited() {
    for (body, want) in [
        ("let s = \"xxxxxxxx\"; loop { s += s; }", "Length of string"),
        (
            "let a = []; loop { a += [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]; }",
            "Size of array",
        ),
    ] {
        let s = script(&format!("fn on_event(ev) {{\n  {body}\n}}\n"));
        let mut eng = engine_with(vec![s]);
        eng.on_event(&root_login(1), &mut Vec::new());
        let err = status(&eng).last_error.unwrap();
        assert!(err.contains(want), "{body}: {err}");
    }
}

#[test]
fn state_is_on_event_time_and_survives_an_unchanged_rule_reload() {
    let s = script(
        "fn on_event(ev) {\n  let seen = recall(\"u\");\n  remember(\"u\", ev.ts, 60);\n  if count(\"c\", 10) >= 3 && seen != () { alert(#{ group: #{ user: ev.user }, title: \"three\" }); }\n}\n",
    );
    let rules = Arc::new(RuleSet::new(vec![s]));
    let mut eng = Engine::new(rules.clone());
    let mut out = Vec::new();
    eng.on_event(&root_login(0), &mut out);
    eng.on_event(&root_login(1), &mut out);
    eng.replace_rules(Arc::new(RuleSet::new(rules.rules().to_vec())), &mut out);
    eng.on_event(&root_login(2), &mut out);
    assert_eq!(out.len(), 1, "the count survived the reload");
    assert_eq!(out[0].title, "three");
    assert_eq!(out[0].group["user"], "root");
    assert_eq!(out[0].evidence, vec![Arc::<str>::from("line 2")]);
    // Twenty seconds later the window is empty again.
    out.clear();
    eng.on_event(&root_login(30), &mut out);
    assert!(out.is_empty());
}

#[test]
fn bad_metadata_is_reported() {
    let e = compile_script(
        "const META = #{ id: \"Bad Id\", title: \"t\", severity: \"huge\", mitre: [\"X1\"], types: [\"NOPE\"] };\nfn on_event(ev) {}\n",
        Path::new("b.rhai"),
    )
    .unwrap_err();
    let all: Vec<String> = e.iter().map(|e| e.to_string()).collect();
    assert_eq!(all.len(), 5, "{all:?}");
    assert!(all.iter().all(|m| m.starts_with("b.rhai:1:")), "{all:?}");
    let syntax =
        compile_script("fn on_event(ev) {\n  let = 1;\n}\n", Path::new("c.rhai")).unwrap_err();
    assert!(
        syntax[0].to_string().starts_with("c.rhai:2:"),
        "{}",
        syntax[0]
    );
}
