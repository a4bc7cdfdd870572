//! The phases of `hyperspace bench`, in the order they run: ingest, search, batch search,
//! recall (and the optional ef sweep), digest; replication lag is in `lag`. Each prints a
//! header line when it starts and its result when it ends, and returns its figures.
//!
//! Throughput phases go through [`Workers::run`]; a rate is units over the wall time from the
//! first request to the last answer, and a latency is one call's round trip as the client
//! sees it (queueing in the client included). Nothing here retries: a failed call fails the
//! bench, because a figure that hides errors is not a figure.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use hyperspace_sdk::{Client, Point, Query};
use indicatif::ProgressBar;
use serde_json::{json, Map};

use super::data::{Dataset, EF_SWEEP_QUERIES, TOP_K};
use super::drive::{progress_bar, Driven, Workers};
use super::report::EfPoint;
use crate::replication_bench::quantile;

/// What every phase works on.
pub(crate) struct Bench {
    pub workers: Workers,
    pub collection: Arc<str>,
    pub data: Arc<Dataset>,
}

/// A finished job: `units` for the progress bar, `value` for the phase.
fn done<T>(units: u64, value: T) -> anyhow::Result<(u64, T)> {
    Ok((units, value))
}

/// Single-search figures.
pub(crate) struct Searched {
    pub qps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Upserts every point in batches of `batch_size`; answers points per second.
pub(crate) async fn ingest(bench: &Bench, batch_size: u64) -> anyhow::Result<f64> {
    let points = bench.data.vectors.len() as u64;
    println!(
        "ingest: {points} points × {} dimensions in upserts of {batch_size}, {} tasks",
        bench.data.dimension, bench.workers.concurrency
    );
    let (collection, data) = (Arc::clone(&bench.collection), Arc::clone(&bench.data));
    let bar = progress_bar("ingest", points);
    let driven = bench
        .workers
        .run(
            points.div_ceil(batch_size),
            &bar,
            move |mut client: Client, n: u64| {
                let (collection, data) = (Arc::clone(&collection), Arc::clone(&data));
                async move {
                    let first = n * batch_size;
                    let end = (first + batch_size).min(data.vectors.len() as u64);
                    let batch = (first..end).map(|id| point(&data, id)).collect();
                    client.upsert(&collection, batch).await?;
                    done(end - first, ())
                }
            },
        )
        .await
        .context("ingest")?;
    let rate = driven.rate(points);
    println!(
        "ingest: {points} points in {:.2} s: {rate:.0} points/s",
        driven.wall.as_secs_f64()
    );
    Ok(rate)
}

/// Waits until the node's background indexers have put every point into the HNSW graph
/// (writes are acknowledged before that: pending points are searched exactly), so the search
/// phases measure the graph; answers the seconds it took after the last acknowledgement.
pub(crate) async fn wait_indexed(bench: &Bench) -> anyhow::Result<f64> {
    let points = bench.data.vectors.len() as u64;
    const STALL: std::time::Duration = std::time::Duration::from_secs(120);
    let mut client = bench.workers.pool[0].clone();
    let started = Instant::now();
    let bar = progress_bar("indexing", points);
    let (mut last, mut moved) = (u64::MAX, Instant::now());
    loop {
        let info = client
            .get_collection(&bench.collection)
            .await
            .context("reading the collection's indexing progress")?;
        bar.set_position(points.saturating_sub(info.unindexed));
        if info.unindexed == 0 {
            break;
        }
        if info.unindexed < last {
            (last, moved) = (info.unindexed, Instant::now());
        }
        anyhow::ensure!(
            moved.elapsed() < STALL,
            "indexing made no progress for {STALL:?} ({} points unindexed); see the node's log",
            info.unindexed
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!("indexing: every point in the HNSW graph {seconds:.2} s after the last ack");
    Ok(seconds)
}

/// Point `id` of the data set with its payload `{"cluster": k, "n": id}`.
fn point(data: &Dataset, id: u64) -> Point {
    let mut payload = Map::new();
    payload.insert("cluster".into(), json!(data.clusters[id as usize]));
    payload.insert("n".into(), json!(id));
    Point {
        id,
        vector: data.vectors[id as usize].clone(),
        payload,
    }
}

/// `queries` single top-10 searches at `ef` (`None`: the node's default), timed.
async fn searches(
    bench: &Bench,
    queries: u64,
    ef: Option<u32>,
    bar: &ProgressBar,
) -> anyhow::Result<Searched> {
    let (collection, data) = (Arc::clone(&bench.collection), Arc::clone(&bench.data));
    let driven = bench
        .workers
        .run(queries, bar, move |mut client: Client, n: u64| {
            let (collection, data) = (Arc::clone(&collection), Arc::clone(&data));
            async move {
                client.search(&collection, query(data.query(n), ef)).await?;
                done(1, ())
            }
        })
        .await?;
    let sorted = driven.sorted_latencies_ms();
    Ok(Searched {
        qps: driven.rate(queries),
        p50_ms: quantile(&sorted, 0.50),
        p99_ms: quantile(&sorted, 0.99),
    })
}

fn query(vector: Vec<f32>, ef: Option<u32>) -> Query {
    Query {
        vector,
        top_k: TOP_K,
        filter: None,
        ef,
    }
}

/// The search phase: `queries` single searches at the node's default ef.
pub(crate) async fn search(bench: &Bench, queries: u64) -> anyhow::Result<Searched> {
    let tasks = bench.workers.concurrency;
    println!("search: {queries} single searches, top {TOP_K}, {tasks} tasks");
    let bar = progress_bar("search", queries);
    let searched = searches(bench, queries, None, &bar)
        .await
        .context("search")?;
    println!(
        "search: {:.0} queries/s, p50 {:.2} ms, p99 {:.2} ms",
        searched.qps, searched.p50_ms, searched.p99_ms
    );
    Ok(searched)
}

/// `queries` searches at `ef` sent as batch calls of `per_call`; answers queries per second
/// and calls per second.
async fn batches(
    bench: &Bench,
    queries: u64,
    per_call: u64,
    ef: Option<u32>,
    bar: &ProgressBar,
) -> anyhow::Result<(f64, f64)> {
    let (collection, data) = (Arc::clone(&bench.collection), Arc::clone(&bench.data));
    let calls = queries.div_ceil(per_call);
    let driven = bench
        .workers
        .run(calls, bar, move |mut client: Client, n: u64| {
            let (collection, data) = (Arc::clone(&collection), Arc::clone(&data));
            async move {
                let first = n * per_call;
                let end = (first + per_call).min(queries);
                let batch = (first..end).map(|q| query(data.query(q), ef)).collect();
                client.search_batch(&collection, batch).await?;
                done(end - first, ())
            }
        })
        .await?;
    Ok((driven.rate(queries), driven.rate(calls)))
}

/// The batch search phase: `queries` searches at the node's default ef in calls of
/// `per_call`; answers queries per second.
pub(crate) async fn batch_search(
    bench: &Bench,
    queries: u64,
    per_call: u64,
) -> anyhow::Result<f64> {
    let tasks = bench.workers.concurrency;
    println!("batch search: {queries} searches in calls of {per_call}, top {TOP_K}, {tasks} tasks");
    let bar = progress_bar("batch search", queries);
    let (rate, calls) = batches(bench, queries, per_call, None, &bar)
        .await
        .context("batch search")?;
    println!("batch search: {rate:.0} queries/s ({calls:.0} calls/s)");
    Ok(rate)
}

/// Mean recall@10 of the recall queries at `ef` against `truth` (their exact top 10).
async fn recall_at(
    bench: &Bench,
    truth: &Arc<Vec<Vec<u64>>>,
    ef: Option<u32>,
) -> anyhow::Result<f64> {
    let (collection, data, truth) = (
        Arc::clone(&bench.collection),
        Arc::clone(&bench.data),
        Arc::clone(truth),
    );
    let jobs = data.recall_queries.len() as u64;
    let driven: Driven<f64> = bench
        .workers
        .run(
            jobs,
            &ProgressBar::hidden(),
            move |mut client: Client, n: u64| {
                let (collection, data, truth) = (
                    Arc::clone(&collection),
                    Arc::clone(&data),
                    Arc::clone(&truth),
                );
                async move {
                    let vector = data.recall_queries[n as usize].clone();
                    let hits = client.search(&collection, query(vector, ef)).await?;
                    let got: Vec<u64> = hits.iter().map(|hit| hit.id).collect();
                    done(1, hyperspace_node::synth::recall(&truth[n as usize], &got))
                }
            },
        )
        .await?;
    Ok(driven.values.iter().sum::<f64>() / driven.values.len().max(1) as f64)
}

/// The recall phase, at the node's default ef.
pub(crate) async fn recall(bench: &Bench, truth: &Arc<Vec<Vec<u64>>>) -> anyhow::Result<f64> {
    let (queries, points) = (truth.len(), bench.data.vectors.len());
    println!("recall: {queries} queries against an exact scan of {points} points");
    let recall = recall_at(bench, truth, None).await.context("recall")?;
    println!("recall: recall@{TOP_K} {recall:.4} (default ef)");
    Ok(recall)
}

/// For each ef: recall@10 over the recall queries, and single- and batch-search QPS over
/// `EF_SWEEP_QUERIES` searches each (batches of `per_call`).
pub(crate) async fn ef_sweep(
    bench: &Bench,
    efs: &[u32],
    truth: &Arc<Vec<Vec<u64>>>,
    per_call: u64,
) -> anyhow::Result<Vec<EfPoint>> {
    println!(
        "ef sweep: ef {efs:?}: recall@{TOP_K} over {} queries, QPS over {EF_SWEEP_QUERIES} \
         searches each (single, then in batches of {per_call})",
        truth.len()
    );
    let mut sweep = Vec::with_capacity(efs.len());
    for &ef in efs {
        let recall_at_10 = recall_at(bench, truth, Some(ef))
            .await
            .context("ef sweep")?;
        let bar = progress_bar(&format!("ef {ef}"), EF_SWEEP_QUERIES);
        let searched = searches(bench, EF_SWEEP_QUERIES, Some(ef), &bar)
            .await
            .context("ef sweep")?;
        let (batch_search_qps, _) = batches(bench, EF_SWEEP_QUERIES, per_call, Some(ef), &bar)
            .await
            .context("ef sweep")?;
        println!(
            "ef sweep: ef {ef}: recall@{TOP_K} {recall_at_10:.4}, {:.0} queries/s single, \
             {batch_search_qps:.0} batched",
            searched.qps
        );
        sweep.push(EfPoint {
            ef,
            recall_at_10,
            search_qps: searched.qps,
            batch_search_qps,
        });
    }
    Ok(sweep)
}

/// `calls` sequential GetDigest calls; answers (p50, p99) in milliseconds.
pub(crate) async fn digest(bench: &Bench, calls: u64) -> anyhow::Result<(f64, f64)> {
    println!("digest: {calls} sequential GetDigest calls");
    let mut client = bench.workers.pool[0].clone();
    let mut latencies_ms = Vec::with_capacity(calls.min(1 << 24) as usize);
    for _ in 0..calls {
        let sent = Instant::now();
        client
            .get_digest(Some(bench.collection.to_string()))
            .await
            .context("digest")?;
        latencies_ms.push(sent.elapsed().as_secs_f64() * 1e3);
    }
    latencies_ms.sort_by(f64::total_cmp);
    let (p50, p99) = (quantile(&latencies_ms, 0.50), quantile(&latencies_ms, 0.99));
    println!("digest: p50 {p50:.3} ms, p99 {p99:.3} ms");
    Ok((p50, p99))
}
