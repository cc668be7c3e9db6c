//! Wazuh's annotated rule-test lines (corpus `wazuh/tests/*.ini`, GPL-2.0 test data, read
//! at test time, never copied into the product) run through the [`Normalizer`], with the
//! outcome this project expects for each section asserted, and the agreement with Wazuh's
//! own verdict printed.
//!
//! sshd lines belong to the sshd parser's owner and are skipped here; the one PAM line
//! whose program is neither sshd nor su/sudo (vsftpd) belongs to the PAM parser and is
//! reported, not asserted.

mod common;

use picket::base::timestamp::{LocalZone, Timestamp};
use picket::model::event::{EventType, Outcome};
use picket::parse::{InputFormat, Normalizer};

#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Exactly one event of this type (with this outcome / source address when given).
    Event(EventType, Option<Outcome>, Option<&'static str>),
    /// Understood, no event.
    Ignored,
    /// Owned by another parser: shown, not asserted.
    NotAsserted,
    /// The line's program is sshd: owned by someone else, not run.
    Skip,
}

struct Row {
    file: &'static str,
    section: &'static str,
    expect: Expect,
    /// Whether our outcome matches what Wazuh's rule for the section means (an alerting
    /// rule ⇔ an event; a level-0 or `fail` rule ⇔ no event of that kind).
    agrees: bool,
    /// Why not, for deliberate differences.
    note: &'static str,
}

use EventType::{FirewallDrop, SuFailed, SuSuccess, Sudo};
use Expect::{Event, Ignored, NotAsserted, Skip};

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // sudo.ini
    Row { file: "sudo", section: "sudo: all", expect: Event(Sudo, Some(Outcome::Success), None), agrees: true, note: "" },
    Row { file: "sudo", section: "Failed attempt to run sudo", expect: Event(Sudo, Some(Outcome::Failure), None), agrees: true, note: "" },
    Row { file: "sudo", section: "First time user executed sudo", expect: Event(Sudo, Some(Outcome::Success), None), agrees: true, note: "" },
    Row { file: "sudo", section: "3 incorrect password attempts", expect: Event(Sudo, Some(Outcome::Failure), None), agrees: true, note: "" },
    Row { file: "sudo", section: "unauthorized user", expect: Event(Sudo, Some(Outcome::Failure), None), agrees: true, note: "" },
    // su.ini
    Row { file: "su", section: "su: failed", expect: Event(SuFailed, None, None), agrees: true, note: "" },
    Row { file: "su", section: "su: bad pass", expect: Event(SuFailed, None, None), agrees: true, note: "" },
    Row { file: "su", section: "su: pam - auth fail", expect: Ignored, agrees: true, note: "" },
    Row { file: "su", section: "su: work fts", expect: Event(SuSuccess, None, None), agrees: true, note: "" },
    // pam.ini (non-sshd lines only)
    Row { file: "pam", section: "User login failed.", expect: Ignored, agrees: false,
          note: "su(pam_unix) authentication failure echoes the su attempt; su's own FAILED SU / FAILED su line is the one SU_FAILED event" },
    Row { file: "pam", section: "Attempt to login with an invalid user.", expect: NotAsserted, agrees: true,
          note: "vsftpd(pam_unix): owned by the PAM parser" },
    Row { file: "pam", section: "Login session opened.", expect: Ignored, agrees: false,
          note: "PAM session open/close under su is an echo of the su event; no session event type" },
    Row { file: "pam", section: "Login session closed.", expect: Ignored, agrees: false,
          note: "PAM session open/close under su is an echo of the su event; no session event type" },
    Row { file: "pam", section: "User missed the password more than one time", expect: Skip, agrees: true, note: "sshd(pam_unix): owned by the sshd/PAM parsers" },
    // systemd.ini
    Row { file: "systemd", section: "Stale file handle.", expect: Ignored, agrees: true, note: "" },
    Row { file: "systemd", section: "System time changed", expect: Ignored, agrees: false,
          note: "no event type for clock changes; only unit failures are events" },
    // iptables.ini
    Row { file: "iptables", section: "iptables: custom action 1", expect: Event(FirewallDrop, None, Some("192.168.6.57")), agrees: false,
          note: "Wazuh groups unknown LOG prefixes at level 0; Picket treats every netfilter LOG line whose prefix does not say ACCEPT/ALLOW as a drop" },
    Row { file: "iptables", section: "iptables: custom action 2", expect: Event(FirewallDrop, None, Some("10.4.11.40")), agrees: false,
          note: "same: LOG prefix `IPTABLE` counted as a drop" },
    Row { file: "iptables", section: "iptables: custom action 3", expect: Event(FirewallDrop, None, Some("1.2.3.36")), agrees: false,
          note: "same: SuSE `SFW2-INext-DROP-DEFLT` is a drop by name, Wazuh only groups it" },
    Row { file: "iptables", section: "iptables: custom action 4", expect: Event(FirewallDrop, None, Some("192.168.2.11")), agrees: false,
          note: "same: empty LOG prefix counted as a drop" },
    Row { file: "iptables", section: "iptables: drop", expect: Event(FirewallDrop, None, Some("192.168.1.102")), agrees: true, note: "" },
    Row { file: "iptables", section: "iptables: drop frecuency", expect: Event(FirewallDrop, None, Some("192.168.1.102")), agrees: true, note: "" },
    Row { file: "iptables", section: "iptables: openwrt drop frecuency", expect: Event(FirewallDrop, None, Some("205.205.205.205")), agrees: true, note: "" },
    Row { file: "iptables", section: "iptables: ufw block", expect: Event(FirewallDrop, None, Some("254.253.252.251")), agrees: false,
          note: "Wazuh's 4100 is level 0; a [UFW BLOCK] line is a drop, so Picket makes FIREWALL_DROP (action BLOCK)" },
    Row { file: "iptables", section: "iptables: ufw audit", expect: Ignored, agrees: true, note: "unlabelled sample; [UFW AUDIT] logs, it does not drop" },
];

