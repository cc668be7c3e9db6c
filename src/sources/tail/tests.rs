use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::*;
use crate::base::lines::MAX_BUFFERED_LINE;

fn append(path: &Path, data: &str) {
    append_bytes(path, data.as_bytes());
}

fn append_bytes(path: &Path, data: &[u8]) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(data).unwrap();
}

fn sib(path: &Path, k: usize) -> PathBuf {
    PathBuf::from(format!("{}.{k}", path.display()))
}

/// Polls until quiet; returns the lines as strings and the last checkpoint.
fn drain(t: &mut Tailer) -> (Vec<String>, Option<String>) {
    drain_at(t, Instant::now())
}

fn drain_at(t: &mut Tailer, now: Instant) -> (Vec<String>, Option<String>) {
    let mut lines = Vec::new();
    let mut ck = None;
    loop {
        let p = t.poll_at(now);
        assert!(p.error.is_none(), "{:?}", p.error);
        if !p.lines.is_empty() {
            assert!(p.checkpoint.is_some());
        }
        lines.extend(
            p.lines
                .iter()
                .map(|l| String::from_utf8(l.to_vec()).unwrap()),
        );
        if p.checkpoint.is_some() {
            ck = p.checkpoint;
        }
        if !p.more {
            return (lines, ck);
        }
    }
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth.log");
    (dir, path)
}

fn later() -> Instant {
    Instant::now() + Duration::from_secs(3600)
}

#[test]
fn appends_and_holds_partial_lines() {
    let (_d, path) = setup();
    append(&path, "old\n");
    let mut t = Tailer::new(path.clone(), None, StartAt::Beginning);
    assert_eq!(drain(&mut t).0, ["old"]);
    append(&path, "a\r\nb\npar");
    assert_eq!(drain(&mut t).0, ["a\r", "b"]);
    assert!(drain(&mut t).0.is_empty());
    append(&path, "tial\n");
    assert_eq!(drain(&mut t).0, ["partial"]);
    assert_eq!(
        t.state().current.unwrap().offset,
        fs::metadata(&path).unwrap().len()
    );
}

#[test]
fn start_at_end_vs_beginning() {
    let (_d, path) = setup();
    append(&path, "one\ntwo\nthr");
    let mut end = Tailer::new(path.clone(), None, StartAt::End);
    let mut begin = Tailer::new(path.clone(), None, StartAt::Beginning);
    // The line being written at start is not cut in half.
    assert!(drain(&mut end).0.is_empty());
    assert_eq!(drain(&mut begin).0, ["one", "two"]);
    append(&path, "ee\nfour\n");
    assert_eq!(drain(&mut end).0, ["three", "four"]);
    assert_eq!(drain(&mut begin).0, ["three", "four"]);
}

#[test]
fn first_poll_returns_a_checkpoint_even_without_lines() {
    let (_d, path) = setup();
    append(&path, "history\n");
    let mut t = Tailer::new(path.clone(), None, StartAt::End);
    let (lines, ck) = drain(&mut t);
    assert!(lines.is_empty());
    let ck = ck.expect("checkpoint");
    append(&path, "new\n");
    let mut t = Tailer::new(path.clone(), Some(&ck), StartAt::End);
    assert_eq!(drain(&mut t).0, ["new"]);
}

#[test]
fn file_appearing_later_is_read_from_zero() {
    let (_d, path) = setup();
    let mut t = Tailer::new(path.clone(), None, StartAt::End);
    assert!(drain(&mut t).0.is_empty());
    append(&path, "a\nb\n");
    assert_eq!(drain(&mut t).0, ["a", "b"]);
}

#[test]
fn rename_rotation_with_writes_to_the_old_file() {
    let (_d, path) = setup();
    append(&path, "x\n");
    let mut t = Tailer::new(path.clone(), None, StartAt::End);
    drain(&mut t);
    append(&path, "a1\n");
    let mut writer = OpenOptions::new().append(true).open(&path).unwrap();
    fs::rename(&path, sib(&path, 1)).unwrap();
    append(&path, "");
    writer.write_all(b"a2\n").unwrap(); // not reopened yet
    assert_eq!(drain(&mut t).0, ["a1", "a2"]);
    writer.write_all(b"a3\n").unwrap();
    drop(writer);
    append(&path, "b1\n");
    assert_eq!(drain(&mut t).0, ["a3", "b1"]);
    assert_eq!(t.draining_count(), 1);
    drain_at(&mut t, later());
    assert_eq!(t.draining_count(), 0);
}

