//! A YAML value written as one item or a list of them.

use serde::Deserialize;

/// One or several values (`type: FAILED_LOGIN` or `type: [FAILED_LOGIN, INVALID_USER]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(v) => v,
        }
    }
}
