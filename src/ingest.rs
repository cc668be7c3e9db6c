//! Incidents from other detectors (`POST /api/alert`): the incident JSON of
//! `schemas/incident.schema.json`, checked field by field so a bad payload is answered
//! with every reason at once, then turned into an [`Alert`] that takes the same path as
//! Picket's own: store, incident grouping, response, notifications.
//!
//! The payload is as hostile as a log line: the address is parsed into an `IpAddr`
//! before anything else sees it, text fields are bounded and free of control characters,
//! and the only response an external detector may ask for is `block_ip` (still subject to
//! the guard and the configured mode).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::base::timestamp::Timestamp;
use crate::model::{Alert, AlertStatus, Severity};

/// Most incidents one request may carry.
pub const MAX_BATCH: usize = 100;

/// Fields an incident may have: those a detector sends, and those Picket sets on its own
/// incidents (accepted and ignored, so an exported incident can be posted back).
const FIELDS: &[&str] = &[
    "id",
    "ip",
    "type",
    "severity",
    "timestamp",
    "source_log",
    "target",
    "rule",
    "status",
    "title",
    "user",
    "detector",
    "mitre",
    "evidence",
    "response",
    "count",
    // Set by Picket.
    "owner",
    "last_seen",
    "alerts",
    "closed",
];

/// One reason a payload was refused: where (`[2].ip`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Parses a request body: one incident object or an array of at most [`MAX_BATCH`].
/// Every problem of every incident is reported, or none is accepted.
pub fn parse_body(body: &[u8]) -> Result<Vec<Alert>, Vec<Problem>> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        vec![Problem {
            path: "$".into(),
            message: format!("not JSON: {e} (line {}, column {})", e.line(), e.column()),
        }]
    })?;
    let items: Vec<(String, &Value)> = match &value {
        Value::Array(a) if a.is_empty() => {
            return Err(vec![problem(
                "$",
                "an empty array: send at least one incident",
            )])
        }
        Value::Array(a) if a.len() > MAX_BATCH => {
            return Err(vec![problem(
                "$",
                &format!(
                    "{} incidents: send at most {MAX_BATCH} per request",
                    a.len()
                ),
            )])
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("[{i}]"), v))
            .collect(),
        v => vec![(String::new(), v)],
    };
    let mut alerts = Vec::new();
    let mut problems = Vec::new();
    for (prefix, v) in items {
        match to_alert(v) {
            Ok(a) => alerts.push(a),
            Err(ps) => problems.extend(ps.into_iter().map(|p| Problem {
                path: join(&prefix, &p.path),
                message: p.message,
            })),
        }
    }
    if problems.is_empty() {
        Ok(alerts)
    } else {
        Err(problems)
    }
}

fn join(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path) {
        (true, p) => p.to_string(),
        (false, "$") => prefix.to_string(),
        (false, p) => format!("{prefix}.{p}"),
    }
}

fn problem(path: &str, message: &str) -> Problem {
    Problem {
        path: path.into(),
        message: message.into(),
    }
}

/// Reads fields off an incident object, noting each problem.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    problems: Vec<Problem>,
}

impl<'a> Fields<'a> {
    fn fail(&mut self, field: &str, message: String) {
        self.problems.push(Problem {
            path: field.into(),
            message,
        });
    }

