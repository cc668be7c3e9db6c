//! Ruleset bundles: a whole rule directory as one versioned YAML or JSON document, to share
//! rules between hosts (`picket rules export` / `picket rules import`).
//!
//! Import is all-or-nothing: every rule of the bundle must compile, ids must be unique, and
//! ids that already exist in the target directory are conflicts unless `--replace`; only
//! then are files written (each through a temporary file and a rename, so `picket run`'s
//! watcher never reads half a file). `schemas/ruleset.schema.json` describes the format.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::load::DEFAULT_RULES;
use super::script::compile_file;

/// The bundle format version this build writes and reads.
pub const BUNDLE_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Format version: 1.
    pub picket_ruleset: u32,
    /// The rule files, by file name.
    pub rules: Vec<BundleRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleRule {
    /// A plain file name ending in .yaml, .yml or .rhai.
    pub file: String,
    /// The file's text, unchanged.
    pub source: String,
}

/// Rule files (name, text) of `dir`, or of the embedded defaults.
fn sources(dir: Option<&Path>) -> std::io::Result<Vec<(String, String)>> {
    let Some(dir) = dir else {
        let mut all: Vec<(String, String)> = DEFAULT_RULES
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        all.sort();
        return Ok(all);
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_file() && valid_file_name(&name) {
            out.push((name, std::fs::read_to_string(&path)?));
        }
    }
    out.sort();
    Ok(out)
}

