//! `/api/devices`: the LAN devices Picket knows, one with its history, and people's
//! changes to one (`PATCH`: trusted, name, risk; admins, audited).

use serde::Deserialize;
use serde_json::json;

use super::gate::Principal;
use super::http::{self as h, ApiError, ApiResult, Req};
use super::WebState;
use crate::base::timestamp::Timestamp;
use crate::store::devices;

pub async fn list(state: &WebState) -> ApiResult {
    let items = state.db.run(|c| Ok(devices::list(c)?)).await?;
    let today = Timestamp::now().saturating_add_secs(-86_400);
    let online = items.iter().filter(|d| d.online).count();
    let new_today = items.iter().filter(|d| d.first_seen >= today).count();
    h::json(&json!({
        "items": items,
        "total": items.len(),
        "online": online,
        "new_today": new_today,
    }))
}

fn device_id(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| {
        ApiError::bad_request(format!("device id `{id}`: use the number from the list"))
    })
}

pub async fn get(state: &WebState, id: &str) -> ApiResult {
    let id = device_id(id)?;
    let found = state
        .db
        .run(move |c| {
            Ok(match devices::get(c, id)? {
                Some(d) => Some((d, devices::history(c, id, 500)?)),
                None => None,
            })
        })
        .await?;
    let Some((device, history)) = found else {
        return Err(ApiError::not_found(format!("no device with id {id}")));
    };
    let mut v = serde_json::to_value(&device).map_err(ApiError::internal)?;
    v["history"] = serde_json::to_value(&history).map_err(ApiError::internal)?;
    h::json(&v)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    #[serde(default)]
    trusted: Option<bool>,
    /// A name, or "" to clear it.
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    risk_score: Option<i64>,
}

pub async fn patch(state: &WebState, req: &Req, who: &Principal, id: &str) -> ApiResult {
    let id = device_id(id)?;
    let body: PatchBody = req.json()?;
    if body.trusted.is_none() && body.name.is_none() && body.risk_score.is_none() {
        return Err(ApiError::bad_request(
            "send at least one of trusted, name or risk_score",
        ));
    }
    if let Some(n) = &body.name {
        if n.chars().count() > 64 || n.chars().any(char::is_control) {
            return Err(ApiError::bad_request(
                "name: at most 64 characters, no control characters (\"\" clears it)",
            ));
        }
    }
    if let Some(r) = body.risk_score {
        if !(0..=100).contains(&r) {
            return Err(ApiError::bad_request("risk_score: a number from 0 to 100"));
        }
    }
    let user = who.user.name.clone();
    let (trusted, name, risk) = (body.trusted, body.name.clone(), body.risk_score);
    let changes = state
        .db
        .run(move |c| {
            if devices::get(c, id)?.is_none() {
                return Ok(None);
            }
            let now = Timestamp::now();
            let mut said = Vec::new();
            if let Some(t) = trusted {
                devices::set_trusted(c, id, t)?;
                said.push(if t {
                    "trusted".to_string()
                } else {
                    "untrusted".to_string()
                });
            }
            if let Some(n) = &name {
                devices::rename(c, id, Some(n.as_str()).filter(|n| !n.is_empty()))?;
                said.push(format!("named {n:?}"));
            }
            if let Some(r) = risk {
                devices::set_risk(c, id, r)?;
                said.push(format!("risk {r}"));
            }
            let text = format!("{} by {user}", said.join(", "));
            devices::add_history(c, id, now, "CHANGED", &text)?;
            Ok(Some((devices::get(c, id)?, text)))
        })
        .await?;
    let Some((device, text)) = changes else {
        return Err(ApiError::not_found(format!("no device with id {id}")));
    };
    super::api::record(
        state,
        req,
        who,
        "device.update",
        format!("device {id}"),
        Some(text),
    )
    .await?;
    h::json(&device)
}
