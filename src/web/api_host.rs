//! `/api/processes` and `/api/ports`: the newest snapshot of the process table and the
//! listening sockets (taken every `snapshot_interval_secs`). Small lists, answered whole:
//! `items`, `next_cursor` (always null) and `taken`, the snapshot's time (null until the
//! first one).

use serde_json::json;

use super::http::{self as h, ApiError, ApiResult, Req};
use super::WebState;

/// Case-insensitive free-text match over some fields.
fn matches(q: &str, fields: &[Option<&str>]) -> bool {
    let q = q.to_lowercase();
    fields
        .iter()
        .flatten()
        .any(|f| f.to_lowercase().contains(&q))
}

pub fn processes(state: &WebState, req: &Req) -> ApiResult {
    let snap = state.snapshot.read().unwrap_or_else(|p| p.into_inner());
    let q = req.param("q").unwrap_or("");
    let mut items: Vec<_> = snap
        .processes
        .iter()
        .filter(|p| {
            q.is_empty()
                || matches(
                    q,
                    &[
                        Some(&p.name),
                        Some(&p.cmdline),
                        Some(&p.user),
                        p.exe.as_deref(),
                        Some(&p.pid.to_string()),
                    ],
                )
        })
        .collect();
    match req.param("sort").unwrap_or("cpu") {
        "cpu" => items.sort_by(|a, b| {
            b.cpu_percent
                .total_cmp(&a.cpu_percent)
                .then(a.pid.cmp(&b.pid))
        }),
        "rss" => items.sort_by(|a, b| b.rss.cmp(&a.rss).then(a.pid.cmp(&b.pid))),
        "pid" => items.sort_by_key(|p| p.pid),
        "started" => items.sort_by(|a, b| b.started.cmp(&a.started).then(a.pid.cmp(&b.pid))),
        other => {
            return Err(ApiError::bad_request(format!(
                "sort `{other}`: use cpu, rss, pid or started"
            )))
        }
    }
    h::json(&json!({ "items": items, "next_cursor": null, "taken": snap.taken }))
}

pub fn ports(state: &WebState, req: &Req) -> ApiResult {
    let snap = state.snapshot.read().unwrap_or_else(|p| p.into_inner());
    let q = req.param("q").unwrap_or("");
    let items: Vec<_> = snap
        .ports
        .iter()
        .filter(|p| {
            q.is_empty()
                || matches(
                    q,
                    &[
                        Some(p.proto),
                        Some(&p.address),
                        Some(&p.port.to_string()),
                        p.process.as_deref(),
                        p.exe.as_deref(),
                        p.user.as_deref(),
                    ],
                )
        })
        .collect();
    h::json(&json!({ "items": items, "next_cursor": null, "taken": snap.taken }))
}
