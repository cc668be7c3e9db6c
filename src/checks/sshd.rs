//! `sshd_config` as sshd reads it, through the [`Host`] API: `Include` lines followed
//! (globs, relative paths under `/etc/ssh`, files in glob order), keywords
//! case-insensitive, and the first value of a keyword wins. Settings inside a `Match`
//! block apply only to some connections, so global settings stop at the first `Match`
//! line; what follows is kept but marked as conditional. As in OpenSSH's servconf.c, a
//! `Match` inside an included file ends with that file (the including file's state is
//! restored), and an `Include` inside a `Match` block is conditional as a whole.
//!
//! Owns only parsing; what a value means for security is the checks' business. The
//! defaults sshd uses when a keyword is absent are in [`default_value`].

use super::host::{Host, HostError};

/// The main configuration file.
pub const SSHD_CONFIG: &str = "/etc/ssh/sshd_config";

/// How deep `Include` may nest (sshd's own limit is 16).
const MAX_INCLUDE_DEPTH: usize = 16;

/// One directive line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Lower-cased keyword.
    pub keyword: String,
    /// The arguments as written (surrounding quotes removed).
    pub value: String,
    /// Host path of the file it is in, and its 1-based line.
    pub file: String,
    pub line: u32,
    /// Inside (or after) a `Match` block: not a global setting.
    pub in_match: bool,
}

/// The parsed configuration: every directive in the order sshd reads them.
#[derive(Debug, Clone, Default)]
pub struct SshdConfig {
    pub directives: Vec<Directive>,
    /// Files read, in order.
    pub files: Vec<String>,
    /// Problems that did not stop parsing (an unreadable include, nesting too deep).
    pub warnings: Vec<String>,
}

impl SshdConfig {
    /// The global setting of `keyword` (any case): the first one outside `Match`.
    pub fn effective(&self, keyword: &str) -> Option<&Directive> {
        let k = keyword.to_ascii_lowercase();
        self.directives
            .iter()
            .find(|d| !d.in_match && d.keyword == k)
    }
}

/// sshd's compiled-in default for a keyword (OpenSSH upstream, not a distribution's
/// shipped file), for the keywords the checks ask about.
pub fn default_value(keyword: &str) -> Option<&'static str> {
    Some(match keyword.to_ascii_lowercase().as_str() {
        "permitrootlogin" => "prohibit-password",
        "passwordauthentication" => "yes",
        "permitemptypasswords" => "no",
        "x11forwarding" => "no",
        "maxauthtries" => "6",
        "pubkeyauthentication" => "yes",
        "kbdinteractiveauthentication" | "challengeresponseauthentication" => "yes",
        "usepam" => "no",
        "allowtcpforwarding" => "yes",
        "permituserenvironment" => "no",
        "logingracetime" => "120",
        "clientaliveinterval" => "0",
        "loglevel" => "INFO",
        _ => return None,
    })
}

/// Reads `/etc/ssh/sshd_config` and its includes; `None` when the main file is absent.
pub fn parse(host: &Host) -> Result<Option<SshdConfig>, HostError> {
    let Some(text) = host.read_optional(SSHD_CONFIG)? else {
        return Ok(None);
    };
    let mut cfg = SshdConfig::default();
    let mut in_match = false;
    parse_text(host, SSHD_CONFIG, &text, 0, &mut in_match, &mut cfg);
    Ok(Some(cfg))
}

fn parse_text(
    host: &Host,
    file: &str,
    text: &str,
    depth: usize,
    in_match: &mut bool,
    cfg: &mut SshdConfig,
) {
    cfg.files.push(file.to_string());
    for (i, raw) in text.lines().enumerate() {
        let Some((keyword, value)) = split_line(raw) else {
            continue;
        };
        let line = i as u32 + 1;
        if keyword == "match" {
            *in_match = true;
        }
        if keyword == "include" {
            if depth >= MAX_INCLUDE_DEPTH {
                cfg.warnings
                    .push(format!("{file}:{line}: Include nested too deeply"));
                continue;
            }
            for arg in value.split_whitespace() {
                let pattern = if arg.starts_with('/') {
                    arg.to_string()
                } else {
                    format!("/etc/ssh/{arg}")
                };
                let paths = match host.glob(&pattern) {
                    Ok(p) => p,
                    Err(e) => {
                        cfg.warnings.push(format!("{file}:{line}: {e}"));
                        continue;
                    }
                };
                for p in paths {
                    match host.read(&p) {
                        Ok(t) => {
                            // As servconf.c: an included file's Match does not outlive it.
                            let outer = *in_match;
                            parse_text(host, &p, &t, depth + 1, in_match, cfg);
                            *in_match = outer;
                        }
                        Err(e) => cfg.warnings.push(format!("{file}:{line}: {e}")),
                    }
                }
            }
        }
        cfg.directives.push(Directive {
            keyword,
            value,
            file: file.to_string(),
            line,
            in_match: *in_match,
        });
    }
}

