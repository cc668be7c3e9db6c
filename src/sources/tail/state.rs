//! The tailer's checkpoint: what it has consumed of which files, as JSON.

use serde::{Deserialize, Serialize};

/// One followed file in a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    /// FNV-1a of the first line (capped at 256 bytes), as 16 hex digits; absent while the
    /// file has no complete first line (then `offset` is 0).
    #[serde(default, with = "hex_opt", skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<u64>,
    pub dev: u64,
    pub ino: u64,
    /// Byte position just after the last line delivered.
    pub offset: u64,
}

/// Everything a tailer needs to resume exactly: the file at the path, and rotated files
/// still being drained (oldest first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TailState {
    #[serde(default)]
    pub current: Option<FileState>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub draining: Vec<FileState>,
}

mod hex_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(fp) => s.serialize_str(&format!("{fp:016x}")),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| u64::from_str_radix(&s, 16).map_err(serde::de::Error::custom))
            .transpose()
    }
}
