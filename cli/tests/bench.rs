//! `hyperspace bench`: a small run writes JSON with every figure under its agreed name and
//! sane values, against its own node and against a leader with a follower (where it also
//! measures replication lag); bad flags get a clear message and exit code 2, and an existing
//! collection is never touched. Speed itself is not asserted: it is measured, not tested.

mod common;

use std::process::{Command, Output};

use common::{call, Node, BIN};
use serde_json::{json, Value};

fn bench(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("bench")
        .args(args)
        .env_remove("HYPERSPACE_API_KEY")
        .output()
        .unwrap()
}

fn figures(args: &[&str], dir: &std::path::Path) -> Value {
    let file = dir.join("bench.json");
    let mut all = vec!["--json", file.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = bench(&all);
    assert!(
        out.status.success(),
        "bench failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("search_qps"), "a summary table: {stdout}");
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).expect("valid JSON")
}

fn check_common(json: &Value, points: u64) {
    let recall = json["recall_at_10"].as_f64().expect("recall_at_10");
    assert!((0.0..=1.0).contains(&recall), "recall {recall}");
    // Fixed seed, a few thousand clustered points, default ef: the graph finds nearly all.
    assert!(recall >= 0.9, "recall@10 {recall} is too low for this data");
    let indexing = json["index_seconds"].as_f64().expect("index_seconds");
    assert!(
        indexing >= 0.0 && indexing.is_finite(),
        "index_seconds {indexing}"
    );
    for key in [
        "ingest_points_per_s",
        "search_qps",
        "batch_search_qps",
        "search_p50_ms",
        "search_p99_ms",
        "digest_p99_ms",
    ] {
        let value = json[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}: {json}"));
        assert!(value > 0.0 && value.is_finite(), "{key} = {value}");
    }
    assert!(json["search_p50_ms"].as_f64() <= json["search_p99_ms"].as_f64());
    assert_eq!(json["parameters"]["points"], points);
    assert!(json["machine"]["cores"].as_u64().unwrap() >= 1);
    assert_eq!(json["machine"]["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn a_small_run_writes_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let json = figures(&["--points", "5000", "--queries", "2000"], dir.path());
    check_common(&json, 5000);
    // Its own node has no followers: no lag figure rather than a made-up one.
    assert!(json.get("replication_lag_p99_ms").is_none(), "{json}");
    assert!(json["parameters"]["target"].is_null());
}

#[test]
fn against_a_leader_with_a_follower_it_measures_replication_lag() {
    let dir = tempfile::tempdir().unwrap();
    let leader = Node::start(&dir.path().join("leader"), &[]);
    let follow = ["--role", "follower", "--leader", &leader.grpc()];
    let _follower = Node::start(&dir.path().join("follower"), &follow);
    // An existing collection of that name is refused, and left as it was.
    let body = json!({"name": "bench", "dimension": 2, "metric": "l2"});
    let url = format!("{}/api/collections", leader.http());
    assert_eq!(call("POST", &url, Some(&body)).0, 201);
    let out = bench(&["--target", &leader.grpc(), "--points", "1000"]);
    assert!(!out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--collection"));
    let existing = call("GET", &format!("{url}/bench"), None).1;
    assert_eq!(existing["dimension"], 2, "{existing}");

    let args = [
        "--target",
        &leader.grpc(),
        "--collection",
        "measured",
        "--points",
        "2000",
        "--queries",
        "1000",
    ];
    let json = figures(&args, dir.path());
    check_common(&json, 2000);
    let lag = json["replication_lag_p99_ms"]
        .as_f64()
        .expect("a lag figure");
    assert!(lag >= 0.0 && lag.is_finite(), "lag {lag}");
    assert_eq!(json["parameters"]["target"], leader.grpc());
}

#[test]
fn bad_flags_are_refused_with_a_clear_message() {
    let cases: [(&[&str], &str); 6] = [
        (&["--points", "0"], "--points"),
        (&["--points", "many"], "--points"),
        (&["--concurrency", "0"], "--concurrency"),
        (&["--target", "localhost:50051"], "gRPC URL"),
        (
            &["--points", "1000", "--recall-queries", "1200"],
            "--recall-queries",
        ),
        (&["--ef", "5"], "--ef"),
    ];
    for (args, needle) in cases {
        let out = bench(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} started anyway");
    }
}
