//! Configuration checks written in Rhai (`checks/*.rhai`), for logic a YAML assertion
//! cannot express (parsing crontab lines, reading a firewall ruleset).
//!
//! A script declares `const META = #{ id, title, category, severity, remediation,
//! description }` and `fn check(host)`, which returns
//! `#{ status: "PASS"|"WARN"|"FAIL"|"NOT_APPLICABLE"|"ERROR", evidence: [...] }`, each
//! evidence item a string or `#{ file, line, detail }`.
//!
//! The script runs in the rules' sandbox ([`crate::base::sandbox::limited_engine`]: no
//! `eval`, no modules, no file, network or process functions, the same operation and size
//! limits) with one addition, the read-only `host` object whose methods are the
//! [`Host`] API: `read`, `stat`, `glob`, `users`, `groups`, `sshd`, `ports`, `run` (the
//! [`commands`] allowlist) and `live`. A failure (a thrown error, a limit reached, a bad
//! return value) is the check's ERROR, with `file:line:column`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use rhai::{Array, CallFnOptions, Dynamic, EvalAltResult, Map, AST};

use super::host::{FileKind, Host, HostError};
use super::kinds::{Assertion, Outcome};
use super::spec::{Check, CATEGORIES};
use super::{commands, ports, sshd, Evidence, Status};
use crate::base::diag::CompileError;
use crate::base::sandbox::{compile_meta, describe_error, limited_engine, meta_error};
use crate::model::Severity;

/// Evidence items a script may return; more are counted, not kept.
pub const MAX_EVIDENCE: usize = 200;

/// Bytes of a command's stdout and stderr a script gets: together under the sandbox's
/// string limit ([`crate::base::sandbox::MAX_STRING_SIZE`]), which counts every string
/// in the returned map, with room for the other fields.
const SCRIPT_STDOUT: usize = 48 * 1024;
const SCRIPT_STDERR: usize = 8 * 1024;

/// `s` cut to at most `max` bytes (at a character boundary), and whether it was cut.
fn fit(mut s: String, max: usize) -> (String, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    (s, true)
}

/// The META keys a check script may set.
const META_KEYS: &[&str] = &[
    "id",
    "title",
    "category",
    "severity",
    "remediation",
    "description",
];

/// A compiled check script.
pub struct ScriptCheck {
    engine: rhai::Engine,
    ast: AST,
    file: PathBuf,
    /// Where `fn check` starts: the position of a failure Rhai does not place.
    check_line: usize,
}

impl fmt::Debug for ScriptCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScriptCheck({})", self.file.display())
    }
}

/// The `host` object a script gets.
#[derive(Clone)]
struct HostApi(Host);

type Res<T> = Result<T, Box<EvalAltResult>>;

fn fail<T>(e: impl fmt::Display) -> Res<T> {
    Err(e.to_string().into())
}

fn kind_name(k: FileKind) -> &'static str {
    match k {
        FileKind::File => "file",
        FileKind::Dir => "dir",
        FileKind::Symlink => "symlink",
        FileKind::Other => "other",
    }
}

