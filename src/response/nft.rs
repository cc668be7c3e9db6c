//! Blocking addresses with nftables: Picket's own table (`inet picket`) with one set per
//! address family whose elements carry a timeout, so the kernel lifts a ban when it
//! expires even if Picket is not running. Only `IpAddr` values reach the command (their
//! `Display` is digits, dots, colons and hex), `nft` is run without a shell, and the
//! script goes through its standard input.

use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The table Picket owns; nothing else is ever changed.
pub const TABLE: &str = "picket";

/// Why nftables could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum NftError {
    #[error("cannot run nft ({0}); install nftables (apt install nftables)")]
    Spawn(std::io::Error),
    #[error("nft failed: {0}")]
    Failed(String),
    #[error("cannot read nft's answer: {0}")]
    Parse(String),
}

/// The set an address goes in.
pub fn set_for(ip: IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(_) => "blocked4",
        IpAddr::V6(_) => "blocked6",
    }
}

/// The table, its two sets and the drop rules, as one atomic nft script. Declaring a
/// table that exists adds what is missing and changes nothing else, but the rules are
/// only written when the table is new (see [`ensure`]).
pub fn setup_script() -> String {
    format!(
        "table inet {TABLE} {{\n\
         \tset blocked4 {{ type ipv4_addr; flags timeout; }}\n\
         \tset blocked6 {{ type ipv6_addr; flags timeout; }}\n\
         \tchain input {{\n\
         \t\ttype filter hook input priority -10; policy accept;\n\
         \t\tip saddr @blocked4 drop\n\
         \t\tip6 saddr @blocked6 drop\n\
         \t}}\n\
         }}\n"
    )
}

/// Adds `ip` with `timeout` (an existing element is replaced, so its timeout restarts).
pub fn block_script(ip: IpAddr, timeout: Duration) -> String {
    let set = set_for(ip);
    let secs = timeout.as_secs().max(1);
    // Delete first (a missing element is created by the add just before, so the delete
    // never fails), then add with the new timeout: one atomic transaction.
    format!(
        "add element inet {TABLE} {set} {{ {ip} }}\n\
         delete element inet {TABLE} {set} {{ {ip} }}\n\
         add element inet {TABLE} {set} {{ {ip} timeout {secs}s }}\n"
    )
}

pub fn unblock_script(ip: IpAddr) -> String {
    let set = set_for(ip);
    format!(
        "add element inet {TABLE} {set} {{ {ip} }}\n\
         delete element inet {TABLE} {set} {{ {ip} }}\n"
    )
}

/// Runs `nft` (from the system directories, not `$PATH`: a root daemon must not run
/// whatever an environment puts first) with `args`, and `stdin` as its input.
fn run(args: &[&str], stdin: Option<&str>) -> Result<String, NftError> {
    let program = crate::base::programs::find_program("nft").ok_or_else(|| {
        NftError::Spawn(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "not in the system directories",
        ))
    })?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_clear()
        .spawn()
        .map_err(NftError::Spawn)?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).map_err(NftError::Spawn)?;
    }
    let out = child.wait_with_output().map_err(NftError::Spawn)?;
    if !out.status.success() {
        return Err(NftError::Failed(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Creates Picket's table, sets and rules unless the table exists.
pub fn ensure() -> Result<(), NftError> {
    if run(&["list", "table", "inet", TABLE], None).is_ok() {
        return Ok(());
    }
    run(&["-f", "-"], Some(&setup_script())).map(|_| ())
}

pub fn block(ip: IpAddr, timeout: Duration) -> Result<(), NftError> {
    ensure()?;
    run(&["-f", "-"], Some(&block_script(ip, timeout))).map(|_| ())
}

/// Takes `ip` out of its set. Without Picket's table there is nothing to lift, and the
/// firewall is left as it is (lifting must never create a table).
pub fn unblock(ip: IpAddr) -> Result<(), NftError> {
    if run(&["list", "table", "inet", TABLE], None).is_err() {
        return Ok(());
    }
    run(&["-f", "-"], Some(&unblock_script(ip))).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_name_only_the_address_and_picket_s_table() {
        let s = block_script("203.0.113.66".parse().unwrap(), Duration::from_secs(600));
        assert!(
            s.ends_with("add element inet picket blocked4 { 203.0.113.66 timeout 600s }\n"),
            "{s}"
        );
        let s = block_script("2001:db8::1".parse().unwrap(), Duration::from_millis(10));
        assert!(s.contains("blocked6 { 2001:db8::1 timeout 1s }"), "{s}");
        assert!(setup_script().starts_with("table inet picket {"));
    }
}
