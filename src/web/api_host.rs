//! `/api/processes` and `/api/ports`: the newest snapshot of the process table and the
//! listening sockets (taken every `snapshot_interval_secs`). Small lists, answered whole:
//! `items`, `next_cursor` (always null) and `taken`, the snapshot's time (null until the
//! first one). And `/api/metrics/history`: the stored, downsampled host metrics.

use serde_json::json;

use super::gate::Principal;
use super::http::{self as h, ApiError, ApiResult, Req};
use super::WebState;
use crate::store::port_baseline;

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
        .map(|p| {
            let mut v = serde_json::to_value(p).unwrap_or_default();
            v["expected"] = json!(state.baseline.expected(p.proto, p.port));
            v
        })
        .collect();
    h::json(&json!({ "items": items, "next_cursor": null, "taken": snap.taken }))
}

/// `GET /api/ports/baseline`: the stored expected ports, and the allowlist's.
pub async fn baseline(state: &WebState) -> ApiResult {
    let items = state.db.run(|c| Ok(port_baseline::list(c)?)).await?;
    h::json(&json!({ "items": items }))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineBody {
    proto: String,
    port: u16,
    #[serde(default)]
    note: Option<String>,
}

/// `tcp-22` → (`tcp`, 22).
fn baseline_id(id: &str) -> Result<(&'static str, u16), ApiError> {
    let bad = || ApiError::bad_request(format!("`{id}`: use PROTO-PORT, as tcp-22"));
    let (proto, port) = id.split_once('-').ok_or_else(bad)?;
    let proto = match proto {
        "tcp" => "tcp",
        "udp" => "udp",
        _ => return Err(bad()),
    };
    Ok((proto, port.parse().ok().filter(|p| *p > 0).ok_or_else(bad)?))
}

/// `POST /api/ports/baseline` `{proto, port, note?}` (admin): this port is expected.
pub async fn add_to_baseline(state: &WebState, req: &Req, who: &Principal) -> ApiResult {
    let body: BaselineBody = req.json()?;
    let (proto, port) = baseline_id(&format!("{}-{}", body.proto, body.port))?;
    let note = body.note.filter(|n| !n.trim().is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(ApiError::bad_request("note: at most 200 characters"));
    }
    let process = {
        let snap = state.snapshot.read().unwrap_or_else(|p| p.into_inner());
        snap.ports
            .iter()
            .find(|q| q.proto == proto && q.port == port)
            .and_then(|q| q.process.clone())
    };
    let entry = port_baseline::Entry {
        proto: proto.into(),
        port,
        source: "admin".into(),
        process,
        note,
        added: crate::base::timestamp::Timestamp::now(),
    };
    let stored = entry.clone();
    state
        .db
        .run(move |c| Ok(port_baseline::put(c, &stored)?))
        .await?;
    state.baseline.insert(proto, port);
    super::api::record(
        state,
        req,
        who,
        "ports.baseline.add",
        format!("{proto}/{port}"),
        entry.note.clone(),
    )
    .await?;
    h::json(&entry)
}

/// `DELETE /api/ports/baseline/tcp-22` (admin): no longer expected.
pub async fn remove_from_baseline(
    state: &WebState,
    req: &Req,
    who: &Principal,
    id: &str,
) -> ApiResult {
    let (proto, port) = baseline_id(id)?;
    let found = state
        .db
        .run(move |c| Ok(port_baseline::remove(c, proto, port)?))
        .await?;
    if !found {
        return Err(ApiError::not_found(format!(
            "{proto}/{port} is not in the baseline"
        )));
    }
    state.baseline.remove(proto, port);
    super::api::record(
        state,
        req,
        who,
        "ports.baseline.remove",
        format!("{proto}/{port}"),
        None,
    )
    .await?;
    h::no_content()
}

/// Most points `/api/metrics/history` answers with when not told.
const HISTORY_POINTS: usize = 360;

/// `/api/metrics/history?since=24h&series=cpu,mem_percent&points=360`: stored host
/// metrics, from the coarsest resolution that still gives `points` points over the span,
/// averaged into at most `points` points.
pub async fn metrics_history(state: &WebState, req: &Req) -> ApiResult {
    let now = crate::base::timestamp::Timestamp::now();
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
    let points = h::number_param(req, "points", HISTORY_POINTS, 1..=2000)?;
    let (res, points, names) = state
        .db
        .run(move |c| {
            let (res, points) =
                crate::store::metrics::history_for_span(c, since, span, &series, points)?;
            Ok((res, points, crate::store::metrics::names(c)?))
        })
        .await?;
    h::json(&json!({ "resolution_s": res, "points": points, "available": names }))
}
