//! Crash safety of a real node process: SIGKILL under load, torn and corrupt WAL files, the
//! data-directory lock, injected WAL failures, SIGTERM draining and snapshot recovery.
//! Every random choice comes from a printed seed; `HYPERSPACE_TEST_SEED=N` replays it.
mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const COLLECTION: &str = "c";
const DIM: usize = 4;
const DEADLINE: Duration = Duration::from_secs(30);

fn seeded_rng(test: &str) -> StdRng {
    let seed = std::env::var("HYPERSPACE_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("{test}: seed {seed} (replay with HYPERSPACE_TEST_SEED={seed})");
    StdRng::seed_from_u64(seed)
}

/// A point as the ledger knows it: vector as f32 bits (exact) and payload; `None` = absent.
type PointState = Option<(Vec<u32>, Value)>;
/// Points as read back: id → (vector bits, payload).
type Points = BTreeMap<u64, (Vec<u32>, Value)>;

fn random_vector(rng: &mut StdRng) -> Vec<f32> {
    (0..DIM).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

fn bits(vector: &[f32]) -> Vec<u32> {
    vector.iter().map(|c| c.to_bits()).collect()
}

fn point_json(id: u64, vector: &[f32], payload: &Value) -> Value {
    json!({"id": id, "vector": vector, "payload": payload})
}

fn create_collection(base: &str) {
    let spec = json!({"name": COLLECTION, "dimension": DIM, "metric": "l2"});
    let (status, body) = call("POST", &format!("{base}/api/collections"), Some(&spec));
    assert_eq!(status, 201, "{body}");
}

/// Upserts one point and returns the acknowledgement's LSN.
fn upsert_one(base: &str, id: u64, vector: &[f32], payload: &Value) -> u64 {
    let body = json!({"points": [point_json(id, vector, payload)]});
    let (status, ack) = call(
        "PUT",
        &format!("{base}/api/collections/{COLLECTION}/points"),
        Some(&body),
    );
    assert_eq!(status, 200, "{ack}");
    ack["lsn"].as_u64().unwrap()
}

/// Every point of the collection, by id.
fn scroll_all(base: &str) -> Points {
    let mut out = BTreeMap::new();
    let mut after: Option<u64> = None;
    loop {
        let mut url = format!("{base}/api/collections/{COLLECTION}/points?limit=1000");
        if let Some(a) = after {
            url.push_str(&format!("&after={a}"));
        }
        let (status, page) = call("GET", &url, None);
        assert_eq!(status, 200, "{page}");
        for p in page["points"].as_array().unwrap() {
            let vector: Vec<u32> = p["vector"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| (c.as_f64().unwrap() as f32).to_bits())
                .collect();
            out.insert(p["id"].as_u64().unwrap(), (vector, p["payload"].clone()));
        }
        match page["next_after"].as_u64() {
            Some(next) => after = Some(next),
            None => return out,
        }
    }
}

fn digest(base: &str) -> Value {
    let (status, digest) = call(
        "GET",
        &format!("{base}/api/collections/{COLLECTION}/digest"),
        None,
    );
    assert_eq!(status, 200, "{digest}");
    digest
}

/// Asserts the served digest equals the one recomputed from the scrolled points (§3).
fn assert_digest_consistent(base: &str) -> Value {
    let served = digest(base);
    let (state_hash, buckets, count) = recompute_digest(base, COLLECTION);
    assert_eq!(
        served["state_hash"].as_u64(),
        Some(state_hash),
        "served digest {served}"
    );
    assert_eq!(served["count"].as_u64(), Some(count));
    let served_buckets: Vec<u64> = served["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap())
        .collect();
    assert_eq!(served_buckets, buckets.to_vec());
    served
}

fn node_info(base: &str) -> Value {
    let (status, info) = call("GET", &format!("{base}/api/node"), None);
    assert_eq!(status, 200, "{info}");
    info
}

/// WAL segment files of a data directory, oldest first.
fn wal_segments(data_dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    files.sort();
    files
}

/// (start, end) byte ranges of the frames of a WAL segment (format in storage/wal.rs).
fn frames(segment: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 16;
    while pos + 16 <= segment.len() {
        let body_len = u32::from_le_bytes(segment[pos..pos + 4].try_into().unwrap()) as usize;
        out.push((pos, pos + 16 + body_len));
        pos += 16 + body_len;
    }
    assert_eq!(pos, segment.len(), "the test parses only intact segments");
    out
}

/// LSNs of the complete snapshot directories (and whether an unfinished one exists).
fn snapshot_lsns(data_dir: &Path) -> (Vec<u64>, bool) {
    let Ok(entries) = std::fs::read_dir(data_dir.join("snapshots")) else {
        return (Vec::new(), false);
    };
    let (mut lsns, mut tmp) = (Vec::new(), false);
    for entry in entries {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        match name.parse::<u64>() {
            Ok(lsn) => lsns.push(lsn),
            Err(_) => tmp |= name.ends_with(".tmp"),
        }
    }
    lsns.sort();
    (lsns, tmp)
}

/// Waits (with a deadline) for a child to exit; kills it and fails if it does not.
fn wait_exit(child: &mut Child, what: &str) -> ExitStatus {
    let mut status = None;
    let deadline = Instant::now() + DEADLINE;
    while status.is_none() {
        status = child.try_wait().unwrap();
        if status.is_none() && Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what}: the process did not exit within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    status.unwrap()
}

/// Runs the node command of `node` (no waiting for ready) and returns (exit status, stderr).
fn run_to_exit(node: &Node, what: &str) -> (ExitStatus, String) {
    let mut child = node
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stderr_pipe.read_to_string(&mut text).unwrap();
        text
    });
    let status = wait_exit(&mut child, what);
    (status, reader.join().unwrap())
}

/// SIGTERM with a deadline; returns the exit code.
fn terminate_within(node: &mut Node) -> Option<i32> {
    let mut child = node.child.take().expect("node is running");
    let pid = child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    wait_exit(&mut child, "SIGTERM").code()
}

/// A client that opens a fresh connection per request, so nothing stale survives a restart.
fn fresh_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// 1. SIGKILL loop
// ---------------------------------------------------------------------------------------

const KILLS: usize = 40;
const IDS: u64 = 150;

#[derive(Default)]
struct Ledger {
    /// Last acknowledged (or, after a restart, observed) state of each id.
    acked: BTreeMap<u64, PointState>,
    /// The one request whose outcome is unknown since the last restart: its new states.
    pending: Option<Vec<(u64, PointState)>>,
    acked_writes: u64,
    unknown_writes: u64,
    max_acked_lsn: u64,
    max_acked_clock: u64,
}

#[derive(Default)]
struct Control {
    paused: bool,
    parked: bool,
    stop: bool,
    epoch: u64,
    failure: Option<String>,
}

type Shared = Arc<(Mutex<Control>, Condvar)>;

/// The writer: one request at a time. After a request with no answer it waits for the next
/// epoch (the test restarts the node), so an unknown request can never be applied after a
/// later acknowledged one, and the ledger stays exact.
fn writer(base: String, shared: Shared, ledger: Arc<Mutex<Ledger>>, mut rng: StdRng) {
    let client = fresh_client();
    let (lock, cv) = &*shared;
    let mut wait_past_epoch: Option<u64> = None;
    let mut seq = 0u64;
    loop {
        let epoch = {
            let mut c = lock.lock().unwrap();
            loop {
                if c.stop {
                    return;
                }
                let blocked = c.paused
                    || c.failure.is_some()
                    || wait_past_epoch.is_some_and(|e| c.epoch <= e);
                if !blocked {
                    break;
                }
                if !c.parked {
                    c.parked = true;
                    cv.notify_all();
                }
                c = cv.wait(c).unwrap();
            }
            c.parked = false;
            wait_past_epoch = None;
            c.epoch
        };
        seq += 1;
        let mut ids: Vec<u64> = (0..rng.random_range(1..=3))
            .map(|_| rng.random_range(0..IDS))
            .collect();
        ids.sort();
        ids.dedup();
        let (url, body, states): (String, Value, Vec<(u64, PointState)>) = if rng.random_bool(0.7) {
            let mut points = Vec::new();
            let mut states = Vec::new();
            for &id in &ids {
                let vector = random_vector(&mut rng);
                let payload = json!({"seq": seq, "id": id, "tag": format!("w{seq}")});
                points.push(point_json(id, &vector, &payload));
                states.push((id, Some((bits(&vector), payload))));
            }
            (
                format!("{base}/api/collections/{COLLECTION}/points"),
                json!({"points": points}),
                states,
            )
        } else {
            let states = ids.iter().map(|&id| (id, None)).collect();
            (
                format!("{base}/api/collections/{COLLECTION}/points/delete"),
                json!({"ids": ids}),
                states,
            )
        };
        let method = if body.get("points").is_some() {
            reqwest::Method::PUT
        } else {
            reqwest::Method::POST
        };
        let answer = client
            .request(method, &url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .and_then(|r| {
                let status = r.status().as_u16();
                r.text().map(|t| (status, t))
            });
        let mut l = ledger.lock().unwrap();
        match answer {
            Ok((200, text)) => {
                let ack: Value = serde_json::from_str(&text).unwrap();
                l.acked_writes += 1;
                l.max_acked_lsn = l.max_acked_lsn.max(ack["lsn"].as_u64().unwrap());
                l.max_acked_clock = l
                    .max_acked_clock
                    .max(ack["logical_clock"].as_u64().unwrap());
                for (id, state) in states {
                    l.acked.insert(id, state);
                }
            }
            Ok((status, text)) => {
                let mut c = lock.lock().unwrap();
                c.failure = Some(format!("write answered {status}: {text}"));
                cv.notify_all();
            }
            Err(_) => {
                // No answer: the node was killed. Applied or not; resolved at the restart.
                assert!(l.pending.is_none(), "one unknown request per epoch");
                l.unknown_writes += 1;
                l.pending = Some(states);
                wait_past_epoch = Some(epoch);
            }
        }
    }
}

/// Checks the restarted node against the ledger exactly, then records what it holds.
fn verify_after_restart(base: &str, ledger: &mut Ledger, node_id: &str, last_clock: &mut u64) {
    let info = node_info(base);
    assert_eq!(
        info["node_id"], node_id,
        "the node id changed across a restart"
    );
    let actual = scroll_all(base);
    let pending: BTreeMap<u64, PointState> = ledger
        .pending
        .take()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut applied: Option<bool> = None;
    for id in 0..IDS {
        let have: PointState = actual.get(&id).cloned();
        let acked = ledger.acked.get(&id).cloned().flatten();
        match pending.get(&id) {
            None => assert_eq!(have, acked, "id {id}: acknowledged state lost or changed"),
            Some(new) if *new == acked => assert_eq!(have, acked, "id {id}"),
            Some(new) => {
                let this = if have == *new {
                    true
                } else {
                    assert_eq!(
                        have, acked,
                        "id {id}: neither the acknowledged nor the in-flight state"
                    );
                    false
                };
                assert_eq!(
                    *applied.get_or_insert(this),
                    this,
                    "the unknown request was half applied"
                );
                ledger.acked.insert(id, have);
            }
        }
    }
    assert!(actual.keys().all(|id| *id < IDS), "unexpected ids");
    let served = assert_digest_consistent(base);
    let clock = served["logical_clock"].as_u64().unwrap();
    assert!(
        clock >= ledger.max_acked_clock,
        "logical_clock {clock} below an acknowledged {}",
        ledger.max_acked_clock
    );
    assert!(
        clock >= *last_clock,
        "logical_clock went backwards: {} -> {clock}",
        *last_clock
    );
    *last_clock = clock;
    assert!(
        info["last_lsn"].as_u64().unwrap() >= ledger.max_acked_lsn,
        "{info}"
    );
}

// Proves every acknowledged write survives SIGKILL at random moments (with snapshots and WAL
// pruning in between), and that node id, digest and logical_clock stay right across restarts.
#[test]
fn sigkill_loop_keeps_every_acknowledged_write() {
    let started = Instant::now();
    let mut rng = seeded_rng("sigkill_loop");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("n");
    let mut node = Node::start(&data, &["--fsync", "always", "--snapshot-records", "50"]);
    let base = node.http();
    create_collection(&base);
    let node_id = node_info(&base)["node_id"].as_str().unwrap().to_string();

    let shared: Shared = Arc::new((Mutex::new(Control::default()), Condvar::new()));
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let writer_thread = {
        let (base, shared, ledger) = (base.clone(), shared.clone(), ledger.clone());
        let writer_rng = StdRng::seed_from_u64(rng.random());
        std::thread::spawn(move || writer(base, shared, ledger, writer_rng))
    };
    let (lock, cv) = &*shared;
    let mut last_clock = 0;
    let mut max_snapshot = 0;
    let mut max_first_segment = 0;
    for kill in 0..KILLS {
        // Let some writes through, then kill at a random moment within the stream.
        let before = ledger.lock().unwrap().acked_writes;
        wait_for("writes to be acknowledged", DEADLINE, || {
            let l = ledger.lock().unwrap();
            l.acked_writes >= before + 3 || lock.lock().unwrap().failure.is_some()
        });
        std::thread::sleep(Duration::from_millis(rng.random_range(0..200)));
        node.kill9();
        {
            let mut c = lock.lock().unwrap();
            c.paused = true;
            let deadline = Instant::now() + DEADLINE;
            while !c.parked {
                assert!(
                    Instant::now() < deadline,
                    "writer did not park after kill {kill}"
                );
                c = cv.wait_timeout(c, Duration::from_millis(100)).unwrap().0;
            }
            if let Some(failure) = &c.failure {
                panic!("{failure}");
            }
        }
        node.spawn();
        node.wait_ready();
        verify_after_restart(
            &base,
            &mut ledger.lock().unwrap(),
            &node_id,
            &mut last_clock,
        );
        max_snapshot = max_snapshot.max(snapshot_lsns(&data).0.last().copied().unwrap_or(0));
        let first_segment = wal_segments(&data)[0]
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .parse::<u64>()
            .unwrap();
        max_first_segment = max_first_segment.max(first_segment);
        let mut c = lock.lock().unwrap();
        c.paused = false;
        c.epoch += 1;
        cv.notify_all();
    }
    {
        let mut c = lock.lock().unwrap();
        c.stop = true;
        cv.notify_all();
    }
    writer_thread.join().unwrap();
    let l = ledger.lock().unwrap();
    println!(
        "sigkill_loop: {KILLS} kills, {} acknowledged writes, {} unknown writes, last logical_clock {last_clock}, \
         newest snapshot LSN {max_snapshot}, oldest WAL segment starts at LSN {max_first_segment}, {:.1}s",
        l.acked_writes,
        l.unknown_writes,
        started.elapsed().as_secs_f64()
    );
    assert!(l.acked_writes >= KILLS as u64 * 3);
    assert!(max_snapshot > 0, "no snapshot was taken during the loop");
    assert!(
        max_first_segment > 1,
        "the WAL was never pruned during the loop"
    );
}

// ---------------------------------------------------------------------------------------
// 2. Torn WAL tail
// ---------------------------------------------------------------------------------------

/// Starts a node in `data`, creates the collection and upserts ids 0..n (LSNs 2..=n+1);
/// returns the node and the points written.
fn node_with_points(
    data: &Path,
    n: u64,
    rng: &mut StdRng,
    extra: &[&str],
) -> (Node, Vec<(Vec<f32>, Value)>) {
    let node = Node::start(data, extra);
    create_collection(&node.http());
    let mut written = Vec::new();
    for id in 0..n {
        let vector = random_vector(rng);
        let payload = json!({"id": id, "name": format!("p{id}")});
        assert_eq!(upsert_one(&node.http(), id, &vector, &payload), id + 2);
        written.push((vector, payload));
    }
    (node, written)
}

fn assert_points(base: &str, written: &[(Vec<f32>, Value)], present: std::ops::Range<u64>) {
    let actual = scroll_all(base);
    for id in 0..written.len() as u64 {
        let (vector, payload) = &written[id as usize];
        let want = present
            .contains(&id)
            .then(|| (bits(vector), payload.clone()));
        assert_eq!(actual.get(&id).cloned(), want, "id {id}");
    }
}

/// Restarts `node` and returns what it logged during that start, without colour codes.
fn restart_and_log(node: &mut Node) -> String {
    let offset = node.log_text().len();
    node.restart();
    strip_ansi(&node.log_text()[offset..])
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

// Proves a WAL whose last record is cut short, or followed by garbage, is repaired at start
// (with a warning): earlier records are all there and writes go on with the next LSN.
#[test]
fn torn_wal_tail_is_truncated_and_writes_continue() {
    let mut rng = seeded_rng("torn_tail");
    let dir = tempfile::tempdir().unwrap();
    const N: u64 = 20;
    for case in ["cut", "garbage"] {
        let data = dir.path().join(case);
        let (mut node, mut written) = node_with_points(&data, N, &mut rng, &[]);
        node.kill9();
        let segment = wal_segments(&data).pop().unwrap();
        let mut bytes = std::fs::read(&segment).unwrap();
        let (start, end) = *frames(&bytes).last().unwrap();
        let survivors = if case == "cut" {
            let cut = rng.random_range(1..=12.min(end - start - 1));
            bytes.truncate(bytes.len() - cut);
            println!(
                "torn_tail: cut {cut} bytes off the last record of {}",
                segment.display()
            );
            N - 1
        } else {
            let garbage: Vec<u8> = (0..rng.random_range(1..=200))
                .map(|_| rng.random())
                .collect();
            println!(
                "torn_tail: appended {} bytes of garbage to {}",
                garbage.len(),
                segment.display()
            );
            bytes.extend_from_slice(&garbage);
            N
        };
        std::fs::write(&segment, &bytes).unwrap();

        let log = restart_and_log(&mut node);
        assert!(
            log.contains("WARN") && log.contains("truncat"),
            "no truncation warning in:\n{log}"
        );
        let base = node.http();
        assert_points(&base, &written, 0..survivors);
        assert_digest_consistent(&base);
        assert_eq!(node_info(&base)["last_lsn"].as_u64(), Some(survivors + 1));
        // Writes go on with the next LSN, and the repaired WAL recovers cleanly again.
        let (vector, payload) = (random_vector(&mut rng), json!({"after": case}));
        assert_eq!(upsert_one(&base, N - 1, &vector, &payload), survivors + 2);
        written[N as usize - 1] = (vector, payload);
        let log = restart_and_log(&mut node);
        assert!(
            !log.contains("truncat"),
            "second restart truncated again:\n{log}"
        );
        assert_points(&node.http(), &written, 0..N);
        assert_digest_consistent(&node.http());
    }
}

// ---------------------------------------------------------------------------------------
// 3. Corrupt middle record
// ---------------------------------------------------------------------------------------

// Proves a flipped bit in a WAL record that is followed by valid records stops the node at
// start with a clear error naming the file and byte offset, and without a panic.
#[test]
fn flipped_bit_in_middle_record_refuses_to_start() {
    let mut rng = seeded_rng("flipped_bit");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("n");
    let (mut node, _) = node_with_points(&data, 10, &mut rng, &[]);
    node.kill9();
    let segment = wal_segments(&data).pop().unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    let all = frames(&bytes);
    let (start, end) = all[all.len() / 2];
    let bit = rng.random_range(0..(end - start) * 8);
    bytes[start + bit / 8] ^= 1 << (bit % 8);
    std::fs::write(&segment, &bytes).unwrap();
    println!(
        "flipped_bit: bit {bit} of the frame at byte {start} of {}",
        segment.display()
    );

    let (status, stderr) = run_to_exit(&node, "corrupt WAL start");
    assert!(
        !status.success(),
        "the node started on a corrupt WAL; stderr:\n{stderr}"
    );
    let file_name = segment.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        stderr.contains(&file_name),
        "stderr does not name {file_name}:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("at byte {start}")),
        "stderr does not name byte {start}:\n{stderr}"
    );
    assert!(stderr.contains("corrupt"), "{stderr}");
    assert!(
        !stderr.contains("panicked at"),
        "the node panicked:\n{stderr}"
    );
}

// ---------------------------------------------------------------------------------------
// 4. Data directory lock
// ---------------------------------------------------------------------------------------

// Proves a second process on a data directory in use refuses to start with a clear message,
// while the first one keeps serving reads and writes.
#[test]
fn second_process_on_same_data_dir_refuses_to_start() {
    let mut rng = seeded_rng("lock");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("n");
    let (first, written) = node_with_points(&data, 3, &mut rng, &[]);
    let second = Node {
        child: None,
        data_dir: data.clone(),
        http_port: free_port(),
        grpc_port: free_port(),
        extra: Vec::new(),
        log: dir.path().join("second.log"),
    };
    let (status, stderr) = run_to_exit(&second, "second node");
    assert!(
        !status.success(),
        "a second node started on {}:\n{stderr}",
        data.display()
    );
    assert!(
        stderr.contains(&data.display().to_string()),
        "stderr does not name the data directory:\n{stderr}"
    );
    assert!(
        stderr.contains("LOCK") && stderr.contains("in use"),
        "stderr does not explain the lock:\n{stderr}"
    );
    assert!(!stderr.contains("panicked at"), "{stderr}");

    let base = first.http();
    assert_points(&base, &written, 0..3);
    upsert_one(&base, 3, &random_vector(&mut rng), &json!({}));
    assert_eq!(digest(&base)["count"], 4);
}

// ---------------------------------------------------------------------------------------
// 5. Injected WAL failure
// ---------------------------------------------------------------------------------------

// Proves a failed WAL write stops writes with 503 `unavailable` while reads keep answering
// the previous data, a restart brings writes back with all acknowledged data, and the debug
// route does not exist without --enable-fault-injection.
#[test]
fn injected_wal_failure_stops_writes_but_not_reads() {
    let mut rng = seeded_rng("wal_failure");
    let dir = tempfile::tempdir().unwrap();
    let (mut node, mut written) = node_with_points(
        &dir.path().join("n"),
        10,
        &mut rng,
        &["--enable-fault-injection"],
    );
    let base = node.http();
    let before = assert_digest_consistent(&base);
    let query = json!({"vector": written[4].0, "top_k": 3});
    let (_, results_before) = call(
        "POST",
        &format!("{base}/api/collections/{COLLECTION}/search"),
        Some(&query),
    );

    let (status, body) = call("POST", &format!("{base}/api/debug/wal/fail"), None);
    assert_eq!(status, 200, "{body}");
    let points_url = format!("{base}/api/collections/{COLLECTION}/points");
    for attempt in 0..3 {
        let upsert =
            json!({"points": [point_json(100 + attempt, &random_vector(&mut rng), &json!({}))]});
        let (status, body) = call("PUT", &points_url, Some(&upsert));
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (503, Some("unavailable")),
            "{body}"
        );
    }
    let (status, body) = call(
        "POST",
        &format!("{points_url}/delete"),
        Some(&json!({"ids": [1]})),
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );

    let (status, point) = call("GET", &format!("{points_url}/4"), None);
    assert_eq!(status, 200, "{point}");
    assert_eq!(point["payload"], written[4].1);
    let (status, results) = call(
        "POST",
        &format!("{base}/api/collections/{COLLECTION}/search"),
        Some(&query),
    );
    assert_eq!((status, &results), (200, &results_before));
    assert_eq!(results["results"][0]["id"], 4);
    assert_eq!(assert_digest_consistent(&base), before);
    assert_points(&base, &written, 0..10);

    node.restart();
    let base = node.http();
    assert_points(&base, &written, 0..10);
    let (vector, payload) = (random_vector(&mut rng), json!({"after": "restart"}));
    upsert_one(&base, 0, &vector, &payload);
    written[0] = (vector, payload);
    assert_points(&base, &written, 0..10);
    assert_digest_consistent(&base);

    let plain = Node::start(&dir.path().join("plain"), &[]);
    let (status, body) = call(
        "POST",
        &format!("{}/api/debug/wal/fail", plain.http()),
        None,
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
}

// ---------------------------------------------------------------------------------------
// 6. SIGTERM
// ---------------------------------------------------------------------------------------

// Proves SIGTERM under a write load drains and exits 0, and a restart sees every
// acknowledged write.
#[test]
fn sigterm_drains_and_exits_zero() {
    let mut rng = seeded_rng("sigterm");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("n");
    let (mut node, _) = node_with_points(&data, 1, &mut rng, &[]);
    let base = node.http();
    let acked: Arc<Mutex<Points>> = Arc::default();
    let writer_thread = {
        let (base, acked) = (base.clone(), acked.clone());
        let mut rng = StdRng::seed_from_u64(rng.random());
        std::thread::spawn(move || {
            let client = fresh_client();
            for id in 1.. {
                let (vector, payload) = (random_vector(&mut rng), json!({"id": id}));
                let body = json!({"points": [point_json(id, &vector, &payload)]});
                let answer = client
                    .put(format!("{base}/api/collections/{COLLECTION}/points"))
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send();
                match answer {
                    Ok(r) if r.status() == 200 => {
                        acked.lock().unwrap().insert(id, (bits(&vector), payload));
                    }
                    _ => return,
                }
            }
        })
    };
    wait_for("20 acknowledged writes", DEADLINE, || {
        acked.lock().unwrap().len() >= 20
    });
    let log_offset = node.log_text().len();
    assert_eq!(
        terminate_within(&mut node),
        Some(0),
        "log:\n{}",
        node.log_text()
    );
    writer_thread.join().unwrap();
    assert!(
        node.log_text()[log_offset..].contains("drained"),
        "{}",
        node.log_text()
    );

    node.spawn();
    node.wait_ready();
    let actual = scroll_all(&base);
    let acked = acked.lock().unwrap();
    for (id, state) in acked.iter() {
        assert_eq!(
            actual.get(id),
            Some(state),
            "acknowledged id {id} lost by SIGTERM"
        );
    }
    println!("sigterm: {} acknowledged writes survived", acked.len());
    assert_digest_consistent(&base);
}

// ---------------------------------------------------------------------------------------
// 7. Snapshots
// ---------------------------------------------------------------------------------------

// Proves frequent snapshots prune old snapshots and WAL segments, and recovery from the
// newest snapshot plus the WAL after it gives the same digest.
#[test]
fn snapshot_recovery_prunes_and_keeps_digest() {
    let mut rng = seeded_rng("snapshot");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("n");
    let (mut node, written) = node_with_points(&data, 100, &mut rng, &["--snapshot-records", "10"]);
    let last_lsn = 101;
    // At rest: one complete snapshot within the last 10 records, and no WAL before it.
    wait_for("snapshots to settle", DEADLINE, || {
        let (lsns, tmp) = snapshot_lsns(&data);
        !tmp && lsns.len() == 1 && lsns[0] > last_lsn - 10
    });
    let snapshot_lsn = snapshot_lsns(&data).0[0];
    let segments = wal_segments(&data);
    let first: u64 = segments[0]
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .parse()
        .unwrap();
    assert!(segments.len() <= 2, "{segments:?}");
    assert_eq!(
        first,
        snapshot_lsn + 1,
        "WAL segments older than snapshot {snapshot_lsn} remain: {segments:?}"
    );

    let before = assert_digest_consistent(&node.http());
    let log = restart_and_log(&mut node);
    assert!(
        log.contains(&format!("snapshot_lsn=Some({snapshot_lsn})")),
        "{log}"
    );
    let after = assert_digest_consistent(&node.http());
    assert_eq!(after, before);
    assert_eq!(after["logical_clock"].as_u64(), Some(last_lsn));
    assert_points(&node.http(), &written, 0..100);
}
