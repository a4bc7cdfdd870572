//! The `hyperspace` binary: the only place where the libraries are composed into processes.
//! Subcommands: `node` (run one node), `console` (the ops console), `demo` (a whole cluster
//! with the console and sample data), `bench` (load and measure a node), `backup` / `restore`, `cluster-test` (the seed's
//! cluster simulation), `bench-replication` (replication lag and catch-up, measured).

mod backup;
mod bench;
mod cluster;
mod cluster_test;
mod demo;
mod replication_bench;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use hyperspace_node::{FsyncPolicy, NodeOptions, RoleState, TlsFiles};

#[derive(Parser)]
#[command(
    name = "hyperspace",
    version,
    about = "HyperspaceDB: a distributed vector database node and its tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one node: REST on --http-addr, gRPC on --grpc-addr, data in --data-dir.
    #[command(after_help = NODE_EXAMPLES)]
    Node(Box<NodeArgs>),
    /// The ops console: polls every node's digest and shows lag vs drift in a browser.
    #[command(after_help = CONSOLE_EXAMPLES)]
    Console(ConsoleArgs),
    /// The seed's cluster simulation with real processes: 1 leader + 2 followers, writes,
    /// SIGKILL and restart of a follower, then digest checks. Exit 0 when every check passes.
    #[command(after_help = CLUSTER_TEST_EXAMPLES)]
    ClusterTest(ClusterTestArgs),
    /// A whole cluster on this machine: a leader, two followers and the console (child
    /// processes), a sample collection `default` and a light write load. Ctrl-C stops it all.
    #[command(after_help = demo::DEMO_EXAMPLES)]
    Demo(demo::DemoArgs),
    /// Loads and measures a node: ingest, search, batch search, recall against exact search,
    /// digest latency, and replication lag when the node has followers.
    #[command(after_help = bench::BENCH_EXAMPLES)]
    Bench(bench::BenchArgs),
    /// Writes a consistent backup of every collection of a running node to a file.
    #[command(after_help = backup::BACKUP_EXAMPLES)]
    Backup(backup::BackupArgs),
    /// Makes a new data directory from a backup file; a node started on it resumes there.
    #[command(after_help = backup::RESTORE_EXAMPLES)]
    Restore(backup::RestoreArgs),
    /// Measures replication lag (leader acknowledgement → follower applied) at a fixed write
    /// rate, and catch-up time after a follower missed many writes. Starts its own nodes.
    #[command(after_help = BENCH_REPLICATION_EXAMPLES)]
    BenchReplication(BenchReplicationArgs),
}

const BENCH_REPLICATION_EXAMPLES: &str = "Examples:
  cargo run --release -- bench-replication
  hyperspace bench-replication --rate 5000 --seconds 10 --catch-up-writes 50000
  hyperspace bench-replication --rate 2000 --ids 1000   # flat index: replication alone";

#[derive(Args)]
struct BenchReplicationArgs {
    /// Single-point writes per second sent to the leader during the lag phase.
    #[arg(long, default_value_t = 5_000)]
    rate: u32,
    /// Length of the lag phase.
    #[arg(long, default_value_t = 10)]
    seconds: u32,
    /// Distinct ids the lag phase writes over (default 0: every write a new id). Below
    /// 1,024 the collection stays on the exact flat index: replication without HNSW cost.
    #[arg(long, default_value_t = 0)]
    ids: u64,
    /// Records written while the follower is down, for the catch-up phase.
    #[arg(long, default_value_t = 50_000)]
    catch_up_writes: u32,
}

const CONSOLE_EXAMPLES: &str = "Examples:
  hyperspace console --node http://127.0.0.1:50051 --node http://127.0.0.1:50061
  hyperspace console --node http://10.0.0.1:50051 --api-key s3cret --interval 5s --listen 0.0.0.0:8080
Then open http://127.0.0.1:8080/ (overview), /collections/NAME (heatmap), /history.";

