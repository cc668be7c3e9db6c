//! The same activity read two ways gives the same events: `tests/fixtures/debian12-auth.log`
//! (rsyslog's RFC 3339 auth.log) and `tests/fixtures/journal.json` (a `journalctl -o json`
//! export of the same script run against journald; see tests/fixtures/README.md).

use std::path::Path;

use picket::base::timestamp::LocalZone;
use picket::model::event::Event;
use picket::replay::{replay, Input, ReplayOptions};

fn events(file: &str) -> Vec<Event> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file);
    let mut all = Vec::new();
    let opts = ReplayOptions {
        zone: LocalZone::utc(),
        ..Default::default()
    };
    let summary = replay(
        &Input::File(path),
        &opts,
        |e| all.extend_from_slice(e),
        |_| {},
    )
    .unwrap();
    assert_eq!(
        summary.stats.unknown + summary.stats.unparsable,
        0,
        "{file}: every line understood"
    );
    all
}

/// What must agree between the two renderings (times and pids differ between the runs).
fn essence(e: &Event) -> String {
    format!(
        "{} program={:?} user={:?} target={:?} src={:?} method={:?} extra={:?}",
        e.kind,
        e.program.as_deref(),
        e.user,
        e.target_user,
        e.src_ip,
        e.method,
        e.extra
            .iter()
            .filter(|(k, _)| !matches!(k.as_ref(), "uid" | "gid"))
            .collect::<Vec<_>>()
    )
}

#[test]
fn journal_export_and_auth_log_give_the_same_events() {
    let from_log: Vec<String> = events("debian12-auth.log").iter().map(essence).collect();
    let from_journal: Vec<String> = events("journal.json").iter().map(essence).collect();
    assert_eq!(from_journal, from_log);
    assert!(
        from_log
            .iter()
            .filter(|e| e.starts_with("FAILED_LOGIN") && e.contains("203.0.113.66"))
            .count()
            == 6,
        "{from_log:#?}"
    );
    let journal = events("journal.json");
    let source = format!(
        "file:{}",
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/journal.json")
            .display()
    );
    assert!(
        journal.iter().all(|e| *e.source == *source),
        "events name the file they came from"
    );
    assert!(
        journal.iter().all(|e| e.host.as_deref() == Some("vm")),
        "hostname comes from _HOSTNAME"
    );
}
