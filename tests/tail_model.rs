//! Model-based test of the file tailer: random writes, rotations (rename and
//! copytruncate), writes to a renamed file before the writer reopens, polls and restarts.
//! Invariant: the delivered lines are exactly the written lines, in order.
//!
//! Precondition the generator respects (Picket's documented guarantee): the tailer polls
//! at least once every 4 rotations, and a writer reopens the path at the latest when its
//! file is rotated a second time, so no file with unread lines is rotated out past
//! `PATH.5` before the tailer looks. Restarts do not count as polls. Partial lines are
//! finished before a rotation (real writers write whole lines). A file is not
//! copytruncated before the tailer has seen its first complete line (the tailer polls
//! first), since such a truncation cannot be told from an idle file.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use picket::sources::tail::{StartAt, Tailer};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// The writer (reopening the path if its file was rotated) writes `n` lines, and
    /// optionally the first half of one more.
    Write {
        n: usize,
        partial: bool,
    },
    /// The writer writes to the file it has open, even if that was renamed away.
    WriteAfterRename {
        n: usize,
    },
    RotateRename,
    RotateCopyTruncate,
    Poll,
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..5, any::<bool>()).prop_map(|(n, partial)| Op::Write { n, partial }),
        2 => (1usize..4).prop_map(|n| Op::WriteAfterRename { n }),
        2 => Just(Op::RotateRename),
        2 => Just(Op::RotateCopyTruncate),
        3 => Just(Op::Poll),
        1 => Just(Op::Restart),
    ]
}

const GRACE: Duration = Duration::from_secs(3600);

struct World {
    _dir: tempfile::TempDir,
    path: PathBuf,
    writer: Option<File>,
    /// Position of the writer's file: 0 = PATH, k = PATH.k.
    writer_pos: usize,
    pending: Option<Vec<u8>>,
    seq: usize,
    expected: Vec<Vec<u8>>,
    committed: Vec<Vec<u8>>,
    checkpoint: Option<String>,
    tailer: Tailer,
    rotations_since_poll: usize,
    /// Whether PATH had a complete line at the last poll.
    head_seen: bool,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("syslog");
        // The path exists from the start (logrotate's `create` keeps it so); see the
        // module documentation for a file created and rotated before it is ever seen.
        File::create(&path).unwrap();
        let mut tailer = Tailer::new(path.clone(), None, StartAt::Beginning);
        tailer.set_drain_grace(GRACE);
        let mut w = World {
            _dir: dir,
            path,
            writer: None,
            writer_pos: 0,
            pending: None,
            seq: 0,
            expected: Vec::new(),
            committed: Vec::new(),
            checkpoint: None,
            tailer,
            rotations_since_poll: 0,
            head_seen: false,
        };
        w.poll(); // the daemon polls (and commits a checkpoint) right after start
        w
    }

    fn sib(&self, k: usize) -> PathBuf {
        PathBuf::from(format!("{}.{k}", self.path.display()))
    }

    fn handle(&mut self) -> &mut File {
        if self.writer.is_none() {
            self.writer = Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)
                    .unwrap(),
            );
            self.writer_pos = 0;
        }
        self.writer.as_mut().unwrap()
    }

    fn finish_partial(&mut self) {
        if let Some(rest) = self.pending.take() {
            self.handle().write_all(&rest).unwrap();
        }
    }

    fn next_line(&mut self) -> Vec<u8> {
        self.seq += 1;
        let pad = if self.seq % 23 == 0 {
            300
        } else {
            self.seq % 17
        };
        let line = format!("L{:05} {}", self.seq, "x".repeat(pad)).into_bytes();
        self.expected.push(line.clone());
        line
    }

    fn write(&mut self, n: usize, partial: bool) {
        self.finish_partial();
        let mut data = Vec::new();
        for _ in 0..n {
            data.extend(self.next_line());
            data.push(b'\n');
        }
        if partial && n > 0 {
            let line = self.next_line();
            let half = line.len() / 2;
            data.extend_from_slice(&line[..half]);
            let mut rest = line[half..].to_vec();
            rest.push(b'\n');
            self.pending = Some(rest);
        }
        self.handle().write_all(&data).unwrap();
    }

    fn rotate(&mut self, rename: bool) {
        self.finish_partial();
        let unseen = !self.head_seen && fs::metadata(&self.path).is_ok_and(|m| m.len() > 0);
        if self.rotations_since_poll >= 4 || (!rename && unseen) {
            self.poll();
        }
        let _ = fs::remove_file(self.sib(5));
        for k in (1..5).rev() {
            if self.sib(k).exists() {
                fs::rename(self.sib(k), self.sib(k + 1)).unwrap();
            }
        }
        if self.writer.is_some() && self.writer_pos > 0 {
            self.writer_pos += 1;
        }
        if self.path.exists() {
            if rename {
                fs::rename(&self.path, self.sib(1)).unwrap();
                if self.writer.is_some() && self.writer_pos == 0 {
                    self.writer_pos = 1;
                }
            } else {
                fs::copy(&self.path, self.sib(1)).unwrap();
                OpenOptions::new()
                    .write(true)
                    .open(&self.path)
                    .unwrap()
                    .set_len(0)
                    .unwrap();
            }
        }
        if rename {
            File::create(&self.path).unwrap();
        }
        if self.writer_pos >= 2 {
            self.writer = None; // reopens at its next write
        }
        self.rotations_since_poll += 1;
    }

    fn poll(&mut self) {
        loop {
            let p = self.tailer.poll_at(Instant::now());
            assert!(p.error.is_none(), "{:?}", p.error);
            if !p.lines.is_empty() {
                assert!(p.checkpoint.is_some(), "lines without a checkpoint");
            }
            // Lines and checkpoint are committed together.
            self.committed.extend(p.lines.to_vecs());
            if let Some(c) = p.checkpoint {
                self.checkpoint = Some(c);
            }
            if !p.more {
                break;
            }
        }
        self.rotations_since_poll = 0;
        self.head_seen = fs::read(&self.path).is_ok_and(|d| d.contains(&b'\n'));
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Write { n, partial } => {
                self.finish_partial();
                if self.writer_pos != 0 {
                    self.writer = None;
                }
                self.write(n, partial);
            }
            Op::WriteAfterRename { n } => self.write(n, false),
            Op::RotateRename => self.rotate(true),
            Op::RotateCopyTruncate => self.rotate(false),
            Op::Poll => self.poll(),
            Op::Restart => {
                self.tailer = Tailer::new(
                    self.path.clone(),
                    self.checkpoint.as_deref(),
                    StartAt::Beginning,
                );
                self.tailer.set_drain_grace(GRACE);
            }
        }
    }

    fn finish(&mut self) {
        self.finish_partial();
        self.poll();
        self.poll();
        self.tailer.set_drain_grace(Duration::ZERO);
        self.poll();
    }
}

fn show(lines: &[Vec<u8>]) -> Vec<String> {
    lines
        .iter()
        .map(|l| String::from_utf8_lossy(&l[..l.len().min(12)]).into_owned())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn delivers_every_line_exactly_once(ops in proptest::collection::vec(op(), 1..40)) {
        let mut w = World::new();
        for op in &ops {
            w.apply(op);
        }
        w.finish();
        prop_assert_eq!(show(&w.committed), show(&w.expected));
        prop_assert_eq!(&w.committed, &w.expected);
        prop_assert_eq!(w.tailer.draining_count(), 0);
    }
}
