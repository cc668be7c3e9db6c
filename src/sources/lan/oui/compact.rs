//! The compact registry format, in which a copy of the IEEE registries is compiled into
//! Picket for hosts without Debian's `ieee-data`.
//!
//! The embedded copy, `registry.bin` next to this file, was built from Debian 12's
//! `ieee-data` 20220827.1 (the IEEE's public MA-L, MA-M, MA-S and IAB registries as
//! fetched on 2022-08-27, its `.lastupdate`) with
//!
//! ```text
//! apt-get install ieee-data
//! cargo run --release --example build_oui -- /usr/share/ieee-data src/sources/lan/oui/registry.bin
//! ```
//!
//! which reads the files through the same parser as [`super::Registry::from_debian_dir`],
//! checks that the result decodes to the same answers, and prints the counts. Run it again
//! after a newer `ieee-data` and commit the file; the tests compare the embedded copy with
//! installed files of the same date.
//!
//! Organisation names take most of the space, and they share words ("Technology", "Co.,",
//! "Ltd", "Shenzhen"): 29,566 distinct names use 30,628 distinct words 89,844 times. So
//! names are stored as lists of word numbers, the most used words numbered first (one
//! byte each), and assignments as gaps between sorted prefixes, each with the number of
//! its name, the most used names numbered first. The 2022 registries (46,501 assignments)
//! take 581,617 bytes: 246 KB of words, 183 KB of names as word numbers, 152 KB of
//! assignments. As plain text (`prefix,name` a line) they are 1,424 KB, which zlib -9
//! makes 492 KB and xz 386 KB: a compression crate would save little and add a dependency
//! and a decompression step to every start.
//!
//! All numbers are unsigned LEB128 varints (7 bits a byte, low bits first):
//!
//! ```text
//! magic      8 bytes  "PKTOUI\0\x01" (the last byte is the format version)
//! updated    varint   Unix seconds the registries were fetched; 0 when unknown
//! words      varint W, then W × (varint length, UTF-8 bytes), most used first
//! names      varint N, then N × (varint k, k × varint word number < W); a name is its
//!                      words joined by single spaces; most used names first
//! 3 tables   MA-S (36-bit), MA-M (28-bit), MA-L (24-bit), each:
//!            varint E, then E × (varint gap, varint name number < N); the first gap is
//!                      the first prefix, every later one is > 0 (prefixes ascend)
//! ```
//!
//! Nothing may follow the last table. The decoder checks every count, index and prefix,
//! so a corrupt file is an error, never a panic or a huge allocation.

use std::collections::HashMap;

use super::{Block, Names, Registry, Source, Table};

/// The copy compiled into Picket (see the module documentation).
pub(super) static EMBEDDED: &[u8] = include_bytes!("registry.bin");

const MAGIC: &[u8; 8] = b"PKTOUI\0\x01";

/// Decoded names may not exceed this many bytes in all (the 2022 registries need 0.65
/// MB): word lists could otherwise repeat one long word without end.
const MAX_NAME_BYTES: usize = 64 << 20;

/// Why bytes are not a registry in the compact format. Offsets count from the start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompactError {
    #[error("not a Picket OUI registry of format version 1")]
    Magic,
    #[error("the data ends early, at byte {0}")]
    Truncated(usize),
    #[error("a number at byte {0} is too large")]
    Number(usize),
    #[error("the word at byte {0} is not UTF-8")]
    NotUtf8(usize),
    #[error("a count or index at byte {0} is out of range")]
    OutOfRange(usize),
    #[error("the {block} prefix at byte {at} is not above the one before or has more than {bits} bits", block = .block.name(), bits = .block.bits())]
    Prefix { block: Block, at: usize },
    #[error("the names would take more than {MAX_NAME_BYTES} bytes")]
    TooLarge,
    #[error("{0} bytes follow the last table")]
    Trailing(usize),
}

pub(super) fn encode(registry: &Registry) -> Vec<u8> {
    // Only names in use, most used first, so common vendors get one-byte numbers.
    let names = by_use(registry.entries().map(|(_, _, name)| name));
    let name_numbers: HashMap<&str, usize> =
        names.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let words = by_use(names.iter().flat_map(|name| name.split(' ')));
    let word_numbers: HashMap<&str, usize> =
        words.iter().enumerate().map(|(i, &w)| (w, i)).collect();

    let mut out = MAGIC.to_vec();
    put(&mut out, registry.report.updated.unwrap_or(0).max(0) as u64);
    put(&mut out, words.len() as u64);
    for word in &words {
        put(&mut out, word.len() as u64);
        out.extend_from_slice(word.as_bytes());
    }
    put(&mut out, names.len() as u64);
    for name in &names {
        put(&mut out, name.split(' ').count() as u64);
        for word in name.split(' ') {
            put(&mut out, word_numbers[word] as u64);
        }
    }
    for block in Block::ALL {
        let table = &registry.tables[block.index()];
        put(&mut out, table.prefixes.len() as u64);
        let mut previous = 0;
        for (&prefix, &name) in table.prefixes.iter().zip(&table.names) {
            put(&mut out, prefix - previous);
            put(&mut out, name_numbers[registry.names.get(name)] as u64);
            previous = prefix;
        }
    }
    out
}

