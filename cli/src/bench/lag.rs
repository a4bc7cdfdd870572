//! The replication lag phase of `hyperspace bench`: the same measurement as
//! `bench-replication` (single-point writes to the leader at a fixed rate, the follower's
//! last LSN polled; see `replication_bench`), aimed at the target's first connected follower.
//!
//! It waits for the follower to apply the bench's earlier writes first, so the figure is the
//! lag of a steady load and not the tail of the ingest backlog. Without a connected follower
//! it says so and measures nothing: the JSON then has no lag keys rather than a made-up 0.

use std::time::{Duration, Instant};

use anyhow::Context;
use hyperspace_sdk::Client;

use super::phases::Bench;
use super::report::Lag;
use crate::replication_bench::{lags_ms, measure_lag, quantile, LagLoad};

/// Single-point writes per second of the replication lag phase: a steady load that any
/// healthy follower keeps up with, so the figure is lag, not backlog.
pub(crate) const LAG_WRITES_PER_S: u32 = 1_000;
/// Length of the replication lag phase.
pub(crate) const LAG_SECONDS: u32 = 5;
/// How long the lag phase waits for the follower to apply the bench's earlier writes
/// before it starts measuring.
pub(crate) const CATCH_UP_WAIT: Duration = Duration::from_secs(120);

/// Replication lag to the target's first connected follower, with the same measurement as
/// `bench-replication`; `None` (and a line saying why) when there is no follower to measure.
pub(crate) async fn replication_lag(
    bench: &Bench,
    api_key: Option<&str>,
) -> anyhow::Result<Option<Lag>> {
    let mut leader = bench.workers.pool[0].clone();
    let info = leader
        .node_info()
        .await
        .context("node info of the target")?;
    if info.followers.is_empty() {
        println!("replication lag: skipped (the target has no followers)");
        return Ok(None);
    }
    let Some(follower) = info.followers.iter().find(|f| f.connected) else {
        println!("replication lag: skipped (no follower of the target is connected)");
        return Ok(None);
    };
    // Advertised addresses are URLs; accept a bare host:port from a hand-set --advertise-grpc.
    let url = if follower.grpc_addr.contains("://") {
        follower.grpc_addr.clone()
    } else {
        format!("http://{}", follower.grpc_addr)
    };
    let mut follower_client = Client::connect(url.as_str(), api_key.map(str::to_string))
        .await
        .with_context(|| format!("connecting to follower {} at {url}", follower.node_id))?;
    if !caught_up(&mut leader, &mut follower_client).await? {
        println!(
            "replication lag: skipped (follower {url} did not catch up within {CATCH_UP_WAIT:?})"
        );
        return Ok(None);
    }
    println!(
        "replication lag: {LAG_WRITES_PER_S} single-point writes/s for {LAG_SECONDS} s, \
         follower {} at {url}",
        follower.node_id
    );
    let load = LagLoad {
        collection: &bench.collection,
        dimension: bench.data.dimension,
        rate: LAG_WRITES_PER_S,
        seconds: LAG_SECONDS,
        // New ids past the data set, so the lag writes are inserts, as in a growing collection.
        first_id: bench.data.vectors.len() as u64,
        ids: 0,
    };
    let (acks, polls) = measure_lag(&leader, &follower_client, &load)
        .await
        .context("replication lag")?;
    let mut lags = lags_ms(&acks, &polls);
    lags.sort_by(f64::total_cmp);
    if lags.is_empty() {
        println!("replication lag: not measured (the follower applied none of the writes)");
        return Ok(None);
    }
    let lag = Lag {
        p50_ms: quantile(&lags, 0.50),
        p99_ms: quantile(&lags, 0.99),
    };
    println!(
        "replication lag: {} of {} writes seen applied: p50 {:.2} ms, p99 {:.2} ms",
        lags.len(),
        acks.len(),
        lag.p50_ms,
        lag.p99_ms
    );
    Ok(Some(lag))
}

/// Waits until the follower has applied everything the leader had when asked; `false` after
/// `CATCH_UP_WAIT`.
async fn caught_up(leader: &mut Client, follower: &mut Client) -> anyhow::Result<bool> {
    let target = leader.node_info().await?.last_lsn;
    let deadline = Instant::now() + CATCH_UP_WAIT;
    while follower.node_info().await?.last_lsn < target {
        if Instant::now() > deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(true)
}
