//! Which vendor a MAC address belongs to, from the IEEE registries of address blocks.
//!
//! The IEEE hands out three sizes of block: MA-L (a 24-bit prefix, the classic "OUI"),
//! MA-M (28-bit) and MA-S (36-bit; the older IAB assignments are 36-bit blocks too). The
//! smaller ones are carved out of 24-bit prefixes registered to "IEEE Registration
//! Authority", so a lookup takes the longest prefix that matches: MA-S, then MA-M, then
//! MA-L, each a binary search over a sorted array.
//!
//! The data comes from Debian's `ieee-data` package (`/usr/share/ieee-data/*.csv`) when it
//! is installed, so upgrading the package brings newer assignments without a new Picket;
//! otherwise from a compact copy built from those same files and embedded in the binary
//! (the format and how to regenerate it are in `oui/compact.rs`). Both pass through the
//! same parser and the same tidying of names, so they answer alike.
//!
//! Locally administered addresses (randomized by phones and laptops for privacy, or made
//! up for virtual machines and containers) and group addresses belong to no vendor:
//! [`Registry::lookup`] answers `None` for them, and callers show such a device as
//! randomized (see [`is_locally_administered`]).
//!
//! This module only answers questions about addresses: it finds no devices and stores
//! nothing.

mod compact;
mod debian;
mod ieee_csv;
mod mac;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use compact::CompactError;
pub use debian::{LineError, LineProblem, LoadError};
pub use ieee_csv::RecordError;
pub use mac::{is_locally_administered, is_multicast, parse_mac, MacError};

/// Where Debian's `ieee-data` package puts the registries.
pub const DEBIAN_DIR: &str = "/usr/share/ieee-data";

/// How many skipped lines a [`LoadReport`] keeps the details of; all are counted.
const REPORTED_ERRORS: usize = 20;

/// The sizes of block the IEEE assigns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Block {
    /// 36-bit prefixes (MA-S, and IAB before it).
    MaS,
    /// 28-bit prefixes.
    MaM,
    /// 24-bit prefixes (the OUI proper).
    MaL,
}

impl Block {
    /// Longest prefix first: the order a lookup tries them in.
    pub const ALL: [Block; 3] = [Block::MaS, Block::MaM, Block::MaL];

    pub fn bits(self) -> u32 {
        match self {
            Block::MaS => 36,
            Block::MaM => 28,
            Block::MaL => 24,
        }
    }

    /// The registry's own name for the block size.
    pub fn name(self) -> &'static str {
        match self {
            Block::MaS => "MA-S",
            Block::MaM => "MA-M",
            Block::MaL => "MA-L",
        }
    }

    /// The first `bits()` bits of `mac`, as a number.
    pub fn prefix_of(self, mac: [u8; 6]) -> u64 {
        let [a, b, c, d, e, f] = mac;
        u64::from_be_bytes([0, 0, a, b, c, d, e, f]) >> (48 - self.bits())
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Where a [`Registry`]'s entries came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Source {
    /// Debian's `ieee-data` files in this directory.
    Debian(PathBuf),
    /// The compact copy compiled into Picket (or bytes given to
    /// [`Registry::from_compact`]).
    Embedded,
    /// Neither could be read: every lookup answers `None` (see [`LoadReport::passed_over`]).
    #[default]
    Nothing,
}

/// How loading went: kept with the registry so the daemon and `picket devices` can say
/// where vendor names come from, how old they are, and what was wrong with the files.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub source: Source,
    /// When the registries were fetched from the IEEE (Unix seconds; Debian's
    /// `.lastupdate`), if known.
    pub updated: Option<i64>,
    /// Malformed lines left out, over all files.
    pub skipped: usize,
    /// The first few of them, each naming its file and line.
    pub errors: Vec<LineError>,
    /// Assignments listed more than once; the first listing is kept. (The 2022 files list
    /// 08:00:30 three times, for three historical owners.)
    pub duplicates: usize,
    /// Assignments no vendor-assigned address can start with, their first octet having
    /// the group or local bit set (historical ones such as DEC's AA-00-00); left out.
    pub unreachable: usize,
    /// Optional Debian files that were not there (`oui.csv` is required).
    pub missing: Vec<PathBuf>,
    /// Why a preferred source was passed over, in the order they were tried.
    pub passed_over: Vec<String>,
}

/// The IEEE registries, ready for lookups.
#[derive(Debug)]
pub struct Registry {
    /// One table per block size, in [`Block::ALL`] order.
    tables: [Table; 3],
    names: Names,
    report: LoadReport,
}

/// One block size's assignments, sorted by prefix, with the index of each one's name.
#[derive(Debug, Default)]
struct Table {
    prefixes: Vec<u64>,
    names: Vec<u32>,
}

/// Organisation names, each stored once, end to end in one string.
#[derive(Debug, Default)]
struct Names {
    text: String,
    ends: Vec<u32>,
}

impl Names {
    fn get(&self, index: u32) -> &str {
        let i = index as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    /// Closes the name written to `text` since the last one.
    fn finish_name(&mut self) -> u32 {
        self.ends.push(self.text.len() as u32);
        (self.ends.len() - 1) as u32
    }

    fn len(&self) -> usize {
        self.ends.len()
    }
}

static SHARED: OnceLock<Registry> = OnceLock::new();

/// The registry every caller shares, loaded on first use with [`Registry::load`].
pub fn registry() -> &'static Registry {
    SHARED.get_or_init(Registry::load)
}

