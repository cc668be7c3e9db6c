//! Spec → compiled rule: type names resolved, regexes and CIDRs built, durations in
//! seconds, field names checked. Compilation reports every error of a file at once, each
//! with `file:line:column` and what was expected.

use std::path::{Path, PathBuf};

use serde_saphyr::Spanned;

use super::condition::{Cond, Field, FieldCond, Matcher};
use super::spec::{Condition, MatchSpec, OneOrMany, RuleSpec, Severity, TestSpec};
pub use crate::base::diag::{yaml_error, CompileError};
use crate::model::event::EventType;
use crate::model::ip::Cidr;

/// What a stateful rule counts.
#[derive(Debug, Clone)]
pub enum Kind {
    /// Every matching event alerts (subject to suppression).
    Single,
    Threshold {
        count: u32,
        within: i64,
    },
    Distinct {
        field: Field,
        count: u32,
        within: i64,
    },
    Sequence {
        within: i64,
        steps: Vec<Step>,
    },
    /// A Rhai script (`*.rhai`): its `on_event` decides and raises the alerts.
    Script(std::sync::Arc<super::script::Script>),
}

#[derive(Debug, Clone)]
pub struct Step {
    pub types: Vec<EventType>,
    pub matcher: Matcher,
    pub count: u32,
}

/// Events a rule never counts.
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    pub cidrs: Vec<Cidr>,
    pub users: Vec<String>,
    pub hosts: Vec<String>,
}

impl Allowlist {
    pub fn allows(&self, e: &crate::model::event::Event) -> bool {
        e.src_ip
            .is_some_and(|ip| self.cidrs.iter().any(|c| c.contains(ip)))
            || e.user
                .as_deref()
                .is_some_and(|u| self.users.iter().any(|a| a == u))
            || e.host
                .as_deref()
                .is_some_and(|h| self.hosts.iter().any(|a| a == h))
    }
}

/// A compiled YAML rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub enabled: bool,
    pub mitre: Vec<String>,
    pub tags: Vec<String>,
    /// Every event type the rule (or any of its steps) looks at.
    pub types: Vec<EventType>,
    pub matcher: Matcher,
    pub kind: Kind,
    pub group_by: Vec<Field>,
    pub suppress: Option<i64>,
    pub allowlist: Allowlist,
    pub response: Vec<String>,
    /// The first ban's length for `block_ip`, in seconds, when the rule sets it.
    pub ban_time: Option<i64>,
    pub tests: Vec<TestSpec>,
    pub file: PathBuf,
}

pub(crate) use crate::response::registry::{ban_time_problem, problem as response_problem};

/// Errors collected while compiling one file.
struct Errors<'a> {
    file: &'a Path,
    list: Vec<CompileError>,
}

impl Errors<'_> {
    fn at<T>(&mut self, s: &Spanned<T>, message: impl Into<String>) {
        self.list.push(CompileError {
            file: self.file.to_path_buf(),
            line: s.referenced.line() as u32,
            column: s.referenced.column() as u32,
            message: message.into(),
        });
    }
}

/// Parses and compiles one rule file's text. `file` names it in errors.
pub fn compile_yaml(text: &str, file: &Path) -> Result<Rule, Vec<CompileError>> {
    let spec: RuleSpec =
        serde_saphyr::from_str(text).map_err(|e| vec![yaml_error(&e, file, "invalid rule")])?;
    compile(spec, file)
}

