//! REST and gRPC round trips against a real node process.
mod common;
use common::*;
use serde_json::json;

// Proves the digest test vector of DESIGN.md §3 comes back over REST from a real process.
#[test]
fn rest_digest_matches_design_vector() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(&dir.path().join("n"), &[]);
    let base = node.http();
    let (s, _) = call(
        "POST",
        &format!("{base}/api/collections"),
        Some(&json!({"name":"default","dimension":3,"metric":"l2"})),
    );
    assert_eq!(s, 201);
    let points = json!({"points":[
        {"id":42,"vector":[0.5,-1.0,2.25],"payload":{"b":1,"a":"x"}},
        {"id":0,"vector":[0.0,0.25,1.0]},
        {"id":"298","vector":[1.0,2.0,3.0],"payload":{"tag":"ü"}}]});
    let (s, body) = call(
        "PUT",
        &format!("{base}/api/collections/default/points"),
        Some(&points),
    );
    assert_eq!(s, 200, "{body}");
    let (_, digest) = call(
        "GET",
        &format!("{base}/api/collections/default/digest"),
        None,
    );
    assert_eq!(digest["state_hash"], json!(2710841945336492754u64));
    assert_eq!(digest["state_hash_hex"], "259ed862fa02b2d2");
    assert_eq!(digest["bucket_counts"][42], 2);
    let (state_hash, _, count) = recompute_digest(&base, "default");
    assert_eq!((state_hash, count), (2710841945336492754, 3));
}
