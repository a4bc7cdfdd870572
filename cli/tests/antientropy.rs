//! Anti-entropy with real processes: checkpoints verified at the same LSN under a steady
//! write load, automatic repair of a corrupted follower, `detect` and `off` modes, a leader
//! outvoted by two followers, and a chunked operator repair of a 5,000-point bucket with
//! writes racing it and the follower SIGKILLed in the middle. Every run ends by comparing
//! digests across nodes and recomputing them from each node's scrolled data.

mod common;

use std::time::Duration;

use common::cluster::{assert_converged, cluster, create, start_follower, upsert, CONVERGE};
use common::load::{points, Writer};
use common::{call, wait_for, Node};
use serde_json::{json, Value};

/// Fast checkpoints so a test sees several in a few seconds.
const LEADER_FLAGS: &[&str] = &[
    "--checkpoint-interval",
    "300ms",
    "--checkpoint-records",
    "200",
];

fn corrupt(node: &Node, id: u64) {
    let url = format!("{}/api/debug/collections/default/corrupt", node.http());
    let (status, body) = call("POST", &url, Some(&json!({ "id": id })));
    assert_eq!(status, 200, "{body}");
}

/// Whether the node holds point `id` with its original payload (`{"n": id}`).
fn holds(node: &Node, id: u64) -> bool {
    let url = format!("{}/api/collections/default/points/{id}", node.http());
    let (status, body) = call("GET", &url, None);
    status == 200 && body["payload"]["n"] == id
}

fn payload(node: &Node, id: u64) -> Value {
    let url = format!("{}/api/collections/default/points/{id}", node.http());
    let (status, body) = call("GET", &url, None);
    assert_eq!(status, 200, "{body}");
    body["payload"].clone()
}

/// This node's latest checkpoint verification of `default` (a follower's), if any.
fn check(node: &Node) -> Option<Value> {
    let checks = cluster(node)["anti_entropy"]["checks"].clone();
    let checks = checks.as_array()?.clone();
    checks.into_iter().find(|c| c["collection"] == "default")
}

fn drifted(check: &Value) -> Vec<u64> {
    let buckets = check["drifted_buckets"].as_array().unwrap();
    buckets.iter().map(|b| b.as_u64().unwrap()).collect()
}

/// The value of one series on a node's `/metrics` (every anti-entropy series is exported
/// from the collection's creation on, so a missing one is a failure, not a 0).
fn metric(node: &Node, series: &str) -> f64 {
    let text = common::http()
        .get(format!("{}/metrics", node.http()))
        .send()
        .unwrap()
        .text()
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{series} is not on {}/metrics", node.http()))
}

fn repairs(leader: &Node) -> Vec<Value> {
    let jobs = cluster(leader)["anti_entropy"]["repairs"].clone();
    jobs.as_array().unwrap().clone()
}

fn preload(leader: &Node, ids: std::ops::Range<u64>) {
    create(leader);
    let ids: Vec<u64> = ids.collect();
    for chunk in ids.chunks(1000) {
        let (status, body) = upsert(leader, chunk.iter().copied());
        assert_eq!(status, 200, "{body}");
    }
}

// Proves a point corrupted on a follower while ~1,000 points/s keep arriving is found at a
// checkpoint (exact at its LSN although the clocks never stand still), repaired
// automatically, and that afterwards every digest is equal and matches each node's data.
#[test]
fn corrupted_follower_under_load_is_detected_and_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let leader = Node::start(&dir.path().join("leader"), LEADER_FLAGS);
    let follower = start_follower(
        &dir.path().join("follower"),
        &leader.grpc(),
        &["--enable-fault-injection"],
    );
    preload(&leader, 0..2_000);
    let writer = Writer::start(leader.http(), 1_000_000);
    wait_for("load running", CONVERGE, || writer.acked() >= 200);
    wait_for("the follower caught up", CONVERGE, || {
        holds(&follower, 1_999)
    });
    corrupt(&follower, 7);
    let before = metric(
        &follower,
        r#"hyperspace_antientropy_checks_total{collection="default",result="drift"}"#,
    );
    assert_eq!(before, 0.0, "no drift before the corruption");
    wait_for("a checkpoint finds bucket 7 drifted", CONVERGE, || {
        metric(
            &follower,
            r#"hyperspace_antientropy_checks_total{collection="default",result="drift"}"#,
        ) >= 1.0
    });
    wait_for("the repair fixes point 7", CONVERGE, || holds(&follower, 7));
    wait_for("a later checkpoint is clean", CONVERGE, || {
        check(&follower).is_some_and(|c| c["result"] == "ok")
    });
    let acked = writer.finish();
    assert!(acked.len() >= 500, "the load kept running: {}", acked.len());
    let jobs = repairs(&leader);
    assert!(
        jobs.iter()
            .any(|j| j["reason"] == "checkpoint" && j["buckets"] == json!([7])),
        "automatic repair of bucket 7: {jobs:?}"
    );
    assert!(
        metric(
            &follower,
            r#"hyperspace_antientropy_repaired_points_total{collection="default"}"#
        ) >= 1.0
    );
    assert!(
        metric(
            &follower,
            r#"hyperspace_antientropy_repair_requests_total{collection="default"}"#
        ) >= 1.0
    );
    assert!(
        metric(
            &follower,
            r#"hyperspace_antientropy_last_verified_lsn{collection="default"}"#
        ) > 0.0
    );
    let (clock, ..) = assert_converged(&[&leader, &follower]);
    let leader_clock = cluster(&leader)["logical_clock"].as_u64().unwrap();
    assert_eq!(clock, leader_clock, "repair records moved no clock");
    let followers = cluster(&leader)["followers"].clone();
    assert_eq!(
        followers[0]["checks"][0]["collection"], "default",
        "{followers}"
    );
}

