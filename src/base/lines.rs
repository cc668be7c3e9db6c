//! Line framing for whole inputs (files, stdin): splits bytes into lines, keeping a final
//! line that has no newline. Used by `picket replay`; the tailer has its own framing
//! because it must hold back a partial last line until it is finished.

use std::io::{self, BufRead};

/// Calls `f` for each line of `reader` (without the `\n`; `\r` is left for the parser).
/// A last line without a newline is delivered too. Returns the bytes read.
pub fn for_each_line<R: BufRead>(mut reader: R, mut f: impl FnMut(&[u8])) -> io::Result<u64> {
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut total = 0u64;
    loop {
        // A line wholly inside the reader's buffer is handed over from there: no copy.
        let whole = match reader.fill_buf() {
            Ok(avail) => memchr::memchr(b'\n', avail).map(|i| {
                f(&avail[..i.min(MAX_BUFFERED_LINE)]);
                i + 1
            }),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if let Some(used) = whole {
            reader.consume(used);
            total += used as u64;
            continue;
        }
        buf.clear();
        let n = read_line_capped(&mut reader, &mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        f(line);
    }
}

/// Longest line kept in memory; the rest of a longer line is read and dropped, so a
/// hostile file with a gigabyte "line" costs no more than this.
pub const MAX_BUFFERED_LINE: usize = 1 << 20;

fn read_line_capped<R: BufRead>(reader: &mut R, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut read = 0;
    loop {
        let (done, used) = {
            let avail = match reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                return Ok(read);
            }
            match memchr::memchr(b'\n', avail) {
                Some(i) => {
                    let room = MAX_BUFFERED_LINE.saturating_sub(buf.len());
                    buf.extend_from_slice(&avail[..(i + 1).min(room)]);
                    if (i + 1) > room {
                        buf.push(b'\n');
                    }
                    (true, i + 1)
                }
                None => {
                    let room = MAX_BUFFERED_LINE.saturating_sub(buf.len());
                    buf.extend_from_slice(&avail[..avail.len().min(room)]);
                    (false, avail.len())
                }
            }
        };
        reader.consume(used);
        read += used;
        if done {
            return Ok(read);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(data: &[u8]) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        for_each_line(io::Cursor::new(data), |l| v.push(l.to_vec())).unwrap();
        v
    }

    #[test]
    fn keeps_unterminated_last_line_and_cr() {
        assert_eq!(
            lines(b"a\r\nb\r\nc"),
            vec![b"a\r".to_vec(), b"b\r".to_vec(), b"c".to_vec()]
        );
        assert_eq!(lines(b""), Vec::<Vec<u8>>::new());
        assert_eq!(lines(b"\n\n"), vec![b"".to_vec(), b"".to_vec()]);
    }

    #[test]
    fn caps_huge_lines() {
        let mut data = vec![b'x'; 3 * MAX_BUFFERED_LINE];
        data.extend_from_slice(b"\nnext\n");
        let v = lines(&data);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].len(), MAX_BUFFERED_LINE);
        assert_eq!(v[1], b"next");
    }
}
