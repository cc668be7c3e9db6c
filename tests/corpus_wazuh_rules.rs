//! Rule-level agreement with Wazuh: each section of Wazuh's rule tests (corpus
//! `wazuh/tests/*.ini`, GPL-2.0 test data read at test time) whose ground one of Picket's
//! default rules covers is fed, in order, through the real parser and the whole default
//! ruleset; whether the matching Picket rule fires is compared with Wazuh's verdict (an
//! alert of level > 0 for the section's rule). Agreements are asserted, deliberate
//! differences are asserted to stay differences (so fixing one is noticed), and the
//! count is printed.

mod common;

use picket::base::timestamp::{LocalZone, Timestamp};
use picket::engine::load::defaults;
use picket::engine::ruletest::alerts_for;
use picket::parse::{InputFormat, Normalizer};

struct Case {
    file: &'static str,
    section: &'static str,
    /// Wazuh's rule id and level for the section, from the .ini.
    wazuh: &'static str,
    /// The Picket rule that covers the same ground.
    rule: &'static str,
    /// Whether Picket's rule fires on the section's lines.
    fires: bool,
    /// Why Picket differs from Wazuh, when it does (Wazuh alerts on every section here).
    difference: &'static str,
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    Case { file: "sshd", section: "sshd brute force rule", wazuh: "5763 level 10", rule: "ssh-brute-force", fires: true, difference: "" },
    Case { file: "sshd", section: "sshd brute force rule 2", wazuh: "5712 level 10", rule: "ssh-brute-force", fires: true, difference: "" },
    Case { file: "sshd", section: "invalid user", wazuh: "5710 level 5", rule: "ssh-invalid-user-scan", fires: false,
           difference: "Wazuh alerts on each invalid-user line; Picket's scan rule wants several distinct names from one address, and these lines come from four addresses" },
    Case { file: "sudo", section: "First time user executed sudo", wazuh: "5403 level 4", rule: "sudo-rare-target", fires: false,
           difference: "Picket learns a user's sudo commands for a day before a new one alerts (every first sudo on a fresh install was noise); sudo-shell fires on this `su -` instead" },
    Case { file: "sudo", section: "sudo: all", wazuh: "5403 level 4", rule: "sudo-rare-target", fires: false,
           difference: "same learning day; sudo-shell fires on the `/bin/bash` line" },
    Case { file: "sudo", section: "3 incorrect password attempts", wazuh: "5404 level 10", rule: "sudo-denied-repeatedly", fires: false,
           difference: "one line reporting 3 wrong passwords is one refused sudo; the rule counts refused sudo runs (3 in 10 minutes)" },
    Case { file: "sudo", section: "unauthorized user", wazuh: "5405 level 5", rule: "sudo-denied-repeatedly", fires: false,
           difference: "a single refusal (user NOT in sudoers) is an event, not yet an alert" },
    Case { file: "su", section: "su: failed", wazuh: "5302 level 9", rule: "su-failures", fires: false,
           difference: "a single failed su is an event; the rule wants 3 by one user in 10 minutes" },
    Case { file: "su", section: "su: bad pass", wazuh: "5301 level 5", rule: "su-failures", fires: false,
           difference: "same: one failure" },
];

/// The log lines of section `[section]` in a Wazuh .ini, in order.
fn section_lines(text: &str, section: &str) -> Vec<String> {
    let mut inside = false;
    let mut out = Vec::new();
    for l in text.lines().map(str::trim) {
        if let Some(s) = l.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            inside = s.trim() == section;
            continue;
        }
        if inside {
            if let Some((_, line)) = l.strip_prefix("log ").and_then(|r| r.split_once(" = ")) {
                out.push(line.trim().to_string());
            }
        }
    }
    out
}

#[test]
fn default_rules_agree_with_wazuh_where_they_cover_the_same_ground() {
    let ruleset = defaults().ruleset();
    let (mut agree, mut failures) = (0, Vec::new());
    for c in CASES {
        let text = std::fs::read_to_string(common::corpus(&format!("wazuh/tests/{}.ini", c.file)))
            .expect("readable ini");
        let lines = section_lines(&text, c.section);
        assert!(
            !lines.is_empty(),
            "no lines in [{}] of {}.ini",
            c.section,
            c.file
        );
        let mut n = Normalizer::new(
            InputFormat::Syslog,
            "wazuh",
            LocalZone::utc(),
            Timestamp::parse_rfc3339("2026-11-21T12:00:00Z").unwrap(),
        );
        let mut events = Vec::new();
        for l in &lines {
            n.push_line(l.as_bytes(), &mut events);
        }
        let alerts = alerts_for(ruleset.clone(), &events);
        let fired = alerts.iter().any(|a| a.rule == c.rule);
        let verdict = if fired { "fires" } else { "does not fire" };
        println!(
            "wazuh {} [{}] (Wazuh {}): {} {verdict}{}",
            c.file,
            c.section,
            c.wazuh,
            c.rule,
            if c.difference.is_empty() {
                String::new()
            } else {
                format!(" — differs: {}", c.difference)
            }
        );
        if fired != c.fires {
            failures.push(format!(
                "{}.ini [{}]: expected {} to {}fire, it {verdict} ({} events, alerts: {:?})",
                c.file,
                c.section,
                c.rule,
                if c.fires { "" } else { "not " },
                events.len(),
                alerts.iter().map(|a| a.rule.as_str()).collect::<Vec<_>>()
            ));
        }
        if fired {
            agree += 1;
        }
    }
    println!(
        "wazuh rule agreement: {agree} of {} sections where a default rule covers the same ground",
        CASES.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
