//! `hyperspace cluster-test`: the seed's cluster simulation with real processes of this
//! binary — 1 leader + 2 followers, 100 writes, SIGKILL a follower, 50 more writes, restart
//! it, and check that every node converged to the same digest, which must also equal a
//! digest recomputed from the data each node returns.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use hyperspace_node::digest::entry_hash;
use hyperspace_node::synth::Clustered;
use hyperspace_sdk::{Client, Digest, Point};
use serde_json::{Map, Value};

use crate::cluster::NodeProcess;

const COLLECTION: &str = "default";
const DIMENSION: u32 = 16;
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs the seven steps, printing each with its timing. `Ok` means every check passed.
/// Data and logs go to `dir`, or to a temporary directory that is removed after a pass and
/// kept (its path printed) after a failure.
pub async fn run(dir: Option<PathBuf>) -> anyhow::Result<()> {
    let temp = tempfile::Builder::new()
        .prefix("hyperspace-cluster-test-")
        .tempdir()
        .context("creating a temporary directory")?;
    let root = dir.unwrap_or_else(|| temp.path().to_path_buf());
    println!("cluster-test: data and logs in {}", root.display());
    let result = steps(&root).await;
    if result.is_err() {
        let kept = temp.keep();
        println!("cluster-test: node logs kept in {}", kept.display());
    }
    result
}

async fn steps(root: &Path) -> anyhow::Result<()> {
    let mut data = Clustered::new(7, DIMENSION as usize, 8);

    let (mut nodes, mut clients) = step(1, "start 1 leader + 2 followers", async {
        let leader = NodeProcess::spawn("leader", &root.join("leader"), &[])?;
        let follow = [
            "--role".to_string(),
            "follower".to_string(),
            "--leader".to_string(),
            leader.grpc_url(),
        ];
        let mut nodes = vec![leader];
        for name in ["follower-1", "follower-2"] {
            nodes.push(NodeProcess::spawn(name, &root.join(name), &follow)?);
        }
        let mut clients = Vec::new();
        for node in &mut nodes {
            clients.push(node.wait_ready(READY_TIMEOUT).await?);
            println!(
                "      {:<10} REST {}  gRPC {}",
                node.name,
                node.http_url(),
                node.grpc_url()
            );
        }
        Ok((nodes, clients))
    })
    .await?;

    step(2, "insert 100 vectors into the leader", async {
        clients[0]
            .create_collection(COLLECTION, DIMENSION, "l2")
            .await?;
        insert(&mut clients[0], &mut data, 0..100).await
    })
    .await?;

    step(3, "verify replication (count, clock, state hash)", async {
        converge(&mut clients, 100).await.map(drop)
    })
    .await?;

    step(4, "SIGKILL follower-2", async {
        nodes[2].kill9();
        Ok(())
    })
    .await?;

    step(5, "insert 50 more vectors", async {
        insert(&mut clients[0], &mut data, 100..150).await
    })
    .await?;

    step(6, "restart follower-2", async {
        nodes[2].start()?;
        clients[2] = nodes[2].wait_ready(READY_TIMEOUT).await?;
        Ok(())
    })
    .await?;

    step(7, "verify catch-up and final consistency", async {
        let digest = converge(&mut clients, 150).await?;
        for (node, client) in nodes.iter().zip(clients.iter_mut()) {
            let recomputed = recompute(client).await?;
            ensure!(
                recomputed == (digest.state_hash, digest.buckets.clone(), 150),
                "{}: the digest recomputed from its data differs from the reported one",
                node.name
            );
        }
        println!(
            "      all 3 nodes: count 150, logical_clock {}, state_hash {:016x}, \
             recomputed from scrolled data: equal",
            digest.logical_clock, digest.state_hash
        );
        Ok(())
    })
    .await?;
    drop(nodes);
    println!("cluster-test: PASS");
    Ok(())
}

async fn step<T>(
    n: u32,
    what: &str,
    work: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let started = Instant::now();
    println!("[{n}/7] {what} ...");
    let result = work.await;
    let ms = started.elapsed().as_millis();
    match &result {
        Ok(_) => println!("[{n}/7] ok ({ms} ms)"),
        Err(e) => println!("[{n}/7] FAILED after {ms} ms: {e:#}"),
    }
    result.with_context(|| format!("step {n} ({what})"))
}

async fn insert(
    leader: &mut Client,
    data: &mut Clustered,
    ids: std::ops::Range<u64>,
) -> anyhow::Result<()> {
    let points: Vec<Point> = ids
        .map(|id| Point {
            id,
            vector: data.point(),
            payload: Map::from_iter([
                ("n".to_string(), Value::from(id)),
                ("source".to_string(), Value::from("cluster-test")),
            ]),
        })
        .collect();
    for batch in points.chunks(10) {
        leader.upsert(COLLECTION, batch.to_vec()).await?;
    }
    Ok(())
}

/// Waits until every node reports the same digest with `count` points; returns it.
async fn converge(clients: &mut [Client], count: u64) -> anyhow::Result<Digest> {
    let deadline = Instant::now() + CONVERGE_TIMEOUT;
    loop {
        let mut digests = Vec::new();
        for client in clients.iter_mut() {
            digests.push(client.get_digest(Some(COLLECTION.to_string())).await.ok());
        }
        let first = digests[0].clone();
        let agree = first.as_ref().is_some_and(|d| {
            d.count == count
                && digests.iter().all(|other| {
                    other.as_ref().is_some_and(|o| {
                        (o.logical_clock, o.state_hash, o.count)
                            == (d.logical_clock, d.state_hash, d.count)
                    })
                })
        });
        if agree {
            return Ok(first.expect("checked above"));
        }
        if Instant::now() > deadline {
            let seen: Vec<String> = digests
                .iter()
                .map(|d| match d {
                    Some(d) => format!(
                        "clock {} hash {:016x} count {}",
                        d.logical_clock, d.state_hash, d.count
                    ),
                    None => "no digest".into(),
                })
                .collect();
            bail!("nodes did not converge within {CONVERGE_TIMEOUT:?}: {seen:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The digest (state hash, buckets, count) recomputed from every point the node returns.
async fn recompute(client: &mut Client) -> anyhow::Result<(u64, Vec<u64>, u64)> {
    let mut buckets = vec![0u64; 256];
    let mut count = 0;
    let mut after = None;
    loop {
        let (points, next) = client.scroll(COLLECTION, after, 1000).await?;
        for p in points {
            buckets[(p.id % 256) as usize] ^= entry_hash(p.id, &p.vector, &p.payload);
            count += 1;
        }
        match next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok((buckets.iter().fold(0, |a, b| a ^ b), buckets, count))
}
