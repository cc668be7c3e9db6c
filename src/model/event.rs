//! The normalized event: the one record every source produces and every later stage
//! (rules, store, API) consumes.
//!
//! This module owns the event's shape and its JSON form (`schemas/event.schema.json` must
//! agree with it; a test checks every parser's output against the schema). It must not know
//! about any log format: parsers build events, this module only describes them.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::base::timestamp::Timestamp;

mod extra;
pub use extra::Extra;

/// What happened. Upper snake case on the wire, as the original brief named them.
///
/// Log events come first, then those that snapshot collectors and watchers produce, then
/// LAN events. The wire names are stable: rules and stored rows refer to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventType {
    /// One failed authentication attempt (sshd `Failed …`, PAM from services that log
    /// nothing else, `maximum authentication attempts exceeded`, denied users …).
    FailedLogin,
    /// A login attempt naming an account that does not exist.
    InvalidUser,
    /// A successful login (sshd `Accepted …`).
    LoginSuccess,
    /// A successful login as root (emitted besides `LOGIN_SUCCESS`).
    RootLogin,
    /// A sudo invocation; `outcome` says whether it was allowed.
    Sudo,
    /// A failed `su`.
    SuFailed,
    /// A successful `su`.
    SuSuccess,
    UserAdded,
    UserDeleted,
    /// An existing account changed (usermod: shell, home, name, lock …).
    UserModified,
    GroupAdded,
    GroupDeleted,
    GroupMemberAdded,
    GroupMemberRemoved,
    PasswordChanged,
    /// A systemd unit failed (`Failed with result`, `Main process exited, … status=`).
    ServiceFailed,
    PackageInstalled,
    PackageRemoved,
    PackageUpgraded,
    Segfault,
    OomKill,
    /// A packet dropped or logged by a netfilter LOG rule (UFW, iptables, nftables).
    FirewallDrop,
    /// An SSH connection that ended before authentication (scanners, timeouts, bad
    /// protocol, failed negotiation). fail2ban counts these only in its aggressive mode.
    PreauthDisconnect,
    ProcessStarted,
    PortOpened,
    PortClosed,
    FileChanged,
    LogDeleted,
    LogTruncated,
    NewDevice,
    DeviceJoined,
    DeviceLeft,
    DeviceIpChanged,
    DeviceMacChanged,
    /// One address's packets or new connections within a minute passed a threshold.
    TrafficPeak,
}

impl EventType {
    /// Every type, in declaration order: the source for the JSON Schema's enum and for
    /// `--type` help.
    pub const ALL: &'static [EventType] = &[
        EventType::FailedLogin,
        EventType::InvalidUser,
        EventType::LoginSuccess,
        EventType::RootLogin,
        EventType::Sudo,
        EventType::SuFailed,
        EventType::SuSuccess,
        EventType::UserAdded,
        EventType::UserDeleted,
        EventType::UserModified,
        EventType::GroupAdded,
        EventType::GroupDeleted,
        EventType::GroupMemberAdded,
        EventType::GroupMemberRemoved,
        EventType::PasswordChanged,
        EventType::ServiceFailed,
        EventType::PackageInstalled,
        EventType::PackageRemoved,
        EventType::PackageUpgraded,
        EventType::Segfault,
        EventType::OomKill,
        EventType::FirewallDrop,
        EventType::PreauthDisconnect,
        EventType::ProcessStarted,
        EventType::PortOpened,
        EventType::PortClosed,
        EventType::FileChanged,
        EventType::LogDeleted,
        EventType::LogTruncated,
        EventType::NewDevice,
        EventType::DeviceJoined,
        EventType::DeviceLeft,
        EventType::DeviceIpChanged,
        EventType::DeviceMacChanged,
        EventType::TrafficPeak,
    ];

    /// The wire name, e.g. `FAILED_LOGIN`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::FailedLogin => "FAILED_LOGIN",
            EventType::InvalidUser => "INVALID_USER",
            EventType::LoginSuccess => "LOGIN_SUCCESS",
            EventType::RootLogin => "ROOT_LOGIN",
            EventType::Sudo => "SUDO",
            EventType::SuFailed => "SU_FAILED",
            EventType::SuSuccess => "SU_SUCCESS",
            EventType::UserAdded => "USER_ADDED",
            EventType::UserDeleted => "USER_DELETED",
            EventType::UserModified => "USER_MODIFIED",
            EventType::GroupAdded => "GROUP_ADDED",
            EventType::GroupDeleted => "GROUP_DELETED",
            EventType::GroupMemberAdded => "GROUP_MEMBER_ADDED",
            EventType::GroupMemberRemoved => "GROUP_MEMBER_REMOVED",
            EventType::PasswordChanged => "PASSWORD_CHANGED",
            EventType::ServiceFailed => "SERVICE_FAILED",
            EventType::PackageInstalled => "PACKAGE_INSTALLED",
            EventType::PackageRemoved => "PACKAGE_REMOVED",
            EventType::PackageUpgraded => "PACKAGE_UPGRADED",
            EventType::Segfault => "SEGFAULT",
            EventType::OomKill => "OOM_KILL",
            EventType::FirewallDrop => "FIREWALL_DROP",
            EventType::PreauthDisconnect => "PREAUTH_DISCONNECT",
            EventType::ProcessStarted => "PROCESS_STARTED",
            EventType::PortOpened => "PORT_OPENED",
            EventType::PortClosed => "PORT_CLOSED",
            EventType::FileChanged => "FILE_CHANGED",
            EventType::LogDeleted => "LOG_DELETED",
            EventType::LogTruncated => "LOG_TRUNCATED",
            EventType::NewDevice => "NEW_DEVICE",
            EventType::DeviceJoined => "DEVICE_JOINED",
            EventType::DeviceLeft => "DEVICE_LEFT",
            EventType::DeviceIpChanged => "DEVICE_IP_CHANGED",
            EventType::DeviceMacChanged => "DEVICE_MAC_CHANGED",
            EventType::TrafficPeak => "TRAFFIC_PEAK",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The wire name did not name any event type.
