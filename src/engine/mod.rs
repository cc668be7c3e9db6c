//! The rule engine: YAML rules compiled once into a [`RuleSet`], evaluated on event time
//! by one [`Engine`] that owns all rule state.
//!
//! - `spec`: the YAML form; `compile`: spec → [`Rule`] with positioned errors;
//!   `condition`: field conditions; `runtime`: windows, suppression, alerts;
//!   `load`: rule directories and the embedded default ruleset; `ruletest`: the rules'
//!   own `tests:`.

pub mod alert_log;
pub mod bundle;
pub mod compile;
pub mod condition;
pub mod distinct;
pub mod groups;
pub mod load;
pub mod prefilter;
pub mod reload;
pub mod ruletest;
pub mod runtime;
pub mod script;
pub mod spec;

pub use alert_log::AlertLog;
pub use compile::{CompileError, Rule};
pub use runtime::{Engine, RuleSet};