/// Compiles a parsed spec.
pub fn compile(spec: RuleSpec, file: &Path) -> Result<Rule, Vec<CompileError>> {
    let mut errs = Errors {
        file,
        list: Vec::new(),
    };
    let id = spec.id.value.clone();
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_')
    {
        errs.at(
            &spec.id,
            format!("rule id `{id}`: use 1 to 64 lowercase letters, digits, `-` or `_`"),
        );
    }
    for m in &spec.mitre {
        if !valid_mitre(&m.value) {
            errs.at(
                m,
                format!(
                    "`{}` is not an ATT&CK technique id: expected T1234 or T1234.001",
                    m.value
                ),
            );
        }
    }
    let (mut types, matcher) = compile_match(&spec.matcher, &mut errs);
    let stateful = [
        spec.threshold.is_some(),
        spec.distinct.is_some(),
        spec.sequence.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    let mut group_by = Vec::new();
    let kind = if stateful > 1 {
        errs.at(
            &spec.id,
            "a rule takes one of threshold, distinct and sequence, not several",
        );
        Kind::Single
    } else if let Some(t) = &spec.threshold {
        group_by = fields(&t.group_by, &mut errs);
        if t.count == 0 {
            errs.at(&t.within, "threshold count must be at least 1");
        }
        Kind::Threshold {
            count: t.count.max(1),
            within: duration(&t.within, &mut errs),
        }
    } else if let Some(d) = &spec.distinct {
        group_by = fields(&d.group_by, &mut errs);
        let field = field(&d.field, &mut errs);
        if d.count < 2 {
            errs.at(&d.within, "distinct count must be at least 2");
        }
        Kind::Distinct {
            field,
            count: d.count.max(2),
            within: duration(&d.within, &mut errs),
        }
    } else if let Some(s) = &spec.sequence {
        group_by = fields(&s.group_by, &mut errs);
        if s.steps.len() < 2 {
            errs.at(&s.within, "a sequence needs at least two steps");
        }
        let steps = s
            .steps
            .iter()
            .map(|st| {
                let m = MatchSpec {
                    types: st.types.clone(),
                    conditions: st.conditions.clone(),
                    any: st.any.clone(),
                };
                let (step_types, matcher) = compile_match(&m, &mut errs);
                types.extend(step_types.iter().copied());
                Step {
                    types: step_types,
                    matcher,
                    count: st.count.max(1),
                }
            })
            .collect();
        Kind::Sequence {
            within: duration(&s.within, &mut errs),
            steps,
        }
    } else {
        group_by = fields(&spec.group_by, &mut errs);
        Kind::Single
    };
    if stateful == 1 && !spec.group_by.is_empty() {
        errs.at(
            &spec.group_by[0],
            "group_by belongs inside threshold, distinct or sequence for this rule",
        );
    }
    types.sort();
    types.dedup();
    let suppress = spec.suppress.as_ref().map(|s| duration(s, &mut errs));
    for r in &spec.response {
        if let Some(p) = response_problem(&r.value) {
            errs.at(r, p);
        }
    }
    let response: Vec<String> = spec.response.into_iter().map(|r| r.value).collect();
    let ban_time = spec.ban_time.as_ref().map(|b| {
        if let Some(p) = ban_time_problem(&response) {
            errs.at(b, p);
        }
        duration(b, &mut errs)
    });
    let allowlist = spec
        .allowlist
        .as_ref()
        .map(|a| Allowlist {
            cidrs: a
                .cidrs
                .iter()
                .filter_map(|c| match Cidr::parse(&c.value) {
                    Ok(cidr) => Some(cidr),
                    Err(e) => {
                        errs.at(c, e);
                        None
                    }
                })
                .collect(),
            users: a.users.clone(),
            hosts: a.hosts.clone(),
        })
        .unwrap_or_default();
    if !errs.list.is_empty() {
        return Err(errs.list);
    }
    Ok(Rule {
        id,
        title: spec.title,
        description: spec.description,
        severity: spec.severity,
        enabled: spec.enabled,
        mitre: spec.mitre.into_iter().map(|m| m.value).collect(),
        tags: spec.tags,
        types,
        matcher,
        kind,
        group_by,
        suppress,
        allowlist,
        response,
        ban_time,
        tests: spec.tests,
        file: file.to_path_buf(),
    })
}

pub(crate) fn valid_mitre(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('T') else {
        return false;
    };
    let (main, sub) = rest
        .split_once('.')
        .map_or((rest, None), |(m, s)| (m, Some(s)));
    main.len() == 4
        && main.bytes().all(|c| c.is_ascii_digit())
        && sub.is_none_or(|s| s.len() == 3 && s.bytes().all(|c| c.is_ascii_digit()))
}

fn compile_match(m: &MatchSpec, errs: &mut Errors<'_>) -> (Vec<EventType>, Matcher) {
    let names = match &m.types.value {
        OneOrMany::One(t) => vec![t.clone()],
        OneOrMany::Many(v) => v.clone(),
    };
    let mut types = Vec::new();
    for n in names {
        match n.parse::<EventType>() {
            Ok(t) => types.push(t),
            Err(_) => errs.at(
                &m.types,
                format!(
                    "unknown event type `{n}`: expected one of {}",
                    EventType::ALL
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    if types.is_empty() && errs.list.is_empty() {
        errs.at(&m.types, "match needs at least one event type");
    }
    let all = conditions(&m.conditions, errs);
    let any = m.any.iter().map(|set| conditions(set, errs)).collect();
    (types, Matcher { all, any })
}

fn conditions(
    map: &std::collections::BTreeMap<String, Spanned<Condition>>,
    errs: &mut Errors<'_>,
) -> Vec<FieldCond> {
    map.iter()
        .filter_map(|(name, c)| {
            let field = match Field::parse(name) {
                Ok(f) => f,
                Err(e) => {
                    errs.at(c, e);
                    return None;
                }
            };
            let cond = condition(&c.value, c, errs)?;
            Some(FieldCond { field, cond })
        })
        .collect()
}

fn condition(c: &Condition, at: &Spanned<Condition>, errs: &mut Errors<'_>) -> Option<Cond> {
    let mut parts = Vec::new();
    if let Some(v) = &c.equals {
        parts.push(Cond::Equals(v.clone()));
    }
    if let Some(v) = &c.one_of {
        parts.push(Cond::In(v.clone()));
    }
    if let Some(r) = &c.regex {
        match regex::RegexBuilder::new(r).size_limit(1 << 20).build() {
            Ok(re) => parts.push(Cond::Regex(Box::new(super::prefilter::Pattern::new(re)))),
            Err(e) => {
                errs.at(at, format!("invalid regex `{r}`: {e}"));
                return None;
            }
        }
    }
    if let Some(cidrs) = &c.cidr {
        let mut parsed = Vec::new();
        for s in cidrs {
            match Cidr::parse(s) {
                Ok(c) => parsed.push(c),
                Err(e) => errs.at(at, e),
            }
        }
        parts.push(Cond::Cidr(parsed));
    }
    if let Some(b) = c.exists {
        parts.push(Cond::Exists(b));
    }
    if let Some(n) = &c.not {
        parts.push(Cond::Not(Box::new(condition(n, at, errs)?)));
    }
    Some(if parts.len() == 1 {
        parts.remove(0)
    } else {
        Cond::All(parts)
    })
}

fn duration(s: &Spanned<String>, errs: &mut Errors<'_>) -> i64 {
    match crate::model::duration::parse_secs(&s.value) {
        Ok(0) => {
            errs.at(
                s,
                "a window of 0 seconds never holds two events: use e.g. 60s",
            );
            1
        }
        Ok(v) => v,
        Err(e) => {
            errs.at(s, e);
            1
        }
    }
}

fn field(s: &Spanned<String>, errs: &mut Errors<'_>) -> Field {
    Field::parse(&s.value).unwrap_or_else(|e| {
        errs.at(s, e);
        Field::Src
    })
}

fn fields(list: &[Spanned<String>], errs: &mut Errors<'_>) -> Vec<Field> {
    list.iter().map(|s| field(s, errs)).collect()
}
