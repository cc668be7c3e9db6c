//! Every API route in one table: method, path template, who may call it, and its handler.
//! Dispatch reads this table and nothing else, and a test compares it with
//! `schemas/openapi.yaml`, so the server, its access rules and its document cannot drift
//! apart. Adding a route is one line here (and its handler, and its OpenAPI entry).

use std::future::Future;
use std::pin::Pin;

use super::gate::Principal;
use super::http::{ApiResult, Req};
use super::{
    api, api_bans, api_config, api_devices, api_host, api_incidents, api_notify, api_rules,
    api_traffic, stream, WebState,
};

/// A handler's answer, boxed so every handler has one type.
pub type Answer<'a> = Pin<Box<dyn Future<Output = ApiResult> + Send + 'a>>;

/// What an authenticated handler is given.
pub struct Call<'a> {
    pub state: &'a WebState,
    pub req: &'a Req,
    pub who: &'a Principal,
    /// The route's `{id}` segment, percent-decoded; empty when the route has none.
    pub id: &'a str,
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: no session or token needed.
    Open,
    /// Any signed-in user or token, viewers included.
    Viewer,
    /// Administrators only.
    Admin,
}

/// How a route is answered.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Before authentication (only for [`Access::Open`] routes).
    Open(for<'a> fn(&'a WebState, &'a Req) -> Answer<'a>),
    /// After authentication and the access check.
    Authed(for<'a> fn(Call<'a>) -> Answer<'a>),
}

/// One route.
pub struct Route {
    pub method: &'static str,
    /// The path; `{id}` matches one percent-encoded segment.
    pub path: &'static str,
    pub access: Access,
    pub handler: Handler,
}

macro_rules! open {
    ($m:literal, $p:literal, |$s:ident, $r:ident| $body:expr) => {
        Route {
            method: $m,
            path: $p,
            access: Access::Open,
            handler: Handler::Open(|$s, $r| Box::pin(async move { $body })),
        }
    };
}

macro_rules! authed {
    ($m:literal, $p:literal, $access:ident, |$c:ident| $body:expr) => {
        Route {
            method: $m,
            path: $p,
            access: Access::$access,
            handler: Handler::Authed(|$c| Box::pin(async move { $body })),
        }
    };
}

/// Every API route.
pub static ROUTES: &[Route] = &[
    open!("GET", "/api/health", |s, _r| api::health(s)),
    open!("POST", "/api/login", |s, r| api::login(s, r).await),
    authed!("POST", "/api/logout", Viewer, |c| api::logout(
        c.state, c.req, c.who
    )
    .await),
    authed!("GET", "/api/session", Viewer, |c| api::session(c.who)),
    authed!("GET", "/api/metrics", Viewer, |c| api::metrics(c.state)
        .await),
    authed!("GET", "/api/timeline", Viewer, |c| api::timeline(
        c.state, c.req
    )
    .await),
    authed!("GET", "/api/events", Viewer, |c| api::events(
        c.state, c.req
    )
    .await),
    authed!("GET", "/api/logs", Viewer, |c| api::events(c.state, c.req)
        .await),
    authed!("GET", "/api/alerts", Viewer, |c| api::alerts(
        c.state, c.req
    )
    .await),
    authed!("GET", "/api/alerts/counts", Viewer, |c| api::alert_counts(
        c.state
    )
    .await),
    authed!("GET", "/api/alerts/{id}", Viewer, |c| api::alert(
        c.state, c.id
    )
    .await),
    authed!("PATCH", "/api/alerts/{id}", Admin, |c| {
        api::set_alert_status(c.state, c.req, c.who, c.id).await
    }),
    authed!("POST", "/api/alerts/status", Admin, |c| {
        api::set_alerts_status(c.state, c.req, c.who).await
    }),
    authed!("GET", "/api/rules", Viewer, |c| api_rules::list(c.state)
        .await),
    authed!("GET", "/api/rules/export", Viewer, |c| api_rules::export(
        c.state, c.req
    )),
    // Read-only computations on a posted body: viewers may use them.
    authed!("POST", "/api/rules/validate", Viewer, |c| {
        api_rules::validate(c.req)
    }),
    authed!("POST", "/api/rules/test", Viewer, |c| api_rules::test(
        c.req
    )),
    authed!("POST", "/api/rules/import", Admin, |c| {
        api_rules::import(c.state, c.req, c.who).await
    }),
    authed!("GET", "/api/rules/{id}", Viewer, |c| api_rules::get(
        c.state, c.id
    )
    .await),
    authed!("PUT", "/api/rules/{id}", Admin, |c| {
        api_rules::save(c.state, c.req, c.who, c.id).await
    }),
    authed!("PATCH", "/api/rules/{id}", Admin, |c| {
        api_rules::set_enabled(c.state, c.req, c.who, c.id).await
    }),
    authed!("GET", "/api/audit", Viewer, |c| api::audit(c.state, c.req)
        .await),
    authed!("GET", "/api/stream", Viewer, |c| Ok(stream::open(c.state))),
    authed!("GET", "/api/processes", Viewer, |c| api_host::processes(
        c.state, c.req
    )),
    authed!("GET", "/api/ports", Viewer, |c| api_host::ports(
        c.state, c.req
    )),
    authed!("GET", "/api/bans", Viewer, |c| api_bans::list(
        c.state, c.req
    )
    .await),
    authed!("POST", "/api/bans", Admin, |c| api_bans::block(
        c.state, c.req, c.who
    )
    .await),
    authed!("DELETE", "/api/bans/{id}", Admin, |c| {
        api_bans::unblock(c.state, c.req, c.who, c.id).await
    }),
    authed!("GET", "/api/incidents", Viewer, |c| api_incidents::list(
        c.state, c.req
    )
    .await),
    authed!("GET", "/api/incidents/counts", Viewer, |c| {
        api_incidents::counts(c.state).await
    }),
    authed!("GET", "/api/incidents/{id}", Viewer, |c| {
        api_incidents::get(c.state, c.id).await
    }),
    authed!("PATCH", "/api/incidents/{id}", Admin, |c| {
        api_incidents::patch(c.state, c.req, c.who, c.id).await
    }),
    authed!("POST", "/api/alert", Admin, |c| {
        api_incidents::ingest(c.state, c.req, c.who).await
    }),
    authed!("GET", "/api/devices", Viewer, |c| api_devices::list(
        c.state
    )
    .await),
    authed!("GET", "/api/devices/{id}", Viewer, |c| api_devices::get(
        c.state, c.id
    )
    .await),
    authed!("PATCH", "/api/devices/{id}", Admin, |c| {
        api_devices::patch(c.state, c.req, c.who, c.id).await
    }),
    authed!("GET", "/api/traffic", Viewer, |c| api_traffic::top(
        c.state, c.req
    )
    .await),
    authed!("GET", "/api/traffic/devices/{id}", Viewer, |c| {
        api_traffic::device(c.state, c.req, c.id).await
    }),
    authed!("GET", "/api/ports/baseline", Viewer, |c| {
        api_host::baseline(c.state).await
    }),
    authed!("POST", "/api/ports/baseline", Admin, |c| {
        api_host::add_to_baseline(c.state, c.req, c.who).await
    }),
    authed!("DELETE", "/api/ports/baseline/{id}", Admin, |c| {
        api_host::remove_from_baseline(c.state, c.req, c.who, c.id).await
    }),
    authed!("GET", "/api/metrics/history", Viewer, |c| {
        api_host::metrics_history(c.state, c.req).await
    }),
    authed!("GET", "/api/config", Viewer, |c| api_config::get(c.state)
        .await),
    authed!("GET", "/api/config/history", Viewer, |c| {
        api_config::history(c.state, c.req).await
    }),
    authed!("POST", "/api/config/run", Admin, |c| api_config::run(
        c.state, c.req, c.who
    )
    .await),
    authed!("GET", "/api/notifications", Viewer, |c| api_notify::list(
        c.state, c.req
    )
    .await),
    authed!("POST", "/api/notifications/test", Admin, |c| {
        api_notify::test(c.state, c.req, c.who).await
    }),
];

