//! `hyperspace bench`: load and measure one node over gRPC, the way a client sees it, and
//! report the figures the README and issue 7 quote (DESIGN.md §9).
//!
//! Phases: bulk ingest, single search, batch search, recall@10 against an exact scan (every
//! run, so a fast but wrong index cannot post a good figure), an optional ef sweep, GetDigest
//! latency, and replication lag when the target has a follower. The data is clustered
//! (`data`), the load is `--concurrency` tasks over a few connections (`drive`), the figures
//! go to a table and optionally a JSON file with contract key names (`report`).
//!
//! It never drops or overwrites a collection: it refuses to start when `--collection`
//! already exists on the target, and leaves its collection behind on a `--target`.

mod data;
mod drive;
mod lag;
mod phases;
mod report;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use hyperspace_node::index::Metric;
use hyperspace_node::limits::{
    DIMENSION_MAX, EF_SEARCH_MAX, POINTS_PER_UPSERT_MAX, REQUEST_BODY_BYTES_MAX,
    SEARCHES_PER_BATCH_MAX,
};
use hyperspace_sdk::Client;

use crate::cluster::NodeProcess;
use data::Dataset;
use drive::Workers;
use phases::Bench;
use report::Figures;

pub const BENCH_EXAMPLES: &str = "Examples:
  cargo run --release -- bench --points 100000 --dim 64
  hyperspace bench --target http://127.0.0.1:50051 --concurrency 64 --json bench.json
  hyperspace bench --points 5000 --ef 16,32,64,128 --json bench.json
  HYPERSPACE_API_KEY=s3cret hyperspace bench --target http://10.0.0.1:50051 --collection bench2
Without --target the bench starts a node of its own (--fsync always) in a temporary directory.
Against a --target it creates --collection (default `bench`) and leaves it there; it refuses to
run when that collection already exists.";

/// Most concurrent tasks. Tasks are cheap, but the node serves 64 requests at once per
/// transport (`REQUESTS_IN_FLIGHT_MAX`); far beyond that the bench measures queueing.
const CONCURRENCY_MAX: u64 = 1_024;
/// Protobuf bytes of one upserted point besides its vector (id, payload text, framing), for
/// checking `--batch-size × --dim` against the node's message limit.
const POINT_OVERHEAD_BYTES: u64 = 64;
/// How long a node the bench started itself may take to answer.
const NODE_READY: Duration = Duration::from_secs(60);

#[derive(Args)]
pub struct BenchArgs {
    /// gRPC URL of a running node (a leader) to measure, e.g. http://127.0.0.1:50051.
    /// Without it the bench starts a node of its own in a temporary directory.
    #[arg(long, value_name = "URL", value_parser = crate::parse_leader_url)]
    target: Option<String>,
    /// API key the target requires (sent as x-api-key).
    #[arg(long, env = "HYPERSPACE_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Points to ingest (ids 0..N), kept in memory for the exact recall scan; at least 1,000
    /// (smaller collections stay on the exact flat index).
    #[arg(long, value_name = "N", default_value_t = 100_000,
          value_parser = clap::value_parser!(u64).range(1_000..))]
    points: u64,
    /// Vector dimension.
    #[arg(long, value_name = "D", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(1..=DIMENSION_MAX as u64))]
    dim: u64,
    /// Similarity metric of the bench collection.
    #[arg(long, default_value = "cosine", value_parser = ["cosine", "l2", "dot"])]
    metric: String,
    /// Concurrent client tasks (requests in flight) in the ingest and search phases.
    #[arg(long, value_name = "C", default_value_t = 32,
          value_parser = clap::value_parser!(u64).range(1..=CONCURRENCY_MAX))]
    concurrency: u64,
    /// Gaussian clusters the synthetic points are drawn around.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    clusters: u64,
    /// Points per upsert in the ingest phase.
    #[arg(long, default_value_t = 1_000,
          value_parser = clap::value_parser!(u64).range(1..=POINTS_PER_UPSERT_MAX as u64))]
    batch_size: u64,
    /// Searches in the search phase, and again in the batch search phase.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    queries: u64,
    /// Queries per batch search call.
    #[arg(long, default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..=SEARCHES_PER_BATCH_MAX as u64))]
    batch_queries: u64,
    /// Queries whose top 10 is checked against an exact scan (at most --points).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    recall_queries: u64,
    /// Comma-separated ef values to sweep (recall@10 and search QPS at each), e.g. 16,32,64;
    /// each at least 10 (the top k).
    #[arg(long, value_name = "LIST", value_delimiter = ',',
          value_parser = clap::value_parser!(u32).range(10..=EF_SEARCH_MAX as i64))]
    ef: Vec<u32>,
    /// Sequential GetDigest calls in the digest phase.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..))]
    digest_calls: u64,
    /// Collection the bench creates; it must not exist yet (the bench never drops data).
    #[arg(long, value_name = "NAME", default_value = "bench")]
    collection: String,
    /// Also write the figures, parameters and machine facts to FILE as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Seed of the synthetic data and queries (same flags and seed, same data).
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

