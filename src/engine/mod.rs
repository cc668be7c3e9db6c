//! The rule engine: YAML rules compiled once into a [`RuleSet`], evaluated on event time
//! by one [`Engine`] that owns all rule state.
//!
//! - `spec`: the YAML form; `compile`: spec → [`Rule`] with positioned errors;
//!   `condition`: field conditions; `runtime`: windows, suppression, alerts;
//!   `load`: rule directories and the embedded default ruleset; `ruletest`: the rules'
//!   own `tests:`.

pub(crate) mod alert_log;
pub mod bundle;
pub mod compile;
pub(crate) mod condition;
pub(crate) mod distinct;
pub(crate) mod groups;
pub mod load;
pub(crate) mod prefilter;
pub(crate) mod reload;
pub mod ruletest;
pub(crate) mod runtime;
pub(crate) mod script;
pub(crate) mod spec;

pub use alert_log::AlertLog;
pub use compile::{CompileError, Rule};
pub use runtime::{Engine, RuleSet};
