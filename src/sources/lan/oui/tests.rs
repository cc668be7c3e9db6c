//! Lookups against the embedded copy (so they run without Debian's files), with entries
//! read from Debian's 2022 `ieee-data`, and the longest-prefix rule on a small registry.

use super::*;

fn mac(text: &str) -> [u8; 6] {
    parse_mac(text).unwrap()
}

fn embedded() -> Registry {
    Registry::embedded().expect("the embedded copy decodes")
}

#[test]
fn well_known_vendors() {
    let registry = embedded();
    for (address, vendor) in [
        ("00:03:93:12:34:56", "Apple, Inc."),
        ("f0:18:98:00:00:01", "Apple, Inc."),
        ("00:1b:21:aa:bb:cc", "Intel Corporate"),
        ("b8:27:eb:12:34:56", "Raspberry Pi Foundation"),
        ("dc:a6:32:01:02:03", "Raspberry Pi Trading Ltd"),
        ("e4:5f:01:ff:ff:ff", "Raspberry Pi Trading Ltd"),
        ("00:00:0c:07:ac:01", "Cisco Systems, Inc"),
        // The quoted, comma-holding and quote-doubling spellings of oui.csv.
        ("00:1e:cb:00:00:00", "\"RPC \"Energoautomatika\" Ltd"),
        // Tidied: a trailing tab; a zero-width space in front.
        ("90:12:34:00:00:00", "Shenzhen YOUHUA Technology Co., Ltd"),
        ("48:bc:a6:00:00:00", "ASUNG TECHNO CO.,Ltd"),
    ] {
        assert_eq!(registry.lookup(mac(address)), Some(vendor), "{address}");
    }
}

#[test]
fn smaller_blocks_shadow_the_registration_authoritys_prefix() {
    let registry = embedded();
    for (address, vendor) in [
        // MA-M 20-85-93-B inside MA-L 20-85-93; 20-85-93-F is not assigned.
        ("20:85:93:b0:00:00", "IOG Products LLC"),
        ("20:85:93:bf:ff:ff", "IOG Products LLC"),
        ("20:85:93:a0:00:00", "H3 Industries, Inc."),
        ("20:85:93:f0:00:00", "IEEE Registration Authority"),
        // MA-S 70-B3-D5-F2-F inside MA-L 70-B3-D5; 70-B3-D5-1E-C is not assigned.
        ("70:b3:d5:f2:f0:00", "TELEPLATFORMS"),
        ("70:b3:d5:f2:ff:ff", "TELEPLATFORMS"),
        ("70:b3:d5:1e:c0:00", "IEEE Registration Authority"),
        // Tidied: a double space, a left-to-right mark and a trailing space.
        ("70:b3:d5:26:90:00", "Gilbarco Veeder-Root"),
        // IAB 00-50-C2-7D-5, an MA-S-sized block of the older registry.
        ("00:50:c2:7d:50:00", "DEUTA-WERKE GmbH"),
        ("00:50:c2:04:d0:00", "IEEE Registration Authority"),
        // MA-M 74-1A-E0-9 is registered without a name.
        ("74:1a:e0:90:00:00", "Private"),
    ] {
        assert_eq!(registry.lookup(mac(address)), Some(vendor), "{address}");
    }
}

#[test]
fn a_prefix_listed_twice_keeps_its_first_listing() {
    // oui.csv lists 08-00-30 for three historical owners, this one first.
    assert_eq!(
        embedded().lookup(mac("08:00:30:00:00:01")),
        Some("NETWORK RESEARCH CORPORATION")
    );
}

#[test]
fn locally_administered_and_group_addresses_have_no_vendor() {
    let registry = embedded();
    // A Raspberry Pi's prefix with the local bit set, as a randomizing device might use.
    assert_eq!(registry.lookup(mac("ba:27:eb:12:34:56")), None);
    assert_eq!(registry.lookup(mac("de:a6:32:01:02:03")), None);
    // 02-60-8C is in the 2022 registry (3Com, from before the bit meant anything), but a
    // device using it today chose it itself.
    assert_eq!(registry.lookup(mac("02:60:8c:00:00:01")), None);
    // Multicast (IPv4, IPv6) and broadcast.
    assert_eq!(registry.lookup(mac("01:00:5e:00:00:01")), None);
    assert_eq!(registry.lookup(mac("33:33:00:00:00:01")), None);
    assert_eq!(registry.lookup(mac("ff:ff:ff:ff:ff:ff")), None);
}

