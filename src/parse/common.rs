//! Small helpers every log-family parser uses: remote addresses, `key=value` fields,
//! `word … word` cutting. Nothing here allocates unless it returns an owned value.

use crate::model::ip::canonical;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

use memchr::memmem::{Finder, FinderRev};

/// A remote party as logged: an address when the text parses as one, else a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote {
    Ip(IpAddr),
    Host(String),
}

/// Parses a logged remote: IPv4, IPv6 (bracketed or with a `%zone`), IPv4-mapped IPv6
/// (returned as the IPv4 address, so one attacker has one key), or a host name.
/// Returns `None` for empty strings and for text no host could be named by.
pub fn parse_remote(s: &str) -> Option<Remote> {
    if let Some(v4) = parse_dotted_v4(s) {
        return Some(Remote::Ip(IpAddr::V4(v4)));
    }
    let s = s.trim_matches(|c| c == '[' || c == ']');
    if s.is_empty() || s.len() > 255 {
        return None;
    }
    if let Some(ip) = parse_ip(s) {
        return Some(Remote::Ip(ip));
    }
    let plausible_name = s
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b':'));
    plausible_name.then(|| Remote::Host(s.to_string()))
}

/// Parses an address strictly (no leading-zero octets), unmapping `::ffff:a.b.c.d`
/// and dropping an IPv6 zone id.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    if let Some(v4) = parse_dotted_v4(s) {
        return Some(IpAddr::V4(v4));
    }
    let s = s.split_once('%').map_or(s, |(a, _)| a);
    let ip: IpAddr = s.parse().ok()?;
    Some(canonical(ip))
}

/// Fast path for the common case, a plain dotted-quad IPv4 address, with the same rules
/// as std's parser (four decimal octets of at most three digits, each ≤ 255, no leading
/// zero). `None` means "not certainly one": callers then fall back to the full parser.
fn parse_dotted_v4(s: &str) -> Option<Ipv4Addr> {
    let b = s.as_bytes();
    if b.len() < 7 || b.len() > 15 {
        return None;
    }
    // One pass: each byte is a digit (added to the octet) or a dot (closing it).
    let mut octets = [0u8; 4];
    let mut n = 0;
    let mut v: u32 = 0;
    let mut digits = 0;
    for &c in b {
        if c == b'.' {
            if digits == 0 || n == 3 {
                return None;
            }
            octets[n] = v as u8;
            n += 1;
            v = 0;
            digits = 0;
            continue;
        }
        let d = c.wrapping_sub(b'0');
        // A digit after a leading zero, a fourth digit, or a value over 255: not std's.
        if d > 9 || (digits == 1 && v == 0) || digits == 3 {
            return None;
        }
        v = v * 10 + u32::from(d);
        if v > 255 {
            return None;
        }
        digits += 1;
    }
    if n != 3 || digits == 0 {
        return None;
    }
    octets[3] = v as u8;
    Some(Ipv4Addr::from(octets))
}

/// The value of `key=` in a space-separated `k=v k=v` list (PAM, kernel LOG lines).
/// Returns `Some("")` for a present but empty key.
pub fn kv<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(pos) = s[from..].find(key) {
        let at = from + pos;
        let after = at + key.len();
        let starts_word = at == 0 || s.as_bytes()[at - 1] == b' ' || s.as_bytes()[at - 1] == b';';
        if starts_word && s.as_bytes().get(after) == Some(&b'=') {
            let v = &s[after + 1..];
            let end = v.find(' ').unwrap_or(v.len());
            return Some(&v[..end]);
        }
        from = after;
    }
    None
}

/// A substring searcher built once (`memchr::memmem`), for patterns searched on every line:
/// `str::find` with a `&str` pattern builds its searcher on each call.
pub struct Pattern {
    needle: &'static str,
    finder: OnceLock<Finder<'static>>,
}

impl Pattern {
    pub const fn new(needle: &'static str) -> Pattern {
        Pattern {
            needle,
            finder: OnceLock::new(),
        }
    }
    #[inline]
    fn finder(&self) -> &Finder<'static> {
        self.finder.get_or_init(|| Finder::new(self.needle))
    }
    /// Byte offset of the first occurrence in `s`.
    #[inline]
    pub fn find(&self, s: &str) -> Option<usize> {
        self.finder().find(s.as_bytes())
    }
    /// Byte offsets of every (possibly overlapping) occurrence in `s`.
    pub fn occurrences<'a>(&'a self, s: &'a str) -> impl Iterator<Item = usize> + 'a {
        let finder = self.finder();
        let mut from = 0;
        std::iter::from_fn(move || {
            let pos = from + finder.find(s.as_bytes().get(from..)?)?;
            from = pos + 1;
            Some(pos)
        })
    }
}

/// A reverse substring searcher built once (see [`Pattern`]).
pub struct RPattern {
    needle: &'static str,
    finder: OnceLock<FinderRev<'static>>,
}

