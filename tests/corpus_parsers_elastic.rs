//! The elastic-examples auth.log (Ubuntu, real sudo/su/useradd/groupadd/chpasswd lines)
//! through the [`Normalizer`]: each family's events are counted once per action, the PAM
//! and sulog echoes give none.

mod common;

use std::collections::BTreeMap;

use picket::base::timestamp::{LocalZone, Timestamp};
use picket::model::event::{EventType, Outcome};
use picket::parse::{InputFormat, Normalizer};

#[test]
fn elastic_auth_log_counts() {
    let text = std::fs::read(common::corpus("elastic-examples/auth.log")).unwrap();
    let mut n = Normalizer::new(
        InputFormat::Syslog,
        "test",
        LocalZone::utc(),
        Timestamp::parse_rfc3339("2026-11-21T12:00:00Z").unwrap(),
    );
    let mut out = Vec::new();
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        n.push_line(line, &mut out);
    }
    let mut by: BTreeMap<EventType, usize> = BTreeMap::new();
    for e in &out {
        *by.entry(e.kind).or_default() += 1;
    }
    println!("{by:?}");
    // 186 `user : TTY=… ; COMMAND=…` lines; the 371 pam_unix(sudo:session) lines echo them.
    assert_eq!(by.get(&EventType::Sudo), Some(&186));
    assert!(out
        .iter()
        .filter(|e| e.kind == EventType::Sudo)
        .all(|e| e.outcome == Some(Outcome::Success) && e.command.is_some()));
    // 9 × (`Successful su for root by root` + `+ /dev/pts/N root:root`): one event each.
    assert_eq!(by.get(&EventType::SuSuccess), Some(&9));
    assert_eq!(by.get(&EventType::SuFailed), None);
    assert_eq!(by.get(&EventType::UserAdded), Some(&10));
    // 10 from useradd's own groups + groupadd's one `new group:` line (its `group added
    // to /etc/group` and `… /etc/gshadow` echoes give none).
    assert_eq!(by.get(&EventType::GroupAdded), Some(&11));
    // 10 `password changed for`; the 407 `user "…" does not exist` lines give none.
    assert_eq!(by.get(&EventType::PasswordChanged), Some(&10));
}

/// Every syslog-shaped corpus file runs through without a panic, and the families this
/// suite owns find what each file holds (Linux_2k: su(pam_unix) echoes only).
#[test]
fn other_corpora_parse_without_panic() {
    for rel in [
        "loghub/Linux/Linux_2k.log",
        "secrepo-auth/auth.log",
        "fail2ban/logs/pam-generic",
    ] {
        let text = std::fs::read(common::corpus(rel)).unwrap();
        let mut n = Normalizer::new(
            InputFormat::Syslog,
            "test",
            LocalZone::utc(),
            Timestamp::parse_rfc3339("2026-11-21T12:00:00Z").unwrap(),
        );
        let mut out = Vec::new();
        for line in text.split(|&b| b == b'\n') {
            n.push_line(line, &mut out);
            // Prefixes of every line too: no parser may index past what it checked.
            if line.len() < 400 {
                for cut in (0..line.len()).step_by(7) {
                    n.push_line(&line[..cut], &mut Vec::new());
                }
            }
        }
        println!("{rel}: {:?}", n.stats().by_type);
        if rel.starts_with("loghub") {
            assert!(!out
                .iter()
                .any(|e| matches!(e.kind, EventType::SuSuccess | EventType::SuFailed)));
        }
    }
}
