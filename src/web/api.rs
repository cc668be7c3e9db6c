//! Handlers for sessions, health and metrics, events, alerts and the audit log.

use std::net::IpAddr;
use std::str::FromStr;
use std::time::Instant;

use serde::Deserialize;
use serde_json::json;
use warp::http::HeaderValue;

use super::gate::{self, Principal};
use super::http::{self as h, ApiError, ApiResult, Req};
use super::WebState;
use crate::auth;
use crate::base::timestamp::Timestamp;
use crate::bus::live::LiveMsg;
use crate::model::event::EventType;
use crate::model::{AlertStatus, Severity};
use crate::store::{accounts, alerts, audit, events};

pub fn health(state: &WebState) -> ApiResult {
    h::json(&json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_s": state.started.elapsed().as_secs(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
}

pub async fn login(state: &WebState, req: &Req) -> ApiResult {
    let address = req.address();
    if let Some(ip) = req.ip() {
        if let Err(wait) = state.limiter.check(ip) {
            return Err(ApiError::rate_limited(wait));
        }
    }
    let body: LoginBody = req.json()?;
    if body.username.is_empty() || body.username.len() > 64 || body.password.len() > 1024 {
        return Err(ApiError::bad_request(
            "username (1 to 64 characters) and password (at most 1024) are required",
        ));
    }
    let cookie = auth::new_secret("").map_err(ApiError::internal)?;
    let csrf = auth::new_secret("").map_err(ApiError::internal)?;
    let (addr, csrf2, cookie2) = (address.clone(), csrf.clone(), cookie.clone());
    let user = state
        .db
        .run(move |c| {
            let found = accounts::find_user(c, &body.username)?;
            let ok = match &found {
                Some((_, hash)) => auth::verify_password(&body.password, hash),
                None => {
                    // Same work for an unknown name: no user enumeration by timing.
                    auth::verify_password(&body.password, auth::dummy_hash());
                    false
                }
            };
            let user = found.filter(|_| ok).map(|(u, _)| u);
            if let Some(u) = &user {
                let expires =
                    Timestamp::now().saturating_add_secs(gate::SESSION_LIFETIME.as_secs() as i64);
                accounts::create_session(c, &auth::digest(&cookie2), u.id, &csrf2, &addr, expires)?;
                let _ = accounts::delete_expired_sessions(c);
            }
            audit::record(
                c,
                &audit::NewEntry {
                    user: Some(&body.username),
                    address: Some(&addr),
                    action: "login",
                    target: None,
                    detail: if ok {
                        None
                    } else {
                        Some("wrong user name or password")
                    },
                    ok,
                },
            )?;
            Ok(user)
        })
        .await?;
    let Some(user) = user else {
        if let Some(ip) = req.ip() {
            state.limiter.failed(ip);
        }
        return Err(ApiError::unauthenticated("wrong user name or password"));
    };
    if let Some(ip) = req.ip() {
        state.limiter.succeeded(ip);
    }
    let mut r = h::json(&json!({ "user": user, "csrf": csrf }))?;
    r.headers_mut().insert(
        "set-cookie",
        HeaderValue::from_str(&gate::session_cookie(&cookie, gate::over_tls(state, req)))
            .map_err(ApiError::internal)?,
    );
    Ok(r)
}

pub async fn logout(state: &WebState, req: &Req, who: &Principal) -> ApiResult {
    if let Some(cookie) = req.cookie(gate::SESSION_COOKIE) {
        let digest = auth::digest(cookie);
        state.credentials.forget(&digest);
        let (name, addr) = (who.user.name.clone(), req.address());
        state
            .db
            .run(move |c| {
                accounts::delete_session(c, &digest)?;
                audit::record(
                    c,
                    &audit::NewEntry {
                        user: Some(&name),
                        address: Some(&addr),
                        action: "logout",
                        ok: true,
                        ..Default::default()
                    },
                )?;
                Ok(())
            })
            .await?;
    }
    let mut r = h::no_content()?;
    r.headers_mut().insert(
        "set-cookie",
        HeaderValue::from_str(&gate::session_cookie("", gate::over_tls(state, req)))
            .map_err(ApiError::internal)?,
    );
    Ok(r)
}

pub fn session(who: &Principal) -> ApiResult {
    h::json(&json!({ "user": who.user, "csrf": who.csrf }))
}

/// Start of the current UTC day.
fn today() -> Timestamp {
    let day = 86_400 * 1_000_000;
    Timestamp::from_micros(Timestamp::now().as_micros().div_euclid(day) * day)
}

/// How long computed counts are reused (they scan the tables).
const METRICS_TTL: std::time::Duration = std::time::Duration::from_secs(5);

pub async fn metrics_value(state: &WebState) -> Result<serde_json::Value, ApiError> {
    if let Some((at, v)) = state
        .metrics_cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
    {
        if at.elapsed() < METRICS_TTL {
            return Ok(v);
        }
    }
    let since = today();
    let (events_total, events_today, open, new_today, score, (devices, devices_new)) = state
        .db
        .run(move |c| {
            Ok((
                events::count(c)?,
                events::count_since(c, since)?,
                c.query_row(
                    "SELECT count(*) FROM alerts WHERE status = 'open'",
                    [],
                    |r| r.get::<_, i64>(0),
                )?,
                c.query_row(
                    "SELECT count(*) FROM alerts WHERE first_seen >= ?1",
                    [since.as_micros()],
                    |r| r.get::<_, i64>(0),
                )?,
                crate::store::checks::latest_score(c)?,
                crate::store::devices::counts(c, since)?,
            ))
        })
        .await?;
    let (now, series) = state.host.snapshot();
    let v = json!({
        "uptime_s": state.started.elapsed().as_secs(),
        "events_total": events_total,
        "events_today": events_today,
        "alerts_open": open,
        "alerts_new_today": new_today,
        "devices": devices,
        "devices_new_today": devices_new,
        "security_score": score,
        "host": now,
        "series": series,
    });
    *state
        .metrics_cache
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), v.clone()));
    Ok(v)
}

