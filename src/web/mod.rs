//! The JSON API and the embedded dashboard, served by `picket run` (warp on hyper).
//!
//! One warp filter reads each request whole and hands it to [`dispatch`], which finds
//! its route in [`routes::ROUTES`] (method, path, access, handler): the same table a test
//! compares with `schemas/openapi.yaml`, so the document and the server cannot drift
//! apart. Everything but the login page, its
//! assets and `/api/health` needs a session or an API token (see `gate`).

pub(crate) mod api;
pub(crate) mod api_bans;
pub(crate) mod api_config;
pub(crate) mod api_devices;
pub(crate) mod api_host;
pub(crate) mod api_incidents;
pub(crate) mod api_notify;
pub(crate) mod api_rules;
pub(crate) mod api_traffic;
pub(crate) mod assets;
pub(crate) mod cache;
pub(crate) mod db;
pub(crate) mod gate;
pub(crate) mod http;
pub(crate) mod routes;
pub(crate) mod stream;

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
    pub host: crate::sources::metrics::view::HostMetrics,
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
    pub host: crate::sources::metrics::view::HostMetrics,
    pub snapshot: crate::sources::snapshot::SharedSnapshot,
    pub checks: crate::checks::runner::Runner,
    pub baseline: crate::sources::snapshot::baseline::PortBaseline,
    pub blocker: crate::response::Blocker,
    pub intake: Option<Intake>,
    pub notify: crate::notify::Board,
}

/// Takes alerts into the engine's path (store, incidents, response, notifications) and
/// returns once they are committed. Blocking: call it off the async workers.
pub type Intake = crate::sources::ingest::Intake;

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

pub use routes::ROUTES;

/// Decodes the `%XX` escapes of a path segment. The result must be UTF-8 and stay one
/// segment (no slash or control character smuggled in); a `%` must start an escape.
fn percent_decode(s: &str) -> Result<String, String> {
    let malformed = s
        .split('%')
        .skip(1)
        .any(|rest| rest.len() < 2 || !rest.as_bytes()[..2].iter().all(u8::is_ascii_hexdigit));
    if malformed {
        return Err(format!("`{s}`: a `%` must start a two-digit hex escape"));
    }
    let text = percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map_err(|_| format!("`{s}` is not UTF-8 once decoded"))?;
    if text.chars().any(|c| c == '/' || c.is_control()) {
        return Err(format!("`{s}` decodes to a slash or a control character"));
    }
    Ok(text.into_owned())
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
    let Some((template, id)) = routes::find(&req.path) else {
        return Err(ApiError::not_found(format!("no API route {}", req.path)));
    };
    // `{id}` arrives percent-encoded (`2001%3Adb8%3A%3A1`); handlers see it decoded.
    let id = match id.map(percent_decode).transpose() {
        Ok(id) => id,
        Err(e) => return Err(ApiError::bad_request(e)),
    };
    let method = req.method.as_str();
    let Some(route) = routes::with_method(template, method) else {
        return Err(ApiError::method_not_allowed(format!(
            "{method} is not allowed on {template}: use {}",
            routes::methods(template).join(" or ")
        )));
    };
    let handler = match route.handler {
        routes::Handler::Open(handler) => return handler(state, &req).await,
        routes::Handler::Authed(handler) => handler,
    };
    let Some(who) = gate::authenticate(state, &req).await? else {
        return Err(ApiError::unauthenticated(
            "log in first (POST /api/login) or send an API token",
        ));
    };
    if route.access == routes::Access::Admin {
        who.require_admin()?;
    }
    handler(routes::Call {
        state,
        req: &req,
        who: &who,
        id: id.as_deref().unwrap_or(""),
    })
    .await
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
