//! `hyperspace demo`: a whole cluster on one machine in one command — a leader, two
//! followers and the console, as child processes of this binary — with a sample collection
//! and a light write load, so the console's heatmap and charts have something to show.
//! `--scenario drift` then corrupts one point on one follower (through the fault-injection
//! route) so the operator sees what drift looks like: a red bucket, the DRIFT verdict and
//! the drill-down naming the key. Its followers run `--anti-entropy detect`, so the drift
//! stays until the operator repairs it (the printed curl); without the scenario they repair
//! drift by themselves.
//!
//! No orphans: every child is spawned from the main thread with a parent-death signal
//! (`cluster::child_command`), so even a SIGKILLed demo takes its children with it; on
//! SIGINT/SIGTERM the demo stops them (SIGTERM, then SIGKILL) and exits 0.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use hyperspace_node::synth::{Clustered, Rng};
use hyperspace_sdk::{Client, Point};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Map, Value};

use crate::cluster::{self, NodeProcess};

pub const DEMO_EXAMPLES: &str = "Examples:
  cargo run --release -- demo
  hyperspace demo --scenario drift          # one point corrupted on a follower after a while
  hyperspace demo --port-base 7000 --data-dir ./demo-data
Stop it with Ctrl-C: every child process stops with it.";

/// The sample collection.
pub const COLLECTION: &str = "default";
const DIMENSION: usize = 64;
const CLUSTERS: usize = 24;
const LOAD_BATCH: usize = 500;
const READY: Duration = Duration::from_secs(60);
const STOP_GRACE: Duration = Duration::from_secs(5);
/// The light write load: one small upsert this often.
const LOAD_PERIOD: Duration = Duration::from_millis(200);
/// `--scenario drift` corrupts this id on the first follower, this long after loading.
const DRIFT_ID: u64 = 7;
const DRIFT_AFTER: Duration = Duration::from_secs(5);
const CATEGORIES: [&str; 8] = [
    "books", "music", "films", "games", "garden", "tools", "toys", "food",
];

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// One point corrupted on a follower: the console shows DRIFT in one bucket.
    Drift,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Keep the nodes' data and logs here (default: a temporary directory, removed on exit).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Ports P.. (leader REST P, gRPC P+1; followers P+2..P+5; console P+6) instead of
    /// free ones.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1024..65_000))]
    port_base: Option<u16>,
    /// Something to show: `drift` corrupts one point on a follower after a while.
    #[arg(long, value_enum)]
    scenario: Option<Scenario>,
    /// Points in the sample collection.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1_000..=1_000_000))]
    points: u64,
}