// Proves `detect` reports the drift (result, metric) and changes nothing, and `off` neither
// verifies nor changes anything, while the leader repairs nothing.
#[test]
fn detect_mode_reports_and_changes_nothing_and_off_does_neither() {
    let dir = tempfile::tempdir().unwrap();
    let leader = Node::start(&dir.path().join("leader"), LEADER_FLAGS);
    let flags = |mode| vec!["--enable-fault-injection", "--anti-entropy", mode];
    let detect = start_follower(&dir.path().join("d"), &leader.grpc(), &flags("detect"));
    let off = start_follower(&dir.path().join("o"), &leader.grpc(), &flags("off"));
    preload(&leader, 0..500);
    wait_for("both caught up", CONVERGE, || {
        holds(&detect, 499) && holds(&off, 499)
    });
    corrupt(&detect, 9);
    corrupt(&off, 10);
    wait_for("detect reports bucket 9", CONVERGE, || {
        check(&detect).is_some_and(|c| drifted(&c) == vec![9])
    });
    // Several more checkpoints pass (300 ms apart) while nothing may change.
    std::thread::sleep(Duration::from_secs(3));
    let check_now = check(&detect).unwrap();
    assert_eq!(check_now["result"], "drift", "{check_now}");
    assert_eq!(
        payload(&detect, 9),
        json!({"_corrupted": true}),
        "detect changed data"
    );
    assert_eq!(
        payload(&off, 10),
        json!({"_corrupted": true}),
        "off changed data"
    );
    assert!(check(&off).is_none(), "off verified a checkpoint");
    let off_checks = r#"hyperspace_antientropy_checks_total{collection="default",result="ok"}"#;
    assert_eq!(metric(&off, off_checks), 0.0);
    assert!(
        metric(
            &detect,
            r#"hyperspace_antientropy_drifted_buckets{collection="default"}"#
        ) == 1.0
    );
    assert_eq!(
        metric(
            &detect,
            r#"hyperspace_antientropy_repair_requests_total{collection="default"}"#
        ),
        0.0
    );
    assert!(repairs(&leader).is_empty(), "{:?}", repairs(&leader));
}

// Proves a point corrupted on the leader with two followers is not "repaired" onto them: the
// followers agree with each other, the leader reports itself outvoted (API and metric), and
// the followers keep the true data. Also checks the admin calls' refusals.
#[test]
fn corrupted_leader_with_two_followers_is_reported_not_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let mut flags = LEADER_FLAGS.to_vec();
    flags.push("--enable-fault-injection");
    let leader = Node::start(&dir.path().join("leader"), &flags);
    let f1 = start_follower(&dir.path().join("f1"), &leader.grpc(), &[]);
    let f2 = start_follower(&dir.path().join("f2"), &leader.grpc(), &[]);
    preload(&leader, 0..500);
    corrupt(&leader, 300);
    wait_for("the leader is outvoted", CONVERGE, || {
        let outvoted = cluster(&leader)["anti_entropy"]["outvoted"].clone();
        outvoted.as_array().is_some_and(|o| !o.is_empty())
    });
    let outvoted = cluster(&leader)["anti_entropy"]["outvoted"][0].clone();
    assert_eq!(outvoted["collection"], "default");
    assert_eq!(outvoted["followers_agreeing"], 2, "{outvoted}");
    assert_eq!(outvoted["followers"], 2, "{outvoted}");
    assert_eq!(outvoted["buckets"], json!([300 % 256]));
    assert_eq!(
        metric(
            &leader,
            r#"hyperspace_antientropy_leader_outvoted{collection="default"}"#
        ),
        2.0
    );
    std::thread::sleep(Duration::from_secs(1));
    assert!(repairs(&leader).is_empty(), "{:?}", repairs(&leader));
    for follower in [&f1, &f2] {
        assert!(
            holds(follower, 300),
            "a follower took the leader's bad data"
        );
    }
    // Refusals: repair on a follower, bad buckets, unknown collection, bad checkpoint body.
    let repair = |node: &Node, body: Value| {
        call(
            "POST",
            &format!("{}/api/admin/repair", node.http()),
            Some(&body),
        )
    };
    let (status, body) = repair(&f1, json!({"collection": "default", "buckets": [1]}));
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (409, json!("not_leader"))
    );
    for buckets in [json!([]), json!([256])] {
        let (status, body) = repair(
            &leader,
            json!({"collection": "default", "buckets": buckets}),
        );
        assert_eq!(status, 400, "{body}");
    }
    let (status, _) = repair(&leader, json!({"collection": "nope", "buckets": [1]}));
    assert_eq!(status, 404);
    let url = format!("{}/api/admin/checkpoint", leader.http());
    let (status, _) = call("POST", &url, Some(&json!({"collection": 5})));
    assert_eq!(status, 400);
    let (status, body) = call("POST", &url, None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checkpoints"][0]["collection"], "default");
}

