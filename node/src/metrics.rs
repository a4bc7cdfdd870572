//! The node's Prometheus metrics (DESIGN.md §6), recorded through the `metrics` facade and
//! rendered by metrics-exporter-prometheus on `/metrics`.
//!
//! Every series is registered at 0 as soon as its labels are known, so a counter that has not
//! counted yet is 0 rather than absent, and histograms get explicit buckets (the exporter
//! would render a summary otherwise). The recorder is process-global by the facade's design;
//! `install` is called once by the binary.

use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::collection::Collection;

/// Latency buckets in seconds, from 50 µs (an fsync on fast storage) to 10 s.
const LATENCY_BUCKETS_SECONDS: &[f64] = &[
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 10.0,
];

/// Installs the global recorder and returns the handle that renders `/metrics`.
pub fn install() -> PrometheusHandle {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS_SECONDS)
        .expect("bucket list is not empty")
        .install_recorder()
        .expect("the metrics recorder is installed once per process");
    describe_gauge!(
        "hyperspace_build_info",
        "Build information; the value is always 1."
    );
    describe_gauge!(
        "hyperspace_node_info",
        "Identity and role of this node; the value is always 1."
    );
    describe_gauge!(
        "hyperspace_collection_points",
        "Live points in a collection."
    );
    describe_gauge!(
        "hyperspace_collection_logical_clock",
        "Lamport stamp of the last write applied to a collection."
    );
    describe_gauge!(
        "hyperspace_collection_state_hash52",
        "The collection's state hash shifted right by 12 bits, exact in a float."
    );
    describe_gauge!(
        "hyperspace_collection_unindexed_points",
        "Points written but not yet in the HNSW graph (searched exactly until they are)."
    );
    describe_gauge!("hyperspace_wal_last_lsn", "LSN of the newest WAL record.");
    describe_histogram!(
        "hyperspace_wal_fsync_duration_seconds",
        "Time a write waited for its WAL record to become durable."
    );
    describe_counter!(
        "hyperspace_requests_total",
        "Requests answered, by API, route and code."
    );
    describe_histogram!(
        "hyperspace_request_duration_seconds",
        "Time to answer a request, by API and route."
    );
    describe_gauge!(
        "hyperspace_replication_applied_lsn",
        "On a follower: the newest LSN received from the leader, durable and applied."
    );
    describe_gauge!(
        "hyperspace_replication_follower_lag_records",
        "On the leader: records a follower has not yet acknowledged."
    );
    describe_gauge!(
        "hyperspace_replication_follower_connected",
        "On the leader: 1 while a follower's replication stream is up."
    );
    describe_antientropy();
    histogram!("hyperspace_wal_fsync_duration_seconds").record(0.0);
    gauge!("hyperspace_wal_last_lsn").set(0.0);
    gauge!("hyperspace_replication_applied_lsn").set(0.0);
    handle
}

