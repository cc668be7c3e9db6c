//! MAC addresses as text and their two flag bits.
//!
//! Addresses reach Picket from places an attacker can write to (a neighbour table filled
//! by ARP replies anyone on the segment can send, DHCP leases, log lines), so the parser
//! accepts exactly one spelling, six pairs of hex digits with one separator, and its
//! errors never echo the input.

/// Why a string is not a MAC address. The input is not repeated: it may be hostile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MacError {
    #[error("a MAC address is 17 characters (aa:bb:cc:dd:ee:ff); this text is {0} bytes")]
    Length(usize),
    #[error("a MAC address is plain ASCII")]
    NotAscii,
    #[error("character {0} of a MAC address must be ':' or '-', the same all through")]
    Separator(usize),
    #[error("character {0} of a MAC address is not a hex digit")]
    HexDigit(usize),
}

/// Parses `aa:bb:cc:dd:ee:ff` or `AA-BB-CC-DD-EE-FF` (either case, one separator
/// throughout). Everything else is refused: other lengths, single-digit groups, dots,
/// spaces, mixed separators, and anything outside ASCII.
pub fn parse_mac(text: &str) -> Result<[u8; 6], MacError> {
    let bytes = text.as_bytes();
    if bytes.len() != 17 {
        return Err(MacError::Length(bytes.len()));
    }
    if !text.is_ascii() {
        return Err(MacError::NotAscii);
    }
    let separator = bytes[2];
    if separator != b':' && separator != b'-' {
        return Err(MacError::Separator(2));
    }
    let mut mac = [0u8; 6];
    for (i, octet) in mac.iter_mut().enumerate() {
        let at = i * 3;
        if i > 0 && bytes[at - 1] != separator {
            return Err(MacError::Separator(at - 1));
        }
        *octet = hex_digit(bytes[at]).ok_or(MacError::HexDigit(at))? << 4
            | hex_digit(bytes[at + 1]).ok_or(MacError::HexDigit(at + 1))?;
    }
    Ok(mac)
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The U/L bit (bit 1 of the first octet): set, the address was not assigned by a vendor
/// from an IEEE block but chosen locally — randomized by a phone or laptop for privacy, or
/// made up for a virtual machine, container or bridge. It names no vendor.
pub fn is_locally_administered(mac: [u8; 6]) -> bool {
    mac[0] & 0b10 != 0
}

/// The I/G bit (bit 0 of the first octet): set, the address names a group (multicast or
/// broadcast), never one device's interface.
pub fn is_multicast(mac: [u8; 6]) -> bool {
    mac[0] & 0b01 != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_separators_and_both_cases_parse() {
        let want = [0xb8, 0x27, 0xeb, 0x0a, 0xbc, 0xff];
        assert_eq!(parse_mac("b8:27:eb:0a:bc:ff"), Ok(want));
        assert_eq!(parse_mac("B8-27-EB-0A-BC-FF"), Ok(want));
        assert_eq!(parse_mac("B8:27:eb:0A:Bc:fF"), Ok(want));
        assert_eq!(parse_mac("00:00:00:00:00:00"), Ok([0; 6]));
        assert_eq!(parse_mac("ff:ff:ff:ff:ff:ff"), Ok([0xff; 6]));
    }

    #[test]
    fn other_spellings_are_refused() {
        for text in [
            "",
            "b8:27:eb:0a:bc",             // five octets
            "b8:27:eb:0a:bc:ff:00",       // seven
            "b8:27:eb:0a:bc:f",           // short last group
            "b8:27:eb:a:bc:ff",           // single-digit group
            "b8:27:eb:0a:bc:ff ",         // trailing space
            " b8:27:eb:0a:bc:ff",         // leading space
            "b827.eb0a.bcff",             // Cisco dots
            "b827eb0abcff",               // no separators
            "b8 27 eb 0a bc ff",          // spaces
            "b8.27.eb.0a.bc.ff",          // dots
            "b8:27-eb:0a:bc:ff",          // mixed separators
            "b8-27-eb-0a-bc:ff",          // mixed at the end
            "b8:27:eb:0a:bc:fg",          // not hex
            "+8:27:eb:0a:bc:ff",          // sign
            "b8::27:eb:0a:bc:f",          // empty group
            "b8:27:eb:0a:bc:ff\n",        // newline
            "b8:27:eb:0a:bc:\u{ff}f",     // non-ASCII, 17 bytes
            "b8:27:eb:0a:bc:\u{0}f",      // NUL
            "b8:27:eb:0a:bc:ff;rm -rf /", // a payload
        ] {
            assert!(parse_mac(text).is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn errors_point_at_the_fault_without_echoing_it() {
        assert_eq!(parse_mac("b8:27:eb:0a:bc"), Err(MacError::Length(14)));
        assert_eq!(parse_mac("b8:27-eb:0a:bc:ff"), Err(MacError::Separator(5)));
        assert_eq!(parse_mac("b8:27:eb:0a:bc:fg"), Err(MacError::HexDigit(16)));
        // 17 bytes but not 17 characters: refused before any position is named.
        assert_eq!(parse_mac("ü8:27:eb:0a:bc:f"), Err(MacError::NotAscii));
        let message = parse_mac("<script>alert(1)</script>")
            .unwrap_err()
            .to_string();
        assert!(!message.contains("script"), "{message}");
    }

    #[test]
    fn the_flag_bits_are_the_low_two_of_the_first_octet() {
        // A Raspberry Pi's address: vendor-assigned, unicast.
        let pi = [0xb8, 0x27, 0xeb, 1, 2, 3];
        assert!(!is_locally_administered(pi) && !is_multicast(pi));
        // The same with the U/L bit set, as a randomizing phone would make it.
        let random = [0xba, 0x27, 0xeb, 1, 2, 3];
        assert!(is_locally_administered(random) && !is_multicast(random));
        // IPv4 multicast, IPv6 multicast (both bits), broadcast.
        assert!(is_multicast([0x01, 0x00, 0x5e, 0, 0, 1]));
        assert!(!is_locally_administered([0x01, 0x00, 0x5e, 0, 0, 1]));
        assert!(is_multicast([0x33, 0x33, 0, 0, 0, 1]));
        assert!(is_locally_administered([0x33, 0x33, 0, 0, 0, 1]));
        assert!(is_multicast([0xff; 6]) && is_locally_administered([0xff; 6]));
        // Each of x2, x6, xA, xE in the first nibble's low bits means local.
        for first in [0x02, 0x06, 0x0a, 0x0e, 0xf2, 0xde] {
            assert!(
                is_locally_administered([first, 0, 0, 0, 0, 0]),
                "{first:#x}"
            );
        }
    }
}
