//! `/api/traffic`: who used the bandwidth (top addresses over a span, each with the LAN
//! device it is, when known), one device's traffic series, and what the counts are
//! (forwarded per device, or this host's own per remote; from conntrack or sockets).

use serde_json::{json, Value};

use super::http::{self as h, ApiError, ApiResult, Req};
use super::WebState;
use crate::base::timestamp::Timestamp;
use crate::model::traffic::Scope;
use crate::store::{devices, traffic};

/// The reader's status as it saved it, or null before its first reading.
fn status(c: &rusqlite::Connection) -> Result<Value, ApiError> {
    Ok(crate::store::load_checkpoint(c, traffic::STATUS)?
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null))
}

/// `since` (default: the last hour), which must be in the past.
fn since(req: &Req, default_secs: i64) -> Result<Timestamp, ApiError> {
    let now = Timestamp::now();
    let since =
        h::time_param(req, "since")?.unwrap_or_else(|| now.saturating_add_secs(-default_secs));
    if since >= now {
        return Err(ApiError::bad_request("since must be in the past"));
    }
    Ok(since)
}

/// `/api/traffic?since=1h&scope=host|forwarded&limit=50`.
pub async fn top(state: &WebState, req: &Req) -> ApiResult {
    let since = since(req, 3600)?;
    let scope = match req.param("scope") {
        None => None,
        Some("host") => Some(Scope::Host),
        Some("forwarded") => Some(Scope::Forwarded),
        Some(_) => return Err(ApiError::bad_request("scope: host or forwarded")),
    };
    let limit = h::number_param(req, "limit", 50, 1..=1000)?;
    let (status, peers) = state
        .db
        .run(move |c| {
            let mut peers = Vec::new();
            for t in traffic::top(c, since, scope, limit)? {
                let device = devices::by_address(c, &t.addr)?;
                let mut v = serde_json::to_value(&t).map_err(ApiError::internal)?;
                v["device"] = match device {
                    Some(d) => json!({
                        "id": d.id,
                        "mac": d.mac,
                        "name": d.name,
                        "hostname": d.hostname,
                        "vendor": d.vendor,
                        "trusted": d.trusted,
                    }),
                    None => Value::Null,
                };
                peers.push(v);
            }
            Ok((status(c)?, peers))
        })
        .await?;
    h::json(&json!({
        "status": status,
        "since": since,
        "resolution_s": traffic::resolution_for(since, Timestamp::now()),
        "peers": peers,
    }))
}

/// `/api/traffic/devices/{id}?since=24h`: the device's traffic per minute (per hour over
/// more than two days), under its IPv4 and IPv6 addresses, with totals.
pub async fn device(state: &WebState, req: &Req, id: &str) -> ApiResult {
    let id: i64 = id.parse().map_err(|_| {
        ApiError::bad_request(format!("device id `{id}`: use the number from the list"))
    })?;
    let since = since(req, 86_400)?;
    let res = traffic::resolution_for(since, Timestamp::now());
    let found = state
        .db
        .run(move |c| {
            let Some(d) = devices::get(c, id)? else {
                return Ok(None);
            };
            let addrs: Vec<String> = d.ip.iter().chain(d.ipv6.iter()).cloned().collect();
            let points = traffic::series(c, &addrs, since, res)?;
            Ok(Some((addrs, points, status(c)?)))
        })
        .await?;
    let Some((addrs, points, status)) = found else {
        return Err(ApiError::not_found(format!("no device with id {id}")));
    };
    let sum = |f: fn(&traffic::Point) -> i64| points.iter().map(f).sum::<i64>();
    h::json(&json!({
        "device": id,
        "addresses": addrs,
        "status": status,
        "since": since,
        "resolution_s": res,
        "totals": {
            "tx_bytes": sum(|p| p.tx_bytes),
            "rx_bytes": sum(|p| p.rx_bytes),
            "tx_packets": sum(|p| p.tx_packets),
            "rx_packets": sum(|p| p.rx_packets),
            "connections": sum(|p| p.connections),
        },
        "points": points,
    }))
}
