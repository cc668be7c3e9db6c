//! Compiled field conditions and how they are checked against an event, without
//! allocating for the common fields.

use std::borrow::Cow;
use std::net::IpAddr;

use super::prefilter::Check;
use crate::model::event::Event;

/// A field rules can test or group by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    Host,
    Program,
    Pid,
    /// `src_ip`, or `src_host` when the log named the remote.
    Src,
    SrcPort,
    User,
    TargetUser,
    Method,
    Outcome,
    Command,
    Package,
    Version,
    Process,
    Path,
    Source,
    Line,
    /// `extra.<key>` (or a bare key that is not a field above).
    Extra(String),
}

impl Field {
    pub fn parse(name: &str) -> Result<Field, String> {
        Ok(match name {
            "host" => Field::Host,
            "program" => Field::Program,
            "pid" => Field::Pid,
            "src_ip" | "src_host" | "src" => Field::Src,
            "src_port" => Field::SrcPort,
            "user" => Field::User,
            "target_user" => Field::TargetUser,
            "method" => Field::Method,
            "outcome" => Field::Outcome,
            "command" => Field::Command,
            "package" => Field::Package,
            "version" => Field::Version,
            "process" => Field::Process,
            "path" => Field::Path,
            "source" => Field::Source,
            "line" => Field::Line,
            "type" | "ts" => return Err(format!("`{name}` cannot be used here: match on types with `type:`")),
            other => match other.strip_prefix("extra.") {
                Some(k) if !k.is_empty() => Field::Extra(k.to_string()),
                _ => {
                    return Err(format!(
                        "unknown field `{other}`: expected host, program, pid, src_ip, src_port, user, target_user, method, outcome, command, package, version, process, path, source, line or extra.<key>"
                    ))
                }
            },
        })
    }

    /// The name alerts use for this field in their group.
    pub fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(match self {
            Field::Host => "host",
            Field::Program => "program",
            Field::Pid => "pid",
            Field::Src => "src_ip",
            Field::SrcPort => "src_port",
            Field::User => "user",
            Field::TargetUser => "target_user",
            Field::Method => "method",
            Field::Outcome => "outcome",
            Field::Command => "command",
            Field::Package => "package",
            Field::Version => "version",
            Field::Process => "process",
            Field::Path => "path",
            Field::Source => "source",
            Field::Line => "line",
            Field::Extra(k) => return Cow::Owned(format!("extra.{k}")),
        })
    }

    /// Appends the field's value to a group key; `false` when the event lacks it. The
    /// form is compact and unambiguous, not text: an address is a tag and its 4 or 16
    /// bytes, a number its bytes, text its length and bytes. Nothing is formatted or
    /// allocated, and no value can be mistaken for another field's or for two values.
    pub fn write_key(&self, e: &Event, buf: &mut Vec<u8>) -> bool {
        match self {
            Field::Src => match (e.src_ip, &e.src_host) {
                (Some(IpAddr::V4(ip)), _) => {
                    buf.push(4);
                    buf.extend_from_slice(&ip.octets());
                    true
                }
                (Some(IpAddr::V6(ip)), _) => {
                    buf.push(6);
                    buf.extend_from_slice(&ip.octets());
                    true
                }
                (None, Some(h)) => {
                    push_text(buf, h);
                    true
                }
                _ => false,
            },
            Field::Pid => e.pid.is_some_and(|p| {
                buf.push(b'p');
                buf.extend_from_slice(&p.to_le_bytes());
                true
            }),
            Field::SrcPort => e.src_port.is_some_and(|p| {
                buf.push(b'o');
                buf.extend_from_slice(&p.to_le_bytes());
                true
            }),
            other => match other.get(e) {
                Some(v) => {
                    push_text(buf, &v);
                    true
                }
                None => false,
            },
        }
    }

    /// Whether the event has this field, without formatting it.
    pub fn present(&self, e: &Event) -> bool {
        match self {
            Field::Src => e.src_ip.is_some() || e.src_host.is_some(),
            Field::Pid => e.pid.is_some(),
            Field::SrcPort => e.src_port.is_some(),
            other => other.get(e).is_some(),
        }
    }

    /// The field's value as text, if the event has it.
    pub fn get<'a>(&self, e: &'a Event) -> Option<Cow<'a, str>> {
        let s = |o: &'a Option<String>| o.as_deref().map(Cow::Borrowed);
        match self {
            Field::Host => e.host.as_deref().map(Cow::Borrowed),
            Field::Program => e.program.as_deref().map(Cow::Borrowed),
            Field::Pid => e.pid.map(|p| Cow::Owned(p.to_string())),
            Field::Src => e
                .src_ip
                .map(|ip| Cow::Owned(crate::model::ip::ip_text(ip)))
                .or_else(|| s(&e.src_host)),
            Field::SrcPort => e.src_port.map(|p| Cow::Owned(p.to_string())),
            Field::User => s(&e.user),
            Field::TargetUser => s(&e.target_user),
            Field::Method => s(&e.method),
            Field::Outcome => e.outcome.map(|o| Cow::Borrowed(o.as_str())),
            Field::Command => s(&e.command),
            Field::Package => s(&e.package),
            Field::Version => s(&e.version),
            Field::Process => s(&e.process),
            Field::Path => s(&e.path),
            Field::Source => Some(Cow::Borrowed(&e.source)),
            Field::Line => Some(Cow::Borrowed(&e.line)),
            Field::Extra(k) => e.extra.get(k.as_str()).map(|v| Cow::Borrowed(v.as_str())),
        }
    }
}

