//! Replication with real processes: the seed's cluster test, leader and follower SIGKILLs,
//! a blackholed network, snapshot catch-up, failover with divergence, and the refusals
//! (writes to a follower, a duplicate identity, a wrong API key). Every check compares
//! digests (clock, state hash, count) across nodes and recomputes them from the data.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::cluster::{
    assert_converged, cluster, create, digest, follower_args, start_follower, upsert, CONVERGE,
};
use common::load::{points, Writer};
use common::proxy::Proxy;
use common::{call, wait_for, Node, BIN};
use serde_json::{json, Value};

fn assert_has_ids(node: &Node, ids: &BTreeSet<u64>) {
    for id in ids {
        let url = format!("{}/api/collections/default/points/{id}", node.http());
        let (status, body) = call("GET", &url, None);
        assert_eq!(
            status,
            200,
            "acknowledged id {id} missing on {}: {body}",
            node.http()
        );
    }
}

// The seed's seven steps, through the `cluster-test` subcommand (real processes, SIGKILL).
#[test]
fn cluster_test_subcommand_passes_all_seven_steps() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(BIN)
        .args(["cluster-test", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cluster-test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in 1..=7 {
        assert!(
            stdout.contains(&format!("[{step}/7] ok")),
            "step {step} missing:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("count 150") && stdout.contains("PASS"),
        "{stdout}"
    );
}

// A leader SIGKILLed and restarted while followers run and writes go on: the followers
// reconnect by themselves and converge, and no acknowledged write is lost anywhere.
#[test]
fn leader_sigkill_followers_reconnect_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut leader = Node::start(&dir.path().join("l"), &["--fsync", "5"]);
    create(&leader);
    let f1 = start_follower(&dir.path().join("f1"), &leader.grpc(), &[]);
    let f2 = start_follower(&dir.path().join("f2"), &leader.grpc(), &[]);
    let writer = Writer::start(leader.http(), 0);
    wait_for("writes before the kill", CONVERGE, || writer.acked() >= 100);
    leader.kill9();
    std::thread::sleep(Duration::from_millis(300));
    leader.spawn();
    leader.wait_ready();
    let before = writer.acked();
    wait_for("writes after the restart", CONVERGE, || {
        writer.acked() >= before + 100
    });
    let acked = writer.finish();
    let (_, _, count) = assert_converged(&[&leader, &f1, &f2]);
    assert!(count >= acked.len() as u64);
    for node in [&leader, &f1, &f2] {
        assert_has_ids(node, &acked);
    }
    // SIGTERM drains even with replication streams open, and the followers find it again.
    assert_eq!(leader.terminate(), 0, "{}", leader.log_text());
    leader.spawn();
    leader.wait_ready();
    wait_for("both followers acknowledged everything", CONVERGE, || {
        let followers = cluster(&leader)["followers"].as_array().unwrap().clone();
        followers.len() == 2
            && followers
                .iter()
                .all(|f| f["connected"] == true && f["lag_records"] == 0)
    });
    // The §6 replication series, on both sides.
    let metrics = |n: &Node| {
        common::http()
            .get(format!("{}/metrics", n.http()))
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    let on_leader = metrics(&leader);
    let id = cluster(&f1)["node_id"].as_str().unwrap().to_string();
    assert!(
        on_leader.contains(&format!(
            "hyperspace_replication_follower_connected{{follower_id=\"{id}\"}} 1"
        )),
        "{on_leader}"
    );
    assert!(
        on_leader.contains(&format!(
            "hyperspace_replication_follower_lag_records{{follower_id=\"{id}\"}} 0"
        )),
        "{on_leader}"
    );
    let last_lsn = cluster(&leader)["last_lsn"].as_u64().unwrap();
    let on_follower = metrics(&f1);
    assert!(
        on_follower.contains(&format!("hyperspace_replication_applied_lsn {last_lsn}")),
        "{on_follower}"
    );
    assert!(on_follower.contains("role=\"follower\""), "{on_follower}");
}

// A blackholed link (bytes stop, sockets stay open) while writes go on: the follower falls
// behind, notices the silence, and after the link returns resumes from its LSN and converges.
#[test]
fn network_cut_and_restore_follower_resumes_and_converges() {
    let dir = tempfile::tempdir().unwrap();
    let leader = Node::start(&dir.path().join("l"), &["--fsync", "5"]);
    create(&leader);
    let proxy = Proxy::start(leader.grpc_port);
    let follower = start_follower(&dir.path().join("f"), &proxy.url(), &[]);
    let writer = Writer::start(leader.http(), 0);
    wait_for("writes before the cut", CONVERGE, || writer.acked() >= 50);
    proxy.cut();
    let at_cut = writer.acked();
    wait_for("writes during the cut", CONVERGE, || {
        writer.acked() >= at_cut + 200
    });
    let behind = digest(&follower).unwrap();
    let ahead = digest(&leader).unwrap();
    assert!(
        behind.0 < ahead.0,
        "follower should lag while cut: {behind:?} vs {ahead:?}"
    );
    // The leader notices the silence within its peer timeout.
    wait_for(
        "the leader to mark the follower disconnected",
        CONVERGE,
        || cluster(&leader)["followers"][0]["connected"] == false,
    );
    proxy.restore();
    let resumed = writer.acked();
    wait_for("writes after the restore", CONVERGE, || {
        writer.acked() >= resumed + 50
    });
    let acked = writer.finish();
    assert_converged(&[&leader, &follower]);
    assert_has_ids(&follower, &acked);
}

// A follower down while the leader snapshots and drops the WAL it would need gets the
// snapshot first, then the stream, and converges.
#[test]
fn follower_behind_the_retained_wal_catches_up_from_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let leader = Node::start(&dir.path().join("l"), &["--snapshot-records", "20"]);
    create(&leader);
    let mut follower = start_follower(&dir.path().join("f"), &leader.grpc(), &[]);
    for id in 0..5 {
        assert_eq!(upsert(&leader, id..id + 1).0, 200);
    }
    assert_converged(&[&leader, &follower]);
    follower.kill9();
    for id in 5..150 {
        assert_eq!(upsert(&leader, id..id + 1).0, 200);
    }
    wait_for("the leader to drop old WAL segments", CONVERGE, || {
        leader.log_text().contains("snapshot written")
    });
    follower.spawn();
    follower.wait_ready();
    let (_, _, count) = assert_converged(&[&leader, &follower]);
    assert_eq!(count, 150);
    assert!(
        leader.log_text().contains("sending a snapshot"),
        "{}",
        leader.log_text()
    );
    assert!(follower
        .log_text()
        .contains("installed the leader's snapshot"));
    // The installed state survives a SIGKILL (it is on disk, not only in memory).
    follower.restart();
    assert_converged(&[&leader, &follower]);
}

// Under write load, a follower SIGKILLed and restarted 10 times ends with the leader's
// exact digest and clock.
#[test]
fn follower_killed_ten_times_under_load_ends_identical() {
    let dir = tempfile::tempdir().unwrap();
    let leader = Node::start(&dir.path().join("l"), &["--fsync", "5"]);
    create(&leader);
    let mut follower = start_follower(&dir.path().join("f"), &leader.grpc(), &[]);
    let writer = Writer::start(leader.http(), 0);
    for round in 0..10 {
        std::thread::sleep(Duration::from_millis(100 + 40 * round));
        follower.kill9();
        follower.spawn();
        follower.wait_ready();
    }
    let acked = writer.finish();
    assert!(acked.len() > 100, "the load ran: {} writes", acked.len());
    assert_converged(&[&leader, &follower]);
    assert_has_ids(&follower, &acked);
}

// With a live tail of 4 KiB the follower is always behind it: the leader serves it from the
// WAL on disk under load, switching back and forth, and nothing is lost or reordered.
#[test]
fn follower_behind_the_live_tail_is_served_from_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let leader = Node::start(
        &dir.path().join("l"),
        &["--fsync", "5", "--live-tail-bytes", "4096"],
    );
    create(&leader);
    let writer = Writer::start(leader.http(), 0);
    // The follower starts far behind the 4 KiB window: its first records come from disk.
    wait_for("writes before the follower", CONVERGE, || {
        writer.acked() >= 300
    });
    let follower = start_follower(&dir.path().join("f"), &leader.grpc(), &[]);
    wait_for("writes with the follower", CONVERGE, || {
        writer.acked() >= 600
    });
    let acked = writer.finish();
    assert_converged(&[&leader, &follower]);
    assert_has_ids(&follower, &acked);
    assert!(
        leader.log_text().contains("reading the WAL"),
        "{}",
        leader.log_text()
    );
}