impl Registry {
    /// Debian's files in [`DEBIAN_DIR`] when they are installed and usable, otherwise the
    /// embedded copy. Never fails: at worst the registry is empty and says why.
    pub fn load() -> Registry {
        Registry::load_from(Path::new(DEBIAN_DIR))
    }

    /// [`Registry::load`] with the Debian files looked for in `dir`. They are used when
    /// `dir/oui.csv` exists and yields at least one assignment.
    pub fn load_from(dir: &Path) -> Registry {
        let mut passed_over = Vec::new();
        if dir.join(debian::REQUIRED).exists() {
            match Registry::from_debian_dir(dir) {
                Ok(registry) if !registry.is_empty() => return registry,
                Ok(registry) => passed_over.push(format!(
                    "{}: no usable assignment ({} malformed lines)",
                    dir.display(),
                    registry.report.skipped
                )),
                Err(error) => passed_over.push(error.to_string()),
            }
        }
        let mut registry = Registry::embedded().unwrap_or_else(|error| {
            passed_over.push(format!("the embedded copy: {error}"));
            Builder::default().build()
        });
        registry.report.passed_over = passed_over;
        registry
    }

    /// Reads `oui.csv`, `mam.csv`, `oui36.csv` and `iab.csv` from `dir`. Malformed lines
    /// are skipped and reported in [`Registry::report`]; only an unreadable file (or a
    /// missing `oui.csv`) is an error.
    pub fn from_debian_dir(dir: &Path) -> Result<Registry, LoadError> {
        debian::read_dir(dir)
    }

    /// The copy compiled into Picket.
    pub fn embedded() -> Result<Registry, CompactError> {
        compact::decode(compact::EMBEDDED)
    }

    /// Decodes the compact format (the embedded copy's; see `oui/compact.rs`).
    pub fn from_compact(bytes: &[u8]) -> Result<Registry, CompactError> {
        compact::decode(bytes)
    }

    /// Encodes this registry in the compact format. The same registry always gives the
    /// same bytes.
    pub fn to_compact(&self) -> Vec<u8> {
        compact::encode(self)
    }

    /// The organisation the IEEE assigned `mac`'s block to, from the longest prefix that
    /// matches. `None` for an unassigned block and for locally administered and group
    /// addresses, which no vendor assigned.
    pub fn lookup(&self, mac: [u8; 6]) -> Option<&str> {
        if is_locally_administered(mac) || is_multicast(mac) {
            return None;
        }
        Block::ALL
            .iter()
            .zip(&self.tables)
            .find_map(|(block, table)| {
                let i = table.prefixes.binary_search(&block.prefix_of(mac)).ok()?;
                Some(self.names.get(table.names[i]))
            })
    }

    /// Assignments of every size.
    pub fn len(&self) -> usize {
        self.tables.iter().map(|t| t.prefixes.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Assignments of one size.
    pub fn count(&self, block: Block) -> usize {
        self.tables[block.index()].prefixes.len()
    }

    /// Every assignment as (size, prefix, organisation), MA-S first, each size by prefix.
    pub fn entries(&self) -> impl Iterator<Item = (Block, u64, &str)> + '_ {
        Block::ALL.into_iter().flat_map(move |block| {
            let table = &self.tables[block.index()];
            table
                .prefixes
                .iter()
                .zip(&table.names)
                .map(move |(&prefix, &name)| (block, prefix, self.names.get(name)))
        })
    }

    pub fn report(&self) -> &LoadReport {
        &self.report
    }
}

/// Collects assignments in any order, then sorts them into a [`Registry`].
#[derive(Default)]
struct Builder {
    names: Names,
    interned: HashMap<String, u32>,
    /// (prefix, name) per block size, in the order added.
    entries: [Vec<(u64, u32)>; 3],
    report: LoadReport,
}

impl Builder {
    fn add(&mut self, block: Block, prefix: u64, name: &str) {
        let first_octet = prefix >> (block.bits() - 8);
        if first_octet & 0b11 != 0 {
            self.report.unreachable += 1;
            return;
        }
        let index = match self.interned.get(name) {
            Some(&index) => index,
            None => {
                self.names.text.push_str(name);
                let index = self.names.finish_name();
                self.interned.insert(name.to_owned(), index);
                index
            }
        };
        self.entries[block.index()].push((prefix, index));
    }

    fn skip(&mut self, error: LineError) {
        self.report.skipped += 1;
        if self.report.errors.len() < REPORTED_ERRORS {
            self.report.errors.push(error);
        }
    }

    fn build(self) -> Registry {
        let Builder {
            names,
            entries,
            mut report,
            ..
        } = self;
        let tables = entries.map(|mut entries| {
            // A stable sort keeps the first listing of a prefix ahead of later ones.
            entries.sort_by_key(|&(prefix, _)| prefix);
            let before = entries.len();
            entries.dedup_by_key(|&mut (prefix, _)| prefix);
            report.duplicates += before - entries.len();
            let (prefixes, names) = entries.into_iter().unzip();
            Table { prefixes, names }
        });
        Registry {
            tables,
            names,
            report,
        }
    }
}

#[cfg(test)]
mod tests;