/// Appends text to a key: a tag, its length, its bytes.
pub fn push_text(buf: &mut Vec<u8>, text: &str) {
    buf.push(b's');
    buf.extend_from_slice(&(text.len() as u32).to_le_bytes());
    buf.extend_from_slice(text.as_bytes());
}

/// A compiled condition on one value.
#[derive(Debug, Clone)]
pub enum Cond {
    Equals(String),
    In(Vec<String>),
    /// With the literals the rule set's prefilter looks for.
    Regex(Box<super::prefilter::Pattern>),
    Cidr(Vec<crate::model::ip::Cidr>),
    Exists(bool),
    Not(Box<Cond>),
    /// A condition map with several keys: all of them.
    All(Vec<Cond>),
}

impl Cond {
    pub fn holds(&self, value: Option<&str>) -> bool {
        self.holds_with(value, &mut None)
    }

    /// [`Cond::holds`], skipping regexes the prefilter knows cannot match.
    pub fn holds_with(&self, value: Option<&str>, pf: &mut Option<Check<'_>>) -> bool {
        match self {
            Cond::Exists(want) => value.is_some() == *want,
            Cond::Not(c) => !c.holds_with(value, pf),
            Cond::All(cs) => cs.iter().all(|c| c.holds_with(value, pf)),
            _ => {
                let Some(v) = value else { return false };
                match self {
                    Cond::Equals(x) => v == x,
                    Cond::In(xs) => xs.iter().any(|x| x == v),
                    Cond::Regex(p) => {
                        pf.as_mut().is_none_or(|c| c.may_match(p, v)) && p.re.is_match(v)
                    }
                    Cond::Cidr(cs) => v
                        .parse::<IpAddr>()
                        .is_ok_and(|ip| cs.iter().any(|c| c.contains(ip))),
                    _ => false,
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct FieldCond {
    pub field: Field,
    pub cond: Cond,
}

impl FieldCond {
    pub fn holds(&self, e: &Event, pf: &mut Option<Check<'_>>) -> bool {
        match (&self.field, &self.cond) {
            // The common cases, without formatting the address.
            (Field::Src, Cond::Cidr(cs)) => {
                return e.src_ip.is_some_and(|ip| cs.iter().any(|c| c.contains(ip)))
            }
            (f, Cond::Exists(want)) => return f.present(e) == *want,
            _ => {}
        }
        self.cond.holds_with(self.field.get(e).as_deref(), pf)
    }
}

/// `where` (all) and `any` (one of the sets).
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    pub all: Vec<FieldCond>,
    pub any: Vec<Vec<FieldCond>>,
}

impl Matcher {
    pub fn matches(&self, e: &Event) -> bool {
        self.matches_with(e, &mut None)
    }

    /// [`Matcher::matches`] with the rule set's prefilter and this event's scan.
    pub fn matches_with(&self, e: &Event, pf: &mut Option<Check<'_>>) -> bool {
        self.all.iter().all(|c| c.holds(e, pf))
            && (self.any.is_empty()
                || self
                    .any
                    .iter()
                    .any(|set| set.iter().all(|c| c.holds(e, pf))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions() {
        assert!(Cond::Exists(false).holds(None));
        assert!(!Cond::Equals("root".into()).holds(None));
        assert!(Cond::Not(Box::new(Cond::Equals("root".into()))).holds(Some("bob")));
        assert!(Cond::In(vec!["a".into(), "b".into()]).holds(Some("b")));
        assert!(Cond::Regex(Box::new(super::super::prefilter::Pattern::new(
            regex::Regex::new("^/bin/(ba)?sh$").unwrap()
        )))
        .holds(Some("/bin/bash")));
    }
}