#[test]
fn several_rotations_between_polls() {
    let (_d, path) = setup();
    append(&path, "a\n");
    let mut t = Tailer::new(path.clone(), None, StartAt::Beginning);
    assert_eq!(drain(&mut t).0, ["a"]);
    append(&path, "b\n");
    fs::rename(&path, sib(&path, 1)).unwrap();
    append(&path, "c\n");
    fs::rename(sib(&path, 1), sib(&path, 2)).unwrap();
    fs::rename(&path, sib(&path, 1)).unwrap();
    append(&path, "d\n");
    assert_eq!(drain(&mut t).0, ["b", "c", "d"]);
}

#[test]
fn copytruncate_with_unread_tail() {
    let (_d, path) = setup();
    append(&path, "first\n");
    let mut t = Tailer::new(path.clone(), None, StartAt::Beginning);
    assert_eq!(drain(&mut t).0, ["first"]);
    append(&path, "unread\nlast-partial");
    fs::copy(&path, sib(&path, 1)).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&path, "after truncation, longer than before\n");
    let (lines, _) = drain(&mut t);
    assert_eq!(
        lines,
        [
            "unread",
            "last-partial",
            "after truncation, longer than before"
        ]
    );
    append(&path, "more\n");
    assert_eq!(drain(&mut t).0, ["more"]);
}

#[test]
fn copytruncate_detected_by_size() {
    let (_d, path) = setup();
    append(&path, "first line\nsecond line\n");
    let mut t = Tailer::new(path.clone(), None, StartAt::Beginning);
    assert_eq!(drain(&mut t).0.len(), 2);
    append(&path, "third\n");
    fs::copy(&path, sib(&path, 1)).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&path, "x\n");
    assert_eq!(drain(&mut t).0, ["third", "x"]);
}

#[test]
fn deleted_and_recreated() {
    let (_d, path) = setup();
    append(&path, "a\n");
    let mut t = Tailer::new(path.clone(), None, StartAt::Beginning);
    assert_eq!(drain(&mut t).0, ["a"]);
    append(&path, "b\n");
    fs::remove_file(&path).unwrap();
    assert_eq!(drain(&mut t).0, ["b"]);
    assert!(t.state().current.is_none());
    append(&path, "c\n");
    assert_eq!(drain(&mut t).0, ["c"]);
}

#[test]
fn unterminated_last_line_at_abandonment() {
    let (_d, path) = setup();
    append(&path, "a\n");
    let mut t = Tailer::new(path.clone(), None, StartAt::Beginning);
    drain(&mut t);
    append(&path, "b\nno newline");
    fs::rename(&path, sib(&path, 1)).unwrap();
    append(&path, "c\n");
    assert_eq!(drain(&mut t).0, ["b", "c"]);
    assert_eq!(drain_at(&mut t, later()).0, ["no newline"]);
    assert!(drain_at(&mut t, later()).0.is_empty());
}

#[test]
fn huge_lines_are_cut() {
    let (_d, path) = setup();
    let mut t = Tailer::new(path.clone(), None, StartAt::Beginning);
    let mut data = vec![b'x'; 3 * MAX_BUFFERED_LINE + 5];
    data.extend_from_slice(b"\nnext\n");
    // Written in two parts so the long line is also held as a partial line.
    append_bytes(&path, &data[..MAX_BUFFERED_LINE / 2]);
    assert!(t.poll().lines.is_empty());
    append_bytes(&path, &data[MAX_BUFFERED_LINE / 2..]);
    let mut lines = Vec::new();
    loop {
        let p = t.poll();
        lines.extend(p.lines.to_vecs());
        if !p.more {
            break;
        }
    }
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].len(), MAX_BUFFERED_LINE);
    assert_eq!(lines[1], b"next");
}

#[test]
fn budget_splits_big_bursts_without_loss() {
    let (_d, path) = setup();
    let mut t = Tailer::new(path.clone(), None, StartAt::Beginning);
    let n = 400_000;
    let mut data = String::new();
    for i in 0..n {
        data.push_str(&format!("line number {i:08}\n"));
    }
    append(&path, &data);
    let p = t.poll();
    assert!(p.more);
    let (rest, _) = drain(&mut t);
    assert_eq!(p.lines.len() + rest.len(), n);
    assert_eq!(rest.last().unwrap(), &format!("line number {:08}", n - 1));
}

#[test]
fn restart_resumes_at_offset() {
    let (_d, path) = setup();
    append(&path, "a\nb\n");
    let mut t = Tailer::new(path.clone(), None, StartAt::Beginning);
    let (_, ck) = drain(&mut t);
    append(&path, "c\npart");
    let (_, ck2) = drain(&mut t);
    drop(t);
    append(&path, "ial\n");
    let mut t = Tailer::new(path.clone(), ck2.or(ck).as_deref(), StartAt::End);
    assert_eq!(drain(&mut t).0, ["partial"]);
}

