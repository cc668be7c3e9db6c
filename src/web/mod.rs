//! The JSON API and the embedded dashboard, served by `picket run` (warp on hyper).
//!
//! One warp filter reads each request whole and hands it to [`dispatch`], which matches
//! it against [`ROUTES`]: the same table a test compares with `schemas/openapi.yaml`, so
//! the document and the server cannot drift apart. Everything but the login page, its
//! assets and `/api/health` needs a session or an API token (see [`gate`]).

pub mod api;
pub mod api_bans;
pub mod api_config;
pub mod api_devices;
pub mod api_host;
pub mod api_incidents;
pub mod api_notify;
pub mod api_rules;
pub mod api_traffic;
pub mod assets;
pub mod cache;
pub mod db;
pub mod gate;
pub mod host;
pub mod http;
pub mod stream;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use warp::http::{HeaderValue, Method, StatusCode};
use warp::reply::{Reply, Response};
use warp::Filter;

use self::http::{ApiError, Req, MAX_BODY};

/// Everything handlers share.
pub struct WebState {
    pub db: db::Db,
    pub live: crate::bus::live::Live,
    pub rules: crate::bus::board::RuleBoard,
    pub host: host::HostMetrics,
    /// The newest process table and listening sockets.
    pub snapshot: crate::sources::snapshot::SharedSnapshot,
    /// Runs the configuration checks (on demand from the API; `picket run` also runs
    /// them on an interval).
    pub checks: crate::checks::runner::Runner,
    /// The listening ports expected on this host.
    pub baseline: crate::sources::snapshot::baseline::PortBaseline,
    /// Bans by hand (`/api/bans`), through the same guard and history as the rules'.
    pub blocker: crate::response::Blocker,
    /// Hands other detectors' alerts (`POST /api/alert`) to the engine's path; none when
    /// this server runs no engine.
    pub intake: Option<Intake>,
    /// The notification channels (`/api/notifications`).
    pub notify: crate::notify::Board,
    pub limiter: gate::LoginLimiter,
    pub started: Instant,
    /// Set `Secure` on the session cookie (when served behind TLS).
    pub secure_cookie: bool,
    /// The last computed `/api/metrics` and when.
    pub metrics_cache: std::sync::Mutex<Option<(Instant, serde_json::Value)>>,
    /// Recent answers of `/api/alerts`.
    pub alert_pages: cache::PageCache,
    /// Recently checked sessions and tokens.
    pub credentials: gate::CredentialCache,
    /// A handle to this state for long-lived streams (set by [`WebState::new`]).
    pub self_ref: std::sync::Weak<WebState>,
}

/// What the daemon's collectors and actors share with the API.
pub struct HostParts {
    pub host: host::HostMetrics,
    pub snapshot: crate::sources::snapshot::SharedSnapshot,
    pub checks: crate::checks::runner::Runner,
    pub baseline: crate::sources::snapshot::baseline::PortBaseline,
    pub blocker: crate::response::Blocker,
    pub intake: Option<Intake>,
    pub notify: crate::notify::Board,
}

/// Takes alerts into the engine's path (store, incidents, response, notifications) and
/// returns once they are committed. Blocking: call it off the async workers.
pub type Intake =
    Arc<dyn Fn(Vec<crate::model::Alert>) -> Result<(), String> + Send + Sync + 'static>;

impl WebState {
    pub fn new(
        db: db::Db,
        live: crate::bus::live::Live,
        rules: crate::bus::board::RuleBoard,
        parts: HostParts,
    ) -> Arc<WebState> {
        let HostParts {
            host,
            snapshot,
            checks,
            baseline,
            blocker,
            intake,
            notify,
        } = parts;
        Arc::new_cyclic(|me| WebState {
            db,
            live,
            rules,
            host,
            snapshot,
            checks,
            baseline,
            blocker,
            intake,
            notify,
            limiter: gate::LoginLimiter::default(),
            started: Instant::now(),
            secure_cookie: false,
            metrics_cache: std::sync::Mutex::new(None),
            alert_pages: cache::PageCache::default(),
            credentials: gate::CredentialCache::default(),
            self_ref: me.clone(),
        })
    }
}

