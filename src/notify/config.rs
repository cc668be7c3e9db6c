//! `notifications:` in picket.yaml: the channels as written (the spec, checked when the file
//! is read) and their compiled form (URLs parsed, addresses parsed, the SMTP password and
//! extra root certificate read, transports built), made when `picket run` starts.
//!
//! Validation names the channel in every error, so a typo in one of several channels is
//! found at once. Nothing here sends anything.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::Severity;

/// `notifications:` in picket.yaml.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Where alerts are sent; none by default (the dashboard's pop-ups need no channel).
    pub channels: Vec<ChannelConfig>,
}

/// What a channel speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// POST of Picket's own JSON (`{"source":"picket","alerts":[…]}`).
    Webhook,
    /// POST of `{"text": …}` in Slack's mrkdwn (Mattermost and Rocket.Chat take it too).
    Slack,
    /// A plain-text mail over SMTP.
    Email,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Webhook => "webhook",
            Kind::Slack => "slack",
            Kind::Email => "email",
        }
    }
}

/// Beyond `max` alerts within `per_secs`, alerts wait for the channel's digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub max: u32,
    pub per_secs: u64,
}

/// One channel as written in picket.yaml. Fields belong to kinds: `url` to webhook and
/// slack, `headers` to webhook, `smtp`, `from` and `to` to email; a field given to the
/// wrong kind is an error rather than silently ignored.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// Names the channel in the dashboard, the delivery log and errors; unique.
    pub name: String,
    pub kind: Kind,
    /// webhook, slack: where to POST (http or https).
    #[serde(default)]
    pub url: Option<String>,
    /// webhook: extra request headers, e.g. `Authorization: Bearer …`. Never shown by the
    /// API or the dashboard.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Alerts below this severity are not sent on this channel.
    #[serde(default = "default_min_severity")]
    pub min_severity: Severity,
    /// At most `max` messages within `per_secs`; alerts beyond it go out in a digest.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Rate-limited alerts are collected and sent as one digest this many seconds after
    /// the first of them was held back (so at most one digest this often).
    #[serde(default = "default_digest_secs")]
    pub digest_secs: u64,
    /// Attempts after the first one failed, 1 s, 2 s, 4 s … apart (at most 5 min).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// How long one attempt may take (connecting, TLS, the answer), in seconds.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// email: the server.
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    /// email: the sender address.
    #[serde(default)]
    pub from: Option<String>,
    /// email: the recipients.
    #[serde(default)]
    pub to: Vec<String>,
}

// Header values are secrets (tokens): a debug print shows only their names.
impl std::fmt::Debug for ChannelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelConfig")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url_host", &self.url.as_deref().and_then(url_host))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("min_severity", &self.min_severity)
            .field("rate_limit", &self.rate_limit)
            .field("digest_secs", &self.digest_secs)
            .field("retries", &self.retries)
            .field("timeout_secs", &self.timeout_secs)
            .field("smtp", &self.smtp)
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

fn default_min_severity() -> Severity {
    Severity::Medium
}
fn default_digest_secs() -> u64 {
    300
}
fn default_retries() -> u32 {
    5
}
fn default_timeout_secs() -> u64 {
    30
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain connection upgraded with STARTTLS, which the server must offer: never falls
    /// back to sending in the clear (port 587 by default).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, port 465 by default).
    Tls,
    /// No encryption: only to a loopback host (a local relay), port 25 by default.
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    /// Default: 587 for starttls, 465 for tls, 25 for none.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: TlsMode,
    /// Log in with this user name (and the password in `password_file`).
    #[serde(default)]
    pub username: Option<String>,
    /// A file holding the password (its first line), readable by Picket only.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// A PEM file of certificates trusted besides the built-in roots (a private CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

impl SmtpConfig {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            TlsMode::Starttls => 587,
            TlsMode::Tls => 465,
            TlsMode::None => 25,
        })
    }
}

/// A channel that cannot work as written.
#[derive(Debug, thiserror::Error)]
#[error("channel `{channel}`: {message}")]
pub struct ChannelError {
    pub channel: String,
    pub message: String,
}

/// Longest channel name: it is shown in tables and stored with every delivery.
const MAX_NAME: usize = 64;