#[test]
fn restart_after_rename_rotations() {
    let (_d, path) = setup();
    append(&path, "a\n");
    let mut t = Tailer::new(path.clone(), None, StartAt::Beginning);
    let (_, ck) = drain(&mut t);
    drop(t);
    append(&path, "b\n");
    fs::rename(&path, sib(&path, 1)).unwrap();
    append(&path, "c\n");
    fs::rename(sib(&path, 1), sib(&path, 2)).unwrap();
    fs::rename(&path, sib(&path, 1)).unwrap();
    append(&path, "d\n");
    let mut t = Tailer::new(path.clone(), ck.as_deref(), StartAt::End);
    assert_eq!(drain(&mut t).0, ["b", "c", "d"]);
}

#[test]
fn restart_after_copytruncate() {
    let (_d, path) = setup();
    append(&path, "a\n");
    let mut t = Tailer::new(path.clone(), None, StartAt::Beginning);
    let (_, ck) = drain(&mut t);
    drop(t);
    append(&path, "b\n");
    fs::copy(&path, sib(&path, 1)).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&path, "c\n");
    let mut t = Tailer::new(path.clone(), ck.as_deref(), StartAt::End);
    assert_eq!(drain(&mut t).0, ["b", "c"]);
}

#[test]
fn restart_while_draining() {
    let (_d, path) = setup();
    append(&path, "a\n");
    let mut t = Tailer::new(path.clone(), None, StartAt::Beginning);
    drain(&mut t);
    let mut writer = OpenOptions::new().append(true).open(&path).unwrap();
    fs::rename(&path, sib(&path, 1)).unwrap();
    append(&path, "new1\n");
    let (lines, ck) = drain(&mut t);
    assert_eq!(lines, ["new1"]);
    assert_eq!(t.state().draining.len(), 1);
    drop(t);
    writer.write_all(b"old2\n").unwrap();
    append(&path, "new2\n");
    let mut t = Tailer::new(path.clone(), ck.as_deref(), StartAt::End);
    assert_eq!(drain(&mut t).0, ["old2", "new2"]);
}

#[test]
fn restart_with_the_file_gone_reads_from_zero_with_a_notice() {
    let (_d, path) = setup();
    append(&path, "a\n");
    let mut t = Tailer::new(path.clone(), None, StartAt::Beginning);
    let (_, ck) = drain(&mut t);
    drop(t);
    fs::remove_file(&path).unwrap();
    append(&path, "fresh\n");
    let mut t = Tailer::new(path.clone(), ck.as_deref(), StartAt::End);
    let p = t.poll();
    assert_eq!(p.lines.to_vecs(), [b"fresh".to_vec()]);
    assert!(
        p.notices.iter().any(|n| n.contains("not found")),
        "{:?}",
        p.notices
    );
}

#[test]
fn restart_when_no_file_existed_reads_new_file_from_zero() {
    let (_d, path) = setup();
    let mut t = Tailer::new(path.clone(), None, StartAt::End);
    let (_, ck) = drain(&mut t);
    let ck = ck.unwrap();
    drop(t);
    append(&path, "a\n");
    let mut t = Tailer::new(path.clone(), Some(&ck), StartAt::End);
    assert_eq!(drain(&mut t).0, ["a"]);
}

#[test]
fn checkpoint_json_roundtrip_and_fingerprint_is_stable() {
    assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    let st = TailState {
        current: Some(FileState {
            fingerprint: Some(0xdead_beef),
            dev: 1,
            ino: 2,
            offset: 3,
        }),
        draining: vec![],
    };
    let json = serde_json::to_string(&st).unwrap();
    assert!(json.contains("\"00000000deadbeef\""), "{json}");
    assert_eq!(serde_json::from_str::<TailState>(&json).unwrap(), st);
}

#[test]
fn permission_denied_is_reported_once_with_the_fix() {
    if unsafe { libc::geteuid() } == 0 {
        return; // root reads everything
    }
    use std::os::unix::fs::PermissionsExt;
    let (_d, path) = setup();
    append(&path, "secret\n");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
    let mut t = Tailer::new(path.clone(), None, StartAt::Beginning);
    let e = t.poll().error.expect("error");
    assert!(matches!(e, TailError::PermissionDenied { .. }));
    assert!(e.to_string().contains("usermod -aG adm"), "{e}");
    assert!(t.poll().error.is_none(), "reported once");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let p = t.poll();
    assert_eq!(p.lines.to_vecs(), [b"secret".to_vec()]);
    assert!(!p.notices.is_empty());
}

#[test]
fn idle_poll_returns_nothing() {
    let (_d, path) = setup();
    append(&path, "a\n");
    let mut t = Tailer::new(path.clone(), None, StartAt::Beginning);
    drain(&mut t);
    let p = t.poll();
    assert!(p.lines.is_empty() && p.checkpoint.is_none() && !p.more);
}
