//! What a rule raises: an alert, its status in a person's work, and the evidence it keeps.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::severity::Severity;
use crate::base::timestamp::Timestamp;

/// Where an alert stands in a person's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Open,
    Acknowledged,
    Resolved,
    Ignored,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Resolved => "resolved",
            AlertStatus::Ignored => "ignored",
        }
    }
}

impl std::str::FromStr for AlertStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(AlertStatus::Open),
            "acknowledged" | "ack" => Ok(AlertStatus::Acknowledged),
            "resolved" => Ok(AlertStatus::Resolved),
            "ignored" => Ok(AlertStatus::Ignored),
            _ => Err(format!(
                "unknown status `{s}`: use open, acknowledged, resolved or ignored"
            )),
        }
    }
}

/// Most raw lines an alert keeps as evidence.
pub const MAX_EVIDENCE: usize = 20;

/// An alert. The engine emits it when it first fires and again each time a suppressed
/// repeat updates its count and last_seen; `key` identifies it across those updates (and
/// across a replay of the same input), so the store upserts by it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable identity: rule, group and first_seen.
    pub key: String,
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mitre: Vec<String>,
    /// The values of the rule's `group_by` fields (e.g. `src_ip`).
    pub group: BTreeMap<String, String>,
    /// Matching events behind it (including suppressed repeats).
    pub count: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub status: AlertStatus,
    /// The triggering events' raw lines, at most `MAX_EVIDENCE`.
    pub evidence: Vec<Arc<str>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response: Vec<String>,
    /// The rule's own first ban length for `block_ip`, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ban_secs: Option<u64>,
    /// Where the first triggering event came from (`/var/log/auth.log`, `journald`, or
    /// the external detector's log for an ingested alert).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// What was attacked: the account, file or process the rule groups by, else the
    /// program that logged the event (`sshd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The kind of attack an external detector named (its incident `type`); Picket's own
    /// alerts leave it empty and their rule's id serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// True on the engine's first emission of this alert, false on suppressed updates.
    /// Not stored.
    #[serde(skip)]
    pub is_new: bool,
}

impl Alert {
    /// Adds a line of evidence (shared, not copied) unless the alert has its fill.
    pub fn push_evidence(&mut self, line: &Arc<str>) {
        if self.evidence.len() < MAX_EVIDENCE {
            self.evidence.push(line.clone());
        }
    }
}
