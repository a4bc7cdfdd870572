//! Cluster helpers shared by the replication and anti-entropy tests: followers, digests of
//! `default`, and convergence checked against each node's own data.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::load::{create_default, points};
use super::{call, recompute_digest, Node};

pub const CONVERGE: Duration = Duration::from_secs(30);

pub fn follower_args(leader: &str) -> Vec<String> {
    vec![
        "--role".into(),
        "follower".into(),
        "--leader".into(),
        leader.into(),
    ]
}

pub fn start_follower(dir: &Path, leader: &str, extra: &[&str]) -> Node {
    let mut args = follower_args(leader);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Node::start(dir, &args)
}

pub fn create(node: &Node) {
    create_default(&node.http());
}

pub fn upsert(node: &Node, ids: impl Iterator<Item = u64>) -> (u16, Value) {
    let url = format!("{}/api/collections/default/points", node.http());
    call("PUT", &url, Some(&points(ids)))
}

/// `(logical_clock, state_hash, count)` of `default`, or None if the node does not answer.
pub fn digest(node: &Node) -> Option<(u64, u64, u64)> {
    let url = format!("{}/api/collections/default/digest?u64=string", node.http());
    let response = super::http().get(url).send().ok()?;
    if response.status() != 200 {
        return None;
    }
    let d: Value = response.json().ok()?;
    let n = |k: &str| d[k].as_str().unwrap().parse::<u64>().unwrap();
    Some((n("logical_clock"), n("state_hash"), n("count")))
}

/// Waits until every node reports the same digest; checks each against its own data.
pub fn assert_converged(nodes: &[&Node]) -> (u64, u64, u64) {
    let deadline = Instant::now() + CONVERGE;
    let last = loop {
        let last = nodes.iter().map(|n| digest(n)).collect::<Vec<_>>();
        if last[0].is_some() && last.iter().all(|d| *d == last[0]) {
            break last;
        }
        assert!(
            Instant::now() < deadline,
            "nodes did not converge within {CONVERGE:?}: {last:?}\nlogs:\n{}",
            nodes
                .iter()
                .map(|n| n.log_text())
                .collect::<Vec<_>>()
                .join("\n----\n")
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let (clock, hash, count) = last[0].unwrap();
    for node in nodes {
        let (recomputed, _, recount) = recompute_digest(&node.http(), "default");
        assert_eq!(
            (recomputed, recount),
            (hash, count),
            "{} data vs digest",
            node.http()
        );
    }
    (clock, hash, count)
}

pub fn cluster(node: &Node) -> Value {
    call("GET", &format!("{}/api/cluster", node.http()), None).1
}