pub fn node_info(node_id: &str, role: &str) {
    gauge!("hyperspace_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    gauge!("hyperspace_node_info", "node_id" => node_id.to_string(), "role" => role.to_string())
        .set(1.0);
}

/// Moves `hyperspace_node_info` from one role label to the other.
pub fn role_changed(node_id: &str, from: &str, to: &str) {
    gauge!("hyperspace_node_info", "node_id" => node_id.to_string(), "role" => from.to_string())
        .set(0.0);
    node_info(node_id, to);
}

pub fn replication_applied(lsn: u64) {
    gauge!("hyperspace_replication_applied_lsn").set(lsn as f64);
}

/// A follower's position as the leader sees it.
pub fn follower_state(follower_id: &str, connected: bool, lag_records: u64) {
    let id = follower_id.to_string();
    gauge!("hyperspace_replication_follower_connected", "follower_id" => id.clone())
        .set(if connected { 1.0 } else { 0.0 });
    gauge!("hyperspace_replication_follower_lag_records", "follower_id" => id)
        .set(lag_records as f64);
}

pub fn collection_changed(collection: &Collection) {
    let (count, logical_clock, state_hash) = collection.summary();
    let name = collection.spec().name.clone();
    gauge!("hyperspace_collection_points", "collection" => name.clone()).set(count as f64);
    gauge!("hyperspace_collection_logical_clock", "collection" => name.clone())
        .set(logical_clock as f64);
    gauge!("hyperspace_collection_state_hash52", "collection" => name.clone())
        .set((state_hash >> 12) as f64);
    gauge!("hyperspace_collection_unindexed_points", "collection" => name)
        .set(collection.unindexed() as f64);
}

pub fn collection_dropped(name: &str) {
    gauge!("hyperspace_collection_points", "collection" => name.to_string()).set(0.0);
    gauge!("hyperspace_collection_unindexed_points", "collection" => name.to_string()).set(0.0);
}

pub fn wal_last_lsn(lsn: u64) {
    gauge!("hyperspace_wal_last_lsn").set(lsn as f64);
}

pub fn fsync_observed(waited: Duration) {
    histogram!("hyperspace_wal_fsync_duration_seconds").record(waited.as_secs_f64());
}

/// Registers a route's series at 0 so dashboards see them before the first request.
pub fn register_route(api: &'static str, route: &'static str) {
    counter!("hyperspace_requests_total", "api" => api, "route" => route, "code" => "ok")
        .increment(0);
    let _ = histogram!("hyperspace_request_duration_seconds", "api" => api, "route" => route);
}

pub fn request(api: &'static str, route: &'static str, code: &'static str, took: Duration) {
    counter!("hyperspace_requests_total", "api" => api, "route" => route, "code" => code)
        .increment(1);
    histogram!("hyperspace_request_duration_seconds", "api" => api, "route" => route)
        .record(took.as_secs_f64());
}

fn describe_antientropy() {
    describe_counter!(
        "hyperspace_antientropy_checks_total",
        "On a follower: checkpoint records verified, by result (ok or drift)."
    );
    describe_gauge!(
        "hyperspace_antientropy_drifted_buckets",
        "On a follower: buckets that differed from the leader's at the last checkpoint."
    );
    describe_counter!(
        "hyperspace_antientropy_repaired_points_total",
        "Points changed on this node by applying bucket repair records."
    );
    describe_gauge!(
        "hyperspace_antientropy_last_verified_lsn",
        "On a follower: LSN of the last checkpoint record verified."
    );
    describe_counter!(
        "hyperspace_antientropy_repair_requests_total",
        "On a follower: drifted buckets it asked the leader to repair."
    );
    describe_counter!(
        "hyperspace_antientropy_repair_points_sent_total",
        "On the leader: points written into bucket repair records."
    );
    describe_gauge!(
        "hyperspace_antientropy_repair_buckets_pending",
        "On the leader: buckets queued for repair and not yet written."
    );
    describe_gauge!(
        "hyperspace_antientropy_leader_outvoted",
        "On the leader: followers agreeing with each other against the leader at the last \
         checkpoint (automatic repair is suspended while above 0)."
    );
}

/// The per-collection anti-entropy gauges.
const ANTIENTROPY_GAUGES: [&str; 4] = [
    "hyperspace_antientropy_drifted_buckets",
    "hyperspace_antientropy_last_verified_lsn",
    "hyperspace_antientropy_repair_buckets_pending",
    "hyperspace_antientropy_leader_outvoted",
];

/// Registers a collection's anti-entropy series at 0.
pub fn antientropy_register(collection: &str) {
    let c = || collection.to_string();
    for result in ["ok", "drift"] {
        counter!("hyperspace_antientropy_checks_total", "collection" => c(), "result" => result)
            .increment(0);
    }
    for name in [
        "hyperspace_antientropy_repaired_points_total",
        "hyperspace_antientropy_repair_requests_total",
        "hyperspace_antientropy_repair_points_sent_total",
    ] {
        counter!(name, "collection" => c()).increment(0);
    }
    for name in ANTIENTROPY_GAUGES {
        gauge!(name, "collection" => c()).increment(0.0);
    }
}

/// A dropped collection's anti-entropy gauges back to 0 (counters keep their totals), so an
/// alert on a collection that is gone resolves.
pub fn antientropy_dropped(collection: &str) {
    for name in ANTIENTROPY_GAUGES {
        gauge!(name, "collection" => collection.to_string()).set(0.0);
    }
}

/// A checkpoint verified on this follower.
pub fn checkpoint_verified(collection: &str, lsn: u64, drifted: usize) {
    let result = if drifted == 0 { "ok" } else { "drift" };
    let c = || collection.to_string();
    counter!("hyperspace_antientropy_checks_total", "collection" => c(), "result" => result)
        .increment(1);
    gauge!("hyperspace_antientropy_drifted_buckets", "collection" => c()).set(drifted as f64);
    gauge!("hyperspace_antientropy_last_verified_lsn", "collection" => c()).set(lsn as f64);
}

pub fn repaired_points(collection: &str, points: u64) {
    counter!("hyperspace_antientropy_repaired_points_total", "collection" => collection.to_string())
        .increment(points);
}

pub fn repair_requested(collection: &str, buckets: u64) {
    counter!("hyperspace_antientropy_repair_requests_total", "collection" => collection.to_string())
        .increment(buckets);
}

pub fn repair_points_sent(collection: &str, points: u64) {
    counter!("hyperspace_antientropy_repair_points_sent_total", "collection" => collection.to_string())
        .increment(points);
}

pub fn repair_buckets_pending(collection: &str, buckets: u64) {
    gauge!("hyperspace_antientropy_repair_buckets_pending", "collection" => collection.to_string())
        .set(buckets as f64);
}

pub fn leader_outvoted(collection: &str, followers: u64) {
    gauge!("hyperspace_antientropy_leader_outvoted", "collection" => collection.to_string())
        .set(followers as f64);
}
