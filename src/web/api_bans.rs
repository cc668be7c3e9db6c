//! `/api/bans`: the bans running now (or the history with `?all=1`), a ban by hand
//! (`POST`, admins, audited) and lifting one (`DELETE /api/bans/203.0.113.66`). They go
//! through the same guard, history and nftables table as the rules' `block_ip`; a ban by
//! hand is enforced unless the body says `"dry_run": true`.

use std::net::IpAddr;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::gate::Principal;
use super::http::{self as h, ApiError, ApiResult, Req};
use super::WebState;
use crate::base::timestamp::Timestamp;
use crate::response::{Mode, Outcome, Request};
use crate::store::bans;

pub async fn list(state: &WebState, req: &Req) -> ApiResult {
    let all = matches!(req.param("all"), Some("1" | "true" | "yes"));
    let items = state
        .db
        .run(move |c| {
            Ok(if all {
                bans::recent(c, 500)?
            } else {
                bans::active(c, Timestamp::now())?
            })
        })
        .await?;
    h::json(&json!({ "items": items, "mode": state.blocker.config.mode.as_str() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlockBody {
    ip: String,
    /// A duration such as `90s`, `1h`, `7d`; the escalating ban time when absent.
    #[serde(default, rename = "for")]
    for_time: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

fn address(s: &str) -> Result<IpAddr, ApiError> {
    s.trim()
        .parse::<IpAddr>()
        .map_err(|_| ApiError::bad_request(format!("`{s}` is not an IPv4 or IPv6 address")))
}

pub async fn block(state: &WebState, req: &Req, who: &Principal) -> ApiResult {
    let body: BlockBody = req.json()?;
    let ip = address(&body.ip)?;
    let for_time = match &body.for_time {
        None => None,
        Some(d) => Some(
            crate::model::duration::parse_secs(d)
                .ok()
                .filter(|s| *s > 0)
                .map(|s| Duration::from_secs(s as u64))
                .ok_or_else(|| {
                    ApiError::bad_request(format!("for `{d}`: use a duration such as 15m, 2h, 7d"))
                })?,
        ),
    };
    let reason = body.reason.unwrap_or_else(|| "manual".into());
    if reason.chars().count() > 200 {
        return Err(ApiError::bad_request("reason: at most 200 characters"));
    }
    let (blocker, user) = (state.blocker.clone(), who.user.name.clone());
    let mode = if body.dry_run {
        Mode::DryRun
    } else {
        Mode::Enforce
    };
    let (reason2, user2) = (reason.clone(), user.clone());
    let outcome = state
        .db
        .run(move |c| {
            blocker
                .block(
                    c,
                    &Request {
                        ip,
                        reason: &reason2,
                        by_user: Some(&user2),
                        for_time,
                        first_ban: None,
                        mode,
                    },
                )
                .map_err(ApiError::internal)
        })
        .await?;
    if let Outcome::Refused { why, .. } = &outcome {
        return Err(ApiError::conflict(
            format!("not blocking {ip}: {why}"),
            Vec::new(),
        ));
    }
    super::api::record(
        state,
        req,
        who,
        "ban.add",
        ip.to_string(),
        Some(format!("{outcome}; {reason}")),
    )
    .await?;
    state
        .live
        .send(crate::bus::live::LiveMsg::Bans(json!({ "ip": ip })));
    let (blocked, for_secs) = match outcome {
        Outcome::Blocked { for_secs, .. } => (true, for_secs),
        Outcome::WouldBlock { for_secs, .. } => (false, for_secs),
        _ => (false, 0),
    };
    h::json(
        &json!({ "ip": ip, "enforced": blocked, "for_s": for_secs, "message": outcome.to_string() }),
    )
}

pub async fn unblock(state: &WebState, req: &Req, who: &Principal, id: &str) -> ApiResult {
    let ip = address(id)?;
    let (blocker, user) = (state.blocker.clone(), who.user.name.clone());
    let lifted = state
        .db
        .run(move |c| {
            blocker
                .unblock(c, ip, Some(&user))
                .map_err(ApiError::internal)
        })
        .await?;
    super::api::record(
        state,
        req,
        who,
        "ban.remove",
        ip.to_string(),
        Some(format!("{lifted} running bans lifted")),
    )
    .await?;
    state
        .live
        .send(crate::bus::live::LiveMsg::Bans(json!({ "ip": ip })));
    h::json(&json!({ "ip": ip, "lifted": lifted }))
}
