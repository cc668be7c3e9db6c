//! The base layer: utilities every stage may use and that know nothing of Picket's
//! events, rules or store — timestamps, small byte strings, line framing, positioned
//! file errors, directory watches, the stop signal, where system programs are found, and
//! the Rhai sandbox scripts run in.
//!
//! Must not: import anything else of Picket's (`crate::model` and every stage sit above).

pub(crate) mod diag;
pub mod lines;
pub(crate) mod one_or_many;
pub(crate) mod programs;
pub(crate) mod sandbox;
pub(crate) mod small_bytes;
pub(crate) mod stop;
pub mod timestamp;
pub(crate) mod watch;
pub(crate) mod yaml_paths;