// Failover: kill the leader, promote a follower, point the other at it, write; all
// converge. The old leader restarted as a follower converges when it holds nothing extra,
// and is refused as `diverged` once it does.
#[test]
fn failover_promote_follow_and_divergence_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Node::start(&dir.path().join("a"), &[]);
    create(&a);
    let b = start_follower(&dir.path().join("b"), &a.grpc(), &[]);
    let c = start_follower(&dir.path().join("c"), &a.grpc(), &[]);
    assert_eq!(upsert(&a, 0..50).0, 200);
    assert_converged(&[&a, &b, &c]);
    a.kill9();

    let (status, promoted) = call("POST", &format!("{}/api/admin/promote", b.http()), None);
    assert_eq!(
        (status, promoted["role"].as_str()),
        (200, Some("leader")),
        "{promoted}"
    );
    let follow = json!({"leader": b.grpc()});
    let (status, body) = call(
        "POST",
        &format!("{}/api/admin/follow", c.http()),
        Some(&follow),
    );
    assert_eq!(status, 200, "{body}");
    let (status, ack) = upsert(&b, 50..100);
    assert_eq!(status, 200, "{ack}");
    assert_eq!(
        ack["lsn"], 3,
        "LSNs continue from the promoted follower's last record"
    );
    assert_converged(&[&b, &c]);

    // The old leader holds exactly the common prefix: it rejoins as a follower.
    a.extra = follower_args(&b.grpc());
    a.spawn();
    a.wait_ready();
    let (clock, _, count) = assert_converged(&[&a, &b, &c]);
    assert_eq!(count, 100);

    // Now give it a record the new leader lacks: it must refuse to follow.
    let (status, _) = call("POST", &format!("{}/api/admin/promote", a.http()), None);
    assert_eq!(status, 200);
    assert_eq!(upsert(&a, 1000..1001).0, 200);
    let (status, refused) = call(
        "POST",
        &format!("{}/api/admin/follow", a.http()),
        Some(&follow),
    );
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "diverged", "{refused}");
    assert_eq!(
        cluster(&a)["role"],
        "leader",
        "a refused follow changes nothing"
    );
    // Restarted as a follower it refuses too, and keeps its data untouched.
    a.restart();
    wait_for("the diverged error on the old leader", CONVERGE, || {
        cluster(&a)["replication_error"]
            .as_str()
            .unwrap_or("")
            .contains("diverged")
    });
    let (a_clock, _, a_count) = digest(&a).unwrap();
    assert_eq!((a_clock, a_count), (clock + 1, 101));
    assert_eq!(digest(&b).unwrap().2, 100);
}

