//! Picket: a host-and-LAN security monitor for one Linux machine.
//!
//! Data flows one way: sources → parsers → normalized [`event::Event`]s → (rule engine)
//! → store, response and notifications → API and dashboard. Each module owns one stage;
//! see DESIGN.md in the repository for the whole picture.

pub mod auth;
pub mod checks;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod engine;
pub mod event;
pub mod ingest;
pub mod input;
pub mod notify;
pub mod parse;
pub mod replay;
pub mod response;
pub mod small_bytes;
pub mod sources;
pub mod store;
pub mod timestamp;
pub mod web;
