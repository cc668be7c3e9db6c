//! The security score: one number from 0 to 100 for how well this host is configured and
//! how quiet it is, computed from the check results and the open alerts. The formula is
//! [`FORMULA`], shown as is on the Config page, so what users read is what runs.

use serde::{Deserialize, Serialize};

use super::check::{CheckResult, Status};
use super::severity::Severity;

/// The formula in words (the Config page and the README show it).
pub const FORMULA: &str = "Each check counts with a weight set by its severity: low 1, medium 3, \
high 6, critical 10. A PASS earns its whole weight, a WARN or an ERROR (the check could not \
look) half of it, a FAIL nothing; checks that do not apply to this host are left out. The \
checks score is 100 × earned ÷ possible (100 when no check applies). Open alerts then take \
points off: 0.5 for each low, 2 for each medium, 5 for each high and 10 for each critical \
alert, at most 30 in all. The security score is the checks score minus that penalty, rounded, \
between 0 and 100; it is recomputed each time the checks run.";

/// Most points open alerts can take off: a noisy day must not hide the configuration.
pub const MAX_ALERT_PENALTY: f64 = 30.0;

/// A check's weight in the score.
pub fn weight(severity: Severity) -> f64 {
    match severity {
        Severity::Low => 1.0,
        Severity::Medium => 3.0,
        Severity::High => 6.0,
        Severity::Critical => 10.0,
    }
}

/// Points one open alert of this severity takes off.
pub fn alert_points(severity: Severity) -> f64 {
    match severity {
        Severity::Low => 0.5,
        Severity::Medium => 2.0,
        Severity::High => 5.0,
        Severity::Critical => 10.0,
    }
}

/// Open alerts by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenAlerts {
    pub low: u64,
    pub medium: u64,
    pub high: u64,
    pub critical: u64,
}

impl OpenAlerts {
    pub fn add(&mut self, severity: Severity, n: u64) {
        let slot = match severity {
            Severity::Low => &mut self.low,
            Severity::Medium => &mut self.medium,
            Severity::High => &mut self.high,
            Severity::Critical => &mut self.critical,
        };
        *slot += n;
    }

    fn penalty(&self) -> f64 {
        let raw = self.low as f64 * alert_points(Severity::Low)
            + self.medium as f64 * alert_points(Severity::Medium)
            + self.high as f64 * alert_points(Severity::High)
            + self.critical as f64 * alert_points(Severity::Critical);
        raw.min(MAX_ALERT_PENALTY)
    }
}

/// A score with its parts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub score: u8,
    pub checks_score: f64,
    pub alert_penalty: f64,
    pub open_alerts: OpenAlerts,
}

/// The share of a check's weight a status earns; `None` leaves the check out.
fn credit(status: Status) -> Option<f64> {
    match status {
        Status::Pass => Some(1.0),
        Status::Warn | Status::Error => Some(0.5),
        Status::Fail => Some(0.0),
        Status::NotApplicable => None,
    }
}

/// Rounds to one decimal, so the parts shown add up to what a reader can check.
fn tenth(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub fn compute(results: &[CheckResult], open: OpenAlerts) -> Score {
    let (mut earned, mut possible) = (0.0, 0.0);
    for r in results {
        if let Some(c) = credit(r.status) {
            let w = weight(r.severity);
            earned += w * c;
            possible += w;
        }
    }
    let checks_score = if possible > 0.0 {
        100.0 * earned / possible
    } else {
        100.0
    };
    let alert_penalty = open.penalty();
    Score {
        score: (checks_score - alert_penalty).round().clamp(0.0, 100.0) as u8,
        checks_score: tenth(checks_score),
        alert_penalty: tenth(alert_penalty),
        open_alerts: open,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(severity: Severity, status: Status) -> CheckResult {
        CheckResult {
            id: "c".into(),
            title: "C".into(),
            category: "ssh".into(),
            severity,
            status,
            evidence: vec![],
            remediation: String::new(),
            description: String::new(),
        }
    }

    #[test]
    fn weights_follow_severity_and_not_applicable_is_left_out() {
        let all_pass = [
            result(Severity::Critical, Status::Pass),
            result(Severity::Low, Status::Pass),
        ];
        assert_eq!(compute(&all_pass, OpenAlerts::default()).score, 100);
        // critical FAIL (0 of 10) + low PASS (1 of 1) = 1/11.
        let s = compute(
            &[
                result(Severity::Critical, Status::Fail),
                result(Severity::Low, Status::Pass),
                result(Severity::High, Status::NotApplicable),
            ],
            OpenAlerts::default(),
        );
        assert_eq!(s.checks_score, 9.1);
        assert_eq!(s.score, 9);
        // medium WARN (1.5 of 3) + high PASS (6 of 6) = 7.5/9.
        let s = compute(
            &[
                result(Severity::Medium, Status::Warn),
                result(Severity::High, Status::Pass),
            ],
            OpenAlerts::default(),
        );
        assert_eq!(s.score, 83);
        assert_eq!(compute(&[], OpenAlerts::default()).score, 100);
    }

    #[test]
    fn open_alerts_take_points_off_up_to_the_cap() {
        let pass = [result(Severity::High, Status::Pass)];
        let mut open = OpenAlerts::default();
        open.add(Severity::High, 1);
        open.add(Severity::Low, 3);
        let s = compute(&pass, open);
        assert_eq!(s.alert_penalty, 6.5);
        assert_eq!(s.score, 94);
        open.add(Severity::Critical, 50);
        let s = compute(&pass, open);
        assert_eq!(s.alert_penalty, MAX_ALERT_PENALTY);
        assert_eq!(s.score, 70);
        let fail = [result(Severity::High, Status::Fail)];
        assert_eq!(compute(&fail, open).score, 0, "never below 0");
    }
}