#[derive(Args)]
struct ConsoleArgs {
    /// gRPC URL of a node (repeat for every node of the cluster, or comma-separate).
    #[arg(long = "node", env = "HYPERSPACE_CONSOLE_NODES", value_delimiter = ',', required = true, value_parser = parse_leader_url)]
    nodes: Vec<String>,
    /// Where the console listens (loopback unless told otherwise).
    #[arg(
        long,
        env = "HYPERSPACE_CONSOLE_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    listen: SocketAddr,
    /// API key the nodes require (sent as x-api-key).
    #[arg(long, env = "HYPERSPACE_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Time between poll rounds, e.g. 2s or 500ms.
    #[arg(long, env = "HYPERSPACE_CONSOLE_INTERVAL", default_value = "2s", value_parser = parse_interval)]
    interval: std::time::Duration,
    /// Token an operator types to run admin actions (Repair) when the console listens
    /// beyond loopback; without it those actions are offered on loopback only.
    #[arg(long, env = "HYPERSPACE_CONSOLE_ADMIN_TOKEN", hide_env_values = true,
          value_parser = clap::builder::NonEmptyStringValueParser::new())]
    admin_token: Option<String>,
}

fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = match text.strip_suffix("ms") {
        Some(n) => (n, 1),
        None => (text.strip_suffix('s').unwrap_or(text), 1000),
    };
    match number.parse::<u64>() {
        Ok(n) if n * unit >= 100 => Ok(std::time::Duration::from_millis(n * unit)),
        _ => Err(format!(
            "expected an interval of at least 100ms like 2s or 500ms, got {text:?}"
        )),
    }
}

const CLUSTER_TEST_EXAMPLES: &str = "Examples:
  hyperspace cluster-test
  hyperspace cluster-test --dir /tmp/ct   # keep data directories and node logs";

#[derive(Args)]
struct ClusterTestArgs {
    /// Keep the nodes' data directories and logs here (default: a temporary directory,
    /// removed afterwards).
    #[arg(long)]
    dir: Option<PathBuf>,
}

const NODE_EXAMPLES: &str = "Examples:
  hyperspace node --data-dir ./data
  HYPERSPACE_API_KEY=s3cret hyperspace node --data-dir ./data --http-addr 0.0.0.0:50050
  hyperspace node --data-dir ./data --fsync 5 --tls-cert cert.pem --tls-key key.pem
  curl -s localhost:50050/api/collections/default/digest
  # a follower of that node, on other ports:
  hyperspace node --data-dir ./data2 --http-addr 127.0.0.1:50060 --grpc-addr 127.0.0.1:50061 \\
      --role follower --leader http://127.0.0.1:50051
  # failover: promote a follower, point another node at it
  curl -s -XPOST localhost:50060/api/admin/promote
  curl -s -XPOST localhost:50050/api/admin/follow -d '{\"leader\":\"http://127.0.0.1:50061\"}'";

