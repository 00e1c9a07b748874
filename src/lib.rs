//! ceasefire-watch: watches news feeds for changes in the status of a Russia–Ukraine ceasefire
//! and of US military aid and intelligence sharing, and alerts subscribers.
//!
//! The pipeline, in module order: [`fetch`] → [`parse`] → [`classify`] → [`dedupe`] (repeats
//! and events, decided) → [`store`] (what was decided, the outbox) → [`notify`]. [`app`]
//! wires them into the daemon; [`cli`] is the command line. See ARCHITECTURE.md for the map and its invariants.

pub mod app;
pub mod classify;
pub mod cli;
pub mod config;
pub mod dedupe;
pub mod domain;
pub mod eval;
pub mod fetch;
pub mod http;
pub mod leases;
pub mod metrics;
pub mod net;
pub mod notify;
pub mod page;
pub mod parse;
pub mod poll;
pub mod shutdown;
pub mod store;
pub mod supervise;
pub mod telemetry;
pub mod view;
