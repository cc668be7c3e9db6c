//! `/api/config`: the configuration checks' latest results and the security score,
//! `/api/config/history`: the score's trend, and `POST /api/config/run`: run the checks
//! now (admins). The results are read from the store, where `picket run` keeps them.

use serde_json::{json, Value};

use super::gate::Principal;
use super::http::{self as h, ApiError, ApiResult, Req};
use super::WebState;
use crate::base::timestamp::Timestamp;
use crate::bus::live::LiveMsg;
use crate::checks::spec::CATEGORIES;
use crate::model::score::FORMULA;
use crate::store::checks as stored;

/// Most points `/api/config/history` answers with.
const HISTORY_POINTS: usize = 500;

fn report(state: &WebState, run: Option<stored::LatestRun>) -> Value {
    let interval_s = state.checks.interval().as_secs();
    let Some(run) = run else {
        return json!({
            "ran_at": null, "interval_s": interval_s, "score": null, "counts": counts(&[]),
            "categories": CATEGORIES, "formula": FORMULA, "results": [], "errors": [],
        });
    };
    json!({
        "ran_at": run.ran_at,
        "interval_s": interval_s,
        "score": run.score,
        "counts": counts(&run.results),
        "categories": CATEGORIES,
        "formula": FORMULA,
        "results": run.results,
        "errors": run.errors,
    })
}

fn counts(results: &[Value]) -> Value {
    let mut m = serde_json::Map::new();
    for s in ["PASS", "WARN", "FAIL", "NOT_APPLICABLE", "ERROR"] {
        let n = results.iter().filter(|r| r["status"] == s).count();
        m.insert(s.into(), n.into());
    }
    Value::Object(m)
}

pub async fn get(state: &WebState) -> ApiResult {
    let run = state.db.run(|c| Ok(stored::latest(c)?)).await?;
    h::json(&report(state, run))
}

pub async fn history(state: &WebState, req: &Req) -> ApiResult {
    let since = h::time_param(req, "since")?
        .unwrap_or_else(|| Timestamp::now().saturating_add_secs(-30 * 86_400));
    let points = state
        .db
        .run(move |c| Ok(stored::history(c, since, HISTORY_POINTS)?))
        .await?;
    h::json(&json!({ "points": points }))
}

pub async fn run(state: &WebState, req: &Req, who: &Principal) -> ApiResult {
    let runner = state.checks.clone();
    let (summary, run) = state
        .db
        .run(move |c| {
            let summary = runner.run_now(c).map_err(ApiError::internal)?;
            Ok((summary, stored::latest(c)?))
        })
        .await?;
    super::api::record(
        state,
        req,
        who,
        "checks.run",
        format!("{} checks", summary.checks),
        Some(format!("score {}", summary.score.score)),
    )
    .await?;
    state.live.send(LiveMsg::checks_ran(&summary));
    h::json(&report(state, run))
}