impl NotifyConfig {
    /// Checks every channel without touching files or the network; all problems at once.
    pub fn validate(&self) -> Result<(), Vec<ChannelError>> {
        let mut errors = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, c) in self.channels.iter().enumerate() {
            let label = if c.name.trim().is_empty() {
                format!("#{}", i + 1)
            } else {
                c.name.clone()
            };
            let mut err = |message: String| {
                errors.push(ChannelError {
                    channel: label.clone(),
                    message,
                })
            };
            if c.name.trim().is_empty() {
                err("`name` is missing".into());
            } else if c.name.chars().count() > MAX_NAME || c.name.chars().any(char::is_control) {
                err(format!(
                    "`name` must be at most {MAX_NAME} characters, without control characters"
                ));
            } else if !seen.insert(c.name.clone()) {
                err("two channels have this name".into());
            }
            for m in c.problems() {
                err(m);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl ChannelConfig {
    /// What is wrong with this channel as written.
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(r) = self.rate_limit {
            if r.max == 0 || r.per_secs == 0 {
                out.push("rate_limit: `max` and `per_secs` must be at least 1".into());
            }
        }
        if !(1..=86_400).contains(&self.digest_secs) {
            out.push(format!(
                "digest_secs must be between 1 and 86400, not {}",
                self.digest_secs
            ));
        }
        if self.retries > 20 {
            out.push(format!("retries must be at most 20, not {}", self.retries));
        }
        if !(1..=300).contains(&self.timeout_secs) {
            out.push(format!(
                "timeout_secs must be between 1 and 300, not {}",
                self.timeout_secs
            ));
        }
        let http = matches!(self.kind, Kind::Webhook | Kind::Slack);
        let kind = self.kind.as_str();
        if http {
            match self.url.as_deref() {
                None => out.push(format!("a {kind} channel needs `url`")),
                Some(u) => {
                    if let Err(e) = parse_url(u) {
                        out.push(format!("url: {e}"));
                    }
                }
            }
            for field in [
                ("smtp", self.smtp.is_some()),
                ("from", self.from.is_some()),
                ("to", !self.to.is_empty()),
            ]
            .iter()
            .filter(|(_, set)| *set)
            .map(|(f, _)| f)
            {
                out.push(format!("`{field}` is for email channels, not {kind}"));
            }
        }
        if self.kind == Kind::Webhook {
            for (name, value) in &self.headers {
                if ureq::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                    out.push(format!("headers: `{name}` is not a valid header name"));
                } else if ureq::http::HeaderValue::from_str(value).is_err() {
                    // The value is a secret: it is not repeated in the error.
                    out.push(format!(
                        "headers: the value of `{name}` has characters a header cannot carry"
                    ));
                }
            }
        } else if !self.headers.is_empty() {
            out.push(format!("`headers` is for webhook channels, not {kind}"));
        }
        if self.kind == Kind::Email {
            if self.url.is_some() {
                out.push("`url` is for webhook and slack channels, not email".into());
            }
            match &self.smtp {
                None => out.push("an email channel needs `smtp: {host: …}`".into()),
                Some(s) => out.extend(s.problems()),
            }
            match self.from.as_deref() {
                None => out.push("an email channel needs `from`".into()),
                Some(f) => {
                    if let Err(e) = f.parse::<lettre::message::Mailbox>() {
                        out.push(format!("from `{f}`: {e}"));
                    }
                }
            }
            if self.to.is_empty() {
                out.push("an email channel needs at least one address in `to`".into());
            }
            for t in &self.to {
                if let Err(e) = t.parse::<lettre::message::Mailbox>() {
                    out.push(format!("to `{t}`: {e}"));
                }
            }
        }
        out
    }

    /// Attempts a message gets at most.
    pub fn attempts(&self) -> u32 {
        self.retries + 1
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

impl SmtpConfig {
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.host.trim().is_empty()
            || self
                .host
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '/')
        {
            out.push(format!("smtp.host `{}` is not a host name", self.host));
        }
        if self.port == Some(0) {
            out.push("smtp.port must not be 0".into());
        }
        if self.tls == TlsMode::None && !is_loopback_host(&self.host) {
            out.push(format!(
                "smtp.tls: none sends mail (and any password) in the clear, so it is only allowed to a loopback host, not `{}`; use starttls or tls",
                self.host
            ));
        }
        if self.username.is_some() != self.password_file.is_some() {
            out.push("smtp: `username` and `password_file` go together".into());
        }
        out
    }
}

/// `localhost`, `127.0.0.0/8` or `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// An http(s) URL with a host.
pub fn parse_url(u: &str) -> Result<ureq::http::Uri, String> {
    let uri: ureq::http::Uri = u
        .parse()
        .map_err(|e| format!("`{}` is not a URL ({e})", redact_url(u)))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => {
            return Err(format!(
                "`{}`: only http:// and https:// URLs are supported",
                redact_url(u)
            ))
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("`{}` has no host", redact_url(u)));
    }
    Ok(uri)
}