/// The route a path matches (exact paths win over `{id}` templates), with its raw `{id}`
/// segment.
pub fn find(path: &str) -> Option<(&'static str, Option<&str>)> {
    let mut fallback = None;
    for r in ROUTES {
        if r.path == path {
            return Some((r.path, None));
        }
        if let Some(prefix) = r.path.strip_suffix("{id}") {
            if let Some(id) = path.strip_prefix(prefix) {
                if !id.is_empty() && !id.contains('/') && fallback.is_none() {
                    fallback = Some((r.path, Some(id)));
                }
            }
        }
    }
    fallback
}

/// The route for a method on a matched path template.
pub fn with_method(template: &str, method: &str) -> Option<&'static Route> {
    ROUTES
        .iter()
        .find(|r| r.path == template && r.method == method)
}

/// The methods a path template answers, for a 405's message.
pub fn methods(template: &str) -> Vec<&'static str> {
    ROUTES
        .iter()
        .filter(|r| r.path == template)
        .map(|r| r.method)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_templates_and_ids() {
        assert_eq!(find("/api/alerts"), Some(("/api/alerts", None)));
        assert_eq!(
            find("/api/alerts/counts"),
            Some(("/api/alerts/counts", None))
        );
        assert_eq!(
            find("/api/alerts/12"),
            Some(("/api/alerts/{id}", Some("12")))
        );
        assert_eq!(find("/api/rules/export"), Some(("/api/rules/export", None)));
        assert_eq!(
            find("/api/rules/ssh-brute-force"),
            Some(("/api/rules/{id}", Some("ssh-brute-force")))
        );
        assert_eq!(find("/api/alerts/1/2"), None);
        assert_eq!(find("/api/nope"), None);
    }

    #[test]
    fn every_change_is_for_admins_but_logout_and_the_read_only_computations() {
        let viewer_changes: Vec<&str> = ROUTES
            .iter()
            .filter(|r| r.method != "GET" && r.access == Access::Viewer)
            .map(|r| r.path)
            .collect();
        assert_eq!(
            viewer_changes,
            ["/api/logout", "/api/rules/validate", "/api/rules/test"]
        );
        let open: Vec<&str> = ROUTES
            .iter()
            .filter(|r| r.access == Access::Open)
            .map(|r| r.path)
            .collect();
        assert_eq!(open, ["/api/health", "/api/login"]);
        for r in ROUTES {
            assert_eq!(
                r.access == Access::Open,
                matches!(r.handler, Handler::Open(_)),
                "{} {}",
                r.method,
                r.path
            );
        }
    }

    #[test]
    fn no_route_is_listed_twice() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(seen.insert((r.method, r.path)), "{} {}", r.method, r.path);
        }
    }
}
