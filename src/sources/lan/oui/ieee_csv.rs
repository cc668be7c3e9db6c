//! A reader for the CSV files of Debian's `ieee-data` (`oui.csv`, `mam.csv`, `oui36.csv`,
//! `iab.csv`), which follow RFC 4180: a field holding a comma, a quote or a line break is
//! quoted and its quotes are doubled. Records end in CRLF, and some quoted postal addresses
//! hold bare LFs, so a record can span several physical lines.
//!
//! It yields each record with the physical line it starts on and never gives up on a
//! file: a broken record is reported with its line and reading resumes on a later line.
//! What the fields mean is the caller's business.

use std::borrow::Cow;

/// A quoted field may span at most this many line breaks (the real files need 5). A quote
/// that is never closed would otherwise swallow the rest of the file into one field.
const MAX_QUOTED_LINES: usize = 32;

/// Why a record could not be read. Fields inside it were not looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("a quoted field is not closed within {MAX_QUOTED_LINES} lines")]
    UnterminatedQuote,
    #[error("text follows a closing quote")]
    TextAfterQuote,
}

/// One record: its fields, unquoted, as bytes (the caller decides about UTF-8).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Record<'a> {
    /// 1-based physical line the record starts on.
    pub line: usize,
    pub fields: Vec<Cow<'a, [u8]>>,
}

/// The records of one file's bytes, in order. Blank lines are passed over.
pub(super) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// The 1-based line `pos` is on.
    line: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader {
            data,
            pos: 0,
            line: 1,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Steps over empty lines (`\n` or `\r\n`) at the start of a record.
    fn skip_blank_lines(&mut self) {
        loop {
            let rest = &self.data[self.pos..];
            if rest.starts_with(b"\n") {
                self.pos += 1;
            } else if rest.starts_with(b"\r\n") {
                self.pos += 2;
            } else {
                return;
            }
            self.line += 1;
        }
    }

    /// Moves just past the next line break at or after `from` (or to the end).
    fn resume_after_line_break(&mut self, from: usize) {
        self.pos = match memchr::memchr(b'\n', &self.data[from..]) {
            Some(i) => from + i + 1,
            None => self.data.len(),
        };
    }

    fn record(&mut self) -> Result<Vec<Cow<'a, [u8]>>, RecordError> {
        let mut fields = Vec::with_capacity(4);
        loop {
            let field = if self.peek() == Some(b'"') {
                self.quoted()?
            } else {
                self.unquoted()
            };
            fields.push(field);
            // Both field readers stop at a comma, at a line feed or at the end.
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(_) => {
                    self.pos += 1;
                    self.line += 1;
                    return Ok(fields);
                }
                None => return Ok(fields),
            }
        }
    }

    /// An unquoted field runs to the next comma or line feed; the CR of a CRLF is not
    /// part of it. A quote inside is taken as it is, as most readers do.
    fn unquoted(&mut self) -> Cow<'a, [u8]> {
        let rest = &self.data[self.pos..];
        let len = memchr::memchr2(b',', b'\n', rest).unwrap_or(rest.len());
        self.pos += len;
        let mut field = &rest[..len];
        if rest.get(len) != Some(&b',') {
            field = field.strip_suffix(b"\r").unwrap_or(field);
        }
        Cow::Borrowed(field)
    }

    /// A quoted field: `""` inside stands for one quote; after the closing quote comes a
    /// comma, a line end or the end of the data.
    fn quoted(&mut self) -> Result<Cow<'a, [u8]>, RecordError> {
        self.pos += 1;
        let mut segment = self.pos;
        let mut unescaped: Option<Vec<u8>> = None;
        let mut line_breaks = 0;
        loop {
            let rest = &self.data[self.pos..];
            let Some(i) = memchr::memchr2(b'"', b'\n', rest) else {
                return Err(RecordError::UnterminatedQuote);
            };
            let at = self.pos + i;
            if rest[i] == b'\n' {
                line_breaks += 1;
                if line_breaks > MAX_QUOTED_LINES {
                    return Err(RecordError::UnterminatedQuote);
                }
                self.pos = at + 1;
                continue;
            }
            if self.data.get(at + 1) == Some(&b'"') {
                unescaped
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(&self.data[segment..=at]);
                self.pos = at + 2;
                segment = self.pos;
                continue;
            }
            let field = match unescaped {
                Some(mut text) => {
                    text.extend_from_slice(&self.data[segment..at]);
                    Cow::Owned(text)
                }
                None => Cow::Borrowed(&self.data[segment..at]),
            };
            self.pos = at + 1;
            self.line += line_breaks;
            match self.peek() {
                None | Some(b',') | Some(b'\n') => {}
                Some(b'\r') if matches!(self.data.get(self.pos + 1), None | Some(b'\n')) => {
                    self.pos += 1
                }
                Some(_) => return Err(RecordError::TextAfterQuote),
            }
            return Ok(field);
        }
    }
}