#[derive(Args)]
struct NodeArgs {
    /// Data directory (created if missing; one process per directory).
    #[arg(long, env = "HYPERSPACE_DATA_DIR")]
    data_dir: PathBuf,
    /// REST listen address.
    #[arg(long, env = "HYPERSPACE_HTTP_ADDR", default_value = "127.0.0.1:50050")]
    http_addr: SocketAddr,
    /// gRPC listen address.
    #[arg(long, env = "HYPERSPACE_GRPC_ADDR", default_value = "127.0.0.1:50051")]
    grpc_addr: SocketAddr,
    /// REST URL other processes should use (default: the listen address).
    #[arg(long, env = "HYPERSPACE_ADVERTISE_HTTP")]
    advertise_http: Option<String>,
    /// gRPC URL other processes should use (default: the listen address).
    #[arg(long, env = "HYPERSPACE_ADVERTISE_GRPC")]
    advertise_grpc: Option<String>,
    /// Replication role. A follower streams the leader's WAL, applies it and refuses writes.
    #[arg(long, env = "HYPERSPACE_ROLE", default_value = "leader", value_parser = ["leader", "follower"])]
    role: String,
    /// gRPC URL of the leader to follow (needs --role follower), e.g. http://10.0.0.1:50051.
    #[arg(long, env = "HYPERSPACE_LEADER", value_parser = parse_leader_url)]
    leader: Option<String>,
    /// API key required on every /api route and gRPC call. No default: unset means open.
    #[arg(long, env = "HYPERSPACE_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// `always` (acknowledged ⇒ fsynced; concurrent writes share an fsync) or a number of
    /// milliseconds between background fsyncs (acknowledged ⇒ written to the OS).
    #[arg(long, env = "HYPERSPACE_FSYNC", default_value = "always", value_parser = parse_fsync)]
    fsync: FsyncPolicy,
    /// PEM certificate chain: serves both listeners over TLS (needs --tls-key).
    #[arg(long, env = "HYPERSPACE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "HYPERSPACE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// WAL records between snapshots (a snapshot lets older WAL segments go).
    #[arg(long, env = "HYPERSPACE_SNAPSHOT_RECORDS", default_value_t = hyperspace_node::limits::SNAPSHOT_RECORDS_DEFAULT)]
    snapshot_records: u64,
    /// Browser origin allowed to call the REST API (CORS), e.g. http://localhost:5173;
    /// repeat the flag or separate with commas. Default: none (same-origin pages only).
    #[arg(long, env = "HYPERSPACE_CORS_ORIGIN", value_delimiter = ',', value_parser = parse_origin)]
    cors_origin: Vec<String>,
    /// Bytes of the newest WAL records kept in memory for streaming to followers; a follower
    /// behind them is served from the WAL on disk. (Tests shrink it.)
    #[arg(long, env = "HYPERSPACE_LIVE_TAIL_BYTES", hide = true,
          default_value_t = hyperspace_node::limits::LIVE_TAIL_BYTES_MAX)]
    live_tail_bytes: usize,
    /// Client writes between two digest checkpoints of each collection (leader; 0: only by
    /// time). Followers verify each checkpoint at the same LSN.
    #[arg(long, env = "HYPERSPACE_CHECKPOINT_RECORDS",
          default_value_t = hyperspace_node::limits::CHECKPOINT_RECORDS_DEFAULT)]
    checkpoint_records: u64,
    /// Longest time between two checkpoints, also when idle (leader), e.g. 5s or 500ms.
    #[arg(long, env = "HYPERSPACE_CHECKPOINT_INTERVAL", default_value = "5s", value_parser = parse_interval)]
    checkpoint_interval: std::time::Duration,
    /// `repair`: followers verify checkpoints and drifted buckets are repaired from the
    /// leader; `detect`: verify and report only; `off`: no checkpoints are written or verified.
    #[arg(long, env = "HYPERSPACE_ANTI_ENTROPY", default_value = "repair", value_parser = parse_anti_entropy)]
    anti_entropy: hyperspace_node::antientropy::Mode,
    /// Points per second the leader writes into bucket repair records (at least 1), so a
    /// repair never starves the live stream.
    #[arg(long, env = "HYPERSPACE_REPAIR_POINTS_PER_SECOND",
          default_value_t = hyperspace_node::limits::REPAIR_POINTS_PER_SECOND_DEFAULT,
          value_parser = clap::value_parser!(u64).range(1..))]
    repair_points_per_second: u64,
    /// Enables /api/debug/* routes that break things on purpose. Never in production.
    #[arg(long, env = "HYPERSPACE_ENABLE_FAULT_INJECTION")]
    enable_fault_injection: bool,
}

fn parse_anti_entropy(text: &str) -> Result<hyperspace_node::antientropy::Mode, String> {
    hyperspace_node::antientropy::Mode::parse(text)
        .ok_or_else(|| format!("expected repair, detect or off, got {text:?}"))
}