impl RPattern {
    pub const fn new(needle: &'static str) -> RPattern {
        RPattern {
            needle,
            finder: OnceLock::new(),
        }
    }
    /// Splits at the last occurrence, like `str::rsplit_once`.
    #[inline]
    pub fn rsplit_once<'a>(&self, s: &'a str) -> Option<(&'a str, &'a str)> {
        let finder = self.finder.get_or_init(|| FinderRev::new(self.needle));
        let at = finder.rfind(s.as_bytes())?;
        Some((&s[..at], &s[at + self.needle.len()..]))
    }
}

/// `s.split_once(": ")` without building a substring searcher.
#[inline]
pub fn split_colon_space(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memchr(b':', &b[from..]) {
        let at = from + i;
        if b.get(at + 1) == Some(&b' ') {
            return Some((&s[..at], &s[at + 2..]));
        }
        from = at + 1;
    }
    None
}

/// Parses a port number: one to five decimal digits, at most 65535 (leading zeros
/// allowed, as std's parser allows them). One pass, no sign or overflow handling to do.
pub fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 5 {
        return None;
    }
    let mut v: u32 = 0;
    for c in s.bytes() {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u32::from(d);
    }
    u16::try_from(v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_port_agrees_with_std() {
        for p in 0..=99_999u32 {
            let s = p.to_string();
            assert_eq!(parse_port(&s), s.parse::<u16>().ok(), "{s}");
        }
        for s in [
            "", "00022", "022", "65535", "65536", "123456", "+22", "-1", "2 2", "22:", "٣",
        ] {
            let std = if s.len() <= 5 && s.bytes().all(|c| c.is_ascii_digit()) {
                s.parse::<u16>().ok()
            } else {
                None
            };
            assert_eq!(parse_port(s), std, "{s:?}");
        }
    }

    #[test]
    fn remotes() {
        assert_eq!(
            parse_remote("1.2.3.4"),
            Some(Remote::Ip("1.2.3.4".parse().unwrap()))
        );
        assert_eq!(
            parse_remote("::ffff:1.2.3.4"),
            Some(Remote::Ip("1.2.3.4".parse().unwrap()))
        );
        assert_eq!(
            parse_remote("[2001:db8::1]"),
            Some(Remote::Ip("2001:db8::1".parse().unwrap()))
        );
        assert_eq!(
            parse_remote("fe80::1%eth0"),
            Some(Remote::Ip("fe80::1".parse().unwrap()))
        );
        assert_eq!(
            parse_remote("example.com"),
            Some(Remote::Host("example.com".into()))
        );
        // Leading zeros are ambiguous (octal to inet_aton): kept as a name, never an address.
        assert_eq!(
            parse_remote("192.030.0.6"),
            Some(Remote::Host("192.030.0.6".into()))
        );
        assert_eq!(parse_remote("1.2.3.4;rm -rf /"), None);
        assert_eq!(parse_remote(""), None);
    }

    #[test]
    fn dotted_v4_fast_path_agrees_with_std() {
        for s in [
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3.04",
            "1.2.3",
            "1.2.3.4.5",
            "1..3.4",
            "1.2.3.4 ",
            "1234.1.1.1",
            "1.2.3.4%eth0",
            "10.0.0.10",
            "100.200.250.199",
        ] {
            let std = s.parse::<std::net::Ipv4Addr>().ok();
            if let Some(fast) = parse_dotted_v4(s) {
                assert_eq!(Some(fast), std, "{s:?}");
            }
            if std.is_some() {
                assert_eq!(parse_dotted_v4(s), std, "{s:?}");
            }
        }
        // Every combination of awkward octets, three to five of them.
        let parts = [
            "", "0", "1", "9", "00", "01", "10", "99", "010", "001", "100", "255", "256", "999",
            "1000", "x", "2a",
        ];
        let check = |s: &str| {
            let std = s.parse::<std::net::Ipv4Addr>().ok();
            let fast = parse_dotted_v4(s);
            assert!(fast.is_none() || fast == std, "{s:?}: {fast:?} vs {std:?}");
            if std.is_some() && (7..=15).contains(&s.len()) {
                assert_eq!(fast, std, "{s:?}");
            }
        };
        for a in parts {
            for b in parts {
                for c in parts {
                    check(&format!("{a}.{b}.{c}"));
                    for d in parts {
                        check(&format!("{a}.{b}.{c}.{d}"));
                        check(&format!("{a}.{b}.{c}.{d}.1"));
                    }
                }
            }
        }
    }

    #[test]
    fn key_values() {
        let s = "logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root";
        assert_eq!(kv(s, "rhost"), Some("1.2.3.4"));
        assert_eq!(kv(s, "ruser"), Some(""));
        assert_eq!(kv(s, "user"), Some("root"));
        assert_eq!(kv(s, "uid"), Some("0"));
        assert_eq!(kv(s, "nope"), None);
    }
}
