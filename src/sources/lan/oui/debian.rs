//! Reading the registries from Debian's `ieee-data` files: which files, what a valid
//! line is, and how organisation names are tidied. The embedded copy is built through
//! here too, so both sources agree.

use std::path::{Path, PathBuf};

use super::ieee_csv::{Reader, Record, RecordError};
use super::{Block, Builder, Registry, Source};

/// The files read, in this order (the first listing of a duplicated prefix wins).
/// `oui.csv` is the MA-L registry, `mam.csv` MA-M, `oui36.csv` MA-S, `iab.csv` the older
/// 36-bit IAB blocks. Other CSV files in the directory are not registries of vendors.
const FILES: [&str; 4] = ["oui.csv", "mam.csv", "oui36.csv", "iab.csv"];

/// Without it there is no Debian registry to speak of.
pub(super) const REQUIRED: &str = "oui.csv";

/// A registry file that exists but cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("reading {}: {source}", path.display())]
pub struct LoadError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// A line left out of the registry, with its file and 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {problem}", file.display())]
pub struct LineError {
    pub file: PathBuf,
    pub line: usize,
    pub problem: LineProblem,
}

/// What is wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("{0} fields, want registry, assignment, organization name (and address)")]
    TooFewFields(usize),
    /// The registry column, cut to a few characters and quoted.
    #[error("unknown registry {0:?}")]
    UnknownRegistry(String),
    #[error("{registry} assignment is not {digits} hex digits")]
    Assignment {
        registry: &'static str,
        digits: usize,
    },
    #[error("organization name is not UTF-8")]
    NotUtf8,
    #[error("organization name is empty")]
    EmptyName,
}

/// Every registry file in `dir`, into a registry whose report lists what was skipped.
pub(super) fn read_dir(dir: &Path) -> Result<Registry, LoadError> {
    let mut builder = Builder::default();
    for file in FILES {
        let path = dir.join(file);
        match std::fs::read(&path) {
            Ok(data) => read_file(&mut builder, &path, &data),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound && file != REQUIRED => {
                builder.report.missing.push(path)
            }
            Err(source) => return Err(LoadError { path, source }),
        }
    }
    builder.report.updated = last_update(dir);
    builder.report.source = Source::Debian(dir.to_path_buf());
    Ok(builder.build())
}

/// One file's assignments into `builder`; `path` only names the file in errors.
fn read_file(builder: &mut Builder, path: &Path, data: &[u8]) {
    for (n, item) in Reader::new(data).enumerate() {
        let (line, result) = match item {
            Ok(record) if n == 0 && is_header(&record) => continue,
            Ok(record) => (record.line, assignment(&record)),
            Err((line, error)) => (line, Err(error.into())),
        };
        match result {
            Ok((block, prefix, name)) => builder.add(block, prefix, &name),
            Err(problem) => builder.skip(LineError {
                file: path.to_path_buf(),
                line,
                problem,
            }),
        }
    }
}

fn is_header(record: &Record) -> bool {
    record
        .fields
        .first()
        .is_some_and(|f| f.as_ref() == b"Registry")
}

/// A record's block size, prefix and tidied organisation name.
fn assignment(record: &Record) -> Result<(Block, u64, String), LineProblem> {
    let [registry, assignment, name, ..] = record.fields.as_slice() else {
        return Err(LineProblem::TooFewFields(record.fields.len()));
    };
    let (block, registry) = match registry.as_ref() {
        b"MA-L" => (Block::MaL, "MA-L"),
        b"MA-M" => (Block::MaM, "MA-M"),
        b"MA-S" => (Block::MaS, "MA-S"),
        b"IAB" => (Block::MaS, "IAB"),
        other => {
            let shown = String::from_utf8_lossy(other).chars().take(12).collect();
            return Err(LineProblem::UnknownRegistry(shown));
        }
    };
    let digits = (block.bits() / 4) as usize;
    let assignment = assignment.as_ref();
    if assignment.len() != digits || !assignment.iter().all(u8::is_ascii_hexdigit) {
        return Err(LineProblem::Assignment { registry, digits });
    }
    let prefix = assignment.iter().fold(0u64, |acc, &d| {
        acc << 4 | u64::from((d as char).to_digit(16).unwrap_or(0))
    });
    let name = std::str::from_utf8(name).map_err(|_| LineProblem::NotUtf8)?;
    let name = clean_name(name);
    if name.is_empty() {
        return Err(LineProblem::EmptyName);
    }
    Ok((block, prefix, name))
}

