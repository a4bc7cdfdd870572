//! HyperspaceDB ops console (library): polls every node's digest and tells lag from drift.
//!
//! Modules, in dependency order:
//! - `model`: pure verdicts per (collection, node) and heatmap cells from one poll round
//!   (DESIGN.md §7). Everything the console shows comes from its `RoundView`.
//! - `poller`: one round over gRPC, followers first and the leader last, with timeouts.
//! - `history`: the last rounds, bounded, for the charts.
//! - `metrics`: the console's Prometheus series (DESIGN.md §6), set from each `RoundView`.
//!
//! Work in progress (issue 5): the web pages (askama), `hyperspace console` and its
//! integration test come next; this crate is not wired into the binary yet.

pub mod history;
pub mod metrics;
pub mod model;
pub mod pages;
pub mod poller;
pub mod web;
