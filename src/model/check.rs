//! What a configuration check finds: its verdict, the evidence it rests on, the result.

use serde::Serialize;

use super::severity::Severity;

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    /// What the check looks at is not on this host (no sshd_config, no /etc/gshadow).
    NotApplicable,
    /// The check could not look (permission denied, file too large).
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::NotApplicable => "NOT_APPLICABLE",
            Status::Error => "ERROR",
        }
    }
}

/// What a verdict rests on: a file (host path) and line when there is one, and what was
/// seen there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub detail: String,
}

impl Evidence {
    pub fn detail(detail: impl Into<String>) -> Self {
        Evidence {
            file: None,
            line: None,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: {}", self.detail),
            (Some(file), None) if !self.detail.contains(file.as_str()) => {
                write!(f, "{file}: {}", self.detail)
            }
            _ => write!(f, "{}", self.detail),
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub category: String,
    pub severity: Severity,
    pub status: Status,
    pub evidence: Vec<Evidence>,
    pub remediation: String,
    /// Why the check matters (from the check file; may be empty).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
}