fn parse_fsync(text: &str) -> Result<FsyncPolicy, String> {
    if text == "always" {
        return Ok(FsyncPolicy::Always);
    }
    match text.parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(FsyncPolicy::IntervalMs(ms)),
        _ => Err(format!(
            "expected `always` or a positive number of milliseconds, got {text:?}"
        )),
    }
}

fn parse_leader_url(text: &str) -> Result<String, String> {
    match text.strip_prefix("http://") {
        Some(rest) if !rest.is_empty() && !rest.contains('/') => Ok(text.to_string()),
        _ => Err(format!(
            "expected the leader's gRPC URL like http://10.0.0.1:50051, got {text:?}"
        )),
    }
}

fn parse_origin(text: &str) -> Result<String, String> {
    let scheme_ok = text.starts_with("http://") || text.starts_with("https://");
    let clean = !text.ends_with('/') && text.bytes().all(|b| b.is_ascii_graphic());
    if scheme_ok && clean {
        Ok(text.to_string())
    } else {
        Err(format!(
            "expected an origin like https://app.example.com (no path), got {text:?}"
        ))
    }
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    match cli.command {
        Command::Node(args) => runtime.block_on(run_node(*args)),
        Command::Console(args) => {
            let options = hyperspace_console::web::ConsoleOptions {
                nodes: args.nodes,
                listen: args.listen,
                api_key: args.api_key,
                interval: args.interval,
                admin_token: args.admin_token,
            };
            runtime
                .block_on(hyperspace_console::web::run(options, shutdown_signal()))
                .context("the console stopped with an error")
        }
        Command::BenchReplication(args) => {
            runtime.block_on(replication_bench::run(replication_bench::Options {
                rate: args.rate,
                ids: args.ids,
                seconds: args.seconds,
                catch_up_writes: args.catch_up_writes,
            }))
        }
        Command::Demo(args) => runtime.block_on(demo::run(args)),
        Command::Bench(args) => runtime.block_on(bench::run(args)),
        Command::Backup(args) => runtime.block_on(backup::run_backup(args)),
        Command::Restore(args) => backup::run_restore(args),
        Command::ClusterTest(args) => match runtime.block_on(cluster_test::run(args.dir)) {
            Ok(()) => Ok(()),
            Err(e) => {
                eprintln!("cluster-test: FAIL: {e:#}");
                std::process::exit(1);
            }
        },
    }
}

async fn run_node(args: NodeArgs) -> anyhow::Result<()> {
    let role = match (args.role.as_str(), args.leader) {
        ("leader", None) => RoleState::Leader,
        ("follower", Some(leader_url)) => RoleState::Follower {
            leader_url,
            leader: None,
        },
        (_, Some(_)) => anyhow::bail!("--leader is only for --role follower"),
        _ => anyhow::bail!("--role follower needs --leader http://HOST:GRPC_PORT"),
    };
    let options = NodeOptions {
        role,
        live_tail_bytes: args.live_tail_bytes,
        data_dir: args.data_dir,
        http_addr: args.http_addr,
        grpc_addr: args.grpc_addr,
        advertise_http: args.advertise_http,
        advertise_grpc: args.advertise_grpc,
        api_key: args.api_key,
        fsync: args.fsync,
        tls: args
            .tls_cert
            .zip(args.tls_key)
            .map(|(cert, key)| TlsFiles { cert, key }),
        snapshot_records: args.snapshot_records,
        fault_injection: args.enable_fault_injection,
        cors_origins: args.cors_origin,
        anti_entropy: args.anti_entropy,
        checkpoint_records: args.checkpoint_records,
        checkpoint_interval: args.checkpoint_interval,
        repair_points_per_second: args.repair_points_per_second,
    };
    hyperspace_node::server::run(options, shutdown_signal())
        .await
        .context("the node stopped with an error")
}

/// Resolves on SIGTERM or SIGINT.
pub(crate) async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: draining"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: draining"),
    }
}
