//! Response: blocking an address, by a rule's `response: [block_ip]` or by hand.
//!
//! Every request goes the same way: the address is an `IpAddr` already (parsed from the
//! hostile log before anything else), the guard refuses loopback, this host and the
//! allowlist, the mode decides (`off`, `dry-run`: record what would have been done,
//! `enforce`), the ban time grows for repeat offenders, and the ban is kept in SQLite
//! so it is listed, escalated and restored after a restart.
//!
//! - `nft`: Picket's nftables table and sets; `ipset`: the iptables + ipset fallback for
//!   hosts without `nft`; `firewall`: which of the two; `guard`: the never-block list; `kill`:
//!   `kill_process`, with its own checks (the same process, never pid 1 or Picket).
//! - `registry`: every action rules may name, and how each [`Responder`] is built;
//!   `block`: `block_ip` as a responder; `worker`: the responder stage's thread.

pub(crate) mod block;
pub(crate) mod firewall;
pub(crate) mod guard;
pub(crate) mod ipset;
pub(crate) mod kill;
pub(crate) mod nft;
pub(crate) mod registry;
pub(crate) mod worker;

use std::net::IpAddr;
use std::time::Duration;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::base::timestamp::Timestamp;
use crate::store::bans;
pub use guard::{Guard, Protected};

/// What an action does when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Off,
    /// Record and show what would have been done.
    DryRun,
    Enforce,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::DryRun => "dry-run",
            Mode::Enforce => "enforce",
        }
    }
}

/// `response.block_ip` in picket.yaml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlockConfig {
    pub mode: Mode,
    /// The first ban's length, in seconds.
    pub ban_time_secs: u64,
    /// Each earlier ban of the address within `history_days` doubles the next one, up to
    /// this many seconds.
    pub max_ban_time_secs: u64,
    pub history_days: u64,
    /// `auto` (nftables when `nft` is installed, else iptables + ipset), `nftables` or
    /// `iptables`.
    pub backend: firewall::Backend,
}

impl Default for BlockConfig {
    fn default() -> Self {
        BlockConfig {
            mode: Mode::DryRun,
            ban_time_secs: 600,
            max_ban_time_secs: 7 * 86_400,
            history_days: 30,
            backend: firewall::Backend::Auto,
        }
    }
}

impl BlockConfig {
    /// The ban time after `previous` bans: doubled each time, capped.
    pub fn ban_time(&self, previous: u32) -> Duration {
        self.ban_time_from(self.ban_time_secs, previous)
    }

    /// [`BlockConfig::ban_time`] from a first ban of `first` seconds (a rule's own).
    pub fn ban_time_from(&self, first: u64, previous: u32) -> Duration {
        let secs = first
            .saturating_mul(1u64 << previous.min(32))
            .min(self.max_ban_time_secs.max(first));
        Duration::from_secs(secs.max(1))
    }
}

/// What a block request came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Blocked { ip: IpAddr, for_secs: u64 },
    WouldBlock { ip: IpAddr, for_secs: u64 },
    Refused { ip: IpAddr, why: Protected },
    Off,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Blocked { ip, for_secs } => write!(f, "blocked {ip} for {for_secs} s"),
            Outcome::WouldBlock { ip, for_secs } => {
                write!(f, "dry-run: would block {ip} for {for_secs} s")
            }
            Outcome::Refused { ip, why } => write!(f, "not blocking {ip}: {why}"),
            Outcome::Off => write!(f, "block_ip is off"),
        }
    }
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    #[error(transparent)]
    Firewall(#[from] firewall::FirewallError),
    #[error("cannot record the ban: {0}")]
    Store(#[from] rusqlite::Error),
}

/// Blocks addresses as configured.
#[derive(Debug, Clone)]
pub struct Blocker {
    pub config: BlockConfig,
    pub guard: Guard,
}

/// Who asks, and why.
pub struct Request<'a> {
    pub ip: IpAddr,
    pub reason: &'a str,
    pub by_user: Option<&'a str>,
    /// A length given by hand, instead of the escalating ban time.
    pub for_time: Option<Duration>,
    /// The first ban's length the rule sets, in seconds, instead of the configured one
    /// (escalation doubles from it).
    pub first_ban: Option<u64>,
    /// The mode for this request (a ban by hand is enforced unless asked otherwise).
    pub mode: Mode,
}

/// An action rules can ask for by name in `response:` (see [`registry`]).
pub trait Responder: Send {
    /// Called once on the responder's thread before the first alert (to restore state).
    fn start(&mut self, _conn: &Connection) {}

    /// Acts on an alert whose rule names this action. Slow work goes to a thread of its
    /// own. Returns what to put on the alert's incident timeline, if anything.
    fn act(&mut self, conn: &Connection, alert: &crate::model::Alert) -> Option<Done>;
}