pub async fn metrics(state: &WebState) -> ApiResult {
    h::json(&metrics_value(state).await?)
}

pub async fn timeline(state: &WebState, req: &Req) -> ApiResult {
    let since = h::time_param(req, "since")?
        .unwrap_or_else(|| Timestamp::now().saturating_add_secs(-86_400));
    let bucket = h::number_param(req, "bucket", 900_i64, 60..=86_400)?;
    if (Timestamp::now().as_micros() - since.as_micros()) / (bucket * 1_000_000) > 2_000 {
        return Err(ApiError::bad_request(
            "that would be over 2000 buckets: choose a later since or a larger bucket",
        ));
    }
    let rows = state
        .db
        .run(move |c| Ok(events::timeline(c, since, bucket)?))
        .await?;
    let buckets: Vec<_> = rows
        .into_iter()
        .map(|(t, e, a)| {
            json!({ "t": t, "events": e,
                "alerts": { "low": a[0], "medium": a[1], "high": a[2], "critical": a[3] } })
        })
        .collect();
    h::json(&json!({ "bucket_s": bucket, "buckets": buckets }))
}

pub async fn events(state: &WebState, req: &Req) -> ApiResult {
    let types = h::list_param(req, "type", |t| {
        EventType::from_str(t).map_err(|_| format!("type `{t}`: not an event type"))
    })?;
    let src_ip = match req.param("src_ip") {
        None => None,
        Some(v) => Some(
            v.parse::<IpAddr>()
                .map_err(|_| ApiError::bad_request(format!("src_ip `{v}`: not an IP address")))?
                .to_string(),
        ),
    };
    let limit = h::limit(req)?;
    let q = events::EventQuery {
        since: h::time_param(req, "since")?,
        until: h::time_param(req, "until")?,
        types,
        src_ip,
        text: req.param("q").map(str::to_string),
        after: h::cursor(req)?,
        limit,
    };
    let rows = state.db.run(move |c| Ok(events::query(c, &q)?)).await?;
    h::page(&rows, limit, |r| h::make_cursor(r.event.ts, r.id))
}

pub async fn alerts(state: &WebState, req: &Req) -> ApiResult {
    let status = req
        .param("status")
        .map(AlertStatus::from_str)
        .transpose()
        .map_err(ApiError::bad_request)?;
    let severities = h::list_param(req, "severity", Severity::from_str)?;
    let limit = h::limit(req)?;
    let q = alerts::AlertQuery {
        status,
        severities,
        since: h::time_param(req, "since")?,
        until: h::time_param(req, "until")?,
        rule: req.param("rule").map(str::to_string),
        text: req.param("q").map(str::to_string),
        after: h::cursor(req)?,
        limit,
    };
    let key = super::cache::query_key(&req.query);
    let generation = state.live.alerts_generation();
    if let Some(body) = state.alert_pages.get(&key, generation) {
        return Ok(h::json_bytes(body.as_ref().clone()));
    }
    let rows = state.db.run(move |c| Ok(alerts::query(c, &q)?)).await?;
    let body = h::page_bytes(&rows, limit, |r| h::make_cursor(r.alert.last_seen, r.id))?;
    state
        .alert_pages
        .put(key, generation, std::sync::Arc::new(body.clone()));
    Ok(h::json_bytes(body))
}

