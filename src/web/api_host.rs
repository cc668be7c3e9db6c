//! `/api/processes` and `/api/ports`: the newest snapshot of the process table and the
//! listening sockets (taken every `snapshot_interval_secs`). Small lists, answered whole:
//! `items`, `next_cursor` (always null) and `taken`, the snapshot's time (null until the
//! first one). And `/api/metrics/history`: the stored, downsampled host metrics.

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

/// Most points `/api/metrics/history` answers with when not told.
const HISTORY_POINTS: usize = 360;

/// `/api/metrics/history?since=24h&series=cpu,mem_percent&points=360`: stored host
/// metrics, from the finest resolution that still covers the span, averaged into at most
/// `points` points.
pub async fn metrics_history(state: &WebState, req: &Req) -> ApiResult {
    let now = crate::timestamp::Timestamp::now();
    let since = h::time_param(req, "since")?.unwrap_or_else(|| now.saturating_add_secs(-3600));
    let span = (now.as_micros() - since.as_micros()) / 1_000_000;
    if span <= 0 {
        return Err(ApiError::bad_request("since must be in the past"));
    }
    let series = h::list_param(req, "series", |s| {
        if s.len() <= 200 {
            Ok(s.to_string())
        } else {
            Err("series names are at most 200 characters".into())
        }
    })?;
    let points = match req.param("points") {
        None => HISTORY_POINTS,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| (1..=2000).contains(p))
            .ok_or_else(|| ApiError::bad_request("points: a number from 1 to 2000"))?,
    };
    let res = crate::store::metrics::resolution_for(span);
    let (points, names) = state
        .db
        .run(move |c| {
            Ok((
                crate::store::metrics::history(c, res, since, &series, points)?,
                crate::store::metrics::names(c)?,
            ))
        })
        .await?;
    h::json(&json!({ "resolution_s": res, "points": points, "available": names }))
}
