//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The shared corpus of real public logs (`../shared/corpus` beside the checkout;
/// `PICKET_CORPUS` overrides). Tests that need it fail loudly when it is missing.
pub fn corpus_dir() -> PathBuf {
    if let Ok(p) = std::env::var("PICKET_CORPUS") {
        return PathBuf::from(p);
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    assert!(
        dir.is_dir(),
        "the log corpus is missing: expected {} (set PICKET_CORPUS)",
        dir.display()
    );
    dir
}

pub fn corpus(rel: &str) -> PathBuf {
    let p = corpus_dir().join(rel);
    assert!(p.exists(), "corpus file missing: {}", p.display());
    p
}
pub mod http;
pub mod netns;
pub mod sys;
