//! Which firewall carries out `block_ip`: nftables (Picket's own table) where `nft` is
//! installed, else iptables with ipset. Both keep per-element timeouts in the kernel.

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ipset, nft};

/// `response.block_ip.backend` in picket.yaml.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// nftables when `nft` is installed, else iptables + ipset.
    #[default]
    Auto,
    Nftables,
    Iptables,
}

/// Why the firewall could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    #[error(transparent)]
    Nft(#[from] nft::NftError),
    #[error(transparent)]
    Ipset(#[from] ipset::IpsetError),
    #[error(
        "no firewall to block with: install nftables (apt install nftables), or ipset and iptables"
    )]
    Missing,
}

/// The backend `b` comes to, given which programs are installed.
pub fn resolve(b: Backend, installed: impl Fn(&str) -> bool) -> Result<Backend, FirewallError> {
    match b {
        Backend::Auto if installed("nft") => Ok(Backend::Nftables),
        Backend::Auto if installed("ipset") && installed("iptables") => Ok(Backend::Iptables),
        Backend::Auto => Err(FirewallError::Missing),
        other => Ok(other),
    }
}

fn on_this_host(b: Backend) -> Result<Backend, FirewallError> {
    resolve(b, |p| crate::base::programs::find_program(p).is_some())
}

pub fn block(b: Backend, ip: IpAddr, timeout: Duration) -> Result<(), FirewallError> {
    match on_this_host(b)? {
        Backend::Iptables => Ok(ipset::block(ip, timeout)?),
        _ => Ok(nft::block(ip, timeout)?),
    }
}

pub fn unblock(b: Backend, ip: IpAddr) -> Result<(), FirewallError> {
    match on_this_host(b)? {
        Backend::Iptables => Ok(ipset::unblock(ip)?),
        _ => Ok(nft::unblock(ip)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_prefers_nftables_then_iptables_with_ipset() {
        let have = |list: &'static [&'static str]| move |p: &str| list.contains(&p);
        assert_eq!(
            resolve(Backend::Auto, have(&["nft", "iptables", "ipset"])).unwrap(),
            Backend::Nftables
        );
        assert_eq!(
            resolve(Backend::Auto, have(&["iptables", "ipset"])).unwrap(),
            Backend::Iptables
        );
        assert!(matches!(
            resolve(Backend::Auto, have(&["iptables"])),
            Err(FirewallError::Missing)
        ));
        assert_eq!(
            resolve(Backend::Iptables, have(&["nft"])).unwrap(),
            Backend::Iptables
        );
    }
}
