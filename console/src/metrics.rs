//! The console's Prometheus series (DESIGN.md §6), set from each round's [`RoundView`] so
//! that `/metrics`, the pages and `/api/status` can never disagree. `drift` is 1 only at an
//! equal clock with a different state hash; a node whose clock is above the leader's is
//! `clock_ahead`, never drift; a lagging node is neither. `verdict` carries the §7 verdict
//! as a label (one series per verdict, 1 for the current one) for dashboards. An unknown
//! clock lag is NaN, and the series of a (collection, node) pair that left the round are
//! reset rather than left at their last value. Series are registered at 0 as soon as their
//! labels are known; histograms get explicit buckets.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::model::{NodeCollectionView, NodePoll, Round, RoundView, Verdict};

const POLL_BUCKETS_SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process-wide recorder; returns the handle that renders `/metrics`.
pub fn install() -> PrometheusHandle {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), POLL_BUCKETS_SECONDS)
        .expect("bucket list is not empty")
        .install_recorder()
        .expect("the metrics recorder is installed once per process");
    describe_gauge!(
        "hyperspace_console_node_up",
        "1 when the node answered the last round."
    );
    describe_gauge!(
        "hyperspace_console_clock_lag",
        "Leader clock minus node clock for a collection, in Lamport ticks."
    );
    describe_gauge!(
        "hyperspace_console_drift",
        "1 when the node is at the leader's clock with a different state hash."
    );
    describe_gauge!(
        "hyperspace_console_clock_ahead",
        "1 when the node's clock is above the leader's (diverged)."
    );
    describe_gauge!(
        "hyperspace_console_drifted_buckets",
        "Buckets that differ from the leader's on a drifted or diverged node."
    );
    describe_gauge!(
        "hyperspace_console_verdict",
        "1 for the node's current verdict on a collection (label verdict), 0 for the others."
    );
    describe_histogram!(
        "hyperspace_console_poll_duration_seconds",
        "Time one poll round took."
    );
    describe_counter!(
        "hyperspace_console_poll_errors_total",
        "Rounds in which a node could not be read."
    );
    histogram!("hyperspace_console_poll_duration_seconds").record(0.0);
    handle
}

/// Sets every series from one round and its evaluation.
pub fn record(round: &Round, view: &RoundView, took: Duration) {
    histogram!("hyperspace_console_poll_duration_seconds").record(took.as_secs_f64());
    for poll in &round.nodes {
        let (addr, node_id, up) = match poll {
            NodePoll::Up(sample) => (&sample.addr, Some(&sample.node_id), true),
            NodePoll::Down { addr, node_id, .. } => (addr, node_id.as_ref(), false),
        };
        let id = node_id.cloned().unwrap_or_default();
        gauge!("hyperspace_console_node_up", "node_id" => id.clone(), "addr" => addr.clone())
            .set(if up { 1.0 } else { 0.0 });
        let errors = counter!("hyperspace_console_poll_errors_total", "node_id" => id);
        errors.increment(if up { 0 } else { 1 });
    }
    let mut seen = BTreeSet::new();
    for collection in &view.collections {
        for node in &collection.nodes {
            if let Some(node_id) = &node.node_id {
                set_node(&collection.name, node_id, Some(node));
                seen.insert((collection.name.clone(), node_id.clone()));
            }
        }
    }
    // A collection dropped, or a node id that left the round (rebuilt node): its series
    // must not keep their last values (a stale drift flag would keep paging).
    let mut previous = RECORDED.lock().unwrap_or_else(|e| e.into_inner());
    for (collection, node_id) in previous.difference(&seen) {
        set_node(collection, node_id, None);
    }
    *previous = seen;
}

/// (collection, node id) pairs set by the previous round.
static RECORDED: Mutex<BTreeSet<(String, String)>> = Mutex::new(BTreeSet::new());

/// One node's series for one collection; `None` (gone from the round) reads as nothing
/// wrong and an unknown clock lag. `clock_ahead` needs a clock above the leader's: a node
/// DIVERGED only by holding a collection the leader lacks is not ahead.
fn set_node(collection: &str, node_id: &str, node: Option<&NodeCollectionView>) {
    let labels = [
        ("collection", collection.to_string()),
        ("node_id", node_id.to_string()),
    ];
    let verdict = node.and_then(|n| n.verdict);
    let clock_lag = node.and_then(|n| n.clock_lag);
    let flag = |v: bool| if v { 1.0 } else { 0.0 };
    gauge!("hyperspace_console_drift", &labels).set(flag(verdict == Some(Verdict::Drift)));
    let ahead = verdict == Some(Verdict::Diverged) && clock_lag.is_some_and(|lag| lag < 0);
    gauge!("hyperspace_console_clock_ahead", &labels).set(flag(ahead));
    let drifted = node.map_or(0, |n| n.drifted_buckets);
    gauge!("hyperspace_console_drifted_buckets", &labels).set(drifted as f64);
    // NaN, not the last value, when the lag is unknown (node unreachable, collection missing).
    let lag = clock_lag.map_or(f64::NAN, |lag| lag as f64);
    gauge!("hyperspace_console_clock_lag", &labels).set(lag);
    for each in Verdict::ALL {
        let labels = [
            ("collection", collection.to_string()),
            ("node_id", node_id.to_string()),
            ("verdict", each.as_str().to_string()),
        ];
        gauge!("hyperspace_console_verdict", &labels).set(flag(verdict == Some(each)));
    }
}
