//! The console with real node processes (leader + 2 followers, one of them replicating
//! through a TCP proxy) and a real console process: in sync, a follower behind a cut link is
//! LAGGING with amber buckets and never drift, a SIGKILLed follower is UNREACHABLE, and a
//! point corrupted at an equal clock is DRIFT in exactly its bucket, named by the drill-down.
//! Under a steady write load with healthy nodes no round shows DIVERGED or drift.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::console::Console;
use common::load::{create_default, Writer};
use common::proxy::Proxy;
use common::{call, wait_for, Node};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(30);

fn in_state(cells: &[(usize, String)], state: &str) -> Vec<usize> {
    cells
        .iter()
        .filter(|(_, s)| s == state)
        .map(|(b, _)| *b)
        .collect()
}

fn all(verdicts: &BTreeMap<String, String>, verdict: &str) -> bool {
    verdicts.len() == 3 && verdicts.values().all(|v| v == verdict)
}

#[test]
fn console_tells_lag_from_drift_with_real_processes() {
    let dir = tempfile::tempdir().unwrap();
    let fault = ["--enable-fault-injection", "--fsync", "5"];
    let leader = Node::start(&dir.path().join("l"), &fault);
    let follower = |name: &str, leader_url: &str| {
        let args = [
            "--role",
            "follower",
            "--leader",
            leader_url,
            "--enable-fault-injection",
        ];
        Node::start(&dir.path().join(name), &args)
    };
    let mut f1 = follower("f1", &leader.grpc());
    let proxy = Proxy::start(leader.grpc_port);
    let f2 = follower("f2", &proxy.url());
    create_default(&leader.http());
    let console = Console::start(&[&f1, &f2, &leader], &dir.path().join("console.log"));

    // In sync under no load: every verdict IN_SYNC, 256 cells, none drift.
    let writer = Writer::start(leader.http(), 0);
    wait_for("some writes", WAIT, || writer.acked() >= 100);
    let acked = writer.finish();
    assert!(!acked.is_empty());
    // A round taken before the writes is IN_SYNC too (all empty): wait for one with the data.
    let count = acked.len() as u64;
    wait_for("all IN_SYNC with the data", WAIT, || {
        all(&console.verdicts(), "IN_SYNC") && console.counts().iter().all(|c| *c == count)
    });
    let cells = console.cells();
    assert_eq!(
        cells.len(),
        256,
        "exactly the 256 heatmap cells carry data-bucket"
    );
    assert!(in_state(&cells, "drift").is_empty() && in_state(&cells, "lag").is_empty());
    assert!(!in_state(&cells, "ok").is_empty());

    // Steady load, healthy nodes: no round shows DIVERGED or DRIFT, and no cell is red.
    let writer = Writer::start(leader.http(), 1_000_000);
    for _ in 0..15 {
        let verdicts = console.verdicts();
        assert!(
            verdicts.values().all(|v| v != "DIVERGED" && v != "DRIFT"),
            "{verdicts:?}"
        );
        assert!(in_state(&console.cells(), "drift").is_empty());
        std::thread::sleep(Duration::from_millis(100));
    }

    // f2 behind a cut link while writes go on: LAGGING, its buckets amber, never drift.
    proxy.cut();
    wait_for("f2 LAGGING", WAIT, || {
        console.verdicts().get(&f2.grpc()).map(String::as_str) == Some("LAGGING")
    });
    let cells = console.cells();
    assert!(in_state(&cells, "drift").is_empty(), "lag is never drift");
    assert!(
        !in_state(&cells, "lag").is_empty(),
        "the lagging node's buckets are amber"
    );
    let overview = console.page("/");
    assert!(
        overview.contains("LAGGING by"),
        "the overview says by how much"
    );

    // f1 SIGKILLed while writes go on: UNREACHABLE, and still no drift.
    f1.kill9();
    wait_for("f1 UNREACHABLE", WAIT, || {
        console.verdicts().get(&f1.grpc()).map(String::as_str) == Some("UNREACHABLE")
    });
    assert!(in_state(&console.cells(), "drift").is_empty());
    assert!(console.page("/").contains("unreachable"));

    // Restored: back to IN_SYNC once the load stops.
    proxy.restore();
    f1.spawn();
    f1.wait_ready();
    writer.finish();
    wait_for("all IN_SYNC again", WAIT, || {
        all(&console.verdicts(), "IN_SYNC")
    });

    // A point corrupted on f1 at an equal clock: DRIFT, exactly its bucket red, and the
    // drill-down names the id.
    let id = 1_000_003_u64;
    let url = format!("{}/api/debug/collections/default/corrupt", f1.http());
    let (status, answer) = call("POST", &url, Some(&json!({"id": id})));
    assert_eq!(status, 200, "{answer}");
    wait_for("f1 DRIFT", WAIT, || {
        console.verdicts().get(&f1.grpc()).map(String::as_str) == Some("DRIFT")
    });
    let bucket = (id % 256) as usize;
    assert_eq!(in_state(&console.cells(), "drift"), vec![bucket]);
    let verdicts = console.verdicts();
    assert_eq!(verdicts[&f2.grpc()], "IN_SYNC");
    assert_eq!(verdicts[&leader.grpc()], "IN_SYNC");
    let drill = console.page(&format!("/collections/default/buckets/{bucket}"));
    let row = drill
        .split("<tr")
        .find(|row| row.contains(&format!("<code>{id}</code>")))
        .expect("the drill-down lists the corrupted id");
    assert!(row.contains("differs from the leader"), "{row}");
    let metrics = console.page("/metrics");
    assert!(metrics.contains("hyperspace_console_drift{"), "{metrics}");
    assert!(console.page("/history").contains("<polyline"));
}