/// Every API route: (method, path template). `{id}` matches one path segment.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/health"),
    ("POST", "/api/login"),
    ("POST", "/api/logout"),
    ("GET", "/api/session"),
    ("GET", "/api/metrics"),
    ("GET", "/api/timeline"),
    ("GET", "/api/events"),
    ("GET", "/api/logs"),
    ("GET", "/api/alerts"),
    ("GET", "/api/alerts/counts"),
    ("GET", "/api/alerts/{id}"),
    ("PATCH", "/api/alerts/{id}"),
    ("POST", "/api/alerts/status"),
    ("GET", "/api/rules"),
    ("GET", "/api/rules/export"),
    ("POST", "/api/rules/validate"),
    ("POST", "/api/rules/test"),
    ("POST", "/api/rules/import"),
    ("GET", "/api/rules/{id}"),
    ("PUT", "/api/rules/{id}"),
    ("PATCH", "/api/rules/{id}"),
    ("GET", "/api/audit"),
    ("GET", "/api/stream"),
    ("GET", "/api/processes"),
    ("GET", "/api/ports"),
    ("GET", "/api/bans"),
    ("POST", "/api/bans"),
    ("DELETE", "/api/bans/{id}"),
    ("GET", "/api/incidents"),
    ("GET", "/api/incidents/counts"),
    ("GET", "/api/incidents/{id}"),
    ("PATCH", "/api/incidents/{id}"),
    ("POST", "/api/alert"),
    ("GET", "/api/devices"),
    ("GET", "/api/devices/{id}"),
    ("PATCH", "/api/devices/{id}"),
    ("GET", "/api/traffic"),
    ("GET", "/api/traffic/devices/{id}"),
    ("GET", "/api/ports/baseline"),
    ("POST", "/api/ports/baseline"),
    ("DELETE", "/api/ports/baseline/{id}"),
    ("GET", "/api/metrics/history"),
    ("GET", "/api/config"),
    ("GET", "/api/config/history"),
    ("POST", "/api/config/run"),
    ("GET", "/api/notifications"),
    ("POST", "/api/notifications/test"),
];

/// The route `path` matches, and its `{id}` segment.
fn route(path: &str) -> Option<(&'static str, Option<&str>)> {
    let mut fallback = None;
    for (_, t) in ROUTES {
        if *t == path {
            return Some((t, None));
        }
        if let Some(prefix) = t.strip_suffix("{id}") {
            if let Some(id) = path.strip_prefix(prefix) {
                if !id.is_empty() && !id.contains('/') && fallback.is_none() {
                    fallback = Some((*t, Some(id)));
                }
            }
        }
    }
    fallback
}

/// Decodes `%XX` escapes of a path segment; the result must be UTF-8.
fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("`{s}`: a `%` must start a two-digit hex escape"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    let text = String::from_utf8(out).map_err(|_| format!("`{s}` is not UTF-8 once decoded"))?;
    // One segment stays one segment: no slashes or control characters smuggled in.
    if text.chars().any(|c| c == '/' || c.is_control()) {
        return Err(format!("`{s}` decodes to a slash or a control character"));
    }
    Ok(text)
}

/// Headers on every response: no sniffing, no framing, a strict content policy (the
/// dashboard has no inline script or style), no referrer leaks.
fn harden(mut r: Response) -> Response {
    let h = r.headers_mut();
    for (k, v) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        (
            "content-security-policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
    if !h.contains_key("cache-control") {
        h.insert("cache-control", HeaderValue::from_static("no-store"));
    }
    r
}

fn redirect(to: &'static str) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    r.headers_mut()
        .insert("location", HeaderValue::from_static(to));
    r
}

/// Answers one request.
pub async fn dispatch(state: Arc<WebState>, req: Req) -> Response {
    let path = req.path.clone();
    let r = if path.starts_with("/api/") {
        api_request(&state, req)
            .await
            .unwrap_or_else(ApiError::into_response)
    } else {
        asset_request(&state, req).await
    };
    harden(r)
}

async fn asset_request(state: &WebState, req: Req) -> Response {
    if req.method != Method::GET && req.method != Method::HEAD {
        return ApiError::method_not_allowed("only GET serves the dashboard").into_response();
    }
    let Some(asset) = assets::find(&req.path) else {
        return ApiError::not_found(format!("no page {}", req.path)).into_response();
    };
    if !assets::is_public(&req.path) {
        match gate::authenticate(state, &req).await {
            Ok(Some(_)) => {}
            _ if asset.content_type.starts_with("text/html") => return redirect("/login.html"),
            _ => return ApiError::unauthenticated("log in first").into_response(),
        }
    }
    // no-cache: always revalidate (a new binary serves new files), but a 304 is enough.
    let fresh = req
        .header("if-none-match")
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == asset.etag));
    let mut r = if fresh {
        warp::http::StatusCode::NOT_MODIFIED.into_response()
    } else {
        warp::reply::with_header(asset.body, "content-type", asset.content_type).into_response()
    };
    let h = r.headers_mut();
    h.insert("cache-control", HeaderValue::from_static("no-cache"));
    h.insert("etag", HeaderValue::from_static(asset.etag));
    r
}

