//! `block_ip` as a responder: the alert's `src_ip` banned through the [`Blocker`] (guard,
//! mode, escalating ban time, the bans table); enforced bans still running are put back
//! when it starts.

use rusqlite::Connection;

use super::registry::Env;
use super::{BlockOrder, Blocker, Done, Mode, Responder};
use crate::model::Alert;

pub struct BlockResponder {
    blocker: Blocker,
    on_ban: std::sync::Arc<dyn Fn(std::net::IpAddr) + Send + Sync>,
}

impl BlockResponder {
    pub fn new(env: &Env) -> BlockResponder {
        BlockResponder {
            blocker: env.blocker.clone(),
            on_ban: env.on_ban.clone(),
        }
    }
}

impl Responder for BlockResponder {
    fn start(&mut self, conn: &Connection) {
        let mode = self.blocker.config.mode;
        tracing::info!("block_ip is {}", mode.as_str());
        if mode == Mode::Enforce {
            match self.blocker.restore(conn) {
                Ok(0) => {}
                Ok(n) => tracing::info!("restored {n} running bans"),
                Err(e) => tracing::error!("cannot restore the bans: {e}"),
            }
        }
    }

    fn act(&mut self, conn: &Connection, alert: &Alert) -> Option<Done> {
        let order = BlockOrder::from_alert(alert)?;
        match self.blocker.respond(conn, &order) {
            Ok(Some(outcome)) => {
                tracing::info!(rule = %order.rule, ip = %order.ip, "{outcome}");
                (self.on_ban)(order.ip);
                Some(Done {
                    alert_key: order.alert_key.clone(),
                    ip: Some(order.ip),
                    actor: order.rule.clone(),
                    text: outcome.to_string(),
                })
            }
            Ok(None) => None,
            Err(e) => {
                tracing::error!(rule = %order.rule, ip = %order.ip, "block_ip for {} failed: {e}", order.ip);
                None
            }
        }
    }
}
