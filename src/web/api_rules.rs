//! Handlers for the rules: list with status, source, validate, test, save, enable and
//! disable, export and import. Saving writes the file into the rule directory and lets
//! hot reload take it in, exactly as an editor's save would.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use warp::http::HeaderValue;
use warp::Reply;

use super::gate::Principal;
use super::http::{self as h, ApiError, ApiResult, Detail, Req};
use super::WebState;
use crate::bus::board::{file_name, summary};
use crate::engine::bundle;
use crate::engine::compile::{CompileError, Rule};
use crate::engine::load::DEFAULT_RULES;
use crate::engine::script::compile_file;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceBody {
    file: String,
    source: String,
}

fn details(errors: &[CompileError]) -> Vec<Detail> {
    errors
        .iter()
        .map(|e| Detail {
            message: e.message.clone(),
            line: (e.line > 0).then_some(e.line),
            column: (e.column > 0).then_some(e.column),
        })
        .collect()
}

fn check_file_name(name: &str) -> Result<(), ApiError> {
    if bundle::valid_file_name(name) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "file `{name}`: use a plain name ending in .yaml, .yml or .rhai"
        )))
    }
}

fn compile(body: &SourceBody) -> Result<Rule, Vec<CompileError>> {
    compile_file(&body.source, Path::new(&body.file))
}

pub async fn list(state: &WebState) -> ApiResult {
    let hits = state
        .db
        .run(|c| Ok(crate::store::alerts::per_rule(c)?))
        .await?;
    let view = state.rules.read();
    let items: Vec<_> = view
        .ruleset
        .rules()
        .iter()
        .map(|r| summary(r, &view.scripts, hits.get(&r.id).copied().unwrap_or(0)))
        .collect();
    let errors: Vec<_> = view.errors.iter().map(CompileError::to_json).collect();
    h::json(
        &json!({ "items": items, "next_cursor": null, "errors": errors,
                     "editable": view.dir.is_some() }),
    )
}

/// The text of the file a rule came from.
fn source_of(rule: &Rule, dir: Option<&Path>) -> Result<String, ApiError> {
    let name = file_name(&rule.file);
    match dir {
        Some(_) => std::fs::read_to_string(&rule.file)
            .map_err(|e| ApiError::internal(format!("reading {}: {e}", rule.file.display()))),
        None => DEFAULT_RULES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.to_string())
            .ok_or_else(|| ApiError::not_found(format!("no source for {name}"))),
    }
}

fn find(state: &WebState, id: &str) -> Result<(Arc<Rule>, Option<PathBuf>), ApiError> {
    let view = state.rules.read();
    let rule = view
        .ruleset
        .rules()
        .iter()
        .find(|r| r.id == id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no rule with id `{id}`")))?;
    Ok((rule, view.dir.clone()))
}

/// How many alerts rule `id` has raised (its hit count).
async fn hits_of(state: &WebState, id: &str) -> Result<i64, ApiError> {
    let id = id.to_string();
    state
        .db
        .run(move |c| {
            Ok(
                c.query_row("SELECT count(*) FROM alerts WHERE rule = ?1", [id], |r| {
                    r.get::<_, i64>(0)
                })?,
            )
        })
        .await
}

pub async fn get(state: &WebState, id: &str) -> ApiResult {
    let (rule, dir) = find(state, id)?;
    let hits = hits_of(state, &rule.id).await?;
    let source = source_of(&rule, dir.as_deref())?;
    let s = summary(&rule, &state.rules.read().scripts, hits);
    let mut v = serde_json::to_value(s).map_err(ApiError::internal)?;
    v["source"] = json!(source);
    h::json(&v)
}

pub fn validate(req: &Req) -> ApiResult {
    let body: SourceBody = req.json()?;
    check_file_name(&body.file)?;
    match compile(&body) {
        Ok(_) => h::json(&json!({ "ok": true, "errors": [] })),
        Err(errs) => h::json(&json!({ "ok": false, "errors": details(&errs) })),
    }
}

pub fn test(req: &Req) -> ApiResult {
    let body: SourceBody = req.json()?;
    check_file_name(&body.file)?;
    let rule = compile(&body)
        .map_err(|errs| ApiError::invalid("the rule does not compile", details(&errs)))?;
    let outcomes = crate::engine::ruletest::run(&Arc::new(rule));
    let cases: Vec<_> = outcomes
        .iter()
        .map(|o| {
            json!({ "rule": o.rule, "name": o.test, "ok": o.failure.is_none(),
                         "message": o.failure.clone().unwrap_or_else(|| "passed".into()) })
        })
        .collect();
    let ok = outcomes.iter().all(|o| o.failure.is_none());
    h::json(&json!({ "ok": ok, "cases": cases }))
}

fn rule_dir(state: &WebState) -> Result<PathBuf, ApiError> {
    state.rules.read().dir.clone().ok_or_else(|| {
        ApiError::conflict(
            "Picket runs the built-in rules, which cannot be edited: start it with --rules DIR",
            Vec::new(),
        )
    })
}

/// Writes `text` to `dir/file` the way editors do: a temporary file, then a rename, so the
/// watcher never reads half a file.
fn write_atomically(dir: &Path, file: &str, text: &str) -> Result<(), ApiError> {
    let temp = dir.join(format!(".{file}.saving"));
    std::fs::write(&temp, text)
        .and_then(|_| std::fs::rename(&temp, dir.join(file)))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            ApiError::internal(format!("saving {file} in {}: {e}", dir.display()))
        })
}

