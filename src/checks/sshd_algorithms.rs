//! The algorithm lists of sshd (`Ciphers`, `MACs`, `KexAlgorithms`) as sshd computes them
//! from a configuration value: OpenSSH's `+` (append to the default), `-` (remove from the
//! default, by pattern) and `^` (put at the head of the default) forms, and plain lists
//! that replace the default. Mirrors `kex_assemble_names` in OpenSSH's kex.c.
//!
//! The defaults and the supported names are those of Debian 12's OpenSSH 9.2p1 (as
//! `sshd -T` and `ssh -Q cipher|mac|kex` print them on a current bookworm system), because
//! a check that audits a mounted image cannot ask that image's sshd. Owns only the list
//! arithmetic; which algorithms are weak is the checks' business (`forbid:` in YAML).

/// One algorithm-list keyword: its default and every name OpenSSH 9.2 supports.
#[derive(Debug, Clone, Copy)]
pub struct AlgorithmList {
    /// Lower-cased sshd keyword.
    pub keyword: &'static str,
    pub default: &'static [&'static str],
    pub supported: &'static [&'static str],
}

const CIPHERS_DEFAULT: &[&str] = &[
    "chacha20-poly1305@openssh.com",
    "aes128-ctr",
    "aes192-ctr",
    "aes256-ctr",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
];

const CIPHERS_SUPPORTED: &[&str] = &[
    "3des-cbc",
    "aes128-cbc",
    "aes192-cbc",
    "aes256-cbc",
    "aes128-ctr",
    "aes192-ctr",
    "aes256-ctr",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
];

const MACS_DEFAULT: &[&str] = &[
    "umac-64-etm@openssh.com",
    "umac-128-etm@openssh.com",
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha1-etm@openssh.com",
    "umac-64@openssh.com",
    "umac-128@openssh.com",
    "hmac-sha2-256",
    "hmac-sha2-512",
    "hmac-sha1",
];

const MACS_SUPPORTED: &[&str] = &[
    "hmac-sha1",
    "hmac-sha1-96",
    "hmac-sha2-256",
    "hmac-sha2-512",
    "hmac-md5",
    "hmac-md5-96",
    "umac-64@openssh.com",
    "umac-128@openssh.com",
    "hmac-sha1-etm@openssh.com",
    "hmac-sha1-96-etm@openssh.com",
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-md5-etm@openssh.com",
    "hmac-md5-96-etm@openssh.com",
    "umac-64-etm@openssh.com",
    "umac-128-etm@openssh.com",
];

const KEX_DEFAULT: &[&str] = &[
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "diffie-hellman-group-exchange-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    "diffie-hellman-group14-sha256",
];

const KEX_SUPPORTED: &[&str] = &[
    "diffie-hellman-group1-sha1",
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group14-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    "diffie-hellman-group-exchange-sha1",
    "diffie-hellman-group-exchange-sha256",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
];

/// The keywords whose value is an algorithm list.
pub const LISTS: &[AlgorithmList] = &[
    AlgorithmList {
        keyword: "ciphers",
        default: CIPHERS_DEFAULT,
        supported: CIPHERS_SUPPORTED,
    },
    AlgorithmList {
        keyword: "macs",
        default: MACS_DEFAULT,
        supported: MACS_SUPPORTED,
    },
    AlgorithmList {
        keyword: "kexalgorithms",
        default: KEX_DEFAULT,
        supported: KEX_SUPPORTED,
    },
];

/// The list description for `keyword` (any case), if it is an algorithm list.
pub fn list_for(keyword: &str) -> Option<&'static AlgorithmList> {
    let k = keyword.to_ascii_lowercase();
    LISTS.iter().find(|l| l.keyword == k)
}

/// The algorithms sshd would offer, and the names in the value it does not know.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Effective {
    pub names: Vec<String>,
    /// Names (not patterns) that OpenSSH 9.2 does not support; sshd refuses to start with
    /// one of them in `Ciphers`, `MACs` or `KexAlgorithms`.
    pub unknown: Vec<String>,
}

impl AlgorithmList {
    /// What sshd makes of `value` (the configured string, or `None` when the keyword is
    /// absent). As in `kex_assemble_names`: `-` filters the default by pattern; `+`, `^`
    /// and a plain list expand each pattern against the supported names, in order,
    /// without duplicates. An explicit name sshd does not support is kept (and listed in
    /// `unknown`), so a check still sees what the administrator asked for.
    pub fn assemble(&self, value: Option<&str>) -> Effective {
        let value = value.map(str::trim).unwrap_or("");
        let default = || self.default.iter().map(|s| s.to_string());
        if value.is_empty() {
            return Effective {
                names: default().collect(),
                unknown: Vec::new(),
            };
        }
        if let Some(deny) = value.strip_prefix('-') {
            return Effective {
                names: default().filter(|name| !matches_list(name, deny)).collect(),
                unknown: Vec::new(),
            };
        }
        let patterns: Vec<String> = if let Some(add) = value.strip_prefix('+') {
            default().chain(split(add)).collect()
        } else if let Some(head) = value.strip_prefix('^') {
            split(head).chain(default()).collect()
        } else {
            split(value).collect()
        };
        let mut out = Effective::default();
        for p in patterns {
            let p = p.to_ascii_lowercase();
            let expanded: Vec<&str> = self
                .supported
                .iter()
                .copied()
                .filter(|s| match_pattern(s, &p))
                .collect();
            if expanded.is_empty() && !p.contains(['*', '?']) {
                if !out.unknown.contains(&p) {
                    out.unknown.push(p.clone());
                }
                if !out.names.contains(&p) {
                    out.names.push(p);
                }
                continue;
            }
            for s in expanded {
                if !out.names.iter().any(|n| n == s) {
                    out.names.push(s.to_string());
                }
            }
        }
        out
    }
}