fn map(pairs: impl IntoIterator<Item = (&'static str, Dynamic)>) -> Dynamic {
    let m: Map = pairs.into_iter().map(|(k, v)| (k.into(), v)).collect();
    Dynamic::from_map(m)
}

fn int(n: impl Into<i64>) -> Dynamic {
    Dynamic::from_int(n.into())
}

/// A host error as a script error; "not found" is not one (callers return `()`).
fn host_err(e: HostError) -> Box<EvalAltResult> {
    e.to_string().into()
}

/// The engine with the host API registered.
fn engine() -> rhai::Engine {
    let mut e = limited_engine();
    e.register_type_with_name::<HostApi>("Host");
    e.register_fn("read", |h: &mut HostApi, path: &str| -> Res<Dynamic> {
        match h.0.read_optional(path) {
            Ok(Some(t)) => Ok(t.into()),
            Ok(None) => Ok(Dynamic::UNIT),
            Err(e) => Err(host_err(e)),
        }
    });
    e.register_fn("stat", |h: &mut HostApi, path: &str| -> Res<Dynamic> {
        let Some(st) = h.0.stat(path).map_err(host_err)? else {
            return Ok(Dynamic::UNIT);
        };
        Ok(map([
            ("mode", int(st.mode)),
            ("uid", int(st.uid)),
            ("gid", int(st.gid)),
            ("kind", kind_name(st.kind).into()),
            ("size", int(i64::try_from(st.size).unwrap_or(i64::MAX))),
        ]))
    });
    e.register_fn("glob", |h: &mut HostApi, pattern: &str| -> Res<Array> {
        let found = h.0.glob(pattern).map_err(host_err)?;
        Ok(found.into_iter().map(Dynamic::from).collect())
    });
    e.register_fn("users", |h: &mut HostApi| -> Res<Array> {
        let users = match h.0.users() {
            Ok(u) => u,
            Err(e) if e.is_not_found() => Vec::new(),
            Err(e) => return Err(host_err(e)),
        };
        Ok(users
            .into_iter()
            .map(|u| {
                map([
                    ("name", u.name.into()),
                    ("uid", int(u.uid)),
                    ("gid", int(u.gid)),
                    ("home", u.home.into()),
                    ("shell", u.shell.into()),
                    ("line", int(u.line)),
                ])
            })
            .collect())
    });
    e.register_fn("groups", |h: &mut HostApi| -> Res<Array> {
        let groups = match h.0.groups() {
            Ok(g) => g,
            Err(e) if e.is_not_found() => Vec::new(),
            Err(e) => return Err(host_err(e)),
        };
        Ok(groups
            .into_iter()
            .map(|g| {
                let members: Array = g.members.into_iter().map(Dynamic::from).collect();
                map([
                    ("name", g.name.into()),
                    ("gid", int(g.gid)),
                    ("members", Dynamic::from_array(members)),
                    ("line", int(g.line)),
                ])
            })
            .collect())
    });
    e.register_fn("sshd", |h: &mut HostApi, keyword: &str| -> Res<Dynamic> {
        let Some(cfg) = sshd::parse(&h.0).map_err(host_err)? else {
            return Ok(Dynamic::UNIT);
        };
        Ok(match cfg.effective(keyword) {
            Some(d) => map([
                ("value", d.value.clone().into()),
                ("file", d.file.clone().into()),
                ("line", int(d.line)),
                ("from_default", false.into()),
            ]),
            None => match sshd::default_value(keyword) {
                Some(v) => map([
                    ("value", v.into()),
                    ("file", sshd::SSHD_CONFIG.into()),
                    ("line", Dynamic::UNIT),
                    ("from_default", true.into()),
                ]),
                None => Dynamic::UNIT,
            },
        })
    });
    e.register_fn("ports", |h: &mut HostApi| -> Res<Array> {
        let list = ports::listening(&h.0).map_err(host_err)?;
        Ok(list
            .into_iter()
            .map(|p| {
                map([
                    ("proto", p.proto.into()),
                    ("address", p.address.to_string().into()),
                    ("port", int(p.port)),
                    ("uid", int(p.uid)),
                    ("exposed", p.is_exposed().into()),
                ])
            })
            .collect())
    });
    e.register_fn("run", |h: &mut HostApi, line: &str| -> Res<Dynamic> {
        match commands::run(&h.0, line) {
            Ok(o) => {
                let (stdout, cut_out) = fit(o.stdout, SCRIPT_STDOUT);
                let (stderr, cut_err) = fit(o.stderr, SCRIPT_STDERR);
                Ok(map([
                    ("ran", true.into()),
                    ("command", o.line.into()),
                    ("code", o.code.map_or(Dynamic::UNIT, int)),
                    ("stdout", stdout.into()),
                    ("stderr", stderr.into()),
                    ("truncated", (o.truncated || cut_out || cut_err).into()),
                ]))
            }
            // Asking for a command outside the allowlist is a bug in the script.
            Err(e @ commands::CommandError::NotAllowed(_)) => fail(e),
            Err(e) => Ok(map([
                ("ran", false.into()),
                ("command", line.to_string().into()),
                ("reason", e.to_string().into()),
            ])),
        }
    });
    e.register_fn("live", |h: &mut HostApi| h.0.is_running_system());
    e
}

fn text(v: &Dynamic) -> String {
    if v.is_string() {
        v.clone().into_string().unwrap_or_default()
    } else {
        v.to_string()
    }
}

/// Compiles a check script; every problem is reported with its position.
pub fn compile(source: &str, file: &Path) -> Result<Check, Vec<CompileError>> {
    let engine = engine();
    let (ast, meta, meta_line) = compile_meta(&engine, source, file)?;
    let mut errs = Vec::new();
    if !ast
        .iter_functions()
        .any(|f| f.name == "check" && f.params.len() == 1)
    {
        errs.push(meta_error(file, 1, "no `fn check(host)`"));
    }
    let mut err = |m: String| errs.push(meta_error(file, meta_line, m));
    for k in meta.keys() {
        if !META_KEYS.contains(&k.as_str()) {
            err(format!(
                "META.{k}: unknown key; use {}",
                META_KEYS.join(", ")
            ));
        }
    }
    let get = |k: &str| meta.get(k).map(text).unwrap_or_default();
    let id = get("id");
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        err(format!(
            "META.id `{id}` must be lowercase letters, digits and `-`"
        ));
    }
    let title = get("title");
    if title.is_empty() {
        err("META.title is missing".into());
    }
    let category = get("category");
    if !CATEGORIES.contains(&category.as_str()) {
        err(format!(
            "META.category `{category}`: use one of {}",
            CATEGORIES.join(", ")
        ));
    }
    let severity = match Severity::from_str(&get("severity")) {
        Ok(s) => s,
        Err(e) => {
            err(format!("META.severity: {e}"));
            Severity::Low
        }
    };
    let remediation = get("remediation").trim().to_string();
    if remediation.is_empty() {
        err("META.remediation is missing".into());
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let check_line = source
        .lines()
        .position(|l| l.trim_start().starts_with("fn check"))
        .map_or(0, |i| i + 1);
    let script = ScriptCheck {
        engine,
        ast: ast.clone_functions_only(),
        file: file.to_path_buf(),
        check_line,
    };
    Ok(Check {
        id,
        title,
        category,
        severity,
        description: get("description"),
        remediation,
        assertion: Assertion::Script(Arc::new(script)),
        file: file.to_path_buf(),
    })
}

impl ScriptCheck {
    /// Runs `check(host)`; a failure is an ERROR naming the script's position.
    pub fn evaluate(&self, host: &Host) -> Outcome {
        let opts = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let r = self.engine.call_fn_with_options::<Dynamic>(
            opts,
            &mut rhai::Scope::new(),
            &self.ast,
            "check",
            (Dynamic::from(HostApi(host.clone())),),
        );
        let result = r
            .map_err(|e| describe_error(&self.file, &e, self.check_line))
            .and_then(|v| {
                outcome_of(v)
                    .map_err(|m| format!("{}:{}:1: {m}", self.file.display(), self.check_line))
            });
        result.unwrap_or_else(|m| Outcome::note(Status::Error, m))
    }
}

/// The script's return value as an outcome.
fn outcome_of(v: Dynamic) -> Result<Outcome, String> {
    let m = v
        .try_cast::<Map>()
        .ok_or("check must return #{ status, evidence }")?;
    let mut status = None;
    let mut evidence = Vec::new();
    for (k, v) in m {
        match k.as_str() {
            "status" => {
                status = Some(match text(&v).to_ascii_uppercase().as_str() {
                    "PASS" => Status::Pass,
                    "WARN" => Status::Warn,
                    "FAIL" => Status::Fail,
                    "NOT_APPLICABLE" => Status::NotApplicable,
                    "ERROR" => Status::Error,
                    other => {
                        return Err(format!(
                            "status `{other}`: use PASS, WARN, FAIL, NOT_APPLICABLE or ERROR"
                        ))
                    }
                })
            }
            "evidence" => {
                let items = if v.is_array() {
                    v.into_array().unwrap_or_default()
                } else {
                    vec![v]
                };
                let total = items.len();
                for item in items.into_iter().take(MAX_EVIDENCE) {
                    evidence.push(evidence_of(item)?);
                }
                if total > MAX_EVIDENCE {
                    evidence.push(Evidence::detail(format!(
                        "… and {} more",
                        total - MAX_EVIDENCE
                    )));
                }
            }
            other => {
                return Err(format!(
                    "unknown result key `{other}`: use status, evidence"
                ))
            }
        }
    }
    let status = status.ok_or("the result has no status")?;
    Ok(Outcome::new(status, evidence))
}

fn evidence_of(item: Dynamic) -> Result<Evidence, String> {
    if item.is_string() {
        return Ok(Evidence::detail(text(&item)));
    }
    let m = item
        .try_cast::<Map>()
        .ok_or("evidence items are strings or #{ file, line, detail }")?;
    let mut e = Evidence::detail("");
    for (k, v) in m {
        match k.as_str() {
            "file" if !v.is_unit() => e.file = Some(text(&v)),
            "line" if !v.is_unit() => {
                let n = v.as_int().map_err(|_| "evidence line must be an integer")?;
                e.line = Some(u32::try_from(n).map_err(|_| "evidence line out of range")?);
            }
            "detail" => e.detail = text(&v),
            "file" | "line" => {}
            other => {
                return Err(format!(
                    "unknown evidence key `{other}`: use file, line, detail"
                ))
            }
        }
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = "const META = #{ id: \"t\", title: \"T\", category: \"cron\", severity: \"high\", remediation: \"fix\" };\n";

    use super::super::host::fixture as host;

    fn run(body: &str, h: &Host) -> Outcome {
        let c = compile(&format!("{META}{body}"), Path::new("t.rhai")).unwrap();
        c.assertion.evaluate(h)
    }

    #[test]
    fn the_host_api_reads_under_the_root() {
        let (_t, h) = host(&[
            (
                "/etc/passwd",
                "root:x:0:0::/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/sh\n",
            ),
            ("/etc/group", "sudo:x:27:bob\n"),
            ("/etc/ssh/sshd_config", "\nPermitRootLogin no\n"),
            ("/etc/cron.d/a", "x"),
            ("/etc/cron.d/b", "y"),
        ]);
        let o = run(
            r#"fn check(host) {
                let u = host.users();
                let g = host.groups();
                let s = host.sshd("permitrootlogin");
                let d = host.sshd("X11Forwarding");
                let st = host.stat("/etc/cron.d");
                let ev = [
                    `${u.len()} ${u[1].name} ${u[1].uid} ${u[1].line}`,
                    `${g[0].members[0]}`,
                    #{ file: s.file, line: s.line, detail: s.value },
                    `${d.value} ${d.from_default}`,
                    `${st.kind} ${host.stat("/nope") == ()} ${host.read("/nope") == ()}`,
                    `${host.glob("/etc/cron.d/*")}`,
                    `${host.read("/etc/cron.d/a")} ${host.live()}`,
                    `${host.ports().len()}`,
                ];
                #{ status: "warn", evidence: ev }
            }"#,
            &h,
        );
        assert_eq!(o.status, Status::Warn, "{o:?}");
        let shown: Vec<String> = o.evidence.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            shown,
            [
                "2 bob 1000 2",
                "bob",
                "/etc/ssh/sshd_config:2: no",
                "no true",
                "dir true true",
                "[\"/etc/cron.d/a\", \"/etc/cron.d/b\"]",
                "x false",
                "0",
            ]
        );
    }

    #[test]
    fn commands_are_allowlisted_and_only_run_on_the_live_host() {
        let (_t, h) = host(&[]);
        let o = run(
            "fn check(host) {\n  let r = host.run(\"nft list ruleset\");\n  #{ status: \"PASS\", evidence: [`${r.ran}: ${r.reason}`] }\n}\n",
            &h,
        );
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert!(
            o.evidence[0]
                .detail
                .starts_with("false: `nft list ruleset` not run: the audited root is not /"),
            "{o:?}"
        );
        let o = run("fn check(host) {\n  host.run(\"rm -rf /\")\n}\n", &h);
        assert_eq!(o.status, Status::Error);
        assert!(o.evidence[0].detail.starts_with("t.rhai:3:"), "{o:?}");
        assert!(
            o.evidence[0].detail.contains("not an allowed command"),
            "{o:?}"
        );
    }

    #[test]
    fn failures_are_errors_at_file_line_column() {
        let (_t, h) = host(&[]);
        for (body, want) in [
            ("fn check(host) {\n  loop {}\n}\n", "Too many operations"),
            ("fn check(host) {\n  throw \"boom\";\n}\n", "boom"),
            (
                "fn check(host) {\n  #{ status: \"MAYBE\" }\n}\n",
                "status `MAYBE`",
            ),
            ("fn check(host) {\n  #{ evidence: [] }\n}\n", "no status"),
            ("fn check(host) {\n  42\n}\n", "must return"),
            (
                "fn check(host) {\n  #{ status: \"PASS\", evidence: [#{ fil: 1 }] }\n}\n",
                "unknown evidence key `fil`",
            ),
        ] {
            let o = run(body, &h);
            assert_eq!(o.status, Status::Error, "{body}");
            let d = &o.evidence[0].detail;
            assert!(d.starts_with("t.rhai:"), "{body}: {d}");
            assert!(d.contains(want), "{body}: {d}");
        }
    }

    #[test]
    fn bad_scripts_and_metadata_do_not_compile() {
        let errs = |src: &str| -> Vec<String> {
            compile(src, Path::new("b.rhai"))
                .unwrap_err()
                .iter()
                .map(|e| e.to_string())
                .collect()
        };
        let e = errs("const META = #{ id: \"Bad\", title: \"\", category: \"dns\", severity: \"huge\", remediation: \"\", extra: 1 };\nfn check(host) { 1 }\n");
        assert_eq!(e.len(), 6, "{e:?}");
        assert!(e.iter().all(|m| m.starts_with("b.rhai:1:")), "{e:?}");
        let e = errs(&format!("{META}fn check(host) {{\n  let = 1;\n}}\n"));
        assert!(e[0].starts_with("b.rhai:3:"), "{e:?}");
        let e = errs(&format!("{META}fn other() {{}}\n"));
        assert!(e[0].contains("no `fn check(host)`"), "{e:?}");
        for sandboxed in [
            "fn check(host) { eval(\"1\") }",
            "import \"x\" as x;\nfn check(host) { 1 }",
        ] {
            assert!(
                compile(&format!("{META}{sandboxed}"), Path::new("b.rhai")).is_err(),
                "{sandboxed}"
            );
        }
    }
}
