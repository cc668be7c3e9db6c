//! Blocking addresses with iptables and ipset, for hosts without `nft`: two ipsets
//! (`picket4`, `picket6`) whose elements carry a timeout, so the kernel lifts a ban when
//! it expires even if Picket is not running, and one DROP rule per family at the top of
//! INPUT that matches them. Only `IpAddr` values reach the commands, which are found in
//! the system directories and run without a shell or an inherited environment.

use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The sets Picket owns; nothing else is ever changed, besides its own two rules.
pub const SET4: &str = "picket4";
pub const SET6: &str = "picket6";

/// Why iptables or ipset could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum IpsetError {
    #[error("cannot run {0}: {1}; install ipset and iptables (apt install ipset iptables)")]
    Spawn(&'static str, std::io::Error),
    #[error("{0} failed: {1}")]
    Failed(&'static str, String),
}

/// The set an address goes in, and the iptables command of its family.
pub fn set_for(ip: IpAddr) -> (&'static str, &'static str) {
    match ip {
        IpAddr::V4(_) => (SET4, "iptables"),
        IpAddr::V6(_) => (SET6, "ip6tables"),
    }
}

fn run(program: &'static str, args: &[&str]) -> Result<String, IpsetError> {
    let path = crate::base::programs::find_program(program).ok_or_else(|| {
        IpsetError::Spawn(
            program,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "not in the system directories",
            ),
        )
    })?;
    let out = Command::new(path)
        .args(args)
        .stdin(Stdio::null())
        .env_clear()
        .output()
        .map_err(|e| IpsetError::Spawn(program, e))?;
    if !out.status.success() {
        return Err(IpsetError::Failed(
            program,
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The rule that drops what `set` holds, as iptables arguments after the chain.
fn rule(set: &str) -> [&str; 6] {
    ["-m", "set", "--match-set", set, "src", "-j"]
}

/// Creates the set of `ip`'s family and its DROP rule unless they exist.
fn ensure(ip: IpAddr) -> Result<(), IpsetError> {
    let (set, iptables) = set_for(ip);
    let family = if ip.is_ipv4() { "inet" } else { "inet6" };
    run(
        "ipset",
        &[
            "create", set, "hash:ip", "family", family, "timeout", "0", "-exist",
        ],
    )?;
    let r = rule(set);
    let check: Vec<&str> = ["-w", "-C", "INPUT"]
        .iter()
        .chain(&r)
        .chain(&["DROP"])
        .copied()
        .collect();
    if run(iptables, &check).is_err() {
        let insert: Vec<&str> = ["-w", "-I", "INPUT", "1"]
            .iter()
            .chain(&r)
            .chain(&["DROP"])
            .copied()
            .collect();
        run(iptables, &insert)?;
    }
    Ok(())
}

/// Adds `ip` with `timeout`; an existing element gets the new timeout.
pub fn block(ip: IpAddr, timeout: Duration) -> Result<(), IpsetError> {
    ensure(ip)?;
    let (set, _) = set_for(ip);
    let secs = timeout.as_secs().max(1).to_string();
    run(
        "ipset",
        &["add", set, &ip.to_string(), "timeout", &secs, "-exist"],
    )
    .map(|_| ())
}

/// Takes `ip` out of its set; without the set there is nothing to lift (and nothing is
/// created).
pub fn unblock(ip: IpAddr) -> Result<(), IpsetError> {
    let (set, _) = set_for(ip);
    if run("ipset", &["list", "-n", set]).is_err() {
        return Ok(());
    }
    run("ipset", &["del", set, &ip.to_string(), "-exist"]).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_family_has_its_set_and_command() {
        assert_eq!(
            set_for("203.0.113.1".parse().unwrap()),
            ("picket4", "iptables")
        );
        assert_eq!(
            set_for("2001:db8::1".parse().unwrap()),
            ("picket6", "ip6tables")
        );
        assert_eq!(rule("picket4")[3], "picket4");
    }
}
