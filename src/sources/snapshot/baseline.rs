//! Which listening ports are expected: the stored baseline (learned on the first snapshot,
//! edited by admins) and the allowlist from picket.yaml. PORT_OPENED events for expected
//! ports carry `extra.expected` (`baseline` or `allowlist`), so the new-listening-port
//! rule fires only for the others — including ports opened while Picket was stopped.

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

use crate::model::event::{Event, EventType};

/// An allowlist entry: `tcp/22`, `udp/53`, or `8080` (both protocols).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowPort {
    pub proto: Option<&'static str>,
    pub port: u16,
}

impl std::str::FromStr for AllowPort {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (proto, port) = match s.split_once('/') {
            Some((p, n)) => (Some(p), n),
            None => (None, s),
        };
        let proto = match proto.map(str::to_ascii_lowercase).as_deref() {
            None => None,
            Some("tcp") => Some("tcp"),
            Some("udp") => Some("udp"),
            Some(other) => return Err(format!("`{other}` is not tcp or udp in `{s}`")),
        };
        let port =
            port.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                format!("`{s}`: give a port (1-65535), as tcp/22, udp/53 or 8080")
            })?;
        Ok(AllowPort { proto, port })
    }
}

/// The expected ports, shared by the snapshot collector and the API.
#[derive(Clone, Default)]
pub struct PortBaseline {
    stored: Arc<RwLock<BTreeSet<(String, u16)>>>,
    allow: Arc<Vec<AllowPort>>,
}

impl PortBaseline {
    pub fn new(allow: Vec<AllowPort>) -> PortBaseline {
        PortBaseline {
            stored: Arc::default(),
            allow: Arc::new(allow),
        }
    }

    /// Replaces the stored part (after loading or learning).
    pub fn set(&self, entries: impl IntoIterator<Item = (String, u16)>) {
        *self.stored.write().unwrap_or_else(|p| p.into_inner()) = entries.into_iter().collect();
    }

    pub fn insert(&self, proto: &str, port: u16) {
        self.stored
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert((proto.to_string(), port));
    }

    pub fn remove(&self, proto: &str, port: u16) {
        self.stored
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(proto.to_string(), port));
    }

    /// Why a port is expected, if it is.
    pub fn expected(&self, proto: &str, port: u16) -> Option<&'static str> {
        if self
            .stored
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&(proto.to_string(), port))
        {
            Some("baseline")
        } else if self
            .allow
            .iter()
            .any(|a| a.port == port && a.proto.is_none_or(|p| p == proto))
        {
            Some("allowlist")
        } else {
            None
        }
    }

    /// Marks PORT_OPENED events for expected ports.
    pub fn annotate(&self, events: &mut [Event]) {
        for e in events
            .iter_mut()
            .filter(|e| e.kind == EventType::PortOpened)
        {
            let proto = e.extra.get("proto").map(|p| p.to_string());
            let port = e.extra.get("port").and_then(|p| p.parse::<u16>().ok());
            if let (Some(proto), Some(port)) = (proto, port) {
                if let Some(why) = self.expected(&proto, port) {
                    e.extra.insert("expected".into(), why.into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist_entries_parse() {
        assert_eq!(
            "tcp/22".parse::<AllowPort>(),
            Ok(AllowPort {
                proto: Some("tcp"),
                port: 22
            })
        );
        assert_eq!("8080".parse::<AllowPort>().unwrap().proto, None);
        assert!("sctp/1".parse::<AllowPort>().is_err());
        assert!("tcp/0".parse::<AllowPort>().is_err());
        assert!("tcp/http".parse::<AllowPort>().is_err());
    }

    #[test]
    fn stored_and_allowed_ports_are_expected() {
        let b = PortBaseline::new(vec!["udp/53".parse().unwrap(), "8080".parse().unwrap()]);
        b.set([("tcp".to_string(), 22)]);
        assert_eq!(b.expected("tcp", 22), Some("baseline"));
        assert_eq!(b.expected("udp", 22), None);
        assert_eq!(b.expected("udp", 53), Some("allowlist"));
        assert_eq!(b.expected("tcp", 53), None);
        assert_eq!(b.expected("tcp", 8080), Some("allowlist"));
        b.remove("tcp", 22);
        assert_eq!(b.expected("tcp", 22), None);
        let mut e = vec![Event::new(
            crate::base::timestamp::Timestamp::from_micros(0),
            EventType::PortOpened,
            "snapshot",
            "",
        )];
        e[0].extra.insert("proto".into(), "udp".into());
        e[0].extra.insert("port".into(), "53".into());
        b.annotate(&mut e);
        assert_eq!(
            e[0].extra.get("expected").map(|v| v.to_string()).as_deref(),
            Some("allowlist")
        );
    }
}