/// Creates `dir` with the built-in default rules in it; how many were written.
pub fn seed_defaults(dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let all = sources(None)?;
    for (name, text) in &all {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(all.len())
}

/// A bundle of the rules in `dir` (the built-in ruleset when `None`).
pub fn export(dir: Option<&Path>) -> std::io::Result<Bundle> {
    Ok(Bundle {
        picket_ruleset: BUNDLE_VERSION,
        rules: sources(dir)?
            .into_iter()
            .map(|(file, source)| BundleRule { file, source })
            .collect(),
    })
}

pub fn valid_file_name(name: &str) -> bool {
    let ext_ok = [".yaml", ".yml", ".rhai"]
        .iter()
        .any(|e| name.ends_with(e) && name.len() > e.len());
    ext_ok
        && !name.starts_with('.')
        && name.len() <= 128
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Parses a bundle (YAML or JSON: JSON is YAML) and checks every rule; returns the rule ids
/// by file, or every problem found.
pub fn parse_and_check(
    text: &str,
    origin: &Path,
) -> Result<(Bundle, BTreeMap<String, String>), Vec<String>> {
    let bundle: Bundle = serde_saphyr::from_str(text).map_err(|e| {
        vec![format!(
            "{}: not a ruleset bundle: {}",
            origin.display(),
            e.to_string().lines().next().unwrap_or("")
        )]
    })?;
    let mut problems = Vec::new();
    if bundle.picket_ruleset != BUNDLE_VERSION {
        problems.push(format!(
            "{}: bundle version {} is not supported (this Picket reads version {BUNDLE_VERSION})",
            origin.display(),
            bundle.picket_ruleset
        ));
    }
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut files = std::collections::BTreeSet::new();
    for r in &bundle.rules {
        if !valid_file_name(&r.file) {
            problems.push(format!(
                "`{}`: a rule file name must be a plain name ending in .yaml, .yml or .rhai",
                r.file
            ));
            continue;
        }
        if !files.insert(r.file.clone()) {
            problems.push(format!("`{}` appears twice in the bundle", r.file));
            continue;
        }
        match compile_file(&r.source, Path::new(&r.file)) {
            Ok(rule) => {
                if let Some(other) = ids
                    .iter()
                    .find(|(_, id)| **id == rule.id)
                    .map(|(f, _)| f.clone())
                {
                    problems.push(format!(
                        "rule id `{}` is used by both {other} and {}",
                        rule.id, r.file
                    ));
                }
                ids.insert(r.file.clone(), rule.id);
            }
            Err(errs) => problems.extend(errs.iter().map(|e| format!("in the bundle: {e}"))),
        }
    }
    if problems.is_empty() {
        Ok((bundle, ids))
    } else {
        Err(problems)
    }
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// The files written, as paths.
    pub written: Vec<String>,
    /// The ids of the rules imported, by file name.
    pub ids: Vec<String>,
    /// Files removed because `--replace` moved their rule id to another file name.
    pub removed: Vec<String>,
}

/// Imports a checked bundle into `dir`. Without `replace`, a rule id that already exists in
/// `dir` is a conflict and nothing is written.
pub fn import(
    text: &str,
    origin: &Path,
    dir: &Path,
    replace: bool,
) -> Result<Imported, Vec<String>> {
    let (bundle, ids) = parse_and_check(text, origin)?;
    std::fs::create_dir_all(dir)
        .map_err(|e| vec![format!("cannot create {}: {e}", dir.display())])?;
    let existing = super::load::load_dir(dir)
        .map_err(|e| vec![format!("cannot read {}: {e}", dir.display())])?;
    let mut conflicts = Vec::new();
    let mut to_remove = Vec::new();
    for (file, id) in &ids {
        if let Some(r) = existing.rules.iter().find(|r| &r.id == id) {
            let their = r
                .file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !replace {
                conflicts.push(format!(
                    "rule id `{id}` already exists in {their} (use --replace to overwrite it)"
                ));
            } else if &their != file {
                to_remove.push(r.file.clone());
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(conflicts);
    }
    // Write every file beside its target first; rename only when all are written.
    let mut temps: Vec<(PathBuf, PathBuf)> = Vec::new();
    for r in &bundle.rules {
        let target = dir.join(&r.file);
        let temp = dir.join(format!(".{}.import", r.file));
        if let Err(e) = std::fs::write(&temp, &r.source) {
            for (t, _) in &temps {
                let _ = std::fs::remove_file(t);
            }
            let _ = std::fs::remove_file(&temp);
            return Err(vec![format!(
                "cannot write {}: {e}; nothing was imported",
                temp.display()
            )]);
        }
        temps.push((temp, target));
    }
    let mut done = Imported::default();
    for (temp, target) in temps {
        std::fs::rename(&temp, &target).map_err(|e| {
            vec![format!(
                "cannot rename {} to {}: {e}",
                temp.display(),
                target.display()
            )]
        })?;
        done.written.push(target.display().to_string());
    }
    done.ids = ids.into_values().collect();
    for old in to_remove {
        if std::fs::remove_file(&old).is_ok() {
            done.removed.push(old.display().to_string());
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle_text(rules: &[(&str, &str)]) -> String {
        let b = Bundle {
            picket_ruleset: 1,
            rules: rules
                .iter()
                .map(|(f, s)| BundleRule {
                    file: f.to_string(),
                    source: s.to_string(),
                })
                .collect(),
        };
        serde_json::to_string(&b).unwrap()
    }

    const GOOD: &str = "id: good\ntitle: t\nseverity: low\nmatch: { type: ROOT_LOGIN }\n";

    #[test]
    fn the_default_ruleset_round_trips_through_a_bundle() {
        let dir = tempfile::tempdir().unwrap();
        let text = serde_json::to_string(&export(None).unwrap()).unwrap();
        let done = import(&text, Path::new("b.json"), dir.path(), false).unwrap();
        assert_eq!(done.written.len(), DEFAULT_RULES.len());
        let loaded = super::super::load::load_dir(dir.path()).unwrap();
        assert!(loaded.errors.is_empty());
        assert_eq!(loaded.rules.len(), DEFAULT_RULES.len());
        assert_eq!(export(Some(dir.path())).unwrap(), export(None).unwrap());
    }

    #[test]
    fn an_invalid_bundle_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let text = bundle_text(&[
            ("good.yaml", GOOD),
            ("bad.yaml", "id: bad\ntitle: t\nseverity: hgh\n"),
        ]);
        let err = import(&text, Path::new("b.json"), dir.path(), false).unwrap_err();
        assert!(err.iter().any(|e| e.contains("bad.yaml:3:")), "{err:?}");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing written"
        );
    }

    #[test]
    fn conflicts_are_reported_by_id_and_replace_resolves_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mine.yaml"), GOOD).unwrap();
        let text = bundle_text(&[("theirs.yaml", &GOOD.replace("title: t", "title: theirs"))]);
        let err = import(&text, Path::new("b.json"), dir.path(), false).unwrap_err();
        assert!(err[0].contains("rule id `good` already exists"), "{err:?}");
        assert!(!dir.path().join("theirs.yaml").exists());
        let done = import(&text, Path::new("b.json"), dir.path(), true).unwrap();
        assert_eq!(done.removed.len(), 1);
        assert!(!dir.path().join("mine.yaml").exists() && dir.path().join("theirs.yaml").exists());
    }

    #[test]
    fn hostile_bundles_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (file, why) in [
            ("../escape.yaml", "plain name"),
            ("/etc/x.yaml", "plain name"),
            (".hidden.yaml", "plain name"),
            ("x.sh", "plain name"),
        ] {
            let err = import(
                &bundle_text(&[(file, GOOD)]),
                Path::new("b.json"),
                dir.path(),
                false,
            )
            .unwrap_err();
            assert!(err[0].contains(why), "{file}: {err:?}");
        }
        let err = import(
            &bundle_text(&[("a.yaml", GOOD), ("b.yaml", GOOD)]),
            Path::new("b.json"),
            dir.path(),
            false,
        )
        .unwrap_err();
        assert!(err[0].contains("used by both"), "{err:?}");
        let err = import(
            r#"{"picket_ruleset": 2, "rules": []}"#,
            Path::new("b.json"),
            dir.path(),
            false,
        )
        .unwrap_err();
        assert!(err[0].contains("version 2"), "{err:?}");
        let err = import(
            r#"{"picket_ruleset": 1, "rules": [], "extra": 1}"#,
            Path::new("b.json"),
            dir.path(),
            false,
        )
        .unwrap_err();
        assert!(err[0].contains("not a ruleset bundle"), "{err:?}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