#[test]
fn an_unassigned_prefix_has_no_vendor() {
    let registry = embedded();
    let unassigned = (0..=0xff_u8)
        .map(|b| [0xfc, 0xff, b, 0, 0, 0])
        .find(|&m| registry.lookup(m).is_none());
    assert!(unassigned.is_some(), "every FC:FF:xx prefix assigned?");
    assert_eq!(
        registry.lookup([0, 0, 0, 0, 0, 0]),
        Some("XEROX CORPORATION")
    );
}

#[test]
fn counts_add_up() {
    let registry = embedded();
    let by_block: usize = Block::ALL.iter().map(|&b| registry.count(b)).sum();
    assert_eq!(registry.len(), by_block);
    assert_eq!(registry.entries().count(), registry.len());
    assert_eq!(registry.report().updated, Some(1_661_630_937));
}

/// A registry whose blocks nest three deep, with its own names.
fn nested() -> Registry {
    let mut builder = Builder::default();
    builder.add(Block::MaL, 0x403456, "Large");
    builder.add(Block::MaM, 0x4034567, "Medium");
    builder.add(Block::MaS, 0x403456789, "Small");
    builder.add(Block::MaS, 0x40345678A, "Small neighbour");
    builder.build()
}

#[test]
fn the_longest_matching_prefix_wins() {
    let registry = nested();
    for (address, vendor) in [
        ("40:34:56:78:90:00", Some("Small")),
        ("40:34:56:78:9f:ff", Some("Small")),
        ("40:34:56:78:a0:00", Some("Small neighbour")),
        ("40:34:56:78:b0:00", Some("Medium")),
        ("40:34:56:70:00:00", Some("Medium")),
        ("40:34:56:7f:ff:ff", Some("Medium")),
        ("40:34:56:80:00:00", Some("Large")),
        ("40:34:56:00:00:00", Some("Large")),
        ("40:34:57:78:90:00", None),
        ("40:34:55:ff:ff:ff", None),
    ] {
        assert_eq!(registry.lookup(mac(address)), vendor, "{address}");
    }
    assert_eq!(registry.len(), 4);
    assert_eq!(
        Block::ALL.map(|b| registry.count(b)),
        [2, 1, 1],
        "MA-S, MA-M, MA-L"
    );
}

#[test]
fn prefixes_no_device_address_can_have_are_left_out_and_counted() {
    let mut builder = Builder::default();
    builder.add(Block::MaL, 0x02608C, "3COM");
    builder.add(Block::MaL, 0x1100AA, "Private");
    builder.add(Block::MaS, 0xAA0000123, "x");
    builder.add(Block::MaL, 0x00000C, "Cisco Systems, Inc");
    let registry = builder.build();
    assert_eq!(registry.len(), 1);
    assert_eq!(registry.report().unreachable, 3);
}

#[test]
fn a_name_shared_by_many_prefixes_is_stored_once() {
    let registry = embedded();
    let apple: Vec<u64> = registry
        .entries()
        .filter(|&(_, _, name)| name == "Apple, Inc.")
        .map(|(_, prefix, _)| prefix)
        .collect();
    assert!(apple.len() > 500, "{}", apple.len());
    let occurrences = registry.names.text.matches("Apple, Inc.").count();
    assert_eq!(occurrences, 1);
}

#[test]
fn the_shared_registry_is_loaded_once() {
    let first = registry();
    assert!(!first.is_empty());
    assert!(std::ptr::eq(first, registry()));
    assert_eq!(
        first.lookup(mac("b8:27:eb:00:00:01")),
        Some("Raspberry Pi Foundation")
    );
}

#[test]
fn lookup_itself_refuses_local_and_group_addresses() {
    // The builder leaves such prefixes out; a registry holding them anyway (as a decoded
    // file could) must still not name a vendor for them.
    let mut registry = Builder::default().build();
    registry.names.text.push_str("Historical");
    let name = registry.names.finish_name();
    registry.tables[Block::MaL.index()] = Table {
        prefixes: vec![0x02608C, 0x1100AA, 0xAA0000],
        names: vec![name; 3],
    };
    assert_eq!(registry.lookup(mac("02:60:8c:00:00:01")), None);
    assert_eq!(registry.lookup(mac("11:00:aa:00:00:01")), None);
    assert_eq!(registry.lookup(mac("aa:00:00:00:00:01")), None);
    // The table itself works: a plain prefix added the same way is found.
    registry.tables[Block::MaL.index()].prefixes[0] = 0x00608C;
    assert_eq!(
        registry.lookup(mac("00:60:8c:00:00:01")),
        Some("Historical")
    );
}
