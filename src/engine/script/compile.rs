//! A `*.rhai` rule compiled: its `META` declaration checked field by field (every error
//! with its position), its `on_event` found, and the event fields it reads worked out.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use super::event_map::{fields_read, FieldMask};
use super::state::{sandbox, text};
use super::Script;
use crate::base::diag::CompileError;
use crate::base::sandbox::{compile_meta, meta_error};
use crate::engine::compile::{Kind, Rule};
use crate::engine::condition::Matcher;
use crate::engine::spec::TestSpec;
use crate::model::event::EventType;
use crate::model::Severity;

/// Compiles a `*.rhai` rule.
pub fn compile_script(source: &str, file: &Path) -> Result<Rule, Vec<CompileError>> {
    let engine = sandbox();
    let (full, meta, meta_line) = compile_meta(&engine, source, file)?;
    if !full
        .iter_functions()
        .any(|f| f.name == "on_event" && f.params.len() == 1)
    {
        return Err(vec![meta_error(file, 1, "no `fn on_event(ev)`")]);
    }
    let mut errs = Vec::new();
    let mut err = |m: String| errs.push(meta_error(file, meta_line, m));
    let get_str = |k: &str| meta.get(k).map(text);
    let id = get_str("id").unwrap_or_default();
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_')
    {
        err(format!(
            "META.id `{id}`: use 1 to 64 lowercase letters, digits, `-` or `_`"
        ));
    }
    let title = get_str("title").unwrap_or_default();
    if title.is_empty() {
        err("META.title is missing".into());
    }
    let severity = match get_str("severity").as_deref().map(Severity::from_str) {
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            err(format!("META.severity: {e}"));
            Severity::Low
        }
        None => {
            err("META.severity is missing".into());
            Severity::Low
        }
    };
    let list = |k: &str| -> Vec<String> {
        match meta.get(k) {
            Some(v) if v.is_array() => v
                .clone()
                .into_array()
                .unwrap_or_default()
                .iter()
                .map(text)
                .collect(),
            Some(v) if v.is_string() => vec![text(v)],
            _ => Vec::new(),
        }
    };
    let mitre = list("mitre");
    for m in &mitre {
        if !crate::engine::compile::valid_mitre(m) {
            err(format!(
                "META.mitre `{m}`: use an ATT&CK technique id like T1110 or T1110.001"
            ));
        }
    }
    let mut types = Vec::new();
    for t in list("types") {
        match EventType::from_str(&t) {
            Ok(t) => types.push(t),
            Err(_) => err(format!("META.types: unknown event type `{t}`")),
        }
    }
    if types.is_empty() {
        err("META.types: name the event types the rule wants".into());
    }
    let suppress = match meta.get("suppress") {
        None => None,
        Some(v) if v.is_int() => Some(v.as_int().unwrap_or(0)),
        Some(v) => match crate::model::duration::parse_secs(&text(v)) {
            Ok(s) => Some(s),
            Err(e) => {
                err(format!("META.suppress: {e}"));
                None
            }
        },
    };
    let enabled = meta
        .get("enabled")
        .is_none_or(|v| v.as_bool().unwrap_or(true));
    let tests: Vec<TestSpec> = match meta.get("tests") {
        None => Vec::new(),
        Some(v) => rhai::serde::from_dynamic(v).unwrap_or_else(|e| {
            err(format!("META.tests: {e}"));
            Vec::new()
        }),
    };
    let response = list("response");
    for r in &response {
        if let Some(p) = crate::engine::compile::response_problem(r) {
            err(format!("META.response: {p}"));
        }
    }
    let ban_time = match meta.get("ban_time") {
        None => None,
        Some(v) => {
            if let Some(p) = crate::engine::compile::ban_time_problem(&response) {
                err(format!("META.ban_time: {p}"));
            }
            let secs = if v.is_int() {
                Ok(v.as_int().unwrap_or(0))
            } else {
                crate::model::duration::parse_secs(&text(v))
            };
            match secs {
                Ok(s) if s > 0 => Some(s),
                Ok(_) => {
                    err("META.ban_time: a ban of 0 seconds: use e.g. 1h".into());
                    None
                }
                Err(e) => {
                    err(format!("META.ban_time: {e}"));
                    None
                }
            }
        }
    };
    let tags = list("tags");
    let description = get_str("description").unwrap_or_default();
    if !errs.is_empty() {
        return Err(errs);
    }
    let on_event_line = source
        .lines()
        .position(|l| l.trim_start().starts_with("fn on_event"))
        .map_or(0, |i| i + 1);
    let fields = full
        .iter_functions()
        .find(|f| f.name == "on_event")
        .and_then(|f| fields_read(source, f.params[0]));
    let fields = FieldMask::of(fields.as_deref());
    let script = Script {
        on_event_line,
        fields,
        engine,
        ast: full.clone_functions_only(),
    };
    Ok(Rule {
        id,
        title,
        description,
        severity,
        enabled,
        mitre,
        tags,
        types,
        matcher: Matcher::default(),
        kind: Kind::Script(Arc::new(script)),
        group_by: Vec::new(),
        suppress,
        allowlist: Default::default(),
        response,
        ban_time,
        tests,
        file: file.to_path_buf(),
    })
}
