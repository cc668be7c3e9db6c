//! `/api/notifications`: the notification channels (what they send where, never a URL's
//! path, a header value or a password), the recent deliveries and the failures of the
//! last 24 hours, for any signed-in user; `POST /api/notifications/test` (admins,
//! audited) sends a test message to every channel or to `{"channel": NAME}` and says how
//! each went.

use serde::Deserialize;
use serde_json::json;

use super::gate::Principal;
use super::http::{self as h, ApiError, ApiResult, Req};
use super::WebState;
use crate::base::timestamp::Timestamp;
use crate::store::notifications::{self as stored, NewDelivery, Status};

/// Deliveries a listing shows at most (without `limit`).
const RECENT: usize = 50;

pub async fn list(state: &WebState, req: &Req) -> ApiResult {
    let status = req
        .param("status")
        .map(|s| s.parse::<Status>().map_err(ApiError::bad_request))
        .transpose()?;
    let limit = if req.param("limit").is_some() {
        h::limit(req)?
    } else {
        RECENT
    };
    let (deliveries, failures) = state
        .db
        .run(move |c| {
            Ok((
                stored::recent(c, status, limit)?,
                stored::failures_since(c, Timestamp::now().saturating_add_secs(-86_400))?,
            ))
        })
        .await?;
    h::json(&json!({
        "channels": state.notify.summaries(),
        "deliveries": deliveries,
        "failures": failures,
    }))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TestBody {
    #[serde(default)]
    channel: Option<String>,
}

pub async fn test(state: &WebState, req: &Req, who: &Principal) -> ApiResult {
    let body: TestBody = if req.body.iter().all(u8::is_ascii_whitespace) {
        TestBody::default()
    } else {
        req.json()?
    };
    let names = match &body.channel {
        Some(name) => {
            if state.notify.channel(name).is_none() {
                return Err(ApiError::not_found(format!(
                    "no notification channel `{name}`"
                )));
            }
            vec![name.clone()]
        }
        None => state.notify.names(),
    };
    if names.is_empty() {
        return Err(ApiError::conflict(
            "no notification channel is configured (notifications.channels in picket.yaml)",
            Vec::new(),
        ));
    }
    // Every channel at once, each on a blocking thread: a slow server delays only its
    // own answer, and no database connection is held while sending.
    let msg = state.notify.test_message();
    let mut sends = Vec::new();
    for name in &names {
        let Some(ch) = state.notify.channel(name) else {
            continue;
        };
        let msg = msg.clone();
        sends.push((
            ch.clone(),
            tokio::task::spawn_blocking(move || ch.send(&msg)),
        ));
    }
    let mut results = Vec::new();
    for (ch, task) in sends {
        let outcome = task
            .await
            .unwrap_or_else(|e| Err(crate::notify::SendError::Permanent(e.to_string())));
        results.push((ch.name.clone(), ch.kind.as_str(), outcome));
    }
    let subject = msg.subject();
    let rows: Vec<(String, &'static str, Option<String>)> = results
        .iter()
        .map(|(n, k, r)| (n.clone(), *k, r.as_ref().err().map(|e| e.to_string())))
        .collect();
    state
        .db
        .run(move |c| {
            let now = Timestamp::now();
            for (name, kind, error) in &rows {
                stored::record(
                    c,
                    &NewDelivery {
                        channel: name,
                        kind,
                        status: if error.is_some() {
                            Status::Failed
                        } else {
                            Status::Sent
                        },
                        attempts: 1,
                        alerts: 0,
                        subject: &subject,
                        error: error.as_deref(),
                    },
                    now,
                )?;
            }
            Ok(())
        })
        .await?;
    let summary: Vec<String> = results
        .iter()
        .map(|(n, _, r)| match r {
            Ok(()) => format!("{n}: sent"),
            Err(e) => format!("{n}: failed: {e}"),
        })
        .collect();
    super::api::record(
        state,
        req,
        who,
        "notify.test",
        body.channel
            .clone()
            .unwrap_or_else(|| "all channels".into()),
        Some(summary.join("; ")),
    )
    .await?;
    h::json(&json!({
        "results": results
            .iter()
            .map(|(n, k, r)| json!({
                "channel": n,
                "kind": k,
                "ok": r.is_ok(),
                "error": r.as_ref().err().map(|e| e.to_string()),
            }))
            .collect::<Vec<_>>(),
    }))
}
