//! Small helpers every log-family parser uses: remote addresses, `key=value` fields,
//! `word … word` cutting. Nothing here allocates unless it returns an owned value.

use std::net::{IpAddr, Ipv6Addr};

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
    let s = s.split_once('%').map_or(s, |(a, _)| a);
    let ip: IpAddr = s.parse().ok()?;
    Some(canonical(ip))
}

/// `::ffff:1.2.3.4` → `1.2.3.4`; everything else unchanged.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
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

/// Splits at the first occurrence of `sep`.
pub fn cut<'a>(s: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    s.split_once(sep)
}

/// Splits at the last occurrence of `sep`.
pub fn rcut<'a>(s: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    s.rsplit_once(sep)
}

/// The first space-separated word and the rest (after one space).
pub fn first_word(s: &str) -> (&str, &str) {
    match s.find(' ') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    }
}

/// Parses a port number.
pub fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `IPv6` shorthand for tests.
pub fn v6(s: &str) -> Ipv6Addr {
    s.parse().expect("valid IPv6 literal")
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn key_values() {
        let s = "logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root";
        assert_eq!(kv(s, "rhost"), Some("1.2.3.4"));
        assert_eq!(kv(s, "ruser"), Some(""));
        assert_eq!(kv(s, "user"), Some("root"));
        assert_eq!(kv(s, "uid"), Some("0"));
        assert_eq!(kv(s, "nope"), None);
    }
}