// Proves a 5,200-point bucket is repaired in chunks of at most 1,000 points (six repair
// records), that writes racing the repair in the same bucket (overwrites and new ids) end up
// on every node, and that a follower SIGKILLed in the middle of the repair converges after
// its restart. The corruption is captured in a follower snapshot first, so the restart's
// replay alone cannot hide it.
#[test]
fn large_bucket_repair_is_chunked_races_writes_and_survives_a_follower_kill() {
    let dir = tempfile::tempdir().unwrap();
    let leader_flags = [
        "--checkpoint-records",
        "0",
        "--checkpoint-interval",
        "3600s",
        "--repair-points-per-second",
        "2000",
    ];
    let leader = Node::start(&dir.path().join("leader"), &leader_flags);
    let follower_flags = [
        "--enable-fault-injection",
        "--anti-entropy",
        "detect",
        "--snapshot-records",
        "20",
    ];
    let mut follower = start_follower(&dir.path().join("f"), &leader.grpc(), &follower_flags);
    let bucket_ids: Vec<u64> = (0..5_200).map(|k| 3 + 256 * k).collect();
    create(&leader);
    for chunk in bucket_ids.chunks(1000) {
        assert_eq!(upsert(&leader, chunk.iter().copied()).0, 200);
    }
    wait_for("follower caught up", CONVERGE, || {
        holds(&follower, bucket_ids[5_199])
    });
    corrupt(&follower, bucket_ids[10]);
    corrupt(&follower, bucket_ids[4_001]);
    for i in 0..40u64 {
        assert_eq!(
            upsert(&leader, std::iter::once(900_000 + i * 256 + 1)).0,
            200
        );
    }
    wait_for(
        "the follower snapshots its corrupted state",
        CONVERGE,
        || std::fs::read_dir(dir.path().join("f").join("snapshots")).is_ok_and(|d| d.count() > 0),
    );
    let lsn_before = cluster(&leader)["last_lsn"].as_u64().unwrap();
    let url = format!("{}/api/admin/repair", leader.http());
    let (status, job) = call(
        "POST",
        &url,
        Some(&json!({"collection": "default", "buckets": [3]})),
    );
    assert_eq!(status, 200, "{job}");
    // Writes racing the repair in the same bucket: overwrites (n changes) and new ids.
    let raced: Vec<u64> = (0..20)
        .map(|k| bucket_ids[k * 250])
        .chain((0..20).map(|k| 3 + 256 * (10_000 + k)))
        .collect();
    let mut raced_body = points(raced.iter().copied());
    for p in raced_body["points"].as_array_mut().unwrap() {
        p["payload"] = json!({"raced": true});
    }
    let put = format!("{}/api/collections/default/points", leader.http());
    for p in raced_body["points"].as_array().unwrap() {
        let (status, body) = call("PUT", &put, Some(&json!({"points": [p]})));
        assert_eq!(status, 200, "{body}");
        std::thread::sleep(Duration::from_millis(25));
    }
    wait_for("the repair is under way", CONVERGE, || {
        repairs(&leader)[0]["points_sent"].as_u64().unwrap() >= 1_000
    });
    let sent = repairs(&leader)[0]["points_sent"].as_u64().unwrap();
    assert!(
        sent < 5_200,
        "the repair should still be running at 2,000 points/s"
    );
    follower.kill9();
    follower.spawn();
    follower.wait_ready();
    wait_for("the repair finished", CONVERGE, || {
        !repairs(&leader)[0]["finished_unix_ms"].is_null()
    });
    let job = repairs(&leader)[0].clone();
    assert_eq!(job["error"], Value::Null, "{job}");
    assert_eq!(job["buckets_done"], 1);
    let records = job["last_lsn"].as_u64().unwrap() - lsn_before - raced.len() as u64;
    assert_eq!(
        records, 6,
        "5,200+ points in chunks of at most 1,000: {job}"
    );
    assert!(job["points_sent"].as_u64().unwrap() >= 5_200, "{job}");
    assert_converged(&[&leader, &follower]);
    for id in &raced {
        assert_eq!(
            payload(&follower, *id),
            json!({"raced": true}),
            "raced write {id}"
        );
    }
    assert!(holds(&follower, bucket_ids[10]) && holds(&follower, bucket_ids[4_001]));
}