/// Distinct items, the most frequent first, ties in byte order (so output is stable).
fn by_use<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for item in items {
        *uses.entry(item).or_default() += 1;
    }
    let mut items: Vec<(&str, usize)> = uses.into_iter().collect();
    items.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    items.into_iter().map(|(item, _)| item).collect()
}

fn put(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

pub(super) fn decode(bytes: &[u8]) -> Result<Registry, CompactError> {
    let mut input = Input {
        bytes: bytes.strip_prefix(MAGIC).ok_or(CompactError::Magic)?,
        pos: MAGIC.len(),
    };
    let updated = input.number()?;

    let word_count = input.count()?;
    let mut words = Vec::with_capacity(word_count);
    for _ in 0..word_count {
        let (at, len) = (input.pos, input.count()?);
        let word = std::str::from_utf8(input.take(len)?).map_err(|_| CompactError::NotUtf8(at))?;
        words.push(word);
    }

    let name_count = input.count()?;
    let mut names = Names::default();
    for _ in 0..name_count {
        let word_total = input.count()?;
        for i in 0..word_total {
            if i > 0 {
                names.text.push(' ');
            }
            names.text.push_str(words[input.index(words.len())?]);
            if names.text.len() > MAX_NAME_BYTES {
                return Err(CompactError::TooLarge);
            }
        }
        names.finish_name();
    }

    let mut tables: [Table; 3] = Default::default();
    for block in Block::ALL {
        let table = &mut tables[block.index()];
        let entry_count = input.count()?;
        table.prefixes.reserve_exact(entry_count);
        table.names.reserve_exact(entry_count);
        for _ in 0..entry_count {
            let at = input.pos;
            let gap = input.number()?;
            let prefix = match table.prefixes.last() {
                None => Some(gap),
                Some(_) if gap == 0 => None,
                Some(previous) => previous.checked_add(gap),
            }
            .filter(|prefix| prefix >> block.bits() == 0)
            .ok_or(CompactError::Prefix { block, at })?;
            table.prefixes.push(prefix);
            table.names.push(input.index(names.len())? as u32);
        }
    }
    if !input.bytes.is_empty() {
        return Err(CompactError::Trailing(input.bytes.len()));
    }

    Ok(Registry {
        tables,
        names,
        report: super::LoadReport {
            source: Source::Embedded,
            updated: i64::try_from(updated).ok().filter(|&t| t > 0),
            ..Default::default()
        },
    })
}

/// The bytes not yet decoded, and where they start in the whole.
struct Input<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    fn number(&mut self) -> Result<u64, CompactError> {
        let start = self.pos;
        let mut value = 0u64;
        for (i, &byte) in self.bytes.iter().enumerate() {
            let bits = u64::from(byte & 0x7f);
            if i == 9 && bits > 1 || i > 9 {
                return Err(CompactError::Number(start));
            }
            value |= bits << (7 * i);
            if byte & 0x80 == 0 {
                self.bytes = &self.bytes[i + 1..];
                self.pos += i + 1;
                return Ok(value);
            }
        }
        Err(CompactError::Truncated(start + self.bytes.len()))
    }

    /// A number of items still to come, each of which takes at least one byte: so it
    /// cannot exceed the bytes left, and is safe to allocate for.
    fn count(&mut self) -> Result<usize, CompactError> {
        let at = self.pos;
        let n = self.number()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.bytes.len())
            .ok_or(CompactError::OutOfRange(at))
    }

    /// A number that must be below `bound`.
    fn index(&mut self, bound: usize) -> Result<usize, CompactError> {
        let at = self.pos;
        let n = self.number()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n < bound)
            .ok_or(CompactError::OutOfRange(at))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], CompactError> {
        if len > self.bytes.len() {
            return Err(CompactError::Truncated(self.pos + self.bytes.len()));
        }
        let (taken, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        self.pos += len;
        Ok(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::lan::oui::Builder;

    fn sample() -> Registry {
        let mut builder = Builder::default();
        builder.add(Block::MaL, 0x70B3D5, "IEEE Registration Authority");
        builder.add(Block::MaL, 0x741AE0, "IEEE Registration Authority");
        builder.add(Block::MaL, 0xB827EB, "Raspberry Pi Foundation");
        builder.add(Block::MaL, 0xDCA632, "Raspberry Pi Trading Ltd");
        builder.add(Block::MaL, 0x00000C, "Cisco Systems, Inc");
        builder.add(Block::MaM, 0x741AE09, "Private");
        builder.add(Block::MaS, 0x70B3D5F2F, "TELEPLATFORMS");
        builder.add(Block::MaS, 0xFFFFFFFFC, "Top of the range");
        builder.report.updated = Some(1_661_630_937);
        builder.build()
    }

    fn entries(registry: &Registry) -> Vec<(Block, u64, String)> {
        registry
            .entries()
            .map(|(b, p, n)| (b, p, n.to_owned()))
            .collect()
    }

    #[test]
    fn a_registry_survives_the_round_trip() {
        let registry = sample();
        let bytes = registry.to_compact();
        let decoded = Registry::from_compact(&bytes).unwrap();
        assert_eq!(entries(&decoded), entries(&registry));
        assert_eq!(decoded.report().updated, Some(1_661_630_937));
        assert_eq!(decoded.report().source, Source::Embedded);
        // Stable: encoding the decoded copy gives the same bytes.
        assert_eq!(decoded.to_compact(), bytes);
    }

    #[test]
    fn names_with_odd_spacing_survive_too() {
        let mut builder = Builder::default();
        builder.add(Block::MaL, 0x000001, " two  spaces ");
        builder.add(Block::MaL, 0x000002, "");
        let registry = builder.build();
        let decoded = Registry::from_compact(&registry.to_compact()).unwrap();
        assert_eq!(entries(&decoded), entries(&registry));
    }

    #[test]
    fn an_empty_registry_round_trips() {
        let registry = Builder::default().build();
        let decoded = Registry::from_compact(&registry.to_compact()).unwrap();
        assert!(decoded.is_empty());
        assert_eq!(decoded.report().updated, None);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = sample().to_compact();
        for len in 0..bytes.len() {
            assert!(
                Registry::from_compact(&bytes[..len]).is_err(),
                "cut at {len}"
            );
        }
    }

    #[test]
    fn corruption_is_an_error_or_a_registry_never_a_panic() {
        let bytes = sample().to_compact();
        for at in MAGIC.len()..bytes.len() {
            for value in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut corrupt = bytes.clone();
                corrupt[at] = value;
                if let Ok(registry) = Registry::from_compact(&corrupt) {
                    // Whatever decoded is still sorted, so lookups stay right.
                    for block in Block::ALL {
                        let prefixes = &registry.tables[block.index()].prefixes;
                        assert!(prefixes.windows(2).all(|w| w[0] < w[1]));
                    }
                }
            }
        }
    }

    #[test]
    fn specific_faults_are_named() {
        let bytes = sample().to_compact();
        assert_eq!(
            Registry::from_compact(b"PKTOUI\0\x02").unwrap_err(),
            CompactError::Magic
        );
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            Registry::from_compact(&trailing).unwrap_err(),
            CompactError::Trailing(1)
        );

        // A second MA-L prefix equal to the first (gap 0).
        let mut builder = Builder::default();
        builder.add(Block::MaL, 0x000010, "A");
        builder.add(Block::MaL, 0x000020, "A");
        let mut bytes = builder.build().to_compact();
        let second_gap = bytes.len() - 2;
        assert_eq!(bytes[second_gap], 0x10);
        bytes[second_gap] = 0;
        assert!(matches!(
            Registry::from_compact(&bytes).unwrap_err(),
            CompactError::Prefix {
                block: Block::MaL,
                ..
            }
        ));

        // A prefix wider than its block.
        let mut out = MAGIC.to_vec();
        for n in [0, 1, 1, b'A' as u64, 1, 1, 0, 0, 0, 1, 1 << 24, 0] {
            put(&mut out, n);
        }
        assert!(matches!(
            Registry::from_compact(&out).unwrap_err(),
            CompactError::Prefix {
                block: Block::MaL,
                ..
            }
        ));

        // An eleven-byte varint.
        let mut out = MAGIC.to_vec();
        out.extend([0xff; 10]);
        out.push(0);
        assert_eq!(
            Registry::from_compact(&out).unwrap_err(),
            CompactError::Number(8)
        );
    }

    #[test]
    fn varints_are_leb128() {
        for (value, want) in [
            (0u64, vec![0x00]),
            (0x7f, vec![0x7f]),
            (0x80, vec![0x80, 0x01]),
            (300, vec![0xac, 0x02]),
            (
                u64::MAX,
                vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ] {
            let mut out = Vec::new();
            put(&mut out, value);
            assert_eq!(out, want);
            let mut input = Input {
                bytes: &out,
                pos: 0,
            };
            assert_eq!(input.number(), Ok(value));
            assert!(input.bytes.is_empty());
        }
    }

    #[test]
    fn the_embedded_copy_decodes() {
        let registry = Registry::embedded().unwrap();
        assert!(
            registry.count(Block::MaL) > 30_000,
            "{}",
            registry.count(Block::MaL)
        );
        assert!(registry.count(Block::MaM) > 4_000);
        assert!(registry.count(Block::MaS) > 9_000);
        // And it is in the encoder's own canonical form.
        assert_eq!(registry.to_compact(), EMBEDDED);
    }
}
