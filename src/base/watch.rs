//! Directory watches (rule and check directories), and what the file watches (those,
//! file integrity, tailers) count as a change. Opening and reading a file raise inotify
//! events too (Picket's own reads among them): reacting to those would read the files
//! again, in a loop.

use std::path::Path;

use notify_debouncer_full::notify::event::{
    AccessKind, AccessMode, EventKind, MetadataKind, ModifyKind,
};

/// Whether an event can mean a file's content, name, owner or mode changed. Closing a
/// file opened for writing counts; opening, reading and access-time updates do not.
pub fn is_content_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
        _ => true,
    }
}

/// How long a watched directory must be quiet before it is re-read: editors write a
/// temporary file and rename it, in several steps.
pub const DEBOUNCE: std::time::Duration = std::time::Duration::from_millis(200);

/// A directory watch; dropping it ends the watch.
pub type DirWatch = notify_debouncer_full::Debouncer<
    notify_debouncer_full::notify::RecommendedWatcher,
    notify_debouncer_full::RecommendedCache,
>;

/// Watches `dir` (the directory, not its files: atomic saves replace the files' inodes)
/// and sends, after each debounced burst, whether it can have changed the files' content.
pub fn watch_dir(
    dir: &Path,
    tx: std::sync::mpsc::Sender<bool>,
) -> notify_debouncer_full::notify::Result<DirWatch> {
    use notify_debouncer_full::{new_debouncer, notify::RecursiveMode};
    let mut debouncer = new_debouncer(
        DEBOUNCE,
        // Checked every DEBOUNCE rather than four times as often: an idle daemon should
        // sleep; a reload still lands well within a second.
        Some(DEBOUNCE),
        move |result: notify_debouncer_full::DebounceEventResult| {
            let _ = tx.send(changes_content(&result));
        },
    )?;
    debouncer.watch(dir, RecursiveMode::NonRecursive)?;
    Ok(debouncer)
}

/// Whether a batch of file events can have changed the files (see
/// [`is_content_change`]).
pub fn changes_content(result: &notify_debouncer_full::DebounceEventResult) -> bool {
    match result {
        Ok(events) => events.iter().any(|e| is_content_change(&e.event.kind)),
        // The watcher lost track (queue overflow …): rescan to be safe.
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::is_content_change;
    use notify_debouncer_full::notify::event::{
        AccessKind, AccessMode, CreateKind, DataChange, EventKind, MetadataKind, ModifyKind,
    };

    #[test]
    fn reading_a_file_is_not_a_change_but_writing_one_is() {
        assert!(!is_content_change(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!is_content_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        assert!(!is_content_change(&EventKind::Modify(
            ModifyKind::Metadata(MetadataKind::AccessTime)
        )));
        assert!(is_content_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(is_content_change(&EventKind::Modify(ModifyKind::Data(
            DataChange::Any
        ))));
        assert!(is_content_change(&EventKind::Modify(ModifyKind::Metadata(
            MetadataKind::Permissions
        ))));
        assert!(is_content_change(&EventKind::Create(CreateKind::File)));
    }
}