/// `Keyword value`, `Keyword=value` or `Keyword = value`; `None` for blanks and comments.
fn split_line(raw: &str) -> Option<(String, String)> {
    let l = raw.trim();
    if l.is_empty() || l.starts_with('#') {
        return None;
    }
    let end = l
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(l.len());
    let keyword = l[..end].to_ascii_lowercase();
    let rest = l[end..].trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
    let value = rest
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(rest);
    Some((keyword, value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::host::fixture as host;

    #[test]
    fn first_value_wins_across_includes_in_glob_order() {
        let (_t, h) = host(&[
            (
                "/etc/ssh/sshd_config",
                "# top\nInclude sshd_config.d/*.conf\npermitrootlogin yes\nX11Forwarding=yes\n",
            ),
            (
                "/etc/ssh/sshd_config.d/20-b.conf",
                "PermitRootLogin without-password\n",
            ),
            (
                "/etc/ssh/sshd_config.d/10-a.conf",
                "\n  PERMITROOTLOGIN   \"no\"\n",
            ),
        ]);
        let cfg = parse(&h).unwrap().unwrap();
        let d = cfg.effective("PermitRootLogin").unwrap();
        assert_eq!(d.value, "no");
        assert_eq!(
            (d.file.as_str(), d.line),
            ("/etc/ssh/sshd_config.d/10-a.conf", 2)
        );
        assert_eq!(cfg.effective("x11forwarding").unwrap().value, "yes");
        assert_eq!(cfg.effective("x11forwarding").unwrap().line, 4);
        assert_eq!(cfg.files.len(), 3);
    }

    #[test]
    fn match_blocks_end_global_settings() {
        let (_t, h) = host(&[(
            "/etc/ssh/sshd_config",
            "PasswordAuthentication no\nMatch User bob\n  PermitRootLogin yes\n  PasswordAuthentication yes\n",
        )]);
        let cfg = parse(&h).unwrap().unwrap();
        assert_eq!(cfg.effective("PermitRootLogin"), None);
        assert_eq!(cfg.effective("passwordauthentication").unwrap().value, "no");
        assert!(cfg
            .directives
            .iter()
            .any(|d| d.in_match && d.keyword == "permitrootlogin"));
    }

    #[test]
    fn a_match_in_an_included_file_ends_with_that_file() {
        let (_t, h) = host(&[
            (
                "/etc/ssh/sshd_config",
                "Include sshd_config.d/*.conf\nPermitRootLogin no\nMatch Group sftp\nInclude extra.conf\n",
            ),
            ("/etc/ssh/sshd_config.d/sftp.conf", "Match User backup\n  PasswordAuthentication yes\n"),
            ("/etc/ssh/extra.conf", "X11Forwarding yes\n"),
        ]);
        let cfg = parse(&h).unwrap().unwrap();
        let d = cfg.effective("PermitRootLogin").unwrap();
        assert_eq!((d.file.as_str(), d.line), ("/etc/ssh/sshd_config", 2));
        assert_eq!(cfg.effective("PasswordAuthentication"), None);
        // Included from inside a Match block: conditional too.
        assert_eq!(cfg.effective("X11Forwarding"), None);
    }

    #[test]
    fn absolute_includes_resolve_under_the_root_and_missing_ones_are_fine() {
        let (_t, h) = host(&[
            (
                "/etc/ssh/sshd_config",
                "Include /opt/ssh/*.conf /etc/ssh/missing.conf\nInclude sshd_config\n",
            ),
            ("/opt/ssh/x.conf", "MaxAuthTries 3\n"),
        ]);
        let cfg = parse(&h).unwrap().unwrap();
        assert_eq!(cfg.effective("MaxAuthTries").unwrap().value, "3");
        // Including itself stops at the depth limit instead of looping forever.
        assert!(cfg.warnings.iter().any(|w| w.contains("nested too deeply")));
    }

    #[test]
    fn absent_config_is_none() {
        let (_t, h) = host(&[]);
        assert!(parse(&h).unwrap().is_none());
        assert_eq!(default_value("PermitRootLogin"), Some("prohibit-password"));
    }
}
