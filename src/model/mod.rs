//! The model layer: the shapes that flow through the pipeline and that every stage
//! shares — [`Event`] and its [`EventType`], [`Alert`] and its [`AlertStatus`],
//! [`Severity`], durations as rules write them, addresses (canonical form, text, blocks),
//! the journal entry, configuration check results and the security score, traffic
//! counts.
//!
//! Must not: import any stage (parse, engine, store, sources, response, notify, checks,
//! web, pipeline); only `crate::base`. Behaviour that needs a stage belongs in that stage.

pub(crate) mod alert;
pub(crate) mod check;
pub(crate) mod duration;
pub mod event;
pub(crate) mod ip;
pub(crate) mod journal;
pub(crate) mod score;
pub(crate) mod severity;
pub mod traffic;

pub use alert::{Alert, AlertStatus};
pub use event::{Event, EventType};
pub use severity::Severity;