fn split(list: &str) -> impl Iterator<Item = String> + '_ {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// OpenSSH's `match_pattern`: `*` matches any run of characters, `?` any one; case
/// matters (names are lower case). Iterative, so a hostile pattern cannot recurse deeply.
pub fn match_pattern(name: &str, pattern: &str) -> bool {
    let (n, p) = (name.as_bytes(), pattern.as_bytes());
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < n.len() {
        if j < p.len() && (p[j] == b'?' || p[j] == n[i]) {
            i += 1;
            j += 1;
        } else if j < p.len() && p[j] == b'*' {
            star = Some((j, i));
            j += 1;
        } else if let Some((sj, si)) = star {
            j = sj + 1;
            i = si + 1;
            star = Some((sj, si + 1));
        } else {
            return false;
        }
    }
    p[j..].iter().all(|&c| c == b'*')
}

/// OpenSSH's `match_pattern_list` as a yes/no: the name matches a pattern of the
/// comma-separated list and no negated (`!pattern`) entry.
pub fn matches_list(name: &str, list: &str) -> bool {
    let mut hit = false;
    for p in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let p = p.to_ascii_lowercase();
        match p.strip_prefix('!') {
            Some(neg) if match_pattern(name, neg) => return false,
            Some(_) => {}
            None => hit |= match_pattern(name, &p),
        }
    }
    hit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ciphers(v: Option<&str>) -> Vec<String> {
        list_for("Ciphers").unwrap().assemble(v).names
    }

    #[test]
    fn patterns_follow_openssh() {
        assert!(match_pattern("aes128-cbc", "*-cbc"));
        assert!(match_pattern("aes128-cbc", "aes???-cbc"));
        assert!(!match_pattern("aes128-ctr", "*-cbc"));
        assert!(match_pattern("umac-64@openssh.com", "umac-64*"));
        assert!(match_pattern("x", "**"));
        assert!(!match_pattern("", "?"));
        assert!(matches_list("hmac-md5", "hmac-sha1,hmac-md5*"));
        assert!(!matches_list("hmac-md5-96", "hmac-md5*,!*-96"));
        // A long hostile pattern terminates quickly.
        let p = "*a".repeat(200);
        assert!(!match_pattern(&"a".repeat(150), &format!("{p}b")));
    }

    #[test]
    fn absent_or_empty_is_the_default() {
        assert_eq!(ciphers(None), CIPHERS_DEFAULT);
        assert_eq!(ciphers(Some("  ")), CIPHERS_DEFAULT);
    }

    #[test]
    fn plus_appends_without_duplicates() {
        let got = ciphers(Some("+aes128-cbc,aes128-ctr,3des-cbc"));
        assert_eq!(got.len(), CIPHERS_DEFAULT.len() + 2);
        assert_eq!(&got[got.len() - 2..], ["aes128-cbc", "3des-cbc"]);
    }

    #[test]
    fn caret_prepends() {
        let got = ciphers(Some("^aes256-gcm@openssh.com,3des-cbc"));
        assert_eq!(&got[..2], ["aes256-gcm@openssh.com", "3des-cbc"]);
        assert_eq!(got.len(), CIPHERS_DEFAULT.len() + 1);
    }

    #[test]
    fn minus_removes_by_pattern() {
        let macs = list_for("macs")
            .unwrap()
            .assemble(Some("-umac-64*,hmac-sha1*"));
        assert!(macs
            .names
            .iter()
            .all(|m| !m.starts_with("umac-64") && !m.starts_with("hmac-sha1")));
        assert_eq!(macs.names.len(), MACS_DEFAULT.len() - 4);
    }

    #[test]
    fn plain_lists_replace_and_expand_wildcards_in_supported_order() {
        assert_eq!(
            ciphers(Some("aes*-cbc,aes256-ctr")),
            ["aes128-cbc", "aes192-cbc", "aes256-cbc", "aes256-ctr"]
        );
        let e = list_for("CIPHERS")
            .unwrap()
            .assemble(Some("AES256-CTR,arcfour256"));
        assert_eq!(e.names, ["aes256-ctr", "arcfour256"]);
        assert_eq!(e.unknown, ["arcfour256"]);
        assert!(list_for("PermitRootLogin").is_none());
    }
}