impl BenchArgs {
    /// Checks that need more than one flag; clap checks each flag alone.
    fn check(&self) -> Result<(), String> {
        if self.recall_queries > self.points {
            return Err(format!(
                "--recall-queries ({}) must not exceed --points ({})",
                self.recall_queries, self.points
            ));
        }
        if self.clusters > self.points {
            return Err(format!(
                "--clusters ({}) must not exceed --points ({})",
                self.clusters, self.points
            ));
        }
        let upsert_bytes = self.batch_size * (self.dim * 4 + POINT_OVERHEAD_BYTES);
        if upsert_bytes > REQUEST_BODY_BYTES_MAX as u64 {
            return Err(format!(
                "--batch-size {} at --dim {} makes upserts of about {} MiB, over the node's \
                 {} MiB message limit; lower --batch-size",
                self.batch_size,
                self.dim,
                upsert_bytes >> 20,
                REQUEST_BODY_BYTES_MAX >> 20
            ));
        }
        Ok(())
    }
}

/// A flag error formatted and exited like clap's own (usage line, exit status 2).
fn flag_error(message: String) -> ! {
    let mut command =
        BenchArgs::augment_args(clap::Command::new("bench")).bin_name("hyperspace bench");
    command
        .error(clap::error::ErrorKind::ValueValidation, message)
        .exit()
}

/// Runs every phase against `--target` or a node started here, prints the table, writes
/// `--json`. Flag combinations clap cannot check alone exit like a clap error.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if let Err(message) = args.check() {
        flag_error(message);
    }
    let metric = Metric::parse(&args.metric).context("unknown --metric")?;
    // Declared before the pool so it drops after it: the node (killed first) and then its
    // temporary directory.
    let (_own_node, url) = match &args.target {
        Some(url) => (None, url.clone()),
        None => {
            let (node, dir) = start_node().await?;
            let url = node.grpc_url();
            (Some((node, dir)), url)
        }
    };
    let concurrency = args.concurrency as usize;
    let pool = drive::connect_pool(&url, args.api_key.as_deref(), concurrency).await?;
    create_collection(&pool[0], &args, &url).await?;

    println!(
        "data: generating {} clustered points ({} clusters, seed {}) and their queries",
        args.points, args.clusters, args.seed
    );
    let bench = Bench {
        workers: Workers { pool, concurrency },
        collection: Arc::from(args.collection.as_str()),
        data: Arc::new(Dataset::generate(&args, metric)),
    };
    let figures = run_phases(&bench, &args).await?;

    report::print_table(&figures);
    if let Some(path) = &args.json {
        report::write_json(path, &report::to_json(&args, &figures))?;
        println!("figures written to {}", path.display());
    }
    if args.target.is_some() {
        println!(
            "collection `{}` stays on {url}; drop it or pass another --collection before the \
             next run",
            args.collection
        );
    }
    Ok(())
}

async fn run_phases(bench: &Bench, args: &BenchArgs) -> anyhow::Result<Figures> {
    let mut figures = Figures {
        ingest_points_per_s: phases::ingest(bench, args.batch_size).await?,
        index_seconds: phases::wait_indexed(bench).await?,
        ..Figures::default()
    };
    let searched = phases::search(bench, args.queries).await?;
    figures.search_qps = searched.qps;
    figures.search_p50_ms = searched.p50_ms;
    figures.search_p99_ms = searched.p99_ms;
    figures.batch_search_qps =
        phases::batch_search(bench, args.queries, args.batch_queries).await?;
    println!("recall: exact scan for the ground truth");
    let truth = data::ground_truth(Arc::clone(&bench.data)).await?;
    figures.recall_at_10 = phases::recall(bench, &truth).await?;
    if !args.ef.is_empty() {
        figures.ef_sweep = phases::ef_sweep(bench, &args.ef, &truth, args.batch_queries).await?;
    }
    (figures.digest_p50_ms, figures.digest_p99_ms) =
        phases::digest(bench, args.digest_calls).await?;
    figures.replication_lag = lag::replication_lag(bench, args.api_key.as_deref()).await?;
    Ok(figures)
}

/// Starts a node of this binary on free ports with `--fsync always` (the default) in a new
/// temporary directory; the node is killed when its handle drops.
async fn start_node() -> anyhow::Result<(NodeProcess, tempfile::TempDir)> {
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let mut node = NodeProcess::spawn("bench-node", &dir.path().join("node"), &[])?;
    node.wait_ready(NODE_READY).await?;
    println!(
        "bench: no --target, so started a node at {} (data in {}, --fsync always)",
        node.grpc_url(),
        dir.path().display()
    );
    Ok((node, dir))
}

/// Creates the bench collection, refusing one that exists: the bench never touches data it
/// did not write.
async fn create_collection(client: &Client, args: &BenchArgs, url: &str) -> anyhow::Result<()> {
    let mut client = client.clone();
    let existing = client
        .list_collections()
        .await
        .with_context(|| format!("listing the collections of {url}"))?;
    if existing.iter().any(|c| c.name == args.collection) {
        anyhow::bail!(
            "collection `{}` already exists on {url}; pass another --collection, or drop it \
             yourself if it is an old bench run (the bench never drops data)",
            args.collection
        );
    }
    client
        .create_collection(&args.collection, args.dim as u32, &args.metric)
        .await
        .with_context(|| format!("creating collection `{}` on {url}", args.collection))?;
    Ok(())
}
