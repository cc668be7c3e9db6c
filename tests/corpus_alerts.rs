//! The alerts the default ruleset raises on the real logs of the corpus, pinned by
//! snapshots, plus the facts the corpora document: loghub's OpenSSH_2k brute-forcers, and
//! the elastic-examples address that fails 157 times and then logs in 47 times.

mod common;

use std::sync::Arc;

use picket::base::timestamp::{LocalZone, Timestamp};
use picket::engine::load::defaults;
use picket::engine::ruletest::alerts_for;
use picket::model::Alert;
use picket::replay::{replay, Input, ReplayOptions};

fn alerts(rel: &str) -> Vec<Alert> {
    let opts = ReplayOptions {
        zone: LocalZone::utc(),
        format: None,
        reference: Timestamp::parse_rfc3339("2026-11-21T12:00:00Z"),
    };
    let mut events = Vec::new();
    replay(
        &Input::File(common::corpus(rel)),
        &opts,
        |e| events.extend_from_slice(e),
        |_| {},
    )
    .unwrap();
    let loaded = defaults();
    assert!(loaded.errors.is_empty());
    alerts_for(
        Arc::new(picket::engine::RuleSet::new(loaded.rules.clone())),
        &events,
    )
}

/// One line per alert: what a person reading the list sees.
fn summary(list: &[Alert]) -> Vec<String> {
    list.iter()
        .map(|a| {
            let group: Vec<String> = a.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!(
                "{} {} {} count={} {}",
                a.first_seen,
                a.rule,
                a.severity.as_str(),
                a.count,
                group.join(" ")
            )
        })
        .collect()
}

#[test]
fn loghub_openssh_brute_forcers() {
    let list = alerts("loghub/OpenSSH/OpenSSH_2k.log");
    let brute: std::collections::BTreeSet<&str> = list
        .iter()
        .filter(|a| a.rule == "ssh-brute-force")
        .filter_map(|a| a.group.get("src_ip").map(String::as_str))
        .collect();
    // The heaviest attackers of the fail2ban oracle are all caught.
    for ip in [
        "183.62.140.253",
        "187.141.143.180",
        "103.99.0.122",
        "5.188.10.180",
        "112.95.230.3",
        "185.190.58.151",
    ] {
        assert!(brute.contains(ip), "{ip} not caught: {brute:?}");
    }
    insta::assert_yaml_snapshot!(summary(&list));
}

#[test]
fn elastic_failures_then_logins_are_critical() {
    let list = alerts("elastic-examples/auth.log");
    let hit = list.iter().find(|a| {
        a.rule == "ssh-login-after-failures"
            && a.group.get("src_ip").map(String::as_str) == Some("24.151.103.17")
    });
    let hit = hit.expect("24.151.103.17 fails 157 times, then logs in: a critical alert");
    assert_eq!(hit.severity, picket::model::Severity::Critical);
    assert!(
        list.iter().any(|a| a.rule == "account-created"),
        "the 10 elastic_user accounts are created"
    );
    insta::assert_yaml_snapshot!(summary(&list));
}

#[test]
fn linux_2k_and_secrepo() {
    insta::assert_yaml_snapshot!("linux_2k", summary(&alerts("loghub/Linux/Linux_2k.log")));
    insta::assert_yaml_snapshot!("secrepo", summary(&alerts("secrepo-auth/auth.log")));
}
