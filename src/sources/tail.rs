//! Rotation-proof file tailing (placeholder until the tailer lands).
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    End,
    Beginning,
}

#[derive(Debug, thiserror::Error)]
#[error("tail error")]
pub struct TailError;

pub struct Poll {
    pub lines: Vec<Vec<u8>>,
    pub checkpoint: Option<String>,
    pub notices: Vec<String>,
    pub more: bool,
}

pub struct Tailer;

impl Tailer {
    pub fn new(_path: PathBuf, _saved: Option<&str>, _start: StartAt) -> Tailer {
        Tailer
    }
    pub fn poll(&mut self) -> Result<Poll, TailError> {
        Err(TailError)
    }
}
