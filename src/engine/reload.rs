//! A rule directory that can be re-read while Picket runs.
//!
//! Each file is compiled on its own. A file whose text did not change keeps its compiled
//! rule (the same `Arc`, so the engine keeps that rule's state); a file that no longer
//! compiles keeps its last good rule running and reports its errors; a deleted file's rule
//! goes. The rule watcher calls [`RuleDir::rescan`] after a debounced change of the directory
//! ([`crate::base::watch::watch_dir`]).

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::compile::{CompileError, Rule};
use super::runtime::RuleSet;
use super::script::compile_file;

#[derive(Debug)]
struct FileState {
    text_hash: u64,
    /// The last version of this file that compiled.
    rule: Option<Arc<Rule>>,
    errors: Vec<CompileError>,
}

/// The rules of one directory, file by file.
#[derive(Debug)]
pub struct RuleDir {
    dir: PathBuf,
    files: BTreeMap<PathBuf, FileState>,
}

/// What a rescan found.
#[derive(Debug)]
pub struct Scan {
    pub ruleset: Arc<RuleSet>,
    /// Every current error, including those of files whose last good version still runs.
    pub errors: Vec<CompileError>,
    /// Whether any rule was added, changed or removed.
    pub changed: bool,
}

fn hash_text(s: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

impl RuleDir {
    pub fn new(dir: &Path) -> RuleDir {
        RuleDir {
            dir: dir.to_path_buf(),
            files: BTreeMap::new(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Re-reads the directory.
    pub fn rescan(&mut self) -> std::io::Result<Scan> {
        let mut seen = Vec::new();
        let mut changed = false;
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let is_rule = matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "rhai")
            );
            // Editors' temporary and backup files (`.x.yaml.swp`, `x.yaml~`) end otherwise.
            if !is_rule
                || !path.is_file()
                || path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let h = hash_text(&text);
            seen.push(path.clone());
            if self.files.get(&path).is_some_and(|f| f.text_hash == h) {
                continue;
            }
            let state = self.files.entry(path.clone()).or_insert(FileState {
                text_hash: 0,
                rule: None,
                errors: Vec::new(),
            });
            state.text_hash = h;
            match compile_file(&text, &path) {
                Ok(rule) => {
                    state.rule = Some(Arc::new(rule));
                    state.errors.clear();
                    changed = true;
                }
                Err(errs) => state.errors = errs,
            }
        }
        let before = self.files.len();
        self.files.retain(|p, _| seen.contains(p));
        changed |= self.files.len() != before;
        Ok(self.current(changed))
    }

    fn current(&self, changed: bool) -> Scan {
        let mut rules: Vec<Arc<Rule>> = Vec::new();
        let mut errors = Vec::new();
        for (path, f) in &self.files {
            errors.extend(f.errors.iter().cloned());
            if let Some(r) = &f.rule {
                if let Some(first) = rules.iter().find(|x| x.id == r.id) {
                    errors.push(CompileError {
                        file: path.clone(),
                        line: 1,
                        column: 1,
                        message: format!(
                            "rule id `{}` is already used by {}",
                            r.id,
                            first.file.display()
                        ),
                    });
                } else {
                    rules.push(r.clone());
                }
            }
        }
        Scan {
            ruleset: Arc::new(RuleSet::new(rules)),
            errors,
            changed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "id: r\ntitle: t\nseverity: low\nmatch: { type: ROOT_LOGIN }\n";

    #[test]
    fn unchanged_files_keep_their_rule_and_broken_edits_keep_the_last_good_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("r.yaml"), RULE).unwrap();
        let mut rd = RuleDir::new(dir.path());
        let first = rd.rescan().unwrap();
        assert!(first.changed && first.errors.is_empty());
        let again = rd.rescan().unwrap();
        assert!(!again.changed);
        assert!(
            Arc::ptr_eq(&first.ruleset.rules()[0], &again.ruleset.rules()[0]),
            "same compiled rule"
        );

        std::fs::write(
            dir.path().join("r.yaml"),
            "id: r\ntitle: t\nseverity: loww\n",
        )
        .unwrap();
        let broken = rd.rescan().unwrap();
        assert!(!broken.changed);
        assert_eq!(broken.ruleset.len(), 1, "the last good version stays");
        assert!(
            broken.errors[0].to_string().contains("r.yaml:3:"),
            "{}",
            broken.errors[0]
        );

        std::fs::remove_file(dir.path().join("r.yaml")).unwrap();
        let gone = rd.rescan().unwrap();
        assert!(gone.changed && gone.ruleset.is_empty() && gone.errors.is_empty());
    }
}