    /// A string field of at most `max` characters, without control characters.
    fn text(&mut self, field: &str, required: bool, max: usize) -> Option<&'a str> {
        match self.map.get(field) {
            None | Some(Value::Null) if required => {
                self.fail(field, "is required".into());
                None
            }
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                if s.is_empty() {
                    self.fail(field, "must not be empty".into());
                    None
                } else if s.chars().count() > max {
                    self.fail(field, format!("is longer than {max} characters"));
                    None
                } else if s.chars().any(char::is_control) {
                    self.fail(
                        field,
                        "must not contain control characters (newlines, escapes)".into(),
                    );
                    None
                } else {
                    Some(s.as_str())
                }
            }
            Some(other) => {
                self.fail(field, format!("must be a string, not {}", kind_of(other)));
                None
            }
        }
    }

    /// A name: letters, digits and `_ . : -`, starting with a letter or digit.
    fn name(&mut self, field: &str, required: bool, max: usize) -> Option<&'a str> {
        let s = self.text(field, required, max)?;
        if is_name(s) {
            Some(s)
        } else {
            self.fail(
                field,
                format!("`{}` is not a name: use letters, digits, `_`, `.`, `:` and `-`, starting with a letter or digit", clip(s)),
            );
            None
        }
    }

    /// An array of strings, each passing `check`.
    fn strings(
        &mut self,
        field: &str,
        max_items: usize,
        max_len: usize,
        check: impl Fn(&str) -> Option<String>,
    ) -> Vec<&'a str> {
        let mut out = Vec::new();
        match self.map.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                if items.len() > max_items {
                    self.fail(
                        field,
                        format!("has {} items: at most {max_items}", items.len()),
                    );
                    return out;
                }
                for (i, v) in items.iter().enumerate() {
                    let path = format!("{field}[{i}]");
                    match v {
                        Value::String(s) if s.chars().count() > max_len => {
                            self.fail(&path, format!("is longer than {max_len} characters"))
                        }
                        Value::String(s) => match check(s) {
                            Some(why) => self.fail(&path, why),
                            None => out.push(s.as_str()),
                        },
                        other => {
                            self.fail(&path, format!("must be a string, not {}", kind_of(other)))
                        }
                    }
                }
            }
            Some(other) => self.fail(field, format!("must be an array, not {}", kind_of(other))),
        }
        out
    }
}

fn is_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// At most 64 characters of hostile text, for an error message.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(64).collect();
    if s.chars().count() > 64 {
        out.push('…');
    }
    out
}

fn is_technique(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => b[0] == b'T' && digits(&b[1..]),
        9 => b[0] == b'T' && digits(&b[1..5]) && b[5] == b'.' && digits(&b[6..]),
        _ => false,
    }
}