/// The host of a URL (what the API shows: the path of a Slack webhook is its secret).
pub fn url_host(u: &str) -> Option<String> {
    let uri: ureq::http::Uri = u.parse().ok()?;
    let host = uri.host()?;
    Some(match uri.port_u16() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    })
}

/// A URL for an error message: scheme and host only, never the path or query (which
/// often carry the webhook's secret).
pub fn redact_url(u: &str) -> String {
    match (u.split_once("://"), url_host(u)) {
        (Some((scheme, _)), Some(host)) => format!("{scheme}://{host}/…"),
        _ => "(the url)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> NotifyConfig {
        serde_saphyr::from_str(yaml).unwrap()
    }

    fn errors(yaml: &str) -> Vec<String> {
        parse(yaml)
            .validate()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn a_full_example_is_valid_and_defaults_apply() {
        let cfg = parse(
            "channels:
  - name: ops-webhook
    kind: webhook
    url: https://hooks.example/picket/T0K3N
    headers: {Authorization: Bearer abc}
    min_severity: high
    rate_limit: {max: 10, per_secs: 3600}
  - name: mail
    kind: email
    smtp: {host: mail.example, username: u, password_file: /etc/picket/smtp.pass}
    from: picket@example
    to: [ops@example]
",
        );
        cfg.validate().unwrap();
        let mail = &cfg.channels[1];
        assert_eq!(mail.min_severity, Severity::Medium);
        assert_eq!(mail.digest_secs, 300);
        assert_eq!(mail.retries, 5);
        let smtp = mail.smtp.as_ref().unwrap();
        assert_eq!(smtp.tls, TlsMode::Starttls);
        assert_eq!(smtp.port(), 587);
    }

    #[test]
    fn every_mistake_is_reported_with_its_channel() {
        let errs = errors(
            "channels:
  - name: a
    kind: webhook
    url: ftp://x.example/
  - name: b
    kind: email
    url: http://x.example/
    from: not an address
    smtp: {host: mail.example, tls: none}
  - name: a
    kind: slack
    url: http://x.example/
    headers: {X: y}
",
        );
        let all = errs.join("\n");
        assert!(
            all.contains("channel `a`: url: `ftp://x.example/…`"),
            "{all}"
        );
        assert!(all.contains("channel `b`: `url` is for webhook"), "{all}");
        assert!(all.contains("channel `b`: from `not an address`"), "{all}");
        assert!(
            all.contains("channel `b`: an email channel needs at least one address"),
            "{all}"
        );
        assert!(
            all.contains("only allowed to a loopback host, not `mail.example`"),
            "{all}"
        );
        assert!(all.contains("two channels have this name"), "{all}");
        assert!(
            all.contains("`headers` is for webhook channels, not slack"),
            "{all}"
        );
    }

    #[test]
    fn unknown_kinds_and_keys_are_errors() {
        assert!(serde_saphyr::from_str::<NotifyConfig>(
            "channels: [{name: a, kind: pager, url: http://x/}]"
        )
        .is_err());
        assert!(serde_saphyr::from_str::<NotifyConfig>(
            "channels: [{name: a, kind: webhook, url: http://x/, urll: 1}]"
        )
        .is_err());
    }

    #[test]
    fn plain_smtp_only_to_loopback() {
        for host in ["127.0.0.1", "localhost", "::1", "[::1]"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["mail.example", "10.0.0.1", "localhost.evil.example"] {
            assert!(!is_loopback_host(host), "{host}");
        }
        assert!(errors(
            "channels: [{name: m, kind: email, from: a@b.example, to: [c@d.example], smtp: {host: 127.0.0.1, tls: none}}]"
        )
        .is_empty());
    }

    #[test]
    fn header_values_and_url_paths_stay_out_of_errors_and_debug() {
        let errs = errors(
            "channels: [{name: w, kind: webhook, url: 'https://h.example/s3cret', headers: {Authorization: \"Bearer t0p\\nX: y\"}}]",
        );
        let all = errs.join("\n");
        assert!(all.contains("value of `Authorization`"), "{all}");
        assert!(!all.contains("t0p"), "{all}");
        let cfg = parse(
            "channels: [{name: w, kind: webhook, url: 'https://h.example/s3cret', headers: {Authorization: Bearer t0p}}]",
        );
        let dbg = format!("{:?}", cfg);
        assert!(!dbg.contains("t0p") && !dbg.contains("s3cret"), "{dbg}");
        assert_eq!(
            redact_url("https://h.example:8443/s3cret?k=v"),
            "https://h.example:8443/…"
        );
        assert_eq!(
            url_host("https://h.example/x").as_deref(),
            Some("h.example")
        );
    }
}
