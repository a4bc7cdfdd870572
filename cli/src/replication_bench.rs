//! `hyperspace bench-replication`: replication lag and catch-up time, measured with real
//! processes (a leader and a follower of this binary, `--fsync always`).
//!
//! Lag: writers send single-point upserts to the leader at a fixed rate and note when each
//! acknowledgement (its LSN) arrived; a poller asks the follower for its last LSN every
//! `POLL_INTERVAL`. The lag of a write is the first poll that saw the follower at or past
//! its LSN minus its acknowledgement time (resolution: one poll interval plus one gRPC round
//! trip). Catch-up: the follower is SIGKILLed, N writes go to the leader, the follower is
//! restarted, and the time from its restart until its last LSN equals the leader's is taken.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use hyperspace_node::synth::Clustered;
use hyperspace_sdk::{Client, Point};
use serde_json::Map;

use crate::cluster::NodeProcess;

const COLLECTION: &str = "replication_bench";
const DIMENSION: usize = 16;
const WRITERS: usize = 64;
const POLL_INTERVAL: Duration = Duration::from_millis(1);
const READY: Duration = Duration::from_secs(60);

pub struct Options {
    pub rate: u32,
    /// Distinct ids the lag phase writes over (0: every write a new id). Below 1,024 the
    /// collection stays on the exact flat index, which isolates replication from HNSW cost.
    pub ids: u64,
    pub seconds: u32,
    pub catch_up_writes: u32,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let mut leader = NodeProcess::spawn("leader", &dir.path().join("leader"), &[])?;
    let mut client = leader.wait_ready(READY).await?;
    let follow = ["--role", "follower", "--leader", &leader.grpc_url()].map(String::from);
    let mut follower = NodeProcess::spawn("follower", &dir.path().join("follower"), &follow)?;
    let mut follower_client = follower.wait_ready(READY).await?;
    client
        .create_collection(COLLECTION, DIMENSION as u32, "l2")
        .await?;

    println!(
        "lag: {} single-point writes/s for {} s over {}, {WRITERS} writers, follower polled \
         every {:?}",
        options.rate,
        options.seconds,
        match options.ids {
            0 => "new ids".to_string(),
            n => format!("{n} ids"),
        },
        POLL_INTERVAL
    );
    let load = LagLoad {
        collection: COLLECTION,
        dimension: DIMENSION,
        rate: options.rate,
        seconds: options.seconds,
        first_id: 0,
        ids: options.ids,
    };
    let (acks, polls) = measure_lag(&client, &follower_client, &load).await?;
    let mut lags = lags_ms(&acks, &polls);
    lags.sort_by(f64::total_cmp);
    let achieved = acks.len() as f64 / options.seconds as f64;
    println!(
        "lag: {} writes ({achieved:.0}/s achieved): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        acks.len(),
        quantile(&lags, 0.50),
        quantile(&lags, 0.99),
        lags.last().copied().unwrap_or(0.0)
    );