async fn api_request(state: &WebState, req: Req) -> http::ApiResult {
    let Some((template, id)) = route(&req.path) else {
        return Err(ApiError::not_found(format!("no API route {}", req.path)));
    };
    // `{id}` arrives percent-encoded (`2001%3Adb8%3A%3A1`); handlers see it decoded.
    let id = match id.map(percent_decode).transpose() {
        Ok(id) => id,
        Err(e) => return Err(ApiError::bad_request(e)),
    };
    let method = req.method.as_str().to_string();
    if !ROUTES.iter().any(|(m, t)| *t == template && *m == method) {
        let allowed: Vec<&str> = ROUTES
            .iter()
            .filter(|(_, t)| *t == template)
            .map(|(m, _)| *m)
            .collect();
        return Err(ApiError::method_not_allowed(format!(
            "{method} is not allowed on {template}: use {}",
            allowed.join(" or ")
        )));
    }
    // Open routes.
    match (method.as_str(), template) {
        ("GET", "/api/health") => return api::health(state),
        ("POST", "/api/login") => return api::login(state, &req).await,
        _ => {}
    }
    let Some(who) = gate::authenticate(state, &req).await? else {
        return Err(ApiError::unauthenticated(
            "log in first (POST /api/login) or send an API token",
        ));
    };
    if gate::is_change(&req.method) && template != "/api/logout" {
        match template {
            // Read-only computations on a posted body.
            "/api/rules/validate" | "/api/rules/test" => {}
            _ => who.require_admin()?,
        }
    }
    let id = id.as_deref().unwrap_or("");
    match (method.as_str(), template) {
        ("POST", "/api/logout") => api::logout(state, &req, &who).await,
        ("GET", "/api/session") => api::session(&who),
        ("GET", "/api/metrics") => api::metrics(state).await,
        ("GET", "/api/timeline") => api::timeline(state, &req).await,
        ("GET", "/api/events") | ("GET", "/api/logs") => api::events(state, &req).await,
        ("GET", "/api/alerts") => api::alerts(state, &req).await,
        ("GET", "/api/alerts/counts") => api::alert_counts(state).await,
        ("GET", "/api/alerts/{id}") => api::alert(state, id).await,
        ("PATCH", "/api/alerts/{id}") => api::set_alert_status(state, &req, &who, id).await,
        ("POST", "/api/alerts/status") => api::set_alerts_status(state, &req, &who).await,
        ("GET", "/api/rules") => api_rules::list(state).await,
        ("GET", "/api/rules/export") => api_rules::export(state, &req),
        ("POST", "/api/rules/validate") => api_rules::validate(&req),
        ("POST", "/api/rules/test") => api_rules::test(&req),
        ("POST", "/api/rules/import") => api_rules::import(state, &req, &who).await,
        ("GET", "/api/rules/{id}") => api_rules::get(state, id).await,
        ("PUT", "/api/rules/{id}") => api_rules::save(state, &req, &who, id).await,
        ("PATCH", "/api/rules/{id}") => api_rules::set_enabled(state, &req, &who, id).await,
        ("GET", "/api/audit") => api::audit(state, &req).await,
        ("GET", "/api/processes") => api_host::processes(state, &req),
        ("GET", "/api/ports") => api_host::ports(state, &req),
        ("GET", "/api/bans") => api_bans::list(state, &req).await,
        ("POST", "/api/bans") => api_bans::block(state, &req, &who).await,
        ("DELETE", "/api/bans/{id}") => api_bans::unblock(state, &req, &who, id).await,
        ("GET", "/api/incidents") => api_incidents::list(state, &req).await,
        ("GET", "/api/incidents/counts") => api_incidents::counts(state).await,
        ("GET", "/api/incidents/{id}") => api_incidents::get(state, id).await,
        ("PATCH", "/api/incidents/{id}") => api_incidents::patch(state, &req, &who, id).await,
        ("POST", "/api/alert") => api_incidents::ingest(state, &req, &who).await,
        ("GET", "/api/devices") => api_devices::list(state).await,
        ("GET", "/api/devices/{id}") => api_devices::get(state, id).await,
        ("PATCH", "/api/devices/{id}") => api_devices::patch(state, &req, &who, id).await,
        ("GET", "/api/traffic") => api_traffic::top(state, &req).await,
        ("GET", "/api/traffic/devices/{id}") => api_traffic::device(state, &req, id).await,
        ("GET", "/api/ports/baseline") => api_host::baseline(state).await,
        ("POST", "/api/ports/baseline") => api_host::add_to_baseline(state, &req, &who).await,
        ("DELETE", "/api/ports/baseline/{id}") => {
            api_host::remove_from_baseline(state, &req, &who, id).await
        }
        ("GET", "/api/metrics/history") => api_host::metrics_history(state, &req).await,
        ("GET", "/api/config") => api_config::get(state).await,
        ("GET", "/api/config/history") => api_config::history(state, &req).await,
        ("POST", "/api/config/run") => api_config::run(state, &req, &who).await,
        ("GET", "/api/notifications") => api_notify::list(state, &req).await,
        ("POST", "/api/notifications/test") => api_notify::test(state, &req, &who).await,
        ("GET", "/api/stream") => Ok(stream::open(state)),
        _ => Err(ApiError::not_found(format!(
            "no API route {method} {template}"
        ))),
    }
}

