//! Builds the copy of the IEEE registries that Picket embeds for hosts without Debian's
//! `ieee-data`, from that package's files, then checks it and measures both sources:
//!
//!     apt-get install ieee-data
//!     cargo run --release --example build_oui -- /usr/share/ieee-data src/sources/lan/oui/registry.bin
//!
//! It reads the files through Picket's own parser (so the copy answers exactly as the
//! files do), prints the malformed lines it skipped, refuses to write a copy with a
//! registry file missing, decodes what it wrote and compares every assignment, and prints
//! the counts, the size, how long each source takes to load and what a lookup costs. The
//! format is described in `src/sources/lan/oui/compact.rs`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use picket::sources::lan::oui::{Block, Registry};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, out] = args.as_slice() else {
        eprintln!("usage: build_oui IEEE_DATA_DIR OUTFILE   (e.g. /usr/share/ieee-data src/sources/lan/oui/registry.bin)");
        return ExitCode::from(2);
    };
    match build(Path::new(dir), Path::new(out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("build_oui: {message}");
            ExitCode::FAILURE
        }
    }
}

fn build(dir: &Path, out: &Path) -> Result<(), String> {
    let registry = Registry::from_debian_dir(dir).map_err(|e| e.to_string())?;
    let report = registry.report();
    if !report.missing.is_empty() {
        return Err(format!(
            "not writing a partial copy: {:?} missing",
            report.missing
        ));
    }
    for error in &report.errors {
        eprintln!("skipped {error}");
    }
    if report.skipped > report.errors.len() {
        eprintln!("… {} skipped lines in all", report.skipped);
    }
    let updated = report
        .updated
        .and_then(|t| jiff::Timestamp::from_second(t).ok())
        .map_or("unknown".to_string(), |t| t.to_string());
    println!("{}: registries fetched {updated}", dir.display());
    for block in Block::ALL {
        println!("  {}: {} assignments", block.name(), registry.count(block));
    }
    println!(
        "  {} in all; {} malformed lines skipped, {} duplicate listings, {} prefixes no device address can have",
        registry.len(),
        report.skipped,
        report.duplicates,
        report.unreachable
    );

    let bytes = registry.to_compact();
    let decoded =
        Registry::from_compact(&bytes).map_err(|e| format!("the new copy does not decode: {e}"))?;
    if !decoded.entries().eq(registry.entries()) {
        return Err("the new copy does not hold the same assignments".into());
    }
    write_atomically(out, &bytes)?;
    println!(
        "wrote {} ({} bytes; distinct names and fixed 7-byte entries would take {} bytes)",
        out.display(),
        bytes.len(),
        plain_size(&registry)
    );

    measure(dir, &bytes, &registry);
    Ok(())
}

/// Distinct names with a length byte each, and a 5-byte prefix and 2-byte name number per
/// assignment: the table a format without word sharing would hold.
fn plain_size(registry: &Registry) -> usize {
    let mut names: Vec<&str> = registry.entries().map(|(_, _, name)| name).collect();
    names.sort_unstable();
    names.dedup();
    names.iter().map(|n| n.len() + 1).sum::<usize>() + registry.len() * 7
}

fn write_atomically(out: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut temporary = PathBuf::from(out);
    temporary.as_mut_os_string().push(".tmp");
    std::fs::write(&temporary, bytes)
        .and_then(|()| std::fs::rename(&temporary, out))
        .map_err(|e| format!("writing {}: {e}", out.display()))
}

fn measure(dir: &Path, bytes: &[u8], registry: &Registry) {
    if cfg!(debug_assertions) {
        println!("(a debug build: run with --release for the timings that matter)");
    }
    let debian = best_of(10, || {
        black_box(Registry::from_debian_dir(dir).map(|r| r.len()).unwrap_or(0));
    });
    let compact = best_of(10, || {
        black_box(Registry::from_compact(bytes).map(|r| r.len()).unwrap_or(0));
    });
    println!("load, best of 10: Debian CSV files {debian:.1?}, compact copy {compact:.1?}");

    // Addresses from assigned blocks (as real devices have) and uniformly random ones
    // with the two flag bits cleared (mostly unassigned: every table is searched).
    let prefixes: Vec<(Block, u64)> = registry.entries().map(|(b, p, _)| (b, p)).collect();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    const N: usize = 1_000_000;
    let assigned: Vec<[u8; 6]> = (0..N)
        .map(|_| {
            let (block, prefix) = prefixes[next() as usize % prefixes.len()];
            let low_bits = 48 - block.bits();
            mac_of(prefix << low_bits | next() & ((1 << low_bits) - 1))
        })
        .collect();
    let random: Vec<[u8; 6]> = (0..N).map(|_| mac_of(next() & 0xfcff_ffff_ffff)).collect();
    for (label, macs) in [("assigned", &assigned), ("random", &random)] {
        let mut found = 0;
        let took = best_of(5, || {
            found = macs
                .iter()
                .filter(|&&m| black_box(registry.lookup(m)).is_some())
                .count();
        });
        println!(
            "lookup, {label} addresses: {:.0} ns each ({found} of {N} named)",
            took.as_nanos() as f64 / N as f64
        );
    }
}

fn mac_of(value: u64) -> [u8; 6] {
    let b = value.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}
