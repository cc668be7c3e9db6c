//! The responder stage: one thread that carries out the actions alerts ask for, so a slow
//! `nft` never holds up detection, and puts what was done on each alert's incident
//! timeline once the incident exists (the order comes before the alert's commit).

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::registry::{Env, RESPONDERS};
use super::{Done, Responder};
use crate::model::Alert;

/// How long an action waits for its alert's incident before it is given up.
const PENDING_ACTION_WAIT: Duration = Duration::from_secs(30);

/// How often actions waiting for their incident look again.
const PENDING_LOOK: Duration = Duration::from_millis(200);

/// Runs until `alerts` closes: every alert that names an action goes to that action's
/// responder. `on_incidents` hears of incidents whose timeline got an action.
pub fn run(env: Env, alerts: Receiver<Alert>, on_incidents: impl Fn(Vec<i64>)) {
    let conn = match crate::store::open(&env.data_dir) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("responses are off: {e}");
            // Drain, so the engine never blocks on a stage that cannot act.
            for _ in alerts {}
            return;
        }
    };
    let mut responders: HashMap<&'static str, Box<dyn Responder>> = RESPONDERS
        .iter()
        .map(|k| (k.name, (k.build)(&env)))
        .collect();
    for r in responders.values_mut() {
        r.start(&conn);
    }
    let mut pending: Vec<(Done, Instant)> = Vec::new();
    loop {
        // Idle, it sleeps until an alert comes; with actions waiting for their incident,
        // it looks again every PENDING_LOOK.
        let alert = if pending.is_empty() {
            match alerts.recv() {
                Ok(a) => Some(a),
                Err(_) => break,
            }
        } else {
            match alerts.recv_timeout(PENDING_LOOK) {
                Ok(a) => Some(a),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        };
        if let Some(alert) = alert {
            for name in &alert.response {
                if let Some(r) = responders.get_mut(name.as_str()) {
                    if let Some(done) = r.act(&conn, &alert) {
                        pending.push((done, Instant::now()));
                    }
                }
            }
        }
        let mut recorded = Vec::new();
        pending.retain(|(done, since)| match try_record(&conn, done, *since) {
            None => true,
            Some(id) => {
                recorded.extend(id);
                false
            }
        });
        if !recorded.is_empty() {
            on_incidents(recorded);
        }
    }
}

/// Records `done` on its alert's incident. `None` while the incident is not there yet;
/// then `Some` with the incident's id, or `Some(None)` when given up (an error, or waited
/// too long).
pub(crate) fn try_record(conn: &Connection, done: &Done, since: Instant) -> Option<Option<i64>> {
    match crate::store::incidents::record_action(
        conn,
        Some(&done.alert_key),
        done.ip,
        Some(&done.actor),
        &done.text,
    ) {
        Ok(Some(id)) => Some(Some(id)),
        Ok(None) if since.elapsed() > PENDING_ACTION_WAIT => Some(None),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!("cannot record `{}` on its incident: {e}", done.text);
            Some(None)
        }
    }
}
