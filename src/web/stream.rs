//! `/api/stream`: Server-Sent Events for the dashboard. Alerts (new and updated), status
//! changes, a sample of events, rule set changes, and the metrics every few seconds.

use std::convert::Infallible;
use std::time::Duration;

use futures_util::StreamExt;
use tokio_stream::wrappers::{BroadcastStream, IntervalStream};
use warp::reply::{Reply, Response};
use warp::sse::Event;

use super::WebState;
use crate::bus::live::LiveMsg;

pub const METRICS_EVERY: Duration = Duration::from_secs(5);

fn event(name: &str, data: &impl serde::Serialize) -> Option<Event> {
    Event::default().event(name).json_data(data).ok()
}

enum Item {
    Live(Result<LiveMsg, tokio_stream::wrappers::errors::BroadcastStreamRecvError>),
    Tick,
}

pub fn open(state: &WebState) -> Response {
    let live = BroadcastStream::new(state.live.subscribe()).map(Item::Live);
    let ticks = IntervalStream::new(tokio::time::interval(METRICS_EVERY)).map(|_| Item::Tick);
    // The handler cannot borrow the state into a 'static stream: metrics are computed
    // from a snapshot handle.
    let metrics = MetricsSource::from(state);
    let merged = futures_util::stream::select(live, ticks).filter_map(move |item| {
        let metrics = metrics.clone();
        async move {
            let ev = match item {
                Item::Live(Ok(LiveMsg::Alert(a))) => event("alert", &AlertNews::from(&*a)),
                Item::Live(Ok(LiveMsg::AlertStatus { id, status })) => event(
                    "alert_status",
                    &serde_json::json!({ "id": id, "status": status }),
                ),
                Item::Live(Ok(LiveMsg::Event(e))) => event("event", &*e),
                Item::Live(Ok(LiveMsg::Rules)) => event("rules", &serde_json::json!({})),
                Item::Live(Ok(LiveMsg::Config(c))) => event("config", &c),
                Item::Live(Ok(LiveMsg::Bans(b))) => event("bans", &b),
                Item::Live(Ok(LiveMsg::Incidents(ids))) => {
                    event("incidents", &serde_json::json!({ "ids": ids }))
                }
                // Fell behind: say so, the dashboard reloads its lists.
                Item::Live(Err(_)) => event("lagged", &serde_json::json!({})),
                Item::Tick => metrics.get().await.and_then(|m| event("metrics", &m)),
            };
            ev.map(Ok::<Event, Infallible>)
        }
    });
    warp::sse::reply(
        warp::sse::keep_alive()
            .interval(Duration::from_secs(15))
            .stream(merged),
    )
    .into_response()
}

/// An alert on the stream: the stored alert, and `"new": true` when this commit raised
/// it (the dashboard pops up only those, not every count update).
#[derive(serde::Serialize)]
struct AlertNews<'a> {
    #[serde(flatten)]
    alert: &'a crate::store::alerts::StoredAlert,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    new: bool,
}

impl<'a> From<&'a crate::store::alerts::StoredAlert> for AlertNews<'a> {
    fn from(a: &'a crate::store::alerts::StoredAlert) -> Self {
        AlertNews {
            alert: a,
            new: a.alert.is_new,
        }
    }
}

/// What the stream needs to compute metrics without holding the request's state borrow.
#[derive(Clone)]
struct MetricsSource {
    state: std::sync::Weak<WebState>,
}

impl MetricsSource {
    fn from(state: &WebState) -> MetricsSource {
        MetricsSource {
            state: state.self_ref.clone(),
        }
    }
    async fn get(&self) -> Option<serde_json::Value> {
        let state = self.state.upgrade()?;
        super::api::metrics_value(&state).await.ok()
    }
}