#[derive(Debug, thiserror::Error)]
#[error("unknown event type `{0}` (expected one of: FAILED_LOGIN, INVALID_USER, LOGIN_SUCCESS, … see `picket events --help`)")]
pub struct UnknownEventType(pub String);

impl FromStr for EventType {
    type Err = UnknownEventType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        EventType::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == upper)
            .ok_or_else(|| UnknownEventType(s.to_string()))
    }
}

/// Whether the thing the event describes succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// One normalized event.
///
/// Every text field that came from a log line is attacker-controlled: it is stored and
/// shown as data, never interpreted. `src_ip` is only ever set from a string that parsed
/// as an address; a remote that logged as a name goes to `src_host` instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened, in UTC, taken from the log (never the time Picket read it).
    pub ts: Timestamp,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// Host and program are shared (`Arc`) between the events of one stream: a million
    /// events from one host hold one copy of its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_ip: Option<IpAddr>,
    /// The remote's name when the log gave a name rather than an address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Where the event was read: `file:/var/log/auth.log`, `journald`, `stdin`, …
    pub source: Arc<str>,
    /// The raw line (lossily decoded, CR stripped), kept as evidence. Shared: the alerts
    /// and pending evidence of every rule the event counts for hold this one copy.
    pub line: Arc<str>,
    /// Everything else a parser knows that has no field of its own.
    ///
    /// Keys are nearly always fixed names (`reason`, `attempts` …): borrowed, they cost
    /// no allocation per event.
    #[serde(default, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

impl Event {
    /// An event with only the mandatory fields set.
    pub fn new(ts: Timestamp, kind: EventType, source: &str, line: &str) -> Event {
        Event::with_source(ts, kind, Arc::from(source), line)
    }

    /// [`Event::new`] with a shared source name.
    #[inline]
    pub fn with_source(ts: Timestamp, kind: EventType, source: Arc<str>, line: &str) -> Event {
        Event {
            ts,
            kind,
            host: None,
            program: None,
            pid: None,
            src_ip: None,
            src_host: None,
            src_port: None,
            user: None,
            target_user: None,
            method: None,
            outcome: None,
            command: None,
            package: None,
            version: None,
            process: None,
            path: None,
            source,
            line: Arc::from(line),
            extra: Extra::new(),
        }
    }

    /// A field by its wire name, as text: the one accessor rules and filters use, so that
    /// `src_ip`, `user` and `extra.*` keys are reached the same way.
    pub fn field(&self, name: &str) -> Option<String> {
        match name {
            "ts" => Some(self.ts.to_string()),
            "type" => Some(self.kind.as_str().to_string()),
            "host" => self.host.as_deref().map(str::to_string),
            "program" => self.program.as_deref().map(str::to_string),
            "pid" => self.pid.map(|p| p.to_string()),
            "src_ip" => self.src_ip.map(|ip| ip.to_string()),
            "src_host" => self.src_host.clone(),
            "src_port" => self.src_port.map(|p| p.to_string()),
            "user" => self.user.clone(),
            "target_user" => self.target_user.clone(),
            "method" => self.method.clone(),
            "outcome" => self.outcome.map(|o| o.as_str().to_string()),
            "command" => self.command.clone(),
            "package" => self.package.clone(),
            "version" => self.version.clone(),
            "process" => self.process.clone(),
            "path" => self.path.clone(),
            "source" => Some(self.source.to_string()),
            "line" => Some(self.line.to_string()),
            other => self
                .extra
                .get(other.strip_prefix("extra.").unwrap_or(other))
                .cloned(),
        }
    }

    /// The remote party as text: the address if there is one, else the logged name.
    pub fn remote(&self) -> Option<String> {
        self.src_ip
            .map(|ip| ip.to_string())
            .or_else(|| self.src_host.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_through_its_wire_name() {
        for t in EventType::ALL {
            let json = serde_json::to_string(t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(t.as_str().parse::<EventType>().unwrap(), *t);
            assert_eq!(serde_json::from_str::<EventType>(&json).unwrap(), *t);
        }
    }

    #[test]
    fn all_lists_the_types_in_declaration_order() {
        // The rule engine indexes its tables by discriminant.
        for (i, t) in EventType::ALL.iter().enumerate() {
            assert_eq!(*t as usize, i, "{t}");
        }
        assert_eq!(format!("{:<14}|", EventType::Sudo), "SUDO          |");
    }

    #[test]
    fn type_names_parse_case_insensitively_and_reject_unknowns() {
        assert_eq!(
            "failed_login".parse::<EventType>().unwrap(),
            EventType::FailedLogin
        );
        assert!("LOGIN_FAILED".parse::<EventType>().is_err());
    }

    #[test]
    fn event_json_round_trips() {
        let mut e = Event::new(
            Timestamp::from_micros(1_700_000_000_123_456),
            EventType::FailedLogin,
            "stdin",
            "raw",
        );
        e.src_ip = Some("2001:db8::1".parse().unwrap());
        e.user = Some("<img src=x>".into());
        e.extra.insert("attempts".into(), "3".into());
        let json = serde_json::to_string(&e).unwrap();
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
        assert_eq!(e.field("extra.attempts").as_deref(), Some("3"));
        assert_eq!(e.field("src_ip").as_deref(), Some("2001:db8::1"));
    }
}
