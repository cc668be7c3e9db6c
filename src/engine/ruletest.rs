//! Runs a rule's own `tests:`: log lines (or events) in, the expected alerts out, on a
//! fresh engine holding only that rule — the same path `picket replay --alerts` takes.

use std::sync::Arc;

use super::compile::Rule;
use super::runtime::{Engine, RuleSet};
use super::spec::TestSpec;
use crate::base::timestamp::{LocalZone, Timestamp};
use crate::model::alert::Alert;
use crate::model::event::Event;
use crate::parse::InputFormat;
use crate::replay::replay_text;

/// "Now" for BSD stamps in rule tests: they read as the year 2026, in UTC.
const TEST_REFERENCE: &str = "2026-12-31T23:59:59Z";

/// The result of one test case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub rule: String,
    pub test: String,
    /// `None` when it passed; else what differed.
    pub failure: Option<String>,
}

/// The events a test feeds in.
pub fn test_events(t: &TestSpec) -> Result<Vec<Event>, String> {
    let mut events = Vec::new();
    if let Some(lines) = &t.lines {
        let reference = Timestamp::parse_rfc3339(TEST_REFERENCE).expect("valid constant");
        let (evs, stats) = replay_text(lines, InputFormat::Syslog, LocalZone::utc(), reference);
        if stats.unparsable > 0 {
            return Err(format!(
                "{} of its lines have no syslog header",
                stats.unparsable
            ));
        }
        events.extend(evs);
    }
    for (i, v) in t.events.iter().enumerate() {
        let mut v = v.clone();
        if let Some(obj) = v.as_object_mut() {
            obj.entry("source").or_insert_with(|| "test".into());
            obj.entry("line").or_insert_with(|| "".into());
        }
        events.push(serde_json::from_value(v).map_err(|e| format!("event {}: {e}", i + 1))?);
    }
    Ok(events)
}

/// The alerts `events` raise with `rules`, each in its final state (suppressed repeats
/// folded in), in order of first firing.
pub fn alerts_for(rules: Arc<RuleSet>, events: &[Event]) -> Vec<Alert> {
    let mut engine = Engine::new(rules);
    let mut out = Vec::new();
    for e in events {
        engine.on_event(e, &mut out);
    }
    engine.flush(&mut out);
    let mut log = super::AlertLog::default();
    log.record(out);
    log.finish()
}

/// Runs every test of `rule`.
pub fn run(rule: &Arc<Rule>) -> Vec<Outcome> {
    let mut only = (**rule).clone();
    only.enabled = true;
    let rules = Arc::new(RuleSet::new(vec![Arc::new(only)]));
    rule.tests
        .iter()
        .map(|t| Outcome {
            rule: rule.id.clone(),
            test: t.name.clone(),
            failure: check(&rules, t).err(),
        })
        .collect()
}

fn check(rules: &Arc<RuleSet>, t: &TestSpec) -> Result<(), String> {
    let events = test_events(t)?;
    let alerts = alerts_for(rules.clone(), &events);
    let want = &t.expect;
    if alerts.len() != want.alerts {
        return Err(format!(
            "expected {} alert(s), got {} from {} event(s){}",
            want.alerts,
            alerts.len(),
            events.len(),
            describe(&alerts)
        ));
    }
    if let Some(first) = alerts.first() {
        for (k, v) in &want.group {
            if first.group.get(k) != Some(v) {
                return Err(format!(
                    "expected the first alert's {k} to be {v}, got {:?}",
                    first.group.get(k)
                ));
            }
        }
        if let Some(c) = want.count {
            if first.count != c {
                return Err(format!(
                    "expected the first alert's count to be {c}, got {}",
                    first.count
                ));
            }
        }
    }
    Ok(())
}

fn describe(alerts: &[Alert]) -> String {
    alerts
        .iter()
        .map(|a| format!("\n    {} {:?} count {}", a.rule, a.group, a.count))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compile::compile_yaml;

    #[test]
    fn a_wrong_expectation_fails_with_what_differed() {
        let yaml = "id: r\ntitle: t\nseverity: low\nmatch: { type: ROOT_LOGIN }\ntests:\n  - name: wrong\n    lines: |\n      2026-11-21T10:00:09+00:00 web sshd[3]: Accepted publickey for root from 198.51.100.20 port 3 ssh2\n    expect: { alerts: 2 }\n  - name: bad group\n    lines: |\n      2026-11-21T10:00:09+00:00 web sshd[3]: Accepted publickey for root from 198.51.100.20 port 3 ssh2\n    expect: { alerts: 1, group: { src_ip: 1.2.3.4 } }\n";
        let rule = Arc::new(compile_yaml(yaml, std::path::Path::new("r.yaml")).unwrap());
        let outcomes = run(&rule);
        assert_eq!(outcomes.len(), 2);
        assert!(outcomes[0]
            .failure
            .as_deref()
            .unwrap()
            .contains("expected 2 alert(s), got 1"));
        assert!(outcomes[1].failure.is_some());
    }
}
