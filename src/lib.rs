//! Picket: a host-and-LAN security monitor for one Linux machine.
//!
//! Data flows one way: sources → parsers → normalized [`model::Event`]s → rule engine →
//! alerts and incidents → store → outputs (response, notifications, live stream) → JSON
//! API and dashboard. Layers, from the bottom: `base` (utilities), `model` (shared
//! shapes), the stages (`parse`, `engine`, `store`, `sources`, `response`, `notify`,
//! `checks`, `ingest`, `replay`), `bus`, `web`, `pipeline` (wiring), and the CLI. A layer
//! imports only from layers beneath it; `ARCHITECTURE.md` in the repository tells which
//! folder owns what.

pub(crate) mod auth;
pub mod base;
pub(crate) mod bus;
pub mod checks;
pub mod cli;
pub(crate) mod config;
pub(crate) mod demo;
pub mod engine;
pub mod ingest;
pub mod model;
pub mod notify;
pub mod parse;
pub(crate) mod pipeline;
pub mod replay;
pub(crate) mod response;
pub mod sources;
pub mod store;
pub mod web;
