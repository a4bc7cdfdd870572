//! What `hyperspace bench` hands over: the figures as a table on stdout and, with `--json`,
//! as a JSON file whose key names are a contract (scripts, the README's performance table
//! and CI read them; DESIGN.md §9, issue 7). Keys of figures that were not measured are left
//! out rather than written as 0, so a missing measurement cannot pass for a bad one.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;
use serde_json::{json, Value};

use super::BenchArgs;

/// Recall@10 and single-search throughput at one `ef`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct EfPoint {
    pub ef: u32,
    pub recall_at_10: f64,
    pub search_qps: f64,
    pub batch_search_qps: f64,
}

/// Replication lag percentiles, leader acknowledgement → follower applied.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lag {
    pub p50_ms: f64,
    pub p99_ms: f64,
}

#[derive(Debug, Default)]
pub(crate) struct Figures {
    pub ingest_points_per_s: f64,
    /// Seconds from the last ingest acknowledgement until the HNSW graph held every point.
    pub index_seconds: f64,
    pub search_qps: f64,
    pub search_p50_ms: f64,
    pub search_p99_ms: f64,
    pub batch_search_qps: f64,
    pub recall_at_10: f64,
    /// Empty unless `--ef` asked for a sweep.
    pub ef_sweep: Vec<EfPoint>,
    pub digest_p50_ms: f64,
    pub digest_p99_ms: f64,
    /// `None` when the target has no connected follower.
    pub replication_lag: Option<Lag>,
}

impl Figures {
    /// (JSON key, value, unit) of every measured scalar figure, in the table's order.
    fn rows(&self) -> Vec<(&'static str, f64, &'static str)> {
        let mut rows = vec![
            ("ingest_points_per_s", self.ingest_points_per_s, "points/s"),
            ("index_seconds", self.index_seconds, "s"),
            ("search_qps", self.search_qps, "queries/s"),
            ("search_p50_ms", self.search_p50_ms, "ms"),
            ("search_p99_ms", self.search_p99_ms, "ms"),
            ("batch_search_qps", self.batch_search_qps, "queries/s"),
            ("recall_at_10", self.recall_at_10, "fraction"),
            ("digest_p50_ms", self.digest_p50_ms, "ms"),
            ("digest_p99_ms", self.digest_p99_ms, "ms"),
        ];
        if let Some(lag) = self.replication_lag {
            rows.push(("replication_lag_p50_ms", lag.p50_ms, "ms"));
            rows.push(("replication_lag_p99_ms", lag.p99_ms, "ms"));
        }
        rows
    }
}

/// A value printed with as many decimals as its size deserves.
fn shown(value: f64) -> String {
    match value.abs() {
        v if v >= 100.0 => format!("{value:.0}"),
        v if v >= 1.0 => format!("{value:.2}"),
        _ => format!("{value:.4}"),
    }
}

/// The summary table: figure, value (right-aligned), unit; then the ef sweep if any.
pub(crate) fn print_table(figures: &Figures) {
    let rows: Vec<(&str, String, &str)> = figures
        .rows()
        .into_iter()
        .map(|(key, value, unit)| (key, shown(value), unit))
        .collect();
    let width = |header: &str, cell: fn(&(&str, String, &str)) -> usize| {
        rows.iter().map(cell).max().unwrap_or(0).max(header.len())
    };
    let key_width = width("figure", |r| r.0.len());
    let value_width = width("value", |r| r.1.len());
    println!();
    println!("{:<key_width$}  {:>value_width$}  unit", "figure", "value");
    for (key, value, unit) in &rows {
        println!("{key:<key_width$}  {value:>value_width$}  {unit}");
    }
    if !figures.ef_sweep.is_empty() {
        println!();
        println!(
            "{:>6}  {:>12}  {:>12}  {:>16}",
            "ef", "recall_at_10", "search_qps", "batch_search_qps"
        );
        for point in &figures.ef_sweep {
            println!(
                "{:>6}  {:>12.4}  {:>12.0}  {:>16.0}",
                point.ef, point.recall_at_10, point.search_qps, point.batch_search_qps
            );
        }
    }
}

/// The JSON document: the figures under their contract names, then `parameters` and
/// `machine`.
pub(crate) fn to_json(args: &BenchArgs, figures: &Figures) -> Value {
    let mut document = serde_json::Map::new();
    for (key, value, _) in figures.rows() {
        document.insert(key.to_string(), json!(value));
    }
    if !figures.ef_sweep.is_empty() {
        document.insert("ef_sweep".into(), json!(figures.ef_sweep));
    }
    document.insert(
        "parameters".into(),
        json!({
            "points": args.points,
            "dim": args.dim,
            "metric": args.metric,
            "concurrency": args.concurrency,
            "clusters": args.clusters,
            "batch_size": args.batch_size,
            "queries": args.queries,
            "batch_queries": args.batch_queries,
            "recall_queries": args.recall_queries,
            "collection": args.collection,
            "target": args.target,
            "seed": args.seed,
            "lag_writes_per_s": super::lag::LAG_WRITES_PER_S,
        }),
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    document.insert(
        "machine".into(),
        json!({
            "cores": cores,
            "version": env!("CARGO_PKG_VERSION"),
            "os": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
        }),
    );
    Value::Object(document)
}

/// Writes `document` pretty-printed to `path` by temp file + fsync + rename, so a reader
/// sees the old file or the whole new one, never half of it.
pub(crate) fn write_json(path: &Path, document: &Value) -> anyhow::Result<()> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = Path::new(&tmp_name);
    let mut text = serde_json::to_vec_pretty(document).context("encoding the figures")?;
    text.push(b'\n');
    let mut file =
        std::fs::File::create(tmp).with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(&text)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}
