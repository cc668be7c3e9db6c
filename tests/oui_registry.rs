//! The vendor registry against Debian's `ieee-data` files as installed (tests/run.sh
//! installs the package), and against broken copies of them: the real files parse without
//! a skipped line, the embedded copy answers exactly as files of the same date do, a
//! malformed line costs only itself, and missing or unusable files fall back to the
//! embedded copy.

use std::path::Path;

use picket::sources::lan::oui::{Block, LineProblem, RecordError, Registry, Source, DEBIAN_DIR};

/// The installed registries, or `None` (with a note) where `ieee-data` is not installed.
fn debian() -> Option<Registry> {
    if !Path::new(DEBIAN_DIR).join("oui.csv").exists() {
        eprintln!("{DEBIAN_DIR}/oui.csv is missing (apt-get install ieee-data): not compared");
        return None;
    }
    Some(Registry::from_debian_dir(Path::new(DEBIAN_DIR)).expect("Debian's files read"))
}

fn mac_of(value: u64) -> [u8; 6] {
    let b = value.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

/// A small xorshift generator: the same "random" addresses on every run.
fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

#[test]
fn debian_files_parse_without_a_skipped_line() {
    let Some(registry) = debian() else { return };
    let report = registry.report();
    assert_eq!(report.source, Source::Debian(DEBIAN_DIR.into()));
    assert_eq!(report.skipped, 0, "{:#?}", report.errors);
    assert!(report.missing.is_empty(), "{:?}", report.missing);
    assert!(report.updated.is_some());
    // The 2022 files hold 32,530 MA-L, 4,390 MA-M and 9,604 MA-S and IAB lines; newer
    // ones only add.
    assert!(
        registry.count(Block::MaL) >= 32_500,
        "{}",
        registry.count(Block::MaL)
    );
    assert!(registry.count(Block::MaM) >= 4_390);
    assert!(registry.count(Block::MaS) >= 9_600);
    assert_eq!(
        registry.lookup([0xb8, 0x27, 0xeb, 1, 2, 3]),
        Some("Raspberry Pi Foundation")
    );
}

#[test]
fn the_embedded_copy_answers_as_the_debian_files_it_was_built_from() {
    let Some(debian) = debian() else { return };
    let embedded = Registry::embedded().unwrap();
    if debian.report().updated != embedded.report().updated {
        eprintln!(
            "installed ieee-data is from {:?}, the embedded copy from {:?}: regenerate it \
             (examples/build_oui.rs) to compare",
            debian.report().updated,
            embedded.report().updated
        );
        return;
    }
    // 1,000 assignments spread over all three sizes, each looked up at a random address
    // inside its block.
    let assignments: Vec<(Block, u64, &str)> = debian.entries().collect();
    let mut next = xorshift(0x2545_f491_4f6c_dd1d);
    let step = assignments.len() / 1000;
    let mut sizes = [0; 3];
    for &(block, prefix, name) in assignments.iter().step_by(step).take(1000) {
        let low_bits = 48 - block.bits();
        let mac = mac_of(prefix << low_bits | next() & ((1 << low_bits) - 1));
        let vendor = debian.lookup(mac);
        // A smaller block inside this one may be the longer match; none is inside MA-S.
        assert!(vendor.is_some(), "{mac:02x?}");
        if block == Block::MaS {
            assert_eq!(vendor, Some(name), "{mac:02x?}");
        }
        assert_eq!(embedded.lookup(mac), vendor, "{mac:02x?}");
        sizes[Block::ALL.iter().position(|&b| b == block).unwrap()] += 1;
    }
    assert!(
        sizes.iter().all(|&n| n > 50),
        "MA-S, MA-M, MA-L sampled: {sizes:?}"
    );
    // 1,000 addresses anywhere (assigned or not, some local or multicast).
    for _ in 0..1000 {
        let mac = mac_of(next());
        assert_eq!(embedded.lookup(mac), debian.lookup(mac), "{mac:02x?}");
    }
    // And the whole of it: every assignment, the same name.
    assert!(embedded.entries().eq(debian.entries()));
    assert_eq!(embedded.to_compact(), debian.to_compact());
}

#[test]
fn load_prefers_the_installed_files() {
    if debian().is_none() {
        return;
    }
    let registry = Registry::load();
    assert_eq!(registry.report().source, Source::Debian(DEBIAN_DIR.into()));
    assert!(registry.report().passed_over.is_empty());
}

#[test]
fn a_broken_line_in_the_real_oui_csv_costs_only_that_line() {
    let Some(whole) = debian() else { return };
    let text = std::fs::read_to_string(Path::new(DEBIAN_DIR).join("oui.csv")).unwrap();
    // Break Cisco's 00-00-0C line: text after the quote that closes its name.
    let line = text
        .lines()
        .position(|l| l.starts_with("MA-L,00000C,"))
        .unwrap()
        + 1;
    let broken = text.replacen("MA-L,00000C,\"Cisco", "MA-L,00000C,\"\"\"Cisco\"x", 1);
    assert_ne!(broken, text);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("oui.csv"), broken).unwrap();

    let registry = Registry::from_debian_dir(dir.path()).unwrap();
    let report = registry.report();
    assert_eq!(report.skipped, 1, "{:#?}", report.errors);
    assert_eq!(report.errors[0].file, dir.path().join("oui.csv"));
    assert_eq!(report.errors[0].line, line);
    assert_eq!(
        report.errors[0].problem,
        LineProblem::Record(RecordError::TextAfterQuote)
    );
    assert_eq!(registry.count(Block::MaL), whole.count(Block::MaL) - 1);
    assert_eq!(registry.lookup([0, 0, 0x0c, 1, 2, 3]), None);
    assert_eq!(
        registry.lookup([0xb8, 0x27, 0xeb, 1, 2, 3]),
        Some("Raspberry Pi Foundation")
    );
    // The other three files are not in the copy: noted, not an error.
    assert_eq!(report.missing.len(), 3);
}