pub async fn save(state: &WebState, req: &Req, who: &Principal, id: &str) -> ApiResult {
    let dir = rule_dir(state)?;
    let body: SourceBody = req.json()?;
    check_file_name(&body.file)?;
    let rule = compile(&body).map_err(|errs| {
        ApiError::invalid(
            "the rule does not compile; nothing was saved",
            details(&errs),
        )
    })?;
    let existing = state
        .rules
        .read()
        .ruleset
        .rules()
        .iter()
        .find(|r| r.id == rule.id)
        .cloned();
    if id == "new" {
        if let Some(r) = &existing {
            return Err(ApiError::conflict(
                format!(
                    "rule id `{}` already exists in {}",
                    rule.id,
                    file_name(&r.file)
                ),
                Vec::new(),
            ));
        }
        if dir.join(&body.file).exists() {
            return Err(ApiError::conflict(
                format!("a file named {} already exists", body.file),
                Vec::new(),
            ));
        }
    } else {
        if rule.id != id {
            return Err(ApiError::invalid(
                format!("the source's id is `{}`, not `{id}`: ids are not renamed in place; save it as a new rule", rule.id),
                Vec::new(),
            ));
        }
        let Some(r) = &existing else {
            return Err(ApiError::not_found(format!(
                "no rule with id `{id}` (use /api/rules/new)"
            )));
        };
        if file_name(&r.file) != body.file {
            return Err(ApiError::conflict(
                format!(
                    "rule `{id}` lives in {}, not {}",
                    file_name(&r.file),
                    body.file
                ),
                Vec::new(),
            ));
        }
    }
    write_atomically(&dir, &body.file, &body.source)?;
    super::api::record(
        state,
        req,
        who,
        "rule.save",
        format!("rule {}", rule.id),
        Some(format!("{} ({} bytes)", body.file, body.source.len())),
    )
    .await?;
    let hits = hits_of(state, &rule.id).await?;
    h::json(&summary(&rule, &state.rules.read().scripts, hits))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnabledBody {
    enabled: bool,
}

/// `text` with its top-level `enabled` set: the YAML key, or the Rhai META entry.
fn with_enabled(text: &str, rhai: bool, enabled: bool) -> Option<String> {
    let value = if enabled { "true" } else { "false" };
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let key_at = |l: &str| {
        if rhai {
            l.trim_start().starts_with("enabled:")
        } else {
            l.starts_with("enabled:")
        }
    };
    if let Some(i) = lines.iter().position(|l| key_at(l)) {
        let indent: String = lines[i].chars().take_while(|c| c.is_whitespace()).collect();
        lines[i] = if rhai {
            format!("{indent}enabled: {value},")
        } else {
            format!("enabled: {value}")
        };
    } else {
        let id_at = lines.iter().position(|l| {
            if rhai {
                l.trim_start().starts_with("id:")
            } else {
                l.starts_with("id:")
            }
        })?;
        let indent: String = lines[id_at]
            .chars()
            .take_while(|c| c.is_whitespace())
            .collect();
        let line = if rhai {
            format!("{indent}enabled: {value},")
        } else {
            format!("enabled: {value}")
        };
        lines.insert(id_at + 1, line);
    }
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    Some(out)
}

pub async fn set_enabled(state: &WebState, req: &Req, who: &Principal, id: &str) -> ApiResult {
    let dir = rule_dir(state)?;
    let body: EnabledBody = req.json()?;
    let (rule, _) = find(state, id)?;
    let file = file_name(&rule.file);
    let text = source_of(&rule, Some(&dir))?;
    let rhai = file.ends_with(".rhai");
    let patched = with_enabled(&text, rhai, body.enabled)
        .filter(|t| compile_file(t, Path::new(&file)).is_ok_and(|r| r.enabled == body.enabled))
        .ok_or_else(|| {
            ApiError::invalid(
                format!("cannot set `enabled` in {file} automatically: edit its source"),
                Vec::new(),
            )
        })?;
    write_atomically(&dir, &file, &patched)?;
    super::api::record(
        state,
        req,
        who,
        if body.enabled {
            "rule.enable"
        } else {
            "rule.disable"
        },
        format!("rule {id}"),
        Some(file.clone()),
    )
    .await?;
    let hits = hits_of(state, &rule.id).await?;
    let mut s = summary(&rule, &state.rules.read().scripts, hits);
    s.enabled = body.enabled;
    s.status = if body.enabled { "active" } else { "disabled" };
    h::json(&s)
}

pub fn export(state: &WebState, req: &Req) -> ApiResult {
    let dir = state.rules.read().dir.clone();
    let b = bundle::export(dir.as_deref()).map_err(ApiError::internal)?;
    let (text, ct, ext) = match req.param("format").unwrap_or("yaml") {
        "json" => (
            serde_json::to_string_pretty(&b).map_err(ApiError::internal)? + "\n",
            "application/json",
            "json",
        ),
        "yaml" => (
            serde_saphyr::to_string(&b).map_err(ApiError::internal)?,
            "application/yaml",
            "yaml",
        ),
        other => {
            return Err(ApiError::bad_request(format!(
                "format `{other}`: use yaml or json"
            )))
        }
    };
    let mut r = warp::reply::with_header(text, "content-type", ct).into_response();
    r.headers_mut().insert(
        "content-disposition",
        HeaderValue::from_str(&format!("attachment; filename=\"picket-rules.{ext}\""))
            .map_err(ApiError::internal)?,
    );
    Ok(r)
}

pub async fn import(state: &WebState, req: &Req, who: &Principal) -> ApiResult {
    let dir = rule_dir(state)?;
    let text = req.body_text()?.to_string();
    let replace = matches!(req.param("replace"), Some("true" | "1" | "yes"));
    let result = bundle::import(&text, Path::new("uploaded bundle"), &dir, replace);
    match result {
        Ok(done) => {
            super::api::record(
                state,
                req,
                who,
                "rules.import",
                format!("{} rules", done.ids.len()),
                Some(done.ids.join(", ")),
            )
            .await?;
            // File names only: the server's paths are none of the client's business.
            let removed: Vec<String> = done
                .removed
                .iter()
                .filter_map(|p| Path::new(p).file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .collect();
            h::json(&json!({ "imported": done.ids, "removed": removed }))
        }
        Err(problems) => {
            let details: Vec<Detail> = problems
                .iter()
                .map(|m| Detail {
                    message: m.clone(),
                    line: None,
                    column: None,
                })
                .collect();
            if problems.iter().all(|p| p.contains("already exists")) {
                Err(ApiError::conflict("rule ids already exist; nothing was imported (import with replace to overwrite)", details))
            } else {
                Err(ApiError::invalid(
                    "the bundle is not valid; nothing was imported",
                    details,
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabled_is_set_in_yaml_and_rhai() {
        let y = "id: x\ntitle: t\nenabled: true\n";
        assert_eq!(
            with_enabled(y, false, false).unwrap(),
            "id: x\ntitle: t\nenabled: false\n"
        );
        let y2 = "# c\nid: x\ntitle: t\n";
        assert_eq!(
            with_enabled(y2, false, false).unwrap(),
            "# c\nid: x\nenabled: false\ntitle: t\n"
        );
        let r = "const META = #{\n    id: \"x\",\n    title: \"t\",\n};\n";
        assert_eq!(
            with_enabled(r, true, false).unwrap(),
            "const META = #{\n    id: \"x\",\n    enabled: false,\n    title: \"t\",\n};\n"
        );
        assert!(with_enabled("nothing", false, true).is_none());
    }
}
