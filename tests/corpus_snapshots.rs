//! The real auth.logs of the corpus parse without an error, and what they hold — lines
//! read, events per type, ignored, unknown and unparsable lines — is pinned by snapshots
//! (`tests/snapshots/`), so any change in what Picket sees in them is reviewed.
//!
//! The unparsable lines they pin are real: Linux_2k's `combo  -- root[2421]: ROOT LOGIN ON
//! tty2` (login with an empty tag), and secrepo's last line, cut mid-stamp (`Dec  2 13:14:2`)
//! where the excerpt ends.

mod common;

use picket::base::timestamp::{LocalZone, Timestamp};
use picket::replay::{replay, Input, ReplayOptions};

fn summary(rel: &str) -> picket::parse::Stats {
    // A fixed reference time: the snapshots must not depend on when the test runs.
    let opts = ReplayOptions {
        zone: LocalZone::utc(),
        format: None,
        reference: Timestamp::parse_rfc3339("2026-11-21T12:00:00Z"),
    };
    let s = replay(&Input::File(common::corpus(rel)), &opts, |_| {}, |_| {})
        .unwrap_or_else(|e| panic!("{rel}: {e}"));
    s.stats
}

#[test]
fn loghub_linux_2k() {
    insta::assert_yaml_snapshot!(summary("loghub/Linux/Linux_2k.log"));
}

#[test]
fn loghub_openssh_2k() {
    insta::assert_yaml_snapshot!(summary("loghub/OpenSSH/OpenSSH_2k.log"));
}

#[test]
fn elastic_examples_auth_log() {
    insta::assert_yaml_snapshot!(summary("elastic-examples/auth.log"));
}

#[test]
fn secrepo_auth_log() {
    insta::assert_yaml_snapshot!(summary("secrepo-auth/auth.log"));
}
