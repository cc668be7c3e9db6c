//! `/api/incidents`: alerts grouped by address or user, with their timeline; people
//! close, reopen, take and annotate them (`PATCH`, admins, audited). And `/api/alert`:
//! incidents from other detectors, taking the same path as Picket's own alerts.

use std::str::FromStr;

use serde::Deserialize;
use serde_json::json;

use super::gate::Principal;
use super::http::{self as h, ApiError, ApiResult, Detail, Req};
use super::WebState;
use crate::base::timestamp::Timestamp;
use crate::bus::live::LiveMsg;
use crate::model::Severity;
use crate::store::incidents::IncidentStatus;
use crate::store::{alerts, incidents};

/// Most timeline lines and alerts one incident's page shows.
const DETAIL_LIMIT: usize = 500;

pub async fn list(state: &WebState, req: &Req) -> ApiResult {
    let status = req
        .param("status")
        .map(IncidentStatus::from_str)
        .transpose()
        .map_err(ApiError::bad_request)?;
    let limit = h::limit(req)?;
    let q = incidents::IncidentQuery {
        status,
        severities: h::list_param(req, "severity", Severity::from_str)?,
        since: h::time_param(req, "since")?,
        text: req.param("q").map(str::to_string),
        after: h::cursor(req)?,
        limit,
    };
    let rows = state.db.run(move |c| Ok(incidents::query(c, &q)?)).await?;
    h::page(&rows, limit, |i| h::make_cursor(i.last_seen, i.id))
}

pub async fn counts(state: &WebState) -> ApiResult {
    let counts = state.db.run(|c| Ok(incidents::counts(c)?)).await?;
    let mut out = json!({ "active": 0, "closed": 0 });
    for (s, n) in counts {
        out[s.as_str()] = json!(n);
    }
    h::json(&out)
}

fn incident_id(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| {
        ApiError::bad_request(format!("incident id `{id}`: use the number from the list"))
    })
}

/// One incident with its timeline (oldest first) and its alerts (newest first).
pub async fn get(state: &WebState, id: &str) -> ApiResult {
    let id = incident_id(id)?;
    let found = state
        .db
        .run(move |c| {
            let Some(incident) = incidents::get(c, id)? else {
                return Ok(None);
            };
            let timeline = incidents::timeline(c, id, DETAIL_LIMIT)?;
            let mut list = Vec::new();
            for a in incidents::alert_ids(c, id, DETAIL_LIMIT)? {
                if let Some(a) = alerts::get(c, a)? {
                    list.push(a);
                }
            }
            Ok(Some((incident, timeline, list)))
        })
        .await?;
    match found {
        Some((incident, timeline, list)) => {
            let mut v = serde_json::to_value(&incident).map_err(ApiError::internal)?;
            v["timeline"] = serde_json::to_value(&timeline).map_err(ApiError::internal)?;
            v["alert_list"] = serde_json::to_value(&list).map_err(ApiError::internal)?;
            h::json(&v)
        }
        None => Err(ApiError::not_found(format!("no incident with id {id}"))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    #[serde(default)]
    status: Option<IncidentStatus>,
    /// A user name, or `""` to clear the owner.
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// Most characters of a note.
const MAX_NOTE: usize = 4000;

pub async fn patch(state: &WebState, req: &Req, who: &Principal, id: &str) -> ApiResult {
    let id = incident_id(id)?;
    let body: PatchBody = req.json()?;
    if body.status.is_none() && body.owner.is_none() && body.note.is_none() {
        return Err(ApiError::bad_request(
            "send at least one of status (active or closed), owner or note",
        ));
    }
    if let Some(n) = &body.note {
        if n.trim().is_empty() || n.chars().count() > MAX_NOTE {
            return Err(ApiError::bad_request(format!(
                "note: 1 to {MAX_NOTE} characters"
            )));
        }
    }
    if let Some(o) = &body.owner {
        if o.chars().count() > 64 || o.chars().any(char::is_control) {
            return Err(ApiError::bad_request(
                "owner: a user name of at most 64 characters, or \"\" to clear it",
            ));
        }
    }
    let name = who.user.name.clone();
    let (status, owner, note) = (body.status, body.owner.clone(), body.note.clone());
    let updated = state
        .db
        .run(move |c| {
            if incidents::get(c, id)?.is_none() {
                return Ok(None);
            }
            let now = Timestamp::now();
            if let Some(s) = status {
                incidents::set_status(c, id, s, Some(&name), None, now)?;
            }
            if let Some(o) = &owner {
                let o = Some(o.as_str()).filter(|o| !o.is_empty());
                incidents::set_owner(c, id, o, Some(&name), now)?;
            }
            if let Some(n) = &note {
                incidents::add_note(c, id, Some(&name), n.trim(), now)?;
            }
            Ok(incidents::get(c, id)?)
        })
        .await?;
    let Some(incident) = updated else {
        return Err(ApiError::not_found(format!("no incident with id {id}")));
    };
    let mut detail = Vec::new();
    if let Some(s) = body.status {
        detail.push(format!("status {}", s.as_str()));
    }
    if let Some(o) = &body.owner {
        detail.push(format!("owner {o:?}"));
    }
    if body.note.is_some() {
        detail.push("note added".to_string());
    }
    super::api::record(
        state,
        req,
        who,
        "incident.update",
        format!("incident {id}"),
        Some(detail.join(", ")),
    )
    .await?;
    state.live.send(LiveMsg::Incidents(vec![id]));
    h::json(&incident)
}

/// `POST /api/alert`: one incident or an array of them from another detector. Every
/// problem of a bad payload is answered at once (400); accepted ones are stored, grouped,
/// acted on and notified as Picket's own alerts, and the answer names each one's alert
/// and incident.
pub async fn ingest(state: &WebState, req: &Req, who: &Principal) -> ApiResult {
    let alerts_in = crate::ingest::parse_body(&req.body).map_err(|problems| ApiError {
        details: problems
            .iter()
            .map(|p| Detail {
                message: p.to_string(),
                line: None,
                column: None,
            })
            .collect(),
        ..ApiError::bad_request(format!(
            "the incident does not match schemas/incident.schema.json: {} problem{}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        ))
    })?;
    let Some(intake) = state.intake.clone() else {
        return Err(ApiError::unavailable(
            "this server does not run the engine: post alerts to `picket run`",
        ));
    };
    let keys: Vec<String> = alerts_in.iter().map(|a| a.key.clone()).collect();
    let n = alerts_in.len();
    tokio::task::spawn_blocking(move || intake.submit(alerts_in))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let stored = state
        .db
        .run(move |c| {
            let mut out = Vec::new();
            for key in &keys {
                let row: Option<(i64, Option<i64>)> = c
                    .query_row(
                        "SELECT id, incident FROM alerts WHERE key = ?1",
                        [key],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .ok();
                out.push(json!({
                    "alert": row.map(|r| r.0),
                    "incident": row.and_then(|r| r.1),
                }));
            }
            Ok(out)
        })
        .await?;
    super::api::record(
        state,
        req,
        who,
        "alert.ingest",
        format!("{n} incident{}", if n == 1 { "" } else { "s" }),
        None,
    )
    .await?;
    Ok(h::json_status(
        &json!({ "accepted": n, "items": stored }),
        warp::http::StatusCode::CREATED,
    ))
}