pub async fn alert_counts(state: &WebState) -> ApiResult {
    let counts = state.db.run(|c| Ok(alerts::counts(c)?)).await?;
    let mut out = json!({ "open": 0, "acknowledged": 0, "resolved": 0, "ignored": 0 });
    for (s, n) in counts {
        out[s.as_str()] = json!(n);
    }
    h::json(&out)
}

fn alert_id(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| {
        ApiError::bad_request(format!("alert id `{id}`: use the number from the list"))
    })
}

pub async fn alert(state: &WebState, id: &str) -> ApiResult {
    let id = alert_id(id)?;
    match state.db.run(move |c| Ok(alerts::get(c, id)?)).await? {
        Some(a) => h::json(&a),
        None => Err(ApiError::not_found(format!("no alert with id {id}"))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: AlertStatus,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkStatusBody {
    ids: Vec<i64>,
    status: AlertStatus,
}

/// Sets the status of `ids` in one transaction, auditing each change; the alerts found.
async fn change_status(
    state: &WebState,
    req: &Req,
    who: &Principal,
    ids: Vec<i64>,
    status: AlertStatus,
) -> Result<Vec<alerts::StoredAlert>, ApiError> {
    let (name, addr) = (who.user.name.clone(), req.address());
    let changed = state
        .db
        .run(move |c| {
            let tx = c.unchecked_transaction()?;
            let mut out = Vec::new();
            for id in ids {
                let Some(before) = alerts::get(&tx, id)? else {
                    continue;
                };
                alerts::set_status(&tx, id, status)?;
                audit::record(
                    &tx,
                    &audit::NewEntry {
                        user: Some(&name),
                        address: Some(&addr),
                        action: "alert.status",
                        target: Some(&format!("alert {id}")),
                        detail: Some(&format!(
                            "{} → {}",
                            before.alert.status.as_str(),
                            status.as_str()
                        )),
                        ok: true,
                    },
                )?;
                let mut after = before;
                after.alert.status = status;
                out.push(after);
            }
            tx.commit()?;
            Ok(out)
        })
        .await?;
    for a in &changed {
        state.live.send(LiveMsg::AlertStatus { id: a.id, status });
    }
    Ok(changed)
}

pub async fn set_alert_status(state: &WebState, req: &Req, who: &Principal, id: &str) -> ApiResult {
    let id = alert_id(id)?;
    let body: StatusBody = req.json()?;
    let mut changed = change_status(state, req, who, vec![id], body.status).await?;
    match changed.pop() {
        Some(a) => h::json(&a),
        None => Err(ApiError::not_found(format!("no alert with id {id}"))),
    }
}

pub async fn set_alerts_status(state: &WebState, req: &Req, who: &Principal) -> ApiResult {
    let body: BulkStatusBody = req.json()?;
    if body.ids.is_empty() || body.ids.len() > 1000 {
        return Err(ApiError::bad_request("ids: 1 to 1000 alert ids"));
    }
    let changed = change_status(state, req, who, body.ids, body.status).await?;
    h::json(&json!({ "updated": changed.len() }))
}

pub async fn audit(state: &WebState, req: &Req) -> ApiResult {
    let limit = h::limit(req)?;
    let before = match req.param("cursor") {
        None => None,
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| ApiError::bad_request("cursor: pass back a next_cursor unchanged"))?,
        ),
    };
    let rows = state
        .db
        .run(move |c| Ok(audit::query(c, before, limit)?))
        .await?;
    h::page(&rows, limit, |r| r.id.to_string())
}

/// Records a change made through the API (for handlers outside this module).
pub async fn record(
    state: &WebState,
    req: &Req,
    who: &Principal,
    action: &'static str,
    target: String,
    detail: Option<String>,
) -> Result<(), ApiError> {
    let (name, addr) = (who.user.name.clone(), req.address());
    state
        .db
        .run(move |c| {
            audit::record(
                c,
                &audit::NewEntry {
                    user: Some(&name),
                    address: Some(&addr),
                    action,
                    target: Some(&target),
                    detail: detail.as_deref(),
                    ok: true,
                },
            )?;
            Ok(())
        })
        .await
}
