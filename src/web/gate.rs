//! Who is asking: the session cookie or a bearer token, the CSRF check on changes, the
//! admin check, and the per-address limit on failed logins.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use warp::http::Method;

use super::http::{ApiError, Req};
use super::WebState;
use crate::auth::{self, Role};
use crate::store::accounts::{self, User};

pub const SESSION_COOKIE: &str = "picket_session";
/// How long a login lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    /// The session's CSRF token; `None` for bearer tokens (no cookie, no CSRF).
    pub csrf: Option<String>,
}

impl Principal {
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.user.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "{} is a viewer: only an admin can change this",
                self.user.name
            )))
        }
    }
}

pub fn is_change(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The caller, if the request carries a valid session cookie or bearer token; a change
/// made with a session must carry its CSRF token.
pub async fn authenticate(state: &WebState, req: &Req) -> Result<Option<Principal>, ApiError> {
    if let Some(h) = req.header("authorization") {
        let Some(token) = h.strip_prefix("Bearer ").map(str::trim) else {
            return Err(ApiError::unauthenticated(
                "Authorization: use `Bearer <token>` with a token from `picket token create`",
            ));
        };
        let digest = auth::digest(token);
        let user = match state.credentials.get(&digest) {
            Some(known) => Some(known.user),
            None => {
                let key = digest.clone();
                let user = state
                    .db
                    .run(move |c| Ok(accounts::use_token(c, &key)?))
                    .await?;
                if let Some(u) = &user {
                    state.credentials.put(digest, u.clone(), None);
                }
                user
            }
        };
        return match user {
            Some(user) => Ok(Some(Principal { user, csrf: None })),
            None => Err(ApiError::unauthenticated(
                "the API token is unknown or revoked",
            )),
        };
    }
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return Ok(None);
    };
    let digest = auth::digest(cookie);
    let session = match state.credentials.get(&digest) {
        Some(Known {
            user,
            csrf: Some(csrf),
        }) => Some((user, csrf)),
        _ => {
            let key = digest.clone();
            let found = state
                .db
                .run(move |c| Ok(accounts::find_session(c, &key)?))
                .await?;
            if let Some(s) = &found {
                state
                    .credentials
                    .put(digest, s.user.clone(), Some(s.csrf.clone()));
            }
            found.map(|s| (s.user, s.csrf))
        }
    };
    let Some((user, csrf)) = session else {
        return Ok(None);
    };
    if is_change(&req.method) {
        let sent = req.header("x-csrf-token").unwrap_or("");
        if !auth::same_secret(sent, &csrf) {
            return Err(ApiError::forbidden(
                "missing or wrong X-CSRF-Token header: reload the page and try again",
            ));
        }
    }
    Ok(Some(Principal {
        user,
        csrf: Some(csrf),
    }))
}

/// Sessions and tokens checked in the last [`CREDENTIAL_TTL`], so that a dashboard or
/// script polling the API does not cost a database lookup per request. A logout here
/// forgets its session at once; a session or token ended by another process (`picket
/// user delete`, `picket token revoke`) stops working within [`CREDENTIAL_TTL`].
#[derive(Default)]
pub struct CredentialCache {
    known: Mutex<HashMap<Vec<u8>, (Instant, Known)>>,
}

/// The longest a checked credential is trusted without asking the database again.
pub const CREDENTIAL_TTL: Duration = Duration::from_secs(1);
/// Credentials remembered at most; a full cache starts over.
const MAX_CREDENTIALS: usize = 4096;

#[derive(Clone)]
struct Known {
    user: User,
    /// The session's CSRF token; `None` for a bearer token.
    csrf: Option<String>,
}

impl CredentialCache {
    fn get(&self, digest: &[u8]) -> Option<Known> {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known
            .get(digest)
            .filter(|(at, _)| at.elapsed() < CREDENTIAL_TTL)
            .map(|(_, k)| k.clone())
    }

    fn put(&self, digest: Vec<u8>, user: User, csrf: Option<String>) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.len() >= MAX_CREDENTIALS {
            known.retain(|_, (at, _)| at.elapsed() < CREDENTIAL_TTL);
            if known.len() >= MAX_CREDENTIALS {
                known.clear();
            }
        }
        known.insert(digest, (Instant::now(), Known { user, csrf }));
    }

    /// Forgets a credential at once (logout).
    pub fn forget(&self, digest: &[u8]) {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(digest);
    }
}

/// Failed logins per address: after [`MAX_FAILURES`] within [`FAILURE_WINDOW`], that
/// address gets 429 until the oldest failure ages out.
pub struct LoginLimiter {
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

pub const MAX_FAILURES: usize = 5;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Addresses remembered at most (a spray from many addresses cannot exhaust memory).
const MAX_ADDRESSES: usize = 10_000;

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            failures: Mutex::new(HashMap::new()),
        }
    }
}

impl LoginLimiter {
    /// `Err(seconds to wait)` when `ip` is over the limit.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let mut g = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let Some(q) = g.get_mut(&ip) else {
            return Ok(());
        };
        while q.front().is_some_and(|t| t.elapsed() >= FAILURE_WINDOW) {
            q.pop_front();
        }
        if q.len() >= MAX_FAILURES {
            let wait =
                FAILURE_WINDOW.saturating_sub(q.front().map_or(Duration::ZERO, |t| t.elapsed()));
            return Err(wait.as_secs().max(1));
        }
        Ok(())
    }

    pub fn failed(&self, ip: IpAddr) {
        let mut g = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if g.len() >= MAX_ADDRESSES && !g.contains_key(&ip) {
            g.retain(|_, q| q.back().is_some_and(|t| t.elapsed() < FAILURE_WINDOW));
            if g.len() >= MAX_ADDRESSES {
                return;
            }
        }
        let q = g.entry(ip).or_default();
        q.push_back(Instant::now());
        if q.len() > MAX_FAILURES {
            q.pop_front();
        }
    }

    pub fn succeeded(&self, ip: IpAddr) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&ip);
    }
}

/// The `Set-Cookie` value for a new session (or, with an empty value, one that ends it).
/// Whether the browser reached us over TLS: Picket serves plain HTTP on loopback, so TLS
/// means a reverse proxy in front that says `X-Forwarded-Proto: https` (or the
/// `secure_cookie` setting). A client faking the header only gets a cookie its own plain
/// HTTP connection will not send back.
pub fn over_tls(state: &WebState, req: &Req) -> bool {
    state.secure_cookie
        || req
            .header("x-forwarded-proto")
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

pub fn session_cookie(value: &str, secure: bool) -> String {
    let max_age = if value.is_empty() {
        0
    } else {
        SESSION_LIFETIME.as_secs()
    };
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_blocks_after_five_failures_and_forgets_on_success() {
        let l = LoginLimiter::default();
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert!(l.check(ip).is_ok());
            l.failed(ip);
        }
        let wait = l.check(ip).unwrap_err();
        assert!(wait > 0 && wait <= FAILURE_WINDOW.as_secs());
        assert!(l.check("203.0.113.8".parse().unwrap()).is_ok());
        l.succeeded(ip);
        assert!(l.check(ip).is_ok());
    }

    #[test]
    fn the_cookie_is_http_only_and_same_site_strict() {
        let c = session_cookie("abc", false);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && !c.contains("Secure"));
        assert!(session_cookie("abc", true).ends_with("; Secure"));
        assert!(session_cookie("", false).contains("Max-Age=0"));
    }
}
