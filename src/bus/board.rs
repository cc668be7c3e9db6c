//! The rule set as the API shows it: the rules running now, the files that do not
//! compile (their last good version keeps running), and how each script rule is doing.
//! The daemon's rule watcher and engine stage keep it current.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use crate::engine::compile::{CompileError, Kind, Rule};
use crate::engine::script::ScriptStatus;
use crate::engine::RuleSet;

#[derive(Debug, Default)]
pub struct RuleView {
    pub ruleset: Arc<RuleSet>,
    pub errors: Vec<CompileError>,
    pub scripts: HashMap<String, ScriptStatus>,
    /// The directory the rules come from; `None` for the built-in set (read-only).
    pub dir: Option<PathBuf>,
}

#[derive(Clone, Default)]
pub struct RuleBoard {
    inner: Arc<RwLock<RuleView>>,
}

impl RuleBoard {
    pub fn new(
        ruleset: Arc<RuleSet>,
        errors: Vec<CompileError>,
        dir: Option<PathBuf>,
    ) -> RuleBoard {
        RuleBoard {
            inner: Arc::new(RwLock::new(RuleView {
                ruleset,
                errors,
                scripts: HashMap::new(),
                dir,
            })),
        }
    }

    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, RuleView> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_rules(&self, ruleset: Arc<RuleSet>, errors: Vec<CompileError>) {
        let mut g = self.inner.write().unwrap_or_else(|p| p.into_inner());
        g.ruleset = ruleset;
        g.errors = errors;
    }

    pub fn set_errors(&self, errors: Vec<CompileError>) {
        self.inner.write().unwrap_or_else(|p| p.into_inner()).errors = errors;
    }

    /// Records script statuses; `true` if any changed.
    pub fn set_scripts(&self, statuses: Vec<(String, ScriptStatus)>) -> bool {
        let mut g = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let new: HashMap<String, ScriptStatus> = statuses.into_iter().collect();
        if g.scripts == new {
            return false;
        }
        g.scripts = new;
        true
    }
}

/// A rule as listed by `/api/rules`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleSummary {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: crate::model::Severity,
    pub kind: &'static str,
    pub file: String,
    pub enabled: bool,
    /// active | disabled | failed (a script stopped after repeated errors).
    pub status: &'static str,
    pub mitre: Vec<String>,
    pub tags: Vec<String>,
    pub hits: i64,
    pub last_error: Option<String>,
}

pub fn file_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub fn summary(rule: &Rule, scripts: &HashMap<String, ScriptStatus>, hits: i64) -> RuleSummary {
    let script = scripts.get(&rule.id);
    let failed = script.is_some_and(|s| s.disabled);
    RuleSummary {
        id: rule.id.clone(),
        title: rule.title.clone(),
        description: rule.description.clone(),
        severity: rule.severity,
        kind: if matches!(rule.kind, Kind::Script(_)) {
            "rhai"
        } else {
            "yaml"
        },
        file: file_name(&rule.file),
        enabled: rule.enabled,
        status: if failed {
            "failed"
        } else if rule.enabled {
            "active"
        } else {
            "disabled"
        },
        mitre: rule.mitre.clone(),
        tags: rule.tags.clone(),
        hits,
        last_error: script.and_then(|s| s.last_error.clone()),
    }
}
