//! `accounts: home_directories`: the home directory of every account that can log in
//! (UID 0 or at least [`FIRST_USER_UID`], with a login shell) belongs to that account and
//! is closed to others.
//!
//! FAIL when a home is group- or world-writable (another user can plant `.bashrc` or
//! `.ssh/authorized_keys`) or is not owned by its account; WARN when others can read or
//! enter it (beyond 0750); PASS otherwise. One evidence line per directory. A home that
//! does not exist is noted, not failed (there is nothing to take over).

use super::host::{FileKind, Host, HostError};
use super::kinds::{is_no_login_shell, worse, Outcome, FIRST_USER_UID};
use super::{Evidence, Status};

/// Mode bits beyond which a home is readable or enterable by others.
const MAX_PRIVATE: u32 = 0o750;

pub(crate) fn evaluate(host: &Host) -> Result<Outcome, HostError> {
    let users = host.users()?;
    let mut evidence = Vec::new();
    let mut status = Status::Pass;
    let mut seen: Vec<String> = Vec::new();
    for u in users
        .iter()
        .filter(|u| (u.uid == 0 || u.uid >= FIRST_USER_UID) && !is_no_login_shell(&u.shell))
    {
        // Two accounts sharing a home (root and a UID 0 alias) give one line.
        if u.home.is_empty() || seen.contains(&u.home) {
            continue;
        }
        seen.push(u.home.clone());
        let at = |detail: String| Evidence {
            file: Some(u.home.clone()),
            line: None,
            detail,
        };
        if !u.home.starts_with('/') {
            evidence.push(at(format!(
                "home of {} is not an absolute path (/etc/passwd:{})",
                u.name, u.line
            )));
            status = worse(status, Status::Warn);
            continue;
        }
        let st = match host.stat(&u.home) {
            Ok(Some(st)) => st,
            Ok(None) => {
                evidence.push(at(format!("home of {} does not exist", u.name)));
                continue;
            }
            Err(e) => {
                evidence.push(at(format!("home of {}: {e}", u.name)));
                status = worse(status, Status::Error);
                continue;
            }
        };
        if st.kind != FileKind::Dir {
            evidence.push(at(format!("home of {} is not a directory", u.name)));
            status = worse(status, Status::Warn);
            continue;
        }
        let mut problems = Vec::new();
        let mut this = Status::Pass;
        if st.mode & 0o022 != 0 {
            let who = match st.mode & 0o022 {
                0o022 => "group- and world-writable",
                0o020 => "group-writable",
                _ => "world-writable",
            };
            problems.push(who.to_string());
            this = Status::Fail;
        }
        if st.uid != u.uid {
            let owner = users
                .iter()
                .find(|o| o.uid == st.uid)
                .map_or_else(|| format!("UID {}", st.uid), |o| o.name.clone());
            problems.push(format!("owned by {owner}, not {}", u.name));
            this = Status::Fail;
        }
        let open = st.mode & 0o777 & !MAX_PRIVATE & !0o022;
        if open != 0 {
            problems.push(format!(
                "others can {}",
                match open & 0o005 {
                    0o005 => "list and enter it",
                    0o004 => "list it",
                    _ => "enter it",
                }
            ));
            this = worse(this, Status::Warn);
        }
        status = worse(status, this);
        evidence.push(at(format!(
            "home of {} (UID {}): mode {:04o}{}",
            u.name,
            u.uid,
            st.mode,
            if problems.is_empty() {
                String::new()
            } else {
                format!(": {}", problems.join("; "))
            }
        )));
    }
    if evidence.is_empty() {
        evidence.push(Evidence::detail("no account with a login shell"));
    }
    Ok(Outcome::new(status, evidence))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn modes_and_owners_of_homes() {
        // SAFETY: getuid has no preconditions and cannot fail.
        let me = unsafe { libc::getuid() };
        let t = tempfile::tempdir().unwrap();
        let passwd = format!(
            "root:x:0:0::/root:/bin/bash\n\
             toor:x:0:0::/root:/bin/sh\n\
             daemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n\
             a:x:{me}:{me}::/home/a:/bin/bash\n\
             b:x:{me}:{me}::/home/b:/bin/bash\n\
             c:x:{me}:{me}::/home/c:/bin/bash\n\
             d:x:{other}:{other}::/home/d:/bin/bash\n\
             gone:x:{me}:{me}::/home/gone:/bin/bash\n\
             svc:x:{me}:{me}::/srv/svc:/usr/sbin/nologin\n",
            other = 4242
        );
        std::fs::create_dir_all(t.path().join("etc")).unwrap();
        std::fs::write(t.path().join("etc/passwd"), passwd).unwrap();
        for (d, m) in [
            ("root", 0o700),
            ("home/a", 0o750),
            ("home/b", 0o755),
            ("home/c", 0o777),
            ("home/d", 0o700),
            ("srv/svc", 0o777),
        ] {
            let p = t.path().join(d);
            std::fs::create_dir_all(&p).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(m)).unwrap();
        }
        let h = Host::new(t.path()).unwrap();
        let o = evaluate(&h).unwrap();
        assert_eq!(o.status, Status::Fail);
        let shown: Vec<String> = o.evidence.iter().map(|e| e.to_string()).collect();
        // The directories belong to whoever runs the test: root, or the account `a`.
        let owner = if me == 0 { "root" } else { "a" };
        let root_line = if me == 0 {
            "/root: home of root (UID 0): mode 0700".to_string()
        } else {
            "/root: home of root (UID 0): mode 0700: owned by a, not root".to_string()
        };
        assert_eq!(
            shown,
            [
                root_line,
                format!("/home/a: home of a (UID {me}): mode 0750"),
                format!("/home/b: home of b (UID {me}): mode 0755: others can list and enter it"),
                format!("/home/c: home of c (UID {me}): mode 0777: group- and world-writable; others can list and enter it"),
                format!("/home/d: home of d (UID 4242): mode 0700: owned by {owner}, not d"),
                "/home/gone: home of gone does not exist".to_string(),
            ]
        );
    }
}
