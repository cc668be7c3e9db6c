//! The request as handlers see it, the one JSON error shape, and response helpers.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use warp::http::{HeaderMap, HeaderValue, Method, StatusCode};
use warp::reply::{Reply, Response};

/// One request, read whole (the body capped at [`MAX_BODY`]).
#[derive(Debug)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub remote: Option<SocketAddr>,
    pub body: Vec<u8>,
}

/// Largest request body: a rule bundle fits with room to spare.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

impl Req {
    pub fn address(&self) -> String {
        self.remote
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|| "unknown".into())
    }
    pub fn ip(&self) -> Option<IpAddr> {
        self.remote.map(|a| a.ip())
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .get_all("cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
    /// The body as JSON of type `T`, or a 400 naming what is wrong.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad_request(format!("request body: {e}")))
    }
    pub fn body_text(&self) -> Result<&str, ApiError> {
        std::str::from_utf8(&self.body)
            .map_err(|_| ApiError::bad_request("request body is not UTF-8"))
    }
}

/// `application/x-www-form-urlencoded` pairs (a query string), percent-decoded.
pub fn parse_query(q: &str) -> HashMap<String, String> {
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

/// A detail of a validation error, placed in a file when it can be.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Detail {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

/// Every error the API returns: `{"error": {"code", "message", "details"?}}`.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<Detail>,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
    }
    pub fn bad_request(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", m)
    }
    pub fn unauthenticated(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", m)
    }
    pub fn forbidden(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", m)
    }
    pub fn not_found(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", m)
    }
    pub fn method_not_allowed(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "bad_request", m)
    }
    pub fn conflict(m: impl Into<String>, details: Vec<Detail>) -> ApiError {
        ApiError {
            details,
            ..ApiError::new(StatusCode::CONFLICT, "conflict", m)
        }
    }
    pub fn invalid(m: impl Into<String>, details: Vec<Detail>) -> ApiError {
        ApiError {
            details,
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m)
        }
    }
    pub fn too_large(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "bad_request", m)
    }
    pub fn rate_limited(retry_after: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many failed logins from this address: try again in {retry_after} s"),
            )
        }
    }
    pub fn unavailable(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", m)
    }
    pub fn internal(m: impl std::fmt::Display) -> ApiError {
        tracing::warn!("web: {m}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed; its log says why",
        )
    }

    pub fn into_response(self) -> Response {
        let mut err = serde_json::json!({ "code": self.code, "message": self.message });
        if !self.details.is_empty() {
            err["details"] = serde_json::to_value(&self.details).unwrap_or_default();
        }
        let mut r = json_status(&serde_json::json!({ "error": err }), self.status);
        if let Some(s) = self.retry_after {
            r.headers_mut().insert("retry-after", HeaderValue::from(s));
        }
        r
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::internal(format!("database: {e}"))
    }
}

pub type ApiResult = Result<Response, ApiError>;

pub fn json_status<T: serde::Serialize>(v: &T, status: StatusCode) -> Response {
    warp::reply::with_status(warp::reply::json(v), status).into_response()
}

pub fn json<T: serde::Serialize>(v: &T) -> ApiResult {
    Ok(json_status(v, StatusCode::OK))
}

pub fn no_content() -> ApiResult {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A number parameter within `range`; `default` when absent.
pub fn number_param<T>(
    req: &Req,
    name: &str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ApiError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    match req.param(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<T>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{name} `{v}`: use a number from {} to {}",
                    range.start(),
                    range.end()
                ))
            }),
    }
}

/// `limit` (1–500, default 50).
pub fn limit(req: &Req) -> Result<usize, ApiError> {
    number_param(req, "limit", 50, 1..=500)
}

/// A comma-separated parameter (`type=A,B`), each part parsed; empty when absent.
pub fn list_param<T>(
    req: &Req,
    name: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, ApiError> {
    req.param(name)
        .unwrap_or("")
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| parse(p.trim()).map_err(ApiError::bad_request))
        .collect()
}

/// One page of a listing: `{items, next_cursor}`, the cursor taken from the last row when
/// the page is full.
pub fn page<T: serde::Serialize>(
    rows: &[T],
    limit: usize,
    cursor: impl Fn(&T) -> String,
) -> ApiResult {
    Ok(json_bytes(page_bytes(rows, limit, cursor)?))
}

/// A listing's JSON, written straight from the rows (no intermediate JSON tree).
pub fn page_bytes<T: serde::Serialize>(
    rows: &[T],
    limit: usize,
    cursor: impl Fn(&T) -> String,
) -> Result<Vec<u8>, ApiError> {
    #[derive(serde::Serialize)]
    struct Page<'a, T> {
        items: &'a [T],
        next_cursor: Option<String>,
    }
    let next_cursor = rows.last().filter(|_| rows.len() == limit).map(cursor);
    serde_json::to_vec(&Page {
        items: rows,
        next_cursor,
    })
    .map_err(ApiError::internal)
}

/// A 200 with a JSON body already serialized.
pub fn json_bytes(body: Vec<u8>) -> Response {
    warp::reply::with_header(body, "content-type", "application/json").into_response()
}

/// A time parameter: RFC 3339, or a span back from now (`15m`, `24h`, `7d`).
pub fn time_param(
    req: &Req,
    name: &str,
) -> Result<Option<crate::base::timestamp::Timestamp>, ApiError> {
    use crate::base::timestamp::Timestamp;
    let Some(v) = req.param(name) else {
        return Ok(None);
    };
    if let Some(t) = Timestamp::parse_rfc3339(v) {
        return Ok(Some(t));
    }
    match crate::model::duration::parse_secs(v) {
        Ok(s) => Ok(Some(Timestamp::now().saturating_add_secs(-s))),
        Err(_) => Err(ApiError::bad_request(format!(
            "{name} `{v}`: use an RFC 3339 time (2026-11-21T10:00:00Z) or a span like 15m, 24h, 7d"
        ))),
    }
}

/// A cursor: the (time, id) of the last row of the previous page, as `micros.id`.
pub fn cursor(req: &Req) -> Result<Option<(crate::base::timestamp::Timestamp, i64)>, ApiError> {
    let Some(c) = req.param("cursor") else {
        return Ok(None);
    };
    c.split_once('.')
        .and_then(|(t, id)| Some((t.parse().ok()?, id.parse().ok()?)))
        .map(|(t, id)| Some((crate::base::timestamp::Timestamp::from_micros(t), id)))
        .ok_or_else(|| ApiError::bad_request("cursor: pass back a next_cursor unchanged"))
}

pub fn make_cursor(t: crate::base::timestamp::Timestamp, id: i64) -> String {
    format!("{}.{id}", t.as_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode() {
        assert_eq!(parse_query("u=%\u{e9}%")["u"], "%\u{e9}%");
        let q = parse_query("q=a%20b+c&type=FAILED_LOGIN,SUDO&bad=%zz&empty&x=%41");
        assert_eq!(q["q"], "a b c");
        assert_eq!(q["type"], "FAILED_LOGIN,SUDO");
        assert_eq!(q["bad"], "%zz");
        assert_eq!(q["empty"], "");
        assert_eq!(q["x"], "A");
        assert_eq!(parse_query("t=%4")["t"], "%4");
    }
}
