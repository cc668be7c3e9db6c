//! What a notification says, in each channel's shape: Picket's JSON for webhooks, Slack's
//! `{"text": …}`, and an email's subject and plain-text body.
//!
//! Everything an alert carries beyond its rule's own metadata (its group's values, its
//! evidence lines) came from a log, so it is hostile: control characters are replaced
//! before anything is rendered (no CR/LF in a subject, no terminal escapes in a mail),
//! Slack's control characters `&`, `<` and `>` are escaped (so no link, `<!channel>` or
//! `<@user>` mention can be made), and hostile values sit in code spans, where mrkdwn
//! formatting does not apply. JSON needs nothing: serde escapes it.

use serde_json::{json, Value};

use crate::model::Severity;
use crate::store::alerts::StoredAlert;

/// Most alerts a digest lists; it says how many more there were.
pub const DIGEST_MAX: usize = 50;
/// Evidence lines per alert in a message.
pub const EVIDENCE_LINES: usize = 5;
/// Longest rendering of one hostile value (a group value, an evidence line).
const MAX_VALUE: usize = 300;
/// Longest email subject, in characters.
const MAX_SUBJECT: usize = 200;

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    /// One alert, as it was raised.
    Single,
    /// Alerts held back by the channel's rate limit.
    Digest,
    /// An admin pressed "Send test".
    Test,
}

/// One message to one channel.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub occasion: Occasion,
    /// This host's name.
    pub host: String,
    pub alerts: Vec<StoredAlert>,
    /// Alerts of a digest beyond those listed.
    pub more: usize,
}

impl Outgoing {
    pub fn single(host: &str, a: StoredAlert) -> Outgoing {
        Outgoing {
            occasion: Occasion::Single,
            host: host.to_string(),
            alerts: vec![a],
            more: 0,
        }
    }

    pub fn test(host: &str) -> Outgoing {
        Outgoing {
            occasion: Occasion::Test,
            host: host.to_string(),
            alerts: Vec::new(),
            more: 0,
        }
    }

    /// How many alerts the message stands for.
    pub fn alert_count(&self) -> usize {
        self.alerts.len() + self.more
    }

    fn highest(&self) -> Option<Severity> {
        self.alerts.iter().map(|a| a.alert.severity).max()
    }

    /// `[Picket] high: SSH brute force (203.0.113.66)`: one line, whatever the log said.
    pub fn subject(&self) -> String {
        let s = match self.occasion {
            Occasion::Test => format!("[Picket] test message from {}", one_line(&self.host)),
            Occasion::Digest => format!(
                "[Picket] digest: {} alerts on {}{}",
                self.alert_count(),
                one_line(&self.host),
                self.highest()
                    .map(|s| format!(", highest {}", s.as_str()))
                    .unwrap_or_default()
            ),
            Occasion::Single => match self.alerts.first() {
                Some(a) => format!(
                    "[Picket] {}: {}{}",
                    a.alert.severity.as_str(),
                    one_line(&a.alert.title),
                    group_phrase(a)
                ),
                None => "[Picket] alert".into(),
            },
        };
        truncate(&s, MAX_SUBJECT)
    }

    /// The generic webhook's JSON.
    pub fn json(&self) -> Value {
        json!({
            "source": "picket",
            "host": self.host,
            "digest": self.occasion == Occasion::Digest,
            "test": self.occasion == Occasion::Test,
            "more": self.more,
            "alerts": self.alerts.iter().map(alert_json).collect::<Vec<_>>(),
        })
    }

    /// Slack's (and Mattermost's, Rocket.Chat's) incoming-webhook JSON.
    pub fn slack(&self) -> Value {
        let mut text = format!("*{}*", slack_code(&self.subject()));
        if self.occasion == Occasion::Test {
            text.push_str("\nNotifications from Picket reach this channel.");
        }
        for a in &self.alerts {
            let al = &a.alert;
            text.push_str(&format!(
                "\n• *{}* {} (`{}`, alert {}, {} events)",
                al.severity.as_str(),
                slack_escape(&one_line(&al.title)),
                slack_code(&al.rule),
                a.id,
                al.count
            ));
            for (k, v) in &al.group {
                text.push_str(&format!(" {}=`{}`", slack_code(k), slack_code(v)));
            }
            if self.occasion == Occasion::Single {
                for line in al.evidence.iter().take(EVIDENCE_LINES) {
                    text.push_str(&format!("\n>`{}`", slack_code(line)));
                }
            }
        }
        if self.more > 0 {
            text.push_str(&format!("\n… and {} more", self.more));
        }
        json!({ "text": text })
    }

