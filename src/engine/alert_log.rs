//! Alerts as a run of the engine leaves them: each alert's last update, in order of first
//! firing.

use crate::model::alert::Alert;

/// Alerts as the engine emits them (new, then updated) folded to their final state, in
/// order of first firing: what `picket replay --alerts` prints and rule tests compare.
///
/// The alerts sit in one vector, in that order, and are updated in place; the map only
/// indexes them by key (a map holding the alerts themselves kept rehashing a few hundred
/// bytes per alert as it grew).
#[derive(Debug, Default)]
pub struct AlertLog {
    alerts: Vec<Alert>,
    index: std::collections::HashMap<String, usize>,
}

impl AlertLog {
    pub fn record(&mut self, raised: impl IntoIterator<Item = Alert>) {
        for a in raised {
            match self.index.get(&a.key) {
                Some(&i) => self.alerts[i] = a,
                None => {
                    self.index.insert(a.key.clone(), self.alerts.len());
                    self.alerts.push(a);
                }
            }
        }
    }

    pub fn finish(self) -> Vec<Alert> {
        self.alerts
    }
}