/// The running cluster.
struct Cluster {
    nodes: Vec<NodeProcess>,
    console: Stopper,
    console_url: String,
    leader: Client,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    // Listen for Ctrl-C / SIGTERM from the first moment: an interrupted start-up drops what
    // it started (children are killed on drop, a temporary directory is removed).
    let shutdown = crate::shutdown_signal();
    tokio::pin!(shutdown);
    let temporary = match &args.data_dir {
        Some(_) => None,
        None => Some(tempfile::tempdir().context("creating a temporary directory")?),
    };
    let root = match (&args.data_dir, &temporary) {
        (Some(dir), _) => dir.clone(),
        (None, Some(tmp)) => tmp.path().to_path_buf(),
        (None, None) => unreachable!("one of the two is set"),
    };
    let cluster = tokio::select! {
        cluster = start(&args, &root, temporary.is_some()) => cluster?,
        _ = &mut shutdown => {
            println!("interrupted while starting: stopping");
            return Ok(());
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let skip_bucket = args.scenario.map(|_| DRIFT_ID % 256);
    let load = tokio::spawn(write_load(
        cluster.leader.clone(),
        args.points,
        skip_bucket,
        Arc::clone(&stop),
    ));
    if args.scenario == Some(Scenario::Drift) {
        tokio::select! {
            _ = tokio::time::sleep(DRIFT_AFTER) => {
                corrupt(&cluster.nodes[1], &cluster.nodes[0], &cluster.console_url).await?;
            }
            _ = &mut shutdown => return finish(stop, load, cluster, temporary).await,
        }
    }
    (&mut shutdown).await;
    finish(stop, load, cluster, temporary).await
}

/// Starts the nodes and the console (printing their addresses as soon as they answer) and
/// loads the sample collection (kept as it is when `--data-dir` already holds it).
async fn start(args: &DemoArgs, root: &Path, temporary: bool) -> anyhow::Result<Cluster> {
    std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
    let ports = |i: u16| args.port_base.map(|p| (p + 2 * i, p + 2 * i + 1));
    let fault: Vec<String> = match args.scenario {
        Some(Scenario::Drift) => vec!["--enable-fault-injection".into()],
        None => Vec::new(),
    };
    let mut nodes = vec![NodeProcess::spawn_on(
        "leader",
        &root.join("leader"),
        &fault,
        ports(0),
    )?];
    let mut leader = nodes[0].wait_ready(READY).await?;
    for i in 1..=2 {
        let mut extra = vec!["--role".into(), "follower".into(), "--leader".into()];
        extra.push(nodes[0].grpc_url());
        extra.extend(fault.iter().cloned());
        if args.scenario == Some(Scenario::Drift) {
            // Detect only, so the drift stays on screen until the operator repairs it.
            extra.extend(["--anti-entropy".into(), "detect".into()]);
        }
        let name = format!("follower-{i}");
        nodes.push(NodeProcess::spawn_on(
            &name,
            &root.join(&name),
            &extra,
            ports(i as u16),
        )?);
    }
    for node in &mut nodes[1..] {
        node.wait_ready(READY).await?;
    }
    let console_port = match args.port_base {
        Some(p) => p + 6,
        None => cluster::free_port()?,
    };
    let console = Stopper(Some(start_console(&nodes, console_port, root)?));
    let console_url = format!("http://127.0.0.1:{console_port}/");
    wait_for_console(&console_url).await?;
    println!("console: {console_url}");
    print_addresses(&nodes, root, temporary);

    match leader
        .create_collection(COLLECTION, DIMENSION as u32, "cosine")
        .await
    {
        Ok(_) => {
            load_sample(&leader, args.points).await?;
            println!(
                "loaded {} points into `{COLLECTION}`; a light write load keeps going (Ctrl-C \
                 stops)",
                args.points
            );
        }
        Err(e) if e.code() == Some("already_exists") => {
            let info = leader.get_collection(COLLECTION).await?;
            println!(
                "`{COLLECTION}` already holds {} points (from an earlier run in this \
                 --data-dir): kept; a light write load keeps going (Ctrl-C stops)",
                info.count
            );
        }
        Err(e) => return Err(e).context("creating the sample collection"),
    }
    Ok(Cluster {
        nodes,
        console,
        console_url,
        leader,
    })
}

/// Stops everything in order (load, console, followers, leader) and removes a temporary
/// data directory.
async fn finish(
    stop: Arc<AtomicBool>,
    load: tokio::task::JoinHandle<()>,
    mut cluster: Cluster,
    temporary: Option<tempfile::TempDir>,
) -> anyhow::Result<()> {
    println!("stopping the console and the nodes");
    stop.store(true, Ordering::SeqCst);
    let _ = tokio::time::timeout(Duration::from_secs(2), load).await;
    cluster.console.stop();
    for node in cluster.nodes.iter_mut().rev() {
        node.terminate(STOP_GRACE);
    }
    drop(temporary);
    println!("demo stopped");
    Ok(())
}

/// The console child; stopped (SIGTERM, then SIGKILL) when dropped.
struct Stopper(Option<Child>);

impl Stopper {
    fn stop(&mut self) {
        if let Some(child) = self.0.take() {
            cluster::terminate(child, STOP_GRACE);
        }
    }
}

impl Drop for Stopper {
    fn drop(&mut self) {
        self.stop();
    }
}

fn start_console(nodes: &[NodeProcess], port: u16, root: &Path) -> anyhow::Result<Child> {
    let log = std::fs::File::create(root.join("console.log")).context("creating console.log")?;
    let mut command = cluster::child_command()?;
    command
        .arg("console")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--interval", "1s"]);
    for node in nodes.iter().rev() {
        command.args(["--node", &node.grpc_url()]);
    }
    command
        .env_remove("HYPERSPACE_API_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .context("starting the console")
}

async fn wait_for_console(url: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + READY;
    let client = reqwest::Client::new();
    while Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{url}livez")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the console did not answer at {url} within {READY:?}")
}

fn print_addresses(nodes: &[NodeProcess], root: &Path, temporary: bool) {
    for node in nodes {
        println!(
            "{:<11} REST {}  gRPC {}  log {}",
            format!("{}:", node.name),
            node.http_url(),
            node.grpc_url(),
            node.data_dir.with_extension("log").display()
        );
    }
    let (http, grpc) = (nodes[0].http_url(), nodes[0].grpc_url());
    println!("digest:     curl -s {http}/api/collections/{COLLECTION}/digest");
    println!(
        "gRPC:       grpcurl -plaintext -d '{{\"collection\":\"{COLLECTION}\"}}' {} \
         hyperspace.v1.Hyperspace/GetDigest",
        grpc.trim_start_matches("http://")
    );
    let grafana = Path::new(env!("CARGO_MANIFEST_DIR")).join("../grafana");
    let grafana = grafana.canonicalize().unwrap_or(grafana);
    println!(
        "dashboards: {}/dashboards (Grafana import); Prometheus config: {}/prometheus/prometheus.yml",
        grafana.display(),
        grafana.display()
    );
    let targets: Vec<String> = nodes
        .iter()
        .map(|n| format!("\"127.0.0.1:{}\"", n.http_port))
        .collect();
    println!(
        "            (scrape targets for this demo: [{}])",
        targets.join(", ")
    );
    println!(
        "data:       {}{}",
        root.display(),
        if temporary {
            " (temporary: removed on exit)"
        } else {
            ""
        }
    );
}

/// Clustered vectors with small product-like payloads, in batches from a few tasks.
async fn load_sample(leader: &Client, points: u64) -> anyhow::Result<()> {
    let bar = ProgressBar::new(points);
    bar.set_style(
        ProgressStyle::with_template("loading [{bar:30}] {pos}/{len} points ({per_sec}, {eta})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let mut data = Clustered::new(1, DIMENSION, CLUSTERS);
    let mut rng = Rng::new(2);
    let mut batches = Vec::new();
    let mut id = 0;
    while id < points {
        let end = (id + LOAD_BATCH as u64).min(points);
        let batch: Vec<Point> = (id..end)
            .map(|i| sample_point(i, &mut data, &mut rng))
            .collect();
        batches.push(batch);
        id = end;
    }
    let mut tasks: tokio::task::JoinSet<anyhow::Result<()>> = tokio::task::JoinSet::new();
    let batches = Arc::new(std::sync::Mutex::new(batches));
    for _ in 0..4 {
        let (mut client, batches, bar) = (leader.clone(), Arc::clone(&batches), bar.clone());
        tasks.spawn(async move {
            loop {
                let next = batches.lock().expect("not poisoned").pop();
                let Some(batch) = next else { return Ok(()) };
                let n = batch.len() as u64;
                client.upsert(COLLECTION, batch).await?;
                bar.inc(n);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.context("a loading task panicked")?
            .context("loading the sample collection")?;
    }
    bar.finish_and_clear();
    Ok(())
}

fn sample_point(id: u64, data: &mut Clustered, rng: &mut Rng) -> Point {
    let category = CATEGORIES[(rng.next_u64() % CATEGORIES.len() as u64) as usize];
    let price = (rng.unit() * 10_000.0).round() / 100.0;
    let payload = json!({
        "title": format!("item {id}"),
        "category": category,
        "price": price,
        "in_stock": !rng.next_u64().is_multiple_of(4),
    });
    Point {
        id,
        vector: data.point(),
        payload: as_map(payload),
    }
}

fn as_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A few upserts a second over existing and new ids (and now and then a delete), never
/// touching `skip_bucket`, until `stop`.
async fn write_load(
    mut leader: Client,
    points: u64,
    skip_bucket: Option<u64>,
    stop: Arc<AtomicBool>,
) {
    let mut data = Clustered::new(3, DIMENSION, CLUSTERS);
    let mut rng = Rng::new(4);
    let mut next_new = points;
    let mut ticker = tokio::time::interval(LOAD_PERIOD);
    while !stop.load(Ordering::SeqCst) {
        ticker.tick().await;
        let mut ids: Vec<u64> = (0..3).map(|_| rng.next_u64() % points).collect();
        ids.push(next_new);
        next_new += 1;
        ids.retain(|id| Some(id % 256) != skip_bucket);
        let batch = ids
            .iter()
            .map(|&id| sample_point(id, &mut data, &mut rng))
            .collect();
        let result = if rng.next_u64().is_multiple_of(10) {
            leader.delete(COLLECTION, vec![ids[0]]).await
        } else {
            leader.upsert(COLLECTION, batch).await
        };
        if let Err(e) = result {
            eprintln!("demo load: write failed: {e}");
        }
    }
}

/// `--scenario drift`: corrupts one point on a follower at its current clock.
async fn corrupt(
    follower: &NodeProcess,
    leader: &NodeProcess,
    console_url: &str,
) -> anyhow::Result<()> {
    let url = format!(
        "{}/api/debug/collections/{COLLECTION}/corrupt",
        follower.http_url()
    );
    let response = reqwest::Client::new()
        .post(&url)
        .json(&json!({ "id": DRIFT_ID }))
        .send()
        .await
        .context("asking the follower to corrupt a point")?;
    if !response.status().is_success() {
        bail!("corrupting a point failed: {}", response.text().await?);
    }
    let bucket = DRIFT_ID % 256;
    println!(
        "drift: corrupted point {DRIFT_ID} (bucket {bucket}) on {} without a write: it now \
         differs from the leader at an equal clock",
        follower.name
    );
    println!(
        "drift: see {console_url}collections/{COLLECTION} (red bucket, DRIFT) and \
         {console_url}collections/{COLLECTION}/buckets/{bucket}"
    );
    println!(
        "drift: the followers run --anti-entropy detect in this scenario, so it stays until \
         repaired: curl -s -XPOST {}/api/admin/repair -d '{{\"collection\":\"{COLLECTION}\",\
         \"buckets\":[{bucket}]}}'",
        leader.http_url()
    );
    Ok(())
}
