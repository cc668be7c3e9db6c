//! Embeds the dashboard (`web/`) into the binary: writes `$OUT_DIR/assets.rs`, a table of
//! (URL path, content type, ETag, bytes) that `src/web/assets.rs` includes. No build step for
//! the dashboard itself: the files are served as written.
//!
//! Also records the git revision the binary is built from (`PICKET_GIT_REVISION`, shown by
//! `picket --version`): `unknown` outside a git checkout (a source tarball).

use std::fs;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for entry in rd.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn content_type(p: &Path) -> Option<&'static str> {
    Some(match p.extension()?.to_str()? {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "wav" => "audio/wav",
        _ => return None, // notes such as API.md are not served
    })
}

/// FNV-1a, 64 bits: a content fingerprint for the ETag (not a security boundary).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `git describe`-like: the short commit, `-dirty` when the tree has changes.
fn git_revision() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(rev) if !rev.is_empty() => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{rev}-dirty")
            } else {
                rev
            }
        }
        _ => "unknown".to_string(),
    }
}

fn main() {
    println!("cargo:rustc-env=PICKET_GIT_REVISION={}", git_revision());
    // A new commit or checkout changes HEAD (or the ref it points to).
    for f in [".git/HEAD", ".git/index"] {
        if Path::new(f).exists() {
            println!("cargo:rerun-if-changed={f}");
        }
    }
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("web");
    println!("cargo:rerun-if-changed=web");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    let mut table = String::from("&[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let Some(ct) = content_type(f) else { continue };
        let url = format!(
            "/{}",
            f.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        );
        let etag = format!("\"{:016x}\"", fnv1a(&fs::read(f).unwrap()));
        table.push_str(&format!(
            "    ({url:?}, {ct:?}, {etag:?}, include_bytes!({:?}) as &[u8]),\n",
            f.display().to_string()
        ));
    }
    table.push(']');
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("assets.rs");
    fs::write(out, table).unwrap();
}