    follower.kill9();
    let started = Instant::now();
    let writes = options.catch_up_writes as u64;
    write_many(&client, 1_000_000, writes, options.ids).await?;
    println!(
        "catch-up: wrote {writes} records while the follower was down ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    let target = client.node_info().await?.last_lsn;
    let restarted = Instant::now();
    follower.start()?;
    follower_client = follower.wait_ready(READY).await?;
    let ready = restarted.elapsed();
    while follower_client.node_info().await?.last_lsn < target {
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    println!(
        "catch-up: {writes} missed records applied {:.0} ms after the restart \
         (process ready after {:.0} ms)",
        restarted.elapsed().as_secs_f64() * 1e3,
        ready.as_secs_f64() * 1e3
    );
    drop((leader, follower));
    Ok(())
}

/// (LSN, when its acknowledgement arrived) per write.
pub(crate) type Acks = Vec<(u64, Instant)>;
/// (when, the follower's last LSN then) per poll; LSNs non-decreasing.
pub(crate) type Polls = Vec<(Instant, u64)>;

/// The write load of a lag measurement (shared with `hyperspace bench`).
pub(crate) struct LagLoad<'a> {
    /// An existing collection of `dimension` on the leader.
    pub collection: &'a str,
    pub dimension: usize,
    /// Single-point writes per second, spread over `WRITERS` writers.
    pub rate: u32,
    pub seconds: u32,
    /// Ids written start here.
    pub first_id: u64,
    /// Distinct ids written, from `first_id` (0: every write a new id).
    pub ids: u64,
}

/// Writes `load` to `leader` while polling `follower`'s last LSN; see the module doc.
pub(crate) async fn measure_lag(
    leader: &Client,
    follower: &Client,
    load: &LagLoad<'_>,
) -> anyhow::Result<(Acks, Polls)> {
    let acks = Arc::new(Mutex::new(Vec::new()));
    let stop = Instant::now() + Duration::from_secs(load.seconds as u64);
    let period = Duration::from_secs_f64(WRITERS as f64 / load.rate as f64);
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (mut client, acks) = (leader.clone(), Arc::clone(&acks));
        let offset = period.mul_f64(w as f64 / WRITERS as f64);
        let ids = match load.ids {
            0 => u64::MAX,
            n => n,
        };
        let (collection, dimension, first_id) =
            (load.collection.to_string(), load.dimension, load.first_id);
        tasks.push(tokio::spawn(async move {
            let mut data = Clustered::new(w as u64, dimension, 8);
            let mut next = tokio::time::Instant::now() + offset;
            let mut n = w as u64;
            while Instant::now() < stop {
                tokio::time::sleep_until(next).await;
                next += period;
                let point = Point {
                    id: first_id + n,
                    vector: data.point(),
                    payload: Map::new(),
                };
                n = (n + WRITERS as u64) % ids;
                let ack = client.upsert(&collection, vec![point]).await?;
                let acked = Instant::now();
                acks.lock().expect("not poisoned").push((ack.lsn, acked));
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    let mut poller = follower.clone();
    let polling = tokio::spawn(async move {
        let mut polls = Vec::new();
        while Instant::now() < stop + Duration::from_secs(2) {
            let lsn = poller.node_info().await?.last_lsn;
            polls.push((Instant::now(), lsn));
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        Ok::<_, anyhow::Error>(polls)
    });
    for task in tasks {
        task.await??;
    }
    let polls = polling.await??;
    let acks = std::mem::take(&mut *acks.lock().expect("not poisoned"));
    Ok((acks, polls))
}

/// For each acknowledged LSN: first poll at or past it, minus the acknowledgement time.
/// Polls see a non-decreasing LSN, so a binary search finds that poll.
pub(crate) fn lags_ms(acks: &Acks, polls: &Polls) -> Vec<f64> {
    acks.iter()
        .filter_map(|(lsn, acked)| {
            let first = polls.partition_point(|(_, applied)| applied < lsn);
            let seen = polls.get(first)?.0;
            Some(seen.saturating_duration_since(*acked).as_secs_f64() * 1e3)
        })
        .collect()
}

/// The `q` quantile (nearest rank) of ascending `sorted`; 0 when empty.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// `count` single-point writes from 64 concurrent writers, ids from `first_id` (modulo
/// `ids` when it is not 0).
async fn write_many(leader: &Client, first_id: u64, count: u64, ids: u64) -> anyhow::Result<()> {
    const CONCURRENCY: u64 = 64;
    let mut tasks = Vec::new();
    for w in 0..CONCURRENCY {
        let mut client = leader.clone();
        tasks.push(tokio::spawn(async move {
            let mut data = Clustered::new(1000 + w, DIMENSION, 8);
            let mut id = first_id + w;
            while id < first_id + count {
                let point = Point {
                    id: if ids == 0 { id } else { id % ids },
                    vector: data.point(),
                    payload: Map::new(),
                };
                client.upsert(COLLECTION, vec![point]).await?;
                id += CONCURRENCY;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}