/// Checks one incident object and makes the alert it stands for.
pub fn to_alert(v: &Value) -> Result<Alert, Vec<Problem>> {
    let Value::Object(map) = v else {
        return Err(vec![problem(
            "$",
            &format!("must be an incident object, not {}", kind_of(v)),
        )]);
    };
    let mut f = Fields {
        map,
        problems: Vec::new(),
    };
    for k in map.keys() {
        if !FIELDS.contains(&k.as_str()) {
            f.fail(
                &clip(k),
                "is not an incident field (see schemas/incident.schema.json)".into(),
            );
        }
    }
    let external_id = match map.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.is_u64() => Some(n.to_string()),
        Some(Value::String(_)) => f.name("id", false, 128).map(str::to_string),
        Some(other) => {
            f.fail(
                "id",
                format!("must be a string or an integer, not {}", kind_of(other)),
            );
            None
        }
    };
    let ip = f
        .text("ip", false, 64)
        .and_then(|s| match s.parse::<IpAddr>() {
            Ok(ip) => Some(crate::model::ip::canonical(ip)),
            Err(_) => {
                let why = format!("`{}` is not an IPv4 or IPv6 address", clip(s));
                f.fail("ip", why);
                None
            }
        });
    let kind = f.name("type", true, 64);
    let severity = f
        .text("severity", true, 16)
        .and_then(|s| match s.parse::<Severity>() {
            Ok(sev) => Some(sev),
            Err(_) => {
                f.fail(
                    "severity",
                    format!(
                        "`{}` is not a severity: use low, medium, high or critical",
                        clip(s)
                    ),
                );
                None
            }
        });
    let timestamp = f
        .text("timestamp", true, 64)
        .and_then(|s| match Timestamp::parse_rfc3339(s) {
            Some(t) => Some(t),
            None => {
                f.fail(
                    "timestamp",
                    format!(
                        "`{}` is not an RFC 3339 time such as 2026-11-21T10:00:00Z",
                        clip(s)
                    ),
                );
                None
            }
        });
    let source_log = f.text("source_log", false, 1024);
    let target = f.text("target", false, 256);
    let rule = f.name("rule", true, 128);
    let status = f.text("status", false, 16).and_then(|s| match s {
        "active" => Some(AlertStatus::Open),
        "closed" => Some(AlertStatus::Resolved),
        other => {
            f.fail(
                "status",
                format!("`{}` is not a status: use active or closed", clip(other)),
            );
            None
        }
    });
    let title = f.text("title", false, 256);
    let user = f.text("user", false, 256);
    let detector = f.name("detector", false, 64);
    let mitre = f.strings("mitre", 16, 9, |s| {
        (!is_technique(s)).then(|| {
            format!(
                "`{}` is not an ATT&CK technique id such as T1110 or T1110.001",
                clip(s)
            )
        })
    });
    let evidence = f.strings("evidence", crate::model::alert::MAX_EVIDENCE, 4096, |_| {
        None
    });
    let response = f.strings("response", 4, 32, |s| {
        let allowed = crate::response::registry::find(s).is_some_and(|k| k.external);
        (!allowed).then(|| {
            let names: Vec<&str> = crate::response::registry::RESPONDERS
                .iter()
                .filter(|k| k.external)
                .map(|k| k.name)
                .collect();
            format!(
                "`{}` is not a response an external detector may ask for: only {}",
                clip(s),
                names.join(", ")
            )
        })
    });
    let count = match map.get("count") {
        None | Some(Value::Null) => 1,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(c) if (1..=1_000_000_000).contains(&c) => c,
            _ => {
                f.fail(
                    "count",
                    "must be a whole number from 1 to 1000000000".into(),
                );
                1
            }
        },
        Some(other) => {
            f.fail("count", format!("must be a number, not {}", kind_of(other)));
            1
        }
    };
    if !response.is_empty() && ip.is_none() && map.get("ip").is_none() {
        f.fail("response", "block_ip needs an `ip`".into());
    }
    if ip.is_none() && target.is_none() && user.is_none() && f.problems.is_empty() {
        f.fail(
            "$",
            "say who or what: give an `ip`, a `user` or a `target`".into(),
        );
    }
    let (Some(kind), Some(severity), Some(first_seen), Some(rule)) =
        (kind, severity, timestamp, rule)
    else {
        return Err(f.problems);
    };
    if !f.problems.is_empty() {
        return Err(f.problems);
    }
    let mut group = BTreeMap::new();
    if let Some(ip) = ip {
        group.insert("src_ip".to_string(), ip.to_string());
    }
    if let Some(u) = user {
        group.insert("user".to_string(), u.to_string());
    }
    let detector = detector.unwrap_or("api");
    let who = ip
        .map(|i| i.to_string())
        .or(user.map(str::to_string))
        .or(target.map(str::to_string))
        .unwrap_or_default();
    let key = match &external_id {
        Some(id) => format!("external|{detector}|{id}"),
        None => format!(
            "external|{detector}|{rule}|{who}|{}",
            first_seen.as_micros()
        ),
    };
    Ok(Alert {
        key,
        rule: rule.to_string(),
        title: title
            .map(str::to_string)
            .unwrap_or_else(|| format!("{kind} ({who}), reported by {detector}")),
        severity,
        mitre: mitre.into_iter().map(str::to_string).collect(),
        group,
        count,
        first_seen,
        last_seen: first_seen,
        status: status.unwrap_or(AlertStatus::Open),
        evidence: evidence.into_iter().map(std::sync::Arc::from).collect(),
        response: response.into_iter().map(str::to_string).collect(),
        ban_secs: None,
        source: source_log.map(str::to_string),
        target: target.map(str::to_string),
        kind: Some(kind.to_string()),
        is_new: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Value {
        serde_json::json!({
            "id": "wazuh-5712-42",
            "ip": "203.0.113.66",
            "type": "ssh-brute-force",
            "severity": "high",
            "timestamp": "2026-11-21T10:00:00Z",
            "source_log": "/var/log/auth.log",
            "target": "sshd",
            "rule": "5712",
            "status": "active",
            "detector": "wazuh",
            "mitre": ["T1110.001"],
            "evidence": ["Failed password for root from 203.0.113.66"],
            "response": ["block_ip"]
        })
    }

    #[test]
    fn a_good_incident_becomes_an_alert_for_the_same_path() {
        let a = to_alert(&good()).unwrap();
        assert_eq!(a.key, "external|wazuh|wazuh-5712-42");
        assert_eq!(
            a.group.get("src_ip").map(String::as_str),
            Some("203.0.113.66")
        );
        assert_eq!(
            (a.severity, a.kind.as_deref()),
            (Severity::High, Some("ssh-brute-force"))
        );
        assert_eq!(a.response, ["block_ip"]);
        assert_eq!(
            a.first_seen,
            Timestamp::parse_rfc3339("2026-11-21T10:00:00Z").unwrap()
        );
        assert_eq!(a.source.as_deref(), Some("/var/log/auth.log"));
        assert!(a.is_new);
        // The response path reads the address back out of the group.
        let order = crate::response::BlockOrder::from_alert(&a).unwrap();
        assert_eq!(order.ip.to_string(), "203.0.113.66");
    }

    #[test]
    fn every_problem_is_reported_with_its_place() {
        let body = serde_json::json!([
            good(),
            {
                "ip": "1.2.3.4; rm -rf /",
                "type": "$(reboot)",
                "severity": "urgent",
                "timestamp": "yesterday",
                "rule": "r\nInjected: yes",
                "response": ["kill_process"],
                "colour": "red"
            }
        ]);
        let problems = parse_body(body.to_string().as_bytes()).unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        for want in [
            "[1].ip",
            "[1].type",
            "[1].severity",
            "[1].timestamp",
            "[1].rule",
            "[1].response[0]",
            "[1].colour",
        ] {
            assert!(paths.contains(&want), "{want} missing from {problems:?}");
        }
        assert!(!paths.iter().any(|p| p.starts_with("[0]")), "{problems:?}");
        let ip = problems.iter().find(|p| p.path == "[1].ip").unwrap();
        assert!(ip.message.contains("not an IPv4 or IPv6 address"), "{ip}");
    }

    #[test]
    fn shapes_and_limits() {
        assert!(parse_body(b"{").unwrap_err()[0]
            .message
            .contains("not JSON"));
        assert!(parse_body(b"[]").is_err());
        assert!(parse_body(b"42").unwrap_err()[0]
            .message
            .contains("incident object"));
        let many = Value::Array(vec![good(); MAX_BATCH + 1]);
        assert!(parse_body(many.to_string().as_bytes()).is_err());
        let ok = Value::Array(vec![good(); 3]);
        assert_eq!(parse_body(ok.to_string().as_bytes()).unwrap().len(), 3);
        // Neither address nor user nor target: nobody to group by or act on.
        let mut v = good();
        for k in ["ip", "target", "response"] {
            v.as_object_mut().unwrap().remove(k);
        }
        let p = to_alert(&v).unwrap_err();
        assert!(p[0].message.contains("give an `ip`"), "{p:?}");
        // An id-less incident gets a key from what it says, so a repeat post updates it.
        let mut v = good();
        v.as_object_mut().unwrap().remove("id");
        assert_eq!(to_alert(&v).unwrap().key, to_alert(&v).unwrap().key);
        // Picket's own incidents can be posted back: their read-only fields are ignored.
        let mut v = good();
        v["id"] = 7.into();
        v["owner"] = "alice".into();
        v["alerts"] = 3.into();
        assert!(to_alert(&v).is_ok());
    }
}