impl<'a> Iterator for Reader<'a> {
    /// A record, or the line a broken one starts on and what is wrong with it.
    type Item = Result<Record<'a>, (usize, RecordError)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.skip_blank_lines();
        if self.pos >= self.data.len() {
            return None;
        }
        let (start, line) = (self.pos, self.line);
        match self.record() {
            Ok(fields) => Some(Ok(Record { line, fields })),
            Err(error) => {
                match error {
                    // Whatever the open quote took in is suspect: go back to the line
                    // after the record's first.
                    RecordError::UnterminatedQuote => {
                        self.line = line + 1;
                        self.resume_after_line_break(start);
                    }
                    // The record's lines up to here were read; drop the rest of this one.
                    RecordError::TextAfterQuote => {
                        self.line += 1;
                        self.resume_after_line_break(self.pos);
                    }
                }
                Some(Err((line, error)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as (line, fields as text), or (line, error).
    type Item = Result<(usize, Vec<String>), (usize, RecordError)>;

    fn read(data: &str) -> Vec<Item> {
        Reader::new(data.as_bytes())
            .map(|item| {
                item.map(|record| {
                    let fields = record
                        .fields
                        .iter()
                        .map(|f| String::from_utf8_lossy(f).into_owned());
                    (record.line, fields.collect())
                })
            })
            .collect()
    }

    fn ok(line: usize, fields: &[&str]) -> Item {
        Ok((line, fields.iter().map(|f| f.to_string()).collect()))
    }

    #[test]
    fn plain_records_with_crlf_and_without() {
        let data = "Registry,Assignment,Organization Name,Organization Address\r\n\
                    MA-L,002272,American Micro-Fuel Device Corp.,2181 Buchanan Loop \r\n\
                    MA-L,00D0EF,IGT,9295 PROTOTYPE DRIVE\n\
                    MA-M,741AE09,Private,";
        assert_eq!(
            read(data),
            [
                ok(
                    1,
                    &[
                        "Registry",
                        "Assignment",
                        "Organization Name",
                        "Organization Address"
                    ]
                ),
                ok(
                    2,
                    &[
                        "MA-L",
                        "002272",
                        "American Micro-Fuel Device Corp.",
                        "2181 Buchanan Loop "
                    ]
                ),
                ok(3, &["MA-L", "00D0EF", "IGT", "9295 PROTOTYPE DRIVE"]),
                ok(4, &["MA-M", "741AE09", "Private", ""]),
            ]
        );
    }

    #[test]
    fn quoted_fields_hold_commas_doubled_quotes_and_line_breaks() {
        // Lines as they are in Debian's oui.csv, the address of the second shortened.
        let data = "MA-L,001ECB,\"\"\"RPC \"\"Energoautomatika\"\" Ltd\",\"Krasnokazarmennaya st., 13/1 Moscow  RU 111250 \"\r\n\
                    MA-L,3CB07E,\"Arounds Intelligent Equipment Co., Ltd.\",\"Room 701~703,\nVanke Huamao Plaza? \nNo.508\"\r\n\
                    MA-L,F01898,\"Apple, Inc.\",1 Infinite Loop Cupertino CA US 95014 \r\n";
        assert_eq!(
            read(data),
            [
                ok(
                    1,
                    &[
                        "MA-L",
                        "001ECB",
                        "\"RPC \"Energoautomatika\" Ltd",
                        "Krasnokazarmennaya st., 13/1 Moscow  RU 111250 "
                    ]
                ),
                ok(
                    2,
                    &[
                        "MA-L",
                        "3CB07E",
                        "Arounds Intelligent Equipment Co., Ltd.",
                        "Room 701~703,\nVanke Huamao Plaza? \nNo.508"
                    ]
                ),
                ok(
                    5,
                    &[
                        "MA-L",
                        "F01898",
                        "Apple, Inc.",
                        "1 Infinite Loop Cupertino CA US 95014 "
                    ]
                ),
            ]
        );
    }

    #[test]
    fn empty_and_quoted_empty_fields_and_blank_lines() {
        let data = "\r\n,,\"\",x\n\n\nA,\"\"\"\"\r\n";
        assert_eq!(read(data), [ok(2, &["", "", "", "x"]), ok(5, &["A", "\""])]);
    }

    #[test]
    fn a_quote_inside_an_unquoted_field_is_kept() {
        assert_eq!(
            read("MA-L,001EFC,JSC \"MASSA-K\",x\r\n"),
            [ok(1, &["MA-L", "001EFC", "JSC \"MASSA-K\"", "x"])]
        );
    }

    #[test]
    fn an_unclosed_quote_costs_its_own_line_only() {
        let mut data = String::from("MA-L,000001,\"Never closed,x\r\n");
        for i in 0..40 {
            data.push_str(&format!("MA-L,{:06X},Vendor {i},x\r\n", i + 2));
        }
        let items = read(&data);
        assert_eq!(items[0], Err((1, RecordError::UnterminatedQuote)));
        // Reading resumed on line 2; the 32 lines the quote swallowed are read again.
        assert_eq!(items.len(), 41);
        assert_eq!(items[1], ok(2, &["MA-L", "000002", "Vendor 0", "x"]));
        assert_eq!(items[40], ok(41, &["MA-L", "000029", "Vendor 39", "x"]));
    }

    #[test]
    fn an_unclosed_quote_at_the_end_of_the_data() {
        assert_eq!(
            read("A,B\r\nC,\"open"),
            [ok(1, &["A", "B"]), Err((2, RecordError::UnterminatedQuote))]
        );
    }

    #[test]
    fn text_after_a_closing_quote_drops_that_record_only() {
        let data = "A,\"multi\nline\"junk,more\r\nB,fine\r\n";
        assert_eq!(
            read(data),
            [Err((1, RecordError::TextAfterQuote)), ok(3, &["B", "fine"])]
        );
    }

    #[test]
    fn a_lone_carriage_return_is_data() {
        // Only the CR of a line end is dropped.
        assert_eq!(read("A\rB,C\r\n"), [ok(1, &["A\rB", "C"])]);
        assert_eq!(read("\"A\"\r,B\n"), [Err((1, RecordError::TextAfterQuote))]);
    }

    #[test]
    fn bytes_that_are_not_utf8_pass_through() {
        let items: Vec<_> = Reader::new(b"A,\xff\xfe\r\n").collect();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].as_ref().unwrap().fields[1].as_ref(), b"\xff\xfe");
    }
}