#[test]
fn malformed_lines_are_skipped_counted_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let oui = "Registry,Assignment,Organization Name,Organization Address\r\n\
               MA-L,B827EB,Raspberry Pi Foundation,Mitchell Wood House \r\n\
               MA-L,B827E,Too short,\r\n\
               XX-L,DCA632,Unknown registry,\r\n\
               MA-L,DCA632\r\n\
               MA-L,70B3D5,IEEE Registration Authority,\"445 Hoes Lane\nPiscataway\"\r\n\
               MA-L,001B21,\"Intel Corporate\"garbage,\r\n\
               MA-L,00000C,\"Cisco Systems, Inc\",170 WEST TASMAN DRIVE\r\n";
    std::fs::write(dir.path().join("oui.csv"), oui).unwrap();
    let mam = b"Registry,Assignment,Organization Name,Organization Address\r\n\
                MA-M,741AE09,Private,\r\n\
                MA-M,741AE0F,\xff\xfe not UTF-8,\r\n";
    std::fs::write(dir.path().join("mam.csv"), mam).unwrap();
    std::fs::write(
        dir.path().join("oui36.csv"),
        "MA-S,70B3D5F2F,TELEPLATFORMS,\r\n",
    )
    .unwrap();

    let registry = Registry::from_debian_dir(dir.path()).unwrap();
    assert_eq!(Block::ALL.map(|b| registry.count(b)), [1, 1, 3]);
    let report = registry.report();
    let errors: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
    let (oui, mam) = (dir.path().join("oui.csv"), dir.path().join("mam.csv"));
    assert_eq!(
        errors,
        [
            format!("{}:3: MA-L assignment is not 6 hex digits", oui.display()),
            format!("{}:4: unknown registry \"XX-L\"", oui.display()),
            format!(
                "{}:5: 2 fields, want registry, assignment, organization name (and address)",
                oui.display()
            ),
            format!("{}:8: text follows a closing quote", oui.display()),
            format!("{}:3: organization name is not UTF-8", mam.display()),
        ]
    );
    assert_eq!(report.skipped, 5);
    assert_eq!(report.missing, [dir.path().join("iab.csv")]);
    assert_eq!(
        registry.lookup([0x70, 0xb3, 0xd5, 0xf2, 0xf0, 0]),
        Some("TELEPLATFORMS")
    );
    assert_eq!(
        registry.lookup([0x70, 0xb3, 0xd5, 0x00, 0, 0]),
        Some("IEEE Registration Authority")
    );
    assert_eq!(
        registry.lookup([0, 0, 0x0c, 0, 0, 0]),
        Some("Cisco Systems, Inc")
    );
    // Usable, so loading from this directory keeps it rather than the embedded copy.
    assert_eq!(
        Registry::load_from(dir.path()).report().source,
        Source::Debian(dir.path().into())
    );
}

#[test]
fn without_debian_files_the_embedded_copy_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::load_from(dir.path());
    assert_eq!(registry.report().source, Source::Embedded);
    assert!(registry.report().passed_over.is_empty());
    assert_eq!(
        registry.lookup([0xdc, 0xa6, 0x32, 1, 2, 3]),
        Some("Raspberry Pi Trading Ltd")
    );
}

#[test]
fn debian_files_without_one_good_line_are_passed_over() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("oui.csv"),
        "\"unterminated\r\nnot,a,registry\r\n",
    )
    .unwrap();
    let registry = Registry::load_from(dir.path());
    assert_eq!(registry.report().source, Source::Embedded);
    let passed_over = &registry.report().passed_over;
    assert_eq!(passed_over.len(), 1, "{passed_over:?}");
    assert!(
        passed_over[0].contains("no usable assignment (2 malformed lines)"),
        "{passed_over:?}"
    );
    assert!(!registry.is_empty());
}

#[test]
fn an_unreadable_oui_csv_is_an_error_naming_it_and_load_falls_back() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be: unreadable even for root.
    std::fs::create_dir(dir.path().join("oui.csv")).unwrap();
    let error = Registry::from_debian_dir(dir.path()).unwrap_err();
    assert_eq!(error.path, dir.path().join("oui.csv"));
    assert!(error
        .to_string()
        .starts_with(&format!("reading {}: ", error.path.display())));

    let registry = Registry::load_from(dir.path());
    assert_eq!(registry.report().source, Source::Embedded);
    assert_eq!(registry.report().passed_over, [error.to_string()]);
}
