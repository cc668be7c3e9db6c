//! The base layer: utilities every stage may use and that know nothing of Picket's
//! events, rules or store — timestamps, small byte strings, line framing, positioned
//! file errors, directory watches, the stop signal, where system programs are found, and
//! the Rhai sandbox scripts run in.
//!
//! Must not: import anything else of Picket's (`crate::model` and every stage sit above).

pub mod diag;
pub mod lines;
pub mod one_or_many;
pub mod programs;
pub mod sandbox;
pub mod small_bytes;
pub mod stop;
pub mod timestamp;
pub mod watch;
pub mod yaml_paths;
