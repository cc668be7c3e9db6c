//! Errors that point into a file: every problem in a rule, check or configuration file
//! is reported with `file:line:column`, and all of a file's problems at once.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in a file Picket reads (a rule, a check, picket.yaml): where it is and
/// what is wrong. Line and column are 1-based; 0 when unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl CompileError {
    /// As the API shows it: the file's name only (the server's paths are none of a
    /// client's business), line and column null when unknown.
    pub fn to_json(&self) -> serde_json::Value {
        let file = self
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        serde_json::json!({
            "file": file,
            "message": self.message,
            "line": (self.line > 0).then_some(self.line),
            "column": (self.column > 0).then_some(self.column),
        })
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

impl std::error::Error for CompileError {}

/// A YAML file that does not parse into its spec, as a [`CompileError`] at serde-saphyr's
/// position. `fallback` is the message when serde-saphyr gives none.
pub fn yaml_error(e: &serde_saphyr::Error, file: &Path, fallback: &str) -> CompileError {
    let (line, column) = e
        .location()
        .map_or((0, 0), |l| (l.line() as u32, l.column() as u32));
    let message = e.to_string();
    // serde-saphyr's rendering already says where; keep the first line, the position is ours.
    let first = message.lines().next().unwrap_or(fallback);
    // Its own "error: line N column M:" prefix repeats what our prefix says.
    let message = match first
        .strip_prefix("error: ")
        .and_then(|r| r.split_once(": "))
    {
        Some((pos, rest)) if pos.starts_with("line ") => rest.to_string(),
        _ => first.to_string(),
    };
    CompileError {
        file: file.to_path_buf(),
        line,
        column,
        message,
    }
}

/// Files and their text.
pub type FileTexts = Vec<(PathBuf, String)>;

/// The text of every file of `dir` with one of `extensions`, in name order; a file that
/// cannot be read is an error naming it (the others are still read). Rules and checks
/// load their directories with it.
pub fn read_dir_texts(
    dir: &Path,
    extensions: &[&str],
) -> std::io::Result<(FileTexts, Vec<CompileError>)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| extensions.contains(&e))
        })
        .collect();
    paths.sort();
    let mut texts = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        match std::fs::read_to_string(&p) {
            Ok(t) => texts.push((p, t)),
            Err(e) => errors.push(CompileError {
                file: p,
                line: 0,
                column: 0,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    Ok((texts, errors))
}
