//! The tailer's end-to-end proof: 1,000,000 lines written through 10 rotations (five by
//! rename-and-create, five by copytruncate) while `picket run` tails the file, killed with
//! SIGKILL twice along the way (each time a rotation happens while it is down). At the end
//! the store holds exactly 1,000,000 events, one per line: none lost, none read twice.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::sys::{wait_for, Picket};

const TOTAL: u64 = 1_000_000;
const ROTATE_EVERY: u64 = 100_000;
const CHUNK: u64 = 2_000;

fn line(seq: u64) -> String {
    format!("Jan 11 00:00:00 web01 sshd[{}]: Failed password for invalid user u{seq} from 203.0.113.9 port 22 ssh2\n", 1000 + seq % 50_000)
}

fn rotated(path: &Path, k: u32) -> PathBuf {
    PathBuf::from(format!("{}.{k}", path.display()))
}

/// Shifts PATH.1 … PATH.4 one up (PATH.5 falls off), as logrotate does with `rotate 5`.
fn shift(path: &Path) {
    for k in (1..5).rev() {
        let from = rotated(path, k);
        if from.exists() {
            fs::rename(&from, rotated(path, k + 1)).unwrap();
        }
    }
}

fn rotate_rename(path: &Path) {
    shift(path);
    fs::rename(path, rotated(path, 1)).unwrap();
    fs::File::create(path).unwrap();
}

fn rotate_copytruncate(path: &Path) {
    shift(path);
    fs::copy(path, rotated(path, 1)).unwrap();
    OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(0)
        .unwrap();
}

fn stored(data: &Path) -> (i64, i64) {
    let Ok(conn) = picket::store::open_read_only(data) else {
        return (0, 0);
    };
    conn.query_row(
        "SELECT count(*), count(DISTINCT user) FROM events",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap_or((0, 0))
}

#[test]
fn a_million_lines_through_ten_rotations_and_two_kills_are_stored_exactly_once() {
    let logs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let path = logs.path().join("auth.log");
    fs::File::create(&path).unwrap();
    let args = [
        "--log",
        path.to_str().unwrap(),
        "--data-dir",
        data.path().to_str().unwrap(),
        "--start-at",
        "beginning",
    ];
    let mut picket = Some(Picket::start(&args));
    // Kill at these line counts, restart this many lines later; a rotation falls in between.
    let kills = [(250_000u64, 320_000u64), (640_000, 720_000)];
    let mut rotations = 0;
    let mut out = OpenOptions::new().append(true).open(&path).unwrap();
    let mut seq = 0u64;
    while seq < TOTAL {
        let mut buf = String::with_capacity(CHUNK as usize * 110);
        for s in seq..seq + CHUNK {
            buf.push_str(&line(s));
        }
        out.write_all(buf.as_bytes()).unwrap();
        seq += CHUNK;
        if seq % ROTATE_EVERY == 0 && seq < TOTAL {
            rotations += 1;
            drop(out);
            if rotations % 2 == 1 {
                rotate_rename(&path);
            } else {
                rotate_copytruncate(&path);
            }
            out = OpenOptions::new().append(true).open(&path).unwrap();
        }
        for (kill_at, restart_at) in kills {
            if seq == kill_at {
                picket.take().expect("running").kill();
            }
            if seq == restart_at {
                picket = Some(Picket::start(&args));
            }
        }
        // A realistic writer, not a burst: about 100k lines a second.
        std::thread::sleep(Duration::from_millis(20));
    }
    // The tenth rotation, after the last line: everything must still be read.
    rotations += 1;
    drop(out);
    rotate_copytruncate(&path);
    assert_eq!(rotations, 10);

    wait_for(
        "all 1,000,000 events in the store",
        Duration::from_secs(300),
        || (stored(data.path()).0 >= TOTAL as i64).then_some(()),
    );
    std::thread::sleep(Duration::from_secs(2));
    picket.take().expect("running").stop();
    let (events, distinct) = stored(data.path());
    println!("stored {events} events, {distinct} distinct lines, after {rotations} rotations and 2 kills");
    assert_eq!(events, TOTAL as i64, "every line exactly once");
    assert_eq!(distinct, TOTAL as i64, "no line twice, none missing");
}