/// Reads the body, at most [`MAX_BODY`] bytes, whatever the transfer encoding.
async fn read_body(
    mut body: impl futures_util::Stream<Item = Result<impl warp::Buf, warp::Error>> + Unpin,
) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        let mut chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("reading the body: {e}")))?;
        if out.len() + chunk.remaining() > MAX_BODY {
            return Err(ApiError::too_large(format!(
                "request body over {} MB",
                MAX_BODY / (1024 * 1024)
            )));
        }
        while chunk.has_remaining() {
            let c = chunk.chunk();
            out.extend_from_slice(c);
            let n = c.len();
            chunk.advance(n);
        }
    }
    Ok(out)
}

/// Serves the API and dashboard on `listener` until `shutdown` resolves.
pub async fn serve(
    state: Arc<WebState>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let filter = warp::any()
        .and(warp::method())
        .and(warp::path::full())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::header::headers_cloned())
        .and(warp::addr::remote())
        .and(warp::body::stream())
        .then(
            move |method: Method,
                  path: warp::path::FullPath,
                  query: String,
                  headers,
                  remote: Option<SocketAddr>,
                  body| {
                let state = state.clone();
                async move {
                    let body = match read_body(Box::pin(body)).await {
                        Ok(b) => b,
                        Err(e) => return harden(e.into_response()),
                    };
                    let req = Req {
                        method,
                        path: path.as_str().to_string(),
                        query: http::parse_query(&query),
                        headers,
                        remote,
                        body,
                    };
                    dispatch(state, req).await
                }
            },
        );
    warp::serve(filter)
        .incoming(listener)
        .graceful(shutdown)
        .run()
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_templates_and_ids() {
        assert_eq!(route("/api/alerts"), Some(("/api/alerts", None)));
        assert_eq!(
            route("/api/alerts/counts"),
            Some(("/api/alerts/counts", None))
        );
        assert_eq!(
            route("/api/alerts/12"),
            Some(("/api/alerts/{id}", Some("12")))
        );
        assert_eq!(
            route("/api/rules/export"),
            Some(("/api/rules/export", None))
        );
        assert_eq!(
            route("/api/rules/ssh-brute-force"),
            Some(("/api/rules/{id}", Some("ssh-brute-force")))
        );
        assert_eq!(route("/api/alerts/1/2"), None);
        assert_eq!(route("/api/nope"), None);
    }

    #[test]
    fn id_segments_are_percent_decoded() {
        assert_eq!(percent_decode("2001%3Adb8%3A%3A1").unwrap(), "2001:db8::1");
        assert_eq!(
            percent_decode("ssh-brute-force").unwrap(),
            "ssh-brute-force"
        );
        assert!(percent_decode("..%2F..%2Fetc").is_err());
        assert!(percent_decode("a%0Ab").is_err());
        assert!(percent_decode("bad%zz").is_err());
        assert!(percent_decode("cut%4").is_err());
        assert!(percent_decode("%ff%fe").is_err());
    }
}