struct Sample {
    section: String,
    line: String,
}

/// The `log N pass|fail = line` entries (and unlabelled lines) of one `.ini`, in order.
fn samples(text: &str) -> Vec<Sample> {
    let mut section = String::new();
    let mut out = Vec::new();
    for raw in text.lines() {
        let l = raw.trim();
        if l.is_empty() {
            continue;
        }
        if let Some(s) = l.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = s.trim().to_string();
            continue;
        }
        if let Some(rest) = l.strip_prefix("log ") {
            if let Some((_, line)) = rest.split_once(" = ") {
                out.push(Sample {
                    section: section.clone(),
                    line: line.trim().to_string(),
                });
            }
            continue;
        }
        if ["rule", "alert", "decoder"]
            .iter()
            .any(|k| l.starts_with(k) && l.contains('='))
        {
            continue;
        }
        out.push(Sample {
            section: section.clone(),
            line: l.to_string(),
        });
    }
    out
}

#[test]
fn wazuh_rule_tests() {
    let mut differences = Vec::new();
    let mut failures = Vec::new();
    for file in ["sudo", "su", "pam", "systemd", "iptables"] {
        let text = std::fs::read_to_string(common::corpus(&format!("wazuh/tests/{file}.ini")))
            .expect("readable ini");
        let mut n = Normalizer::new(
            InputFormat::Syslog,
            "test",
            LocalZone::utc(),
            Timestamp::parse_rfc3339("2026-11-21T12:00:00Z").unwrap(),
        );
        let (mut total, mut agree, mut skipped) = (0, 0, 0);
        for s in samples(&text) {
            let row = ROWS
                .iter()
                .find(|r| r.file == file && r.section == s.section)
                .unwrap_or_else(|| panic!("no expectation for [{}] in {file}.ini", s.section));
            if matches!(row.expect, Skip) {
                skipped += 1;
                continue;
            }
            total += 1;
            let before = n.stats().clone();
            let mut out = Vec::new();
            n.push_line(s.line.as_bytes(), &mut out);
            let after = n.stats();
            let got = if !out.is_empty() {
                format!("{:?}", out.iter().map(|e| e.kind).collect::<Vec<_>>())
            } else if after.ignored > before.ignored {
                "Ignored".to_string()
            } else if after.unknown > before.unknown {
                "Unknown".to_string()
            } else {
                "Unparsable".to_string()
            };
            let ok = match row.expect {
                Event(kind, outcome, src) => {
                    out.len() == 1
                        && out[0].kind == kind
                        && (outcome.is_none() || out[0].outcome == outcome)
                        && src.is_none_or(|ip| {
                            out[0].src_ip.map(|a| a.to_string()).as_deref() == Some(ip)
                        })
                }
                Ignored => out.is_empty() && after.ignored > before.ignored,
                NotAsserted => {
                    println!("  not asserted [{}]: {got}: {}", s.section, s.line);
                    true
                }
                Skip => unreachable!(),
            };
            if !ok {
                failures.push(format!(
                    "{file}.ini [{}]: expected {:?}, got {got}: {}",
                    s.section, row.expect, s.line
                ));
            }
            if row.agrees {
                agree += 1;
            } else {
                differences.push(format!("{file}.ini [{}]: {}", s.section, row.note));
            }
        }
        println!(
            "wazuh {file}: {agree} of {total} lines agree with Wazuh's verdict ({skipped} sshd lines skipped)"
        );
    }
    differences.dedup();
    println!("deliberate differences:");
    for d in &differences {
        println!("  {d}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