/// An action done for an alert, for its incident's timeline.
#[derive(Debug, Clone)]
pub struct Done {
    pub alert_key: String,
    pub ip: Option<IpAddr>,
    /// Who did it: the rule.
    pub actor: String,
    pub text: String,
}

/// A rule's alert asking for `block_ip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockOrder {
    pub ip: IpAddr,
    pub rule: String,
    /// The rule's own first ban length, in seconds.
    pub ban_secs: Option<u64>,
    /// The alert's key, to put the ban on its incident's timeline.
    pub alert_key: String,
}

impl BlockOrder {
    /// The order an alert that names `block_ip` carries, when its group has an address
    /// (parsed here: the group's text came from a log).
    pub fn from_alert(a: &crate::model::Alert) -> Option<BlockOrder> {
        let ip = a.group.get("src_ip")?.parse::<IpAddr>().ok()?;
        Some(BlockOrder {
            ip,
            rule: a.rule.clone(),
            ban_secs: a.ban_secs,
            alert_key: a.key.clone(),
        })
    }
}

impl Blocker {
    /// Carries out an alert's order in the configured mode, unless a ban of the address
    /// in that mode is already running (a suppressed alert's updates repeat the order).
    pub fn respond(
        &self,
        conn: &Connection,
        order: &BlockOrder,
    ) -> Result<Option<Outcome>, ResponseError> {
        let mode = self.config.mode;
        if mode == Mode::Off {
            return Ok(None);
        }
        let ip = crate::model::ip::canonical(order.ip);
        let running = bans::active(conn, Timestamp::now())?
            .iter()
            .any(|b| b.mode == mode.as_str() && b.ip == ip.to_string());
        if running {
            return Ok(None);
        }
        self.block(
            conn,
            &Request {
                ip,
                reason: &order.rule,
                by_user: None,
                for_time: None,
                first_ban: order.ban_secs,
                mode,
            },
        )
        .map(Some)
    }

    pub fn block(&self, conn: &Connection, r: &Request) -> Result<Outcome, ResponseError> {
        if r.mode == Mode::Off {
            return Ok(Outcome::Off);
        }
        let ip = crate::model::ip::canonical(r.ip);
        if let Some(why) = self.guard.protects(ip) {
            return Ok(Outcome::Refused { ip, why });
        }
        let now = Timestamp::now();
        if crate::store::accounts::admin_addresses(conn, now)?.contains(&ip) {
            return Ok(Outcome::Refused {
                ip,
                why: Protected::Admin,
            });
        }
        let since = now.saturating_add_secs(-(self.config.history_days as i64) * 86_400);
        let previous = bans::count_since(conn, ip, since)?;
        let first = r.first_ban.unwrap_or(self.config.ban_time_secs);
        let length = r
            .for_time
            .unwrap_or_else(|| self.config.ban_time_from(first, previous));
        if r.mode == Mode::Enforce {
            firewall::block(self.config.backend, ip, length)?;
        }
        let for_secs = length.as_secs().max(1);
        bans::record(
            conn,
            &bans::NewBan {
                ip,
                created: now,
                expires: now.saturating_add_secs(for_secs as i64),
                mode: r.mode.as_str(),
                reason: r.reason,
                by_user: r.by_user,
            },
        )?;
        let outcome = if r.mode == Mode::Enforce {
            Outcome::Blocked { ip, for_secs }
        } else {
            Outcome::WouldBlock { ip, for_secs }
        };
        // A ban by hand goes on the address's incident (a rule's, on its alert's).
        if let Some(user) = r.by_user {
            crate::store::incidents::record_action(
                conn,
                None,
                Some(ip),
                Some(user),
                &format!("{outcome} (by hand: {})", r.reason),
            )?;
        }
        Ok(outcome)
    }

    /// Lifts every ban of `ip` (the kernel's and the records); how many records were
    /// running.
    /// `by` names who asked, for the address's incident.
    pub fn unblock(
        &self,
        conn: &Connection,
        ip: IpAddr,
        by: Option<&str>,
    ) -> Result<usize, ResponseError> {
        let ip = crate::model::ip::canonical(ip);
        firewall::unblock(self.config.backend, ip)?;
        let lifted = bans::lift(conn, ip, Timestamp::now())?;
        if lifted > 0 {
            crate::store::incidents::record_action(
                conn,
                None,
                Some(ip),
                by,
                &format!("unblocked {ip} ({lifted} running bans lifted)"),
            )?;
        }
        Ok(lifted)
    }