// A follower refuses writes (409 not_leader naming the leader) and changes nothing; a second
// node with a copied identity is refused while the first is live; a wrong API key cannot
// stream.
#[test]
fn follower_refuses_writes_and_leader_refuses_duplicates_and_wrong_keys() {
    let dir = tempfile::tempdir().unwrap();
    let leader = Node::start(&dir.path().join("l"), &["--api-key", "k1"]);
    let key = [("x-api-key", "k1")];
    let with_key = |method: &str, url: String, body: Option<&Value>| {
        common::call_with(method, &url, body, &key)
    };
    let body = json!({"name": "default", "dimension": 4, "metric": "l2"});
    assert_eq!(
        with_key(
            "POST",
            format!("{}/api/collections", leader.http()),
            Some(&body)
        )
        .0,
        201
    );
    let follower = start_follower(&dir.path().join("f"), &leader.grpc(), &["--api-key", "k1"]);
    let url = format!("{}/api/collections/default/points", leader.http());
    assert_eq!(with_key("PUT", url, Some(&points(0..10))).0, 200);
    let digest_of = |n: &Node| {
        with_key(
            "GET",
            format!("{}/api/collections/default/digest", n.http()),
            None,
        )
        .1
    };
    wait_for("the follower to catch up", CONVERGE, || {
        digest_of(&follower)["count"] == 10
    });

    let before = digest_of(&follower);
    let url = format!("{}/api/collections/default/points", follower.http());
    let (status, refused) = with_key("PUT", url, Some(&points(100..101)));
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "not_leader");
    assert_eq!(
        refused["error"]["leader"]["grpc_addr"],
        leader.grpc(),
        "{refused}"
    );
    let url = format!("{}/api/collections/default/points/delete", follower.http());
    assert_eq!(with_key("POST", url, Some(&json!({"ids": [1]}))).0, 409);
    assert_eq!(
        digest_of(&follower),
        before,
        "a refused write changes nothing"
    );

    // A copy of the follower's data directory has the same node id.
    let copy = dir.path().join("copy");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(dir.path().join("f"))
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    let twin = start_follower(&copy, &leader.grpc(), &["--api-key", "k1"]);
    let cluster_of = |n: &Node| with_key("GET", format!("{}/api/cluster", n.http()), None).1;
    wait_for("the duplicate identity to be refused", CONVERGE, || {
        cluster_of(&twin)["replication_error"]
            .as_str()
            .unwrap_or("")
            .contains("already has a live replication stream")
    });
    assert_eq!(
        cluster_of(&follower)["connected"],
        true,
        "the original keeps streaming"
    );

    let stranger = start_follower(
        &dir.path().join("s"),
        &leader.grpc(),
        &["--api-key", "wrong"],
    );
    wait_for("the wrong key to be refused", CONVERGE, || {
        let view = call_with_key(&stranger, "wrong");
        view["replication_error"]
            .as_str()
            .unwrap_or("")
            .contains("unauthenticated")
    });
    let (status, _) = common::call_with(
        "GET",
        &format!("{}/api/collections/default/digest", stranger.http()),
        None,
        &[("x-api-key", "wrong")],
    );
    assert_eq!(
        status, 404,
        "nothing was streamed to the node with the wrong key"
    );
}

fn call_with_key(node: &Node, key: &str) -> Value {
    common::call_with(
        "GET",
        &format!("{}/api/cluster", node.http()),
        None,
        &[("x-api-key", key)],
    )
    .1
}
