//! One open file being followed: line framing with a held-back partial line, the
//! first-line fingerprint, and the position bookkeeping behind the checkpoint.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::time::Instant;

use crate::base::lines::MAX_BUFFERED_LINE;

use super::state::FileState;

/// The fingerprint covers the first line, but never more than this many bytes.
pub const FINGERPRINT_CAP: usize = 256;

/// FNV-1a, 64 bit: stable across runs and builds (unlike `RandomState`).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Whether `head` (bytes from the start of a file) is the complete fingerprint material.
pub fn head_complete(head: &[u8]) -> bool {
    head.len() >= FINGERPRINT_CAP || head.last() == Some(&b'\n')
}

/// The fingerprint of `head`, if it is complete.
pub fn fingerprint_of(head: &[u8]) -> Option<u64> {
    head_complete(head).then(|| fnv1a(head))
}

/// The first line of `file` (with its `\n`), or its first [`FINGERPRINT_CAP`] bytes,
/// or all of it when it is shorter and has no newline yet.
pub fn read_head(file: &File) -> io::Result<Vec<u8>> {
    let mut buf = [0u8; FINGERPRINT_CAP];
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    let end = memchr::memchr(b'\n', &buf[..n]).map_or(n, |i| i + 1);
    Ok(buf[..end].to_vec())
}

/// Where the last line of `file` (of `size` bytes) starts: just after its last `\n`, or
/// 0. Used to start "at the end" without cutting the line being written in half.
pub fn last_line_start(file: &File, size: u64) -> io::Result<u64> {
    const CHUNK: u64 = 64 * 1024;
    let mut buf = vec![0u8; CHUNK as usize];
    let mut end = size;
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        let len = (end - start) as usize;
        file.read_exact_at(&mut buf[..len], start)?;
        if let Some(i) = memchr::memrchr(b'\n', &buf[..len]) {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// Lines delivered by one poll: one buffer and the end of each line in it, so a burst of
/// a million lines costs two allocations, not a million.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Lines {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Lines {
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// Line `i`, without its `\n`.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.buf[start..end])
    }
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let line = &self.buf[start..end];
            start = end;
            line
        })
    }
    /// Total bytes of all lines.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }
    pub fn to_vecs(&self) -> Vec<Vec<u8>> {
        self.iter().map(<[u8]>::to_vec).collect()
    }
    /// Appends the line `a` + `b`, cut to [`MAX_BUFFERED_LINE`].
    fn push2(&mut self, a: &[u8], b: &[u8]) {
        let a = &a[..a.len().min(MAX_BUFFERED_LINE)];
        let b = &b[..b.len().min(MAX_BUFFERED_LINE - a.len())];
        self.buf.extend_from_slice(a);
        self.buf.extend_from_slice(b);
        self.ends.push(self.buf.len());
    }
}

/// An open file and how far it has been consumed.
#[derive(Debug)]
pub struct FileReader {
    pub file: File,
    pub dev: u64,
    pub ino: u64,
    /// Fingerprint material read so far (see [`read_head`]).
    pub head: Vec<u8>,
    /// Byte position just after the last complete line delivered.
    pub offset: u64,
    /// Read position; bytes between `offset` and `pos` are the held-back partial line.
    pub pos: u64,
    /// The partial line (cut to [`MAX_BUFFERED_LINE`]; the rest is dropped).
    partial: Vec<u8>,
    /// Last time this file grew (for the drain grace period).
    pub last_growth: Instant,
    /// A copy left by copytruncate: nobody writes to it, so it is closed at its end.
    pub abandon_at_eof: bool,
    /// Change time at the last look: a rewrite to the same size changes it.
    pub ctime: (i64, i64),
}

impl FileReader {
    /// Follows `file` from `offset` (which must be at a line start).
    pub fn new(file: File, head: Vec<u8>, offset: u64, now: Instant) -> io::Result<FileReader> {
        let meta = file.metadata()?;
        Ok(FileReader {
            file,
            dev: meta.dev(),
            ino: meta.ino(),
            head,
            offset,
            pos: offset,
            partial: Vec::new(),
            last_growth: now,
            abandon_at_eof: false,
            ctime: (meta.ctime(), meta.ctime_nsec()),
        })
    }

    pub fn fingerprint(&self) -> Option<u64> {
        fingerprint_of(&self.head)
    }

    pub fn same_inode(&self, dev: u64, ino: u64) -> bool {
        self.dev == dev && self.ino == ino
    }

    pub fn state(&self) -> FileState {
        FileState {
            fingerprint: self.fingerprint(),
            dev: self.dev,
            ino: self.ino,
            offset: self.offset,
        }
    }

    /// Re-reads the fingerprint material and checks that the file still starts as it did.
    /// `false` means it was truncated and rewritten. Completes an incomplete head.
    pub fn check_head(&mut self) -> io::Result<bool> {
        let now = read_head(&self.file)?;
        let same = if head_complete(&self.head) {
            now == self.head
        } else {
            now.starts_with(&self.head)
        };
        if same {
            self.head = now;
        }
        Ok(same)
    }

    /// Starts over at byte 0 (after a truncation), dropping the partial line.
    pub fn reset(&mut self) -> io::Result<()> {
        self.offset = 0;
        self.pos = 0;
        self.partial.clear();
        self.head = read_head(&self.file)?;
        Ok(())
    }

    /// Reads complete lines from `pos` until end of file or until `budget` bytes are
    /// read. Returns the bytes read and whether end of file was reached.
    pub fn read(
        &mut self,
        out: &mut Lines,
        scratch: &mut [u8],
        budget: &mut usize,
    ) -> io::Result<(u64, bool)> {
        let mut total = 0u64;
        loop {
            if *budget == 0 {
                return Ok((total, false));
            }
            let want = scratch.len().min(*budget);
            let n = match self.file.read_at(&mut scratch[..want], self.pos) {
                Ok(0) => return Ok((total, true)),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            *budget -= n;
            total += n as u64;
            let base = self.pos;
            self.pos += n as u64;
            let chunk = &scratch[..n];
            let mut start = 0;
            for nl in memchr::memchr_iter(b'\n', chunk) {
                out.push2(&self.partial, &chunk[start..nl]);
                self.partial.clear();
                start = nl + 1;
            }
            if start > 0 {
                self.offset = base + start as u64;
            }
            let rest = &chunk[start..];
            let room = MAX_BUFFERED_LINE - self.partial.len();
            self.partial
                .extend_from_slice(&rest[..rest.len().min(room)]);
        }
    }

    /// Delivers a final line without a newline, if one is held (the file is abandoned).
    pub fn finish(&mut self, out: &mut Lines) {
        if self.pos > self.offset {
            out.push2(&self.partial, &[]);
            self.partial.clear();
            self.offset = self.pos;
        }
    }
}
