//! The fault-injection route that later issues (console, alerts, anti-entropy) use to make
//! drift on purpose: it changes one point in memory only, exists only behind its flag.
mod common;

use common::*;
use serde_json::json;

fn digest(base: &str) -> serde_json::Value {
    let (status, digest) = call("GET", &format!("{base}/api/collections/c/digest"), None);
    assert_eq!(status, 200, "{digest}");
    digest
}

// Proves a corruption changes exactly the point's bucket at an equal clock, shows in reads,
// answers the new entry hash, and is gone after a restart replays the WAL.
#[test]
fn corrupt_changes_one_bucket_without_a_clock_tick() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = Node::start(&dir.path().join("n"), &["--enable-fault-injection"]);
    let base = node.http();
    call(
        "POST",
        &format!("{base}/api/collections"),
        Some(&json!({"name":"c","dimension":2,"metric":"l2"})),
    );
    let points: Vec<_> = (0..600u64)
        .map(|id| json!({"id": id, "vector": [id as f32, 1.0], "payload": {"n": id}}))
        .collect();
    let (status, _) = call(
        "PUT",
        &format!("{base}/api/collections/c/points"),
        Some(&json!({"points": points})),
    );
    assert_eq!(status, 200);
    let before = digest(&base);

    let url = format!("{base}/api/debug/collections/c/corrupt");
    let (status, answer) = call("POST", &url, Some(&json!({"id": 300})));
    assert_eq!(status, 200, "{answer}");
    let after = digest(&base);
    assert_eq!(
        after["logical_clock"], before["logical_clock"],
        "no clock tick"
    );
    assert_eq!(after["count"], before["count"]);
    let changed: Vec<usize> = (0..256)
        .filter(|b| after["buckets"][b] != before["buckets"][b])
        .collect();
    assert_eq!(changed, vec![300 % 256]);
    let (_, point) = call("GET", &format!("{base}/api/collections/c/points/300"), None);
    assert_eq!(point["payload"], json!({"_corrupted": true}));
    let (_, bucket) = call("GET", &format!("{base}/api/collections/c/buckets/44"), None);
    let entry = bucket["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == 300)
        .unwrap();
    assert_eq!(entry["entry_hash"], answer["entry_hash"]);
    let (state_hash, _, _) = recompute_digest(&base, "c");
    assert_eq!(
        json!(state_hash),
        after["state_hash"],
        "the digest follows the corrupted data"
    );

    let (status, err) = call("POST", &url, Some(&json!({"id": 9999})));
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (404, Some("not_found"))
    );

    node.restart();
    assert_eq!(
        digest(&node.http()),
        before,
        "memory-only: a restart replays the true data"
    );
}

// Proves the debug routes do not exist without --enable-fault-injection.
#[test]
fn debug_routes_absent_without_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(&dir.path().join("n"), &[]);
    let base = node.http();
    call(
        "POST",
        &format!("{base}/api/collections"),
        Some(&json!({"name":"c","dimension":2,"metric":"l2"})),
    );
    for path in ["/api/debug/collections/c/corrupt", "/api/debug/wal/fail"] {
        let (status, err) = call("POST", &format!("{base}{path}"), Some(&json!({"id": 1})));
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
}