    /// The email's plain-text body.
    pub fn email_body(&self) -> String {
        let mut b = String::new();
        match self.occasion {
            Occasion::Test => {
                b.push_str(&format!(
                    "A test message from Picket on {}: notifications reach this address.\n",
                    one_line(&self.host)
                ));
                return b;
            }
            Occasion::Digest => b.push_str(&format!(
                "{} alerts on {} were held back by this channel's rate limit:\n",
                self.alert_count(),
                one_line(&self.host)
            )),
            Occasion::Single => b.push_str(&format!(
                "Picket on {} raised an alert.\n",
                one_line(&self.host)
            )),
        }
        for a in &self.alerts {
            let al = &a.alert;
            b.push_str(&format!(
                "\n[{}] {}\n  rule: {} (alert {})\n  events: {}, {} to {}\n",
                al.severity.as_str(),
                one_line(&al.title),
                one_line(&al.rule),
                a.id,
                al.count,
                al.first_seen,
                al.last_seen
            ));
            for (k, v) in &al.group {
                b.push_str(&format!("  {}: {}\n", one_line(k), one_line(v)));
            }
            for (label, value) in [("target", &al.target), ("log", &al.source)] {
                if let Some(v) = value {
                    b.push_str(&format!("  {label}: {}\n", one_line(v)));
                }
            }
            if !al.mitre.is_empty() {
                b.push_str(&format!("  ATT&CK: {}\n", one_line(&al.mitre.join(", "))));
            }
            if self.occasion == Occasion::Single && !al.evidence.is_empty() {
                b.push_str("  evidence:\n");
                for line in al.evidence.iter().take(EVIDENCE_LINES) {
                    b.push_str(&format!("    {}\n", one_line(line)));
                }
            }
        }
        if self.more > 0 {
            b.push_str(&format!("\n… and {} more.\n", self.more));
        }
        b
    }
}

fn alert_json(a: &StoredAlert) -> Value {
    let al = &a.alert;
    json!({
        "id": a.id,
        "rule": al.rule,
        "title": al.title,
        "severity": al.severity,
        "mitre": al.mitre,
        "group": al.group,
        "count": al.count,
        "first_seen": al.first_seen,
        "last_seen": al.last_seen,
        "evidence": al.evidence.iter().take(EVIDENCE_LINES).collect::<Vec<_>>(),
        // As in incident JSON: where it came from, what was attacked, and the kind an
        // external detector named.
        "source_log": al.source,
        "target": al.target,
        "type": al.kind,
    })
}

