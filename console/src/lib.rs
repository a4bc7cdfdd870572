//! HyperspaceDB ops console (library): polls every node's digest and tells lag from drift.
//!
//! Modules, in dependency order:
//! - `model`: pure verdicts per (collection, node) and heatmap cells from one poll round
//!   (DESIGN.md §7). Everything the console shows comes from its `RoundView`.
//! - `poller`: one round over gRPC, followers first and the leader last, with timeouts.
//! - `history`: the last rounds, bounded, for the charts.
//! - `metrics`: the console's Prometheus series (DESIGN.md §6), set from each `RoundView`.
//! - `antientropy`: what the pages show of checkpoints and repairs (from node info).
//! - `pages` and `web`: the server-rendered pages and the HTTP server.
//! - `repair`: the Repair action (a POST form with an anti-forgery token) that asks the
//!   leader to repair drifted buckets.

pub mod antientropy;
pub mod history;
pub mod metrics;
pub mod model;
pub mod pages;
pub mod poller;
pub mod repair;
pub mod web;
