//! The load driver every throughput phase of `hyperspace bench` shares: `C` tasks take job
//! numbers from one atomic cursor until `jobs` are taken, so a slow call delays only its own
//! task and the load stays at `C` requests in flight until the end. Tasks spread over a
//! small pool of gRPC connections (see [`TASKS_PER_CONNECTION`]).
//!
//! It times each job and the whole run; what a job sends and what its figures mean is the
//! caller's business (`phases`).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hyperspace_sdk::Client;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::task::JoinSet;

/// Concurrent tasks sharing one gRPC (HTTP/2) connection. One connection is framed by one
/// client task at a time, so with every task on one connection the bench would measure its
/// own framing; a few connections keep the node the bottleneck.
pub(crate) const TASKS_PER_CONNECTION: usize = 16;
/// Most gRPC connections the bench opens, however high `--concurrency` is.
pub(crate) const CONNECTIONS_MAX: usize = 8;

/// Connections for `concurrency` tasks to the node at `url`.
pub(crate) async fn connect_pool(
    url: &str,
    api_key: Option<&str>,
    concurrency: usize,
) -> anyhow::Result<Vec<Client>> {
    let connections = concurrency
        .div_ceil(TASKS_PER_CONNECTION)
        .clamp(1, CONNECTIONS_MAX);
    let mut pool = Vec::with_capacity(connections);
    for _ in 0..connections {
        let client = Client::connect(url, api_key.map(str::to_string))
            .await
            .with_context(|| format!("connecting to {url}"))?;
        pool.push(client);
    }
    Ok(pool)
}

/// Who runs the jobs: the connection pool and how many tasks share it.
pub(crate) struct Workers {
    pub pool: Vec<Client>,
    pub concurrency: usize,
}

/// What a run measured: its wall time (first job sent → last job answered), each job's
/// latency in milliseconds (unordered) and each job's value (in the same order).
pub(crate) struct Driven<T> {
    pub wall: Duration,
    pub latencies_ms: Vec<f64>,
    pub values: Vec<T>,
}

impl<T> Driven<T> {
    /// `units` per second of wall time.
    pub(crate) fn rate(&self, units: u64) -> f64 {
        units as f64 / self.wall.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// Latencies sorted ascending, for [`crate::replication_bench::quantile`].
    pub(crate) fn sorted_latencies_ms(&self) -> Vec<f64> {
        let mut sorted = self.latencies_ms.clone();
        sorted.sort_by(f64::total_cmp);
        sorted
    }
}

impl Workers {
    /// Runs jobs `0..jobs`; `job(client, n)` answers `(units done, value)` and the bar
    /// advances by the units. The first failing job fails the run (the other tasks are
    /// aborted when the set drops).
    pub(crate) async fn run<T, F, Fut>(
        &self,
        jobs: u64,
        bar: &ProgressBar,
        job: F,
    ) -> anyhow::Result<Driven<T>>
    where
        T: Send + 'static,
        F: Fn(Client, u64) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<(u64, T)>> + Send + 'static,
    {
        let job = Arc::new(job);
        let cursor = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let mut tasks = JoinSet::new();
        for t in 0..self.concurrency {
            let client = self.pool[t % self.pool.len()].clone();
            let (job, cursor, bar) = (Arc::clone(&job), Arc::clone(&cursor), bar.clone());
            tasks.spawn(async move {
                let mut done = Vec::new();
                loop {
                    let n = cursor.fetch_add(1, Ordering::Relaxed);
                    if n >= jobs {
                        return Ok::<_, anyhow::Error>(done);
                    }
                    let sent = Instant::now();
                    let (units, value) = (*job)(client.clone(), n).await?;
                    done.push((sent.elapsed().as_secs_f64() * 1e3, value));
                    bar.inc(units);
                }
            });
        }
        let mut latencies_ms = Vec::with_capacity(jobs.min(1 << 24) as usize);
        let mut values = Vec::with_capacity(latencies_ms.capacity());
        while let Some(joined) = tasks.join_next().await {
            for (latency_ms, value) in joined.context("a bench task panicked")?? {
                latencies_ms.push(latency_ms);
                values.push(value);
            }
        }
        let wall = started.elapsed();
        bar.finish_and_clear();
        Ok(Driven {
            wall,
            latencies_ms,
            values,
        })
    }
}

/// A progress bar of `len` units for a phase, drawn on stderr (hidden when stderr is not a
/// terminal, so logs and CI output stay clean).
pub(crate) fn progress_bar(phase: &str, len: u64) -> ProgressBar {
    let style = ProgressStyle::with_template(
        "{prefix:>13} [{bar:30}] {human_pos}/{human_len} {per_sec} eta {eta}",
    )
    .expect("the template is valid")
    .progress_chars("=> ");
    ProgressBar::new(len)
        .with_style(style)
        .with_prefix(phase.to_string())
}