/// ` (203.0.113.66, user=root)`: what the alert is about, for a subject (the address
/// bare, other group values as `key=value`).
fn group_phrase(a: &StoredAlert) -> String {
    let g = &a.alert.group;
    let mut parts: Vec<String> = g.get("src_ip").map(|ip| one_line(ip)).into_iter().collect();
    parts.extend(
        g.iter()
            .filter(|(k, _)| k.as_str() != "src_ip")
            .map(|(k, v)| format!("{}={}", one_line(k), one_line(v))),
    );
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// Hostile text on one line: every control character (CR, LF, escape, NUL …) becomes a
/// space, and it is cut at [`MAX_VALUE`] characters.
pub fn one_line(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    truncate(&clean, MAX_VALUE)
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Slack's required escaping: `&`, `<`, `>` (the only characters that make links and
/// mentions).
pub fn slack_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Hostile text for inside a code span: one line, escaped, and without backticks (which
/// would end the span; they become `ˋ`).
pub fn slack_code(s: &str) -> String {
    slack_escape(&one_line(s).replace('`', "ˋ"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(user: &str) -> StoredAlert {
        let mut a = crate::notify::test_alert(
            7,
            Severity::High,
            &[("src_ip", "203.0.113.66"), ("user", user)],
        );
        a.alert.evidence = vec![format!("sshd: Failed password for {user}").into()];
        a
    }

    #[test]
    fn the_subject_names_severity_title_and_group_on_one_line() {
        let m = Outgoing::single("web1", alert("root"));
        assert_eq!(
            m.subject(),
            "[Picket] high: SSH brute force (203.0.113.66, user=root)"
        );
        let m = Outgoing::single("web1", alert("x\r\nBcc: evil@example.org\r\n\r\nbody"));
        let s = m.subject();
        assert!(!s.contains('\r') && !s.contains('\n'), "{s:?}");
        assert!(s.contains("user=x  Bcc: evil@example.org"), "{s}");
        let long = Outgoing::single("web1", alert(&"a".repeat(5000)));
        assert!(long.subject().chars().count() <= MAX_SUBJECT + 1);
    }

    #[test]
    fn slack_text_cannot_mention_link_or_leave_its_code_span() {
        let hostile = "<!channel> <https://evil.example|click> `*bold*` & <@U123>";
        let m = Outgoing::single("web1", alert(hostile));
        let text = m.slack()["text"].as_str().unwrap().to_string();
        // No `<…>` can form: `<` never appears, `>` only as the evidence's quote marker.
        assert!(!text.contains('<'), "{text}");
        assert!(
            text.lines().all(|l| !l.chars().skip(1).any(|c| c == '>')),
            "{text}"
        );
        assert!(text.contains("&lt;!channel&gt;"), "{text}");
        assert!(text.contains("&amp;"), "{text}");
        // The hostile value stays inside its code span: its backticks are neutralized.
        assert!(text.contains("user=`&lt;!channel&gt; &lt;https://evil.example|click&gt; ˋ*bold*ˋ &amp; &lt;@U123&gt;`"), "{text}");
        assert_eq!(slack_escape("a&b<c>d"), "a&amp;b&lt;c&gt;d");
    }

    #[test]
    fn the_json_payload_carries_the_alert_and_the_digest_flag() {
        let mut m = Outgoing::single("web1", alert("root"));
        let v = m.json();
        assert_eq!(v["source"], "picket");
        assert_eq!(v["host"], "web1");
        assert_eq!(v["digest"], false);
        let a = &v["alerts"][0];
        assert_eq!(a["id"], 7);
        assert_eq!(a["rule"], "ssh-brute-force");
        assert_eq!(a["severity"], "high");
        assert_eq!(a["mitre"][0], "T1110.001");
        assert_eq!(a["group"]["src_ip"], "203.0.113.66");
        assert_eq!(a["count"], 5);
        assert!(a["first_seen"].as_str().unwrap().starts_with("2023-11-14T"));
        assert_eq!(a["evidence"].as_array().unwrap().len(), 1);
        assert!(a["source_log"].is_null() && a["type"].is_null());
        m.alerts[0].alert.source = Some("/var/log/auth.log".into());
        assert_eq!(m.json()["alerts"][0]["source_log"], "/var/log/auth.log");
        assert!(m.email_body().contains("  log: /var/log/auth.log\n"));
        m.occasion = Occasion::Digest;
        m.more = 3;
        assert_eq!(m.json()["digest"], true);
        assert_eq!(m.json()["more"], 3);
        assert!(m.email_body().contains("… and 3 more."));
        assert!(m
            .subject()
            .starts_with("[Picket] digest: 4 alerts on web1, highest high"));
    }

    #[test]
    fn the_email_body_has_no_control_characters_from_the_log() {
        let m = Outgoing::single("web1", alert("evil\u{1b}[31m\r\n.\r\nQUIT"));
        let body = m.email_body();
        assert!(!body.contains('\u{1b}') && !body.contains('\r'), "{body:?}");
        assert!(body.contains("user: evil [31m  .  QUIT"), "{body}");
        assert!(
            body.contains("evidence:\n    sshd: Failed password for evil"),
            "{body}"
        );
    }
}