    /// Puts the enforced bans still running back into the kernel (after a reboot, or if
    /// someone flushed the table), each for the time it has left.
    pub fn restore(&self, conn: &Connection) -> Result<usize, ResponseError> {
        let now = Timestamp::now();
        let mut n = 0;
        for b in bans::active(conn, now)?
            .into_iter()
            .filter(|b| b.mode == "enforce")
        {
            let Ok(ip) = b.ip.parse::<IpAddr>() else {
                continue;
            };
            let left = (b.expires.as_micros() - now.as_micros()) / 1_000_000;
            if left > 0 && self.guard.protects(ip).is_none() {
                firewall::block(self.config.backend, ip, Duration::from_secs(left as u64))?;
                n += 1;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeat_offenders_get_doubled_bans_up_to_the_cap() {
        let c = BlockConfig {
            ban_time_secs: 600,
            max_ban_time_secs: 3600,
            ..BlockConfig::default()
        };
        assert_eq!(c.ban_time(0).as_secs(), 600);
        assert_eq!(c.ban_time(1).as_secs(), 1200);
        assert_eq!(c.ban_time(2).as_secs(), 2400);
        assert_eq!(c.ban_time(3).as_secs(), 3600);
        assert_eq!(c.ban_time(200).as_secs(), 3600);
    }

    #[test]
    fn a_rules_ban_time_is_its_first_ban_and_doubles_from_there() {
        let rule = crate::engine::compile::compile_yaml(
            "id: r\ntitle: t\nseverity: high\nmatch: { type: FAILED_LOGIN }\ngroup_by: [src_ip]\nresponse: [block_ip]\nban_time: 2h\n",
            std::path::Path::new("r.yaml"),
        )
        .unwrap();
        let rules =
            std::sync::Arc::new(crate::engine::RuleSet::new(vec![std::sync::Arc::new(rule)]));
        let mut e = crate::model::event::Event::new(
            Timestamp::from_secs(1),
            crate::model::event::EventType::FailedLogin,
            "test",
            "line",
        );
        e.src_ip = Some("203.0.113.66".parse().unwrap());
        let alerts = crate::engine::ruletest::alerts_for(rules, &[e]);
        let order = BlockOrder::from_alert(&alerts[0]).unwrap();
        assert_eq!(order.ban_secs, Some(7200));
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        let b = Blocker {
            config: BlockConfig::default(),
            guard: Guard::new(vec![]),
        };
        let first = b.respond(&conn, &order).unwrap().unwrap();
        assert_eq!(
            first,
            Outcome::WouldBlock {
                ip: order.ip,
                for_secs: 7200
            }
        );
        // The running dry-run ban is not repeated; once lifted, the next one doubles.
        assert_eq!(b.respond(&conn, &order).unwrap(), None);
        bans::lift(&conn, order.ip, Timestamp::now()).unwrap();
        let second = b.respond(&conn, &order).unwrap().unwrap();
        assert_eq!(
            second,
            Outcome::WouldBlock {
                ip: order.ip,
                for_secs: 14_400
            }
        );
    }

    #[test]
    fn dry_run_records_and_escalates_without_touching_the_firewall() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        let b = Blocker {
            config: BlockConfig::default(),
            guard: Guard::new(vec![
                crate::model::ip::Cidr::parse("198.51.100.0/24").unwrap()
            ]),
        };
        let req = |ip: &str| Request {
            ip: ip.parse().unwrap(),
            reason: "ssh-brute-force",
            by_user: None,
            for_time: None,
            first_ban: None,
            mode: Mode::DryRun,
        };
        let first = b.block(&conn, &req("203.0.113.66")).unwrap();
        assert_eq!(
            first.to_string(),
            "dry-run: would block 203.0.113.66 for 600 s"
        );
        let second = b.block(&conn, &req("203.0.113.66")).unwrap();
        assert!(matches!(second, Outcome::WouldBlock { for_secs: 1200, .. }));
        assert!(matches!(
            b.block(&conn, &req("198.51.100.7")).unwrap(),
            Outcome::Refused {
                why: Protected::Allowlist(_),
                ..
            }
        ));
        assert!(matches!(
            b.block(&conn, &req("::ffff:127.0.0.1")).unwrap(),
            Outcome::Refused {
                why: Protected::Loopback,
                ..
            }
        ));
        let off = Request {
            mode: Mode::Off,
            ..req("203.0.113.67")
        };
        assert_eq!(b.block(&conn, &off).unwrap(), Outcome::Off);
        // An admin signed in from an address protects it.
        let admin =
            crate::store::accounts::upsert_user(&conn, "alice", crate::auth::Role::Admin, "x")
                .unwrap();
        assert!(admin);
        let id: i64 = conn
            .query_row("SELECT id FROM users WHERE name = 'alice'", [], |r| {
                r.get(0)
            })
            .unwrap();
        crate::store::accounts::create_session(
            &conn,
            b"digest",
            id,
            "csrf",
            "203.0.113.50",
            Timestamp::now().saturating_add_secs(3600),
        )
        .unwrap();
        assert!(matches!(
            b.block(&conn, &req("203.0.113.50")).unwrap(),
            Outcome::Refused {
                why: Protected::Admin,
                ..
            }
        ));
        let listed = bans::active(&conn, Timestamp::now()).unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed
            .iter()
            .all(|l| l.mode == "dry-run" && l.ip == "203.0.113.66"));
    }
}