/// An organisation name as the registry spells it, made tidy and safe to show: runs of
/// whitespace and control characters (tabs, no-break and ideographic spaces) become one
/// space, the ends are trimmed, and invisible characters that could hide or reorder text
/// on the dashboard (zero-width spaces, bidirectional controls, BOM) are removed. Nothing
/// else changes: odd spellings, full-width commas and mojibake are the registry's own.
fn clean_name(raw: &str) -> String {
    let visible: String = raw.chars().filter(|&c| !is_invisible(c)).collect();
    let words = visible.split(|c: char| c.is_whitespace() || c.is_control());
    let mut name = String::with_capacity(visible.len());
    for word in words.filter(|w| !w.is_empty()) {
        if !name.is_empty() {
            name.push(' ');
        }
        name.push_str(word);
    }
    name
}

fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' // zero-width space, joiners, LRM, RLM
        | '\u{202A}'..='\u{202E}' // bidirectional embeddings and overrides
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}' // bidirectional isolates
        | '\u{FEFF}') // byte order mark
}

/// Debian's `.lastupdate`: when the package's maintainer fetched the registries.
fn last_update(dir: &Path) -> Option<i64> {
    let text = std::fs::read_to_string(dir.join(".lastupdate")).ok()?;
    text.trim().parse().ok().filter(|&t| t > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn record(fields: &[&str]) -> Record<'static> {
        let fields = fields
            .iter()
            .map(|f| Cow::Owned(f.as_bytes().to_vec()))
            .collect();
        Record { line: 7, fields }
    }

    #[test]
    fn each_registry_has_its_size() {
        let cases = [
            (
                ["MA-L", "B827EB", "Raspberry Pi Foundation"],
                Block::MaL,
                0xB827EB,
            ),
            (["MA-M", "741ae09", "Private"], Block::MaM, 0x741AE09),
            (
                ["MA-S", "70B3D5F2F", "TELEPLATFORMS"],
                Block::MaS,
                0x70B3D5F2F,
            ),
            (
                ["IAB", "0050C27D5", "DEUTA-WERKE GmbH"],
                Block::MaS,
                0x0050C27D5,
            ),
        ];
        for (fields, block, prefix) in cases {
            let got = assignment(&record(&fields)).unwrap();
            assert_eq!(got, (block, prefix, fields[2].to_string()));
        }
    }

    #[test]
    fn malformed_records_say_what_is_wrong() {
        let cases: [(&[&str], LineProblem); 9] = [
            (&["MA-L", "B827EB"], LineProblem::TooFewFields(2)),
            (
                &["MA-X", "B827EB", "X"],
                LineProblem::UnknownRegistry("MA-X".into()),
            ),
            (
                &[" MA-L", "B827EB", "X"],
                LineProblem::UnknownRegistry(" MA-L".into()),
            ),
            (
                &["MA-L", "B827E", "X"],
                LineProblem::Assignment {
                    registry: "MA-L",
                    digits: 6,
                },
            ),
            (
                &["MA-L", "B827EB0", "X"],
                LineProblem::Assignment {
                    registry: "MA-L",
                    digits: 6,
                },
            ),
            (
                &["MA-M", "B827EB", "X"],
                LineProblem::Assignment {
                    registry: "MA-M",
                    digits: 7,
                },
            ),
            (
                &["IAB", "+0050C27D", "X"],
                LineProblem::Assignment {
                    registry: "IAB",
                    digits: 9,
                },
            ),
            (
                &["MA-L", "B8:27:EB", "X"],
                LineProblem::Assignment {
                    registry: "MA-L",
                    digits: 6,
                },
            ),
            (&["MA-L", "B827EB", " \t\u{200B} "], LineProblem::EmptyName),
        ];
        for (fields, want) in cases {
            assert_eq!(assignment(&record(fields)), Err(want), "{fields:?}");
        }
        let long = "A".repeat(500);
        let Err(LineProblem::UnknownRegistry(shown)) = assignment(&record(&[&long, "B827EB", "X"]))
        else {
            panic!("a 500-character registry was accepted");
        };
        assert_eq!(shown.len(), 12);
    }

    #[test]
    fn names_are_tidied_not_rewritten() {
        for (raw, want) in [
            // From the 2022 files: NBSP, a trailing tab, an en space, leading spaces.
            (
                "Sichuan\u{a0}AI-Link\u{a0}Technology\u{a0}Co.,\u{a0}Ltd.",
                "Sichuan AI-Link Technology Co., Ltd.",
            ),
            (
                "Shenzhen YOUHUA Technology Co., Ltd\t",
                "Shenzhen YOUHUA Technology Co., Ltd",
            ),
            (
                "SHENZHEN\u{2002}TONG BO WEI\u{2002}TECHNOLOGY Co.,LTD",
                "SHENZHEN TONG BO WEI TECHNOLOGY Co.,LTD",
            ),
            ("   ZAO \"NPK Rotek\"", "ZAO \"NPK Rotek\""),
            // Kept as the registry has them.
            (
                "SHENZHEN BILIAN ELECTRONIC CO.，LTD",
                "SHENZHEN BILIAN ELECTRONIC CO.，LTD",
            ),
            (
                "Ingeniería AlmudÃ\u{ad} S.L.",
                "Ingeniería AlmudÃ\u{ad} S.L.",
            ),
            // Hidden or reordering characters go; line breaks and escapes become spaces.
            ("Evil\u{202E}Corp\u{200B}", "EvilCorp"),
            ("Line\r\nBreak\u{1b}[31m", "Line Break [31m"),
        ] {
            assert_eq!(clean_name(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn bad_lines_are_counted_and_named_and_the_rest_kept() {
        let data = "Registry,Assignment,Organization Name,Organization Address\r\n\
                    MA-L,B827EB,Raspberry Pi Foundation,Mitchell Wood House\r\n\
                    MA-L,XYZ,Broken,\r\n\
                    MA-L,\"DCA632\"junk,Raspberry Pi Trading Ltd,\r\n\
                    MA-L,00000C,\"Cisco Systems, Inc\",170 WEST TASMAN DRIVE\r\n\
                    MA-L,B827EB,Raspberry Pi again,listed twice\r\n";
        let mut builder = Builder::default();
        read_file(&mut builder, Path::new("/x/oui.csv"), data.as_bytes());
        let registry = builder.build();
        assert_eq!(registry.len(), 2);
        assert_eq!(
            registry.lookup([0xb8, 0x27, 0xeb, 1, 2, 3]),
            Some("Raspberry Pi Foundation")
        );
        assert_eq!(
            registry.lookup([0, 0, 0x0c, 1, 2, 3]),
            Some("Cisco Systems, Inc")
        );
        let report = registry.report();
        assert_eq!((report.skipped, report.duplicates), (2, 1));
        let errors: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            errors,
            [
                "/x/oui.csv:3: MA-L assignment is not 6 hex digits",
                "/x/oui.csv:4: text follows a closing quote",
            ]
        );
    }

    #[test]
    fn a_file_without_its_header_is_read_from_the_first_line() {
        let mut builder = Builder::default();
        read_file(
            &mut builder,
            Path::new("oui.csv"),
            b"MA-L,B827EB,Raspberry Pi Foundation,\r\n",
        );
        assert_eq!(builder.build().len(), 1);
    }

    #[test]
    fn garbage_is_skipped_without_panicking() {
        let mut data = Vec::new();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Bytes biased towards the ones that mean something to the reader.
            data.push(match state % 8 {
                0 => b'"',
                1 => b',',
                2 => b'\n',
                3 => b'\r',
                _ => (state >> 8) as u8,
            });
        }
        let mut builder = Builder::default();
        read_file(&mut builder, Path::new("junk.csv"), &data);
        let registry = builder.build();
        assert!(registry.report().skipped > 0);
        assert!(registry.report().errors.len() <= super::super::REPORTED_ERRORS);
    }
}
