//! Traffic per address as it is stored and shown: whose traffic a count is, and what one
//! address sent and received in one interval.

use serde::{Deserialize, Serialize};

/// Whose traffic a count is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// A remote address talking with this host.
    Host,
    /// A device whose traffic this host routes.
    Forwarded,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Host => "host",
            Scope::Forwarded => "forwarded",
        }
    }
}

/// What one address sent and received (its own point of view) in one interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub tx_bytes: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub rx_packets: u64,
    /// Flows first seen in this interval.
    pub connections: u64,
}

impl Usage {
    pub fn packets(&self) -> u64 {
        self.tx_packets + self.rx_packets
    }
}
