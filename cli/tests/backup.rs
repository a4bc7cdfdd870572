//! `hyperspace backup` under a write load and `hyperspace restore`: the restored node starts
//! at exactly the LSN the backup reports, with the collection's clock as of that LSN, every
//! point written at or before it and none after, each entry identical to the source's, and a
//! digest that recomputes from its own data. A second restore into the same directory and a
//! damaged file are refused without changes.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::load::{create_default, points};
use common::{call, recompute_digest, wait_for, Node, BIN};
use serde_json::Value;

/// Every acknowledged write: LSN → (collection clock after it, the ids it wrote).
type Ledger = BTreeMap<u64, (u64, Vec<u64>)>;

const WAIT: std::time::Duration = std::time::Duration::from_secs(60);

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("HYPERSPACE_API_KEY")
        .output()
        .unwrap()
}

/// `ids` of each entry of every bucket of a node's collection.
fn entries(base: &str) -> BTreeMap<u64, u64> {
    let mut out = BTreeMap::new();
    for bucket in 0..256 {
        let url = format!("{base}/api/collections/default/buckets/{bucket}?u64=string");
        let (status, body) = call("GET", &url, None);
        assert_eq!(status, 200, "{body}");
        for entry in body["entries"].as_array().unwrap() {
            let id = entry["id"].as_str().unwrap().parse().unwrap();
            let hash = entry["entry_hash"].as_str().unwrap().parse().unwrap();
            out.insert(id, hash);
        }
    }
    out
}

fn digest(base: &str) -> Value {
    let url = format!("{base}/api/collections/default/digest?u64=string");
    call("GET", &url, None).1
}

#[test]
fn a_backup_under_load_restores_to_exactly_its_lsn() {
    let dir = tempfile::tempdir().unwrap();
    let source = Node::start(&dir.path().join("source"), &[]);
    let created_clock = create_default(&source.http())["logical_clock"]
        .as_u64()
        .unwrap();

    // Three writers (so writes are in flight at the cut) that record the LSN and clock of
    // every acknowledged write.
    let ledger = Arc::new(Mutex::new(Ledger::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3_u64)
        .map(|w| {
            let (ledger, stop, url) = (
                Arc::clone(&ledger),
                Arc::clone(&stop),
                format!("{}/api/collections/default/points", source.http()),
            );
            std::thread::spawn(move || {
                let mut next = w * 1_000_000;
                while !stop.load(Ordering::SeqCst) {
                    let ids: Vec<u64> = (next..next + 5).collect();
                    next += 5;
                    let (status, ack) = call("PUT", &url, Some(&points(ids.iter().copied())));
                    if status != 200 {
                        stop.store(true, Ordering::SeqCst);
                        panic!("a write failed: {status} {ack}");
                    }
                    let lsn = ack["lsn"].as_u64().unwrap();
                    let clock = ack["logical_clock"].as_u64().unwrap();
                    ledger.lock().unwrap().insert(lsn, (clock, ids));
                }
            })
        })
        .collect();
    let written = || ledger.lock().unwrap().len();
    wait_for("writes before the backup", WAIT, || written() >= 100);

    let file = dir.path().join("source.hsbackup");
    let out = run(&[
        "backup",
        "--target",
        &source.http(),
        "--out",
        file.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = written();
    wait_for("writes after the backup", WAIT, || {
        written() >= before + 100
    });
    stop.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.join().expect("every write succeeded");
    }

    // "... consistent at LSN X (clock C) -> FILE"
    let lsn: u64 = stdout
        .split("consistent at LSN ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no LSN in {stdout:?}"));
    let ledger = ledger.lock().unwrap().clone();
    assert!(
        ledger.keys().any(|l| *l > lsn),
        "writes went on past the backup"
    );
    let expected: BTreeSet<u64> = ledger
        .range(..=lsn)
        .flat_map(|(_, (_, ids))| ids.iter().copied())
        .collect();
    let expected_clock = ledger
        .range(..=lsn)
        .next_back()
        .map_or(created_clock, |(_, (clock, _))| *clock);

    let restored_dir = dir.path().join("restored");
    let restored_arg = restored_dir.to_str().unwrap();
    let out = run(&[
        "restore",
        "--data-dir",
        restored_arg,
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    // Never over an existing directory, and never from a damaged file.
    let again = run(&[
        "restore",
        "--data-dir",
        restored_arg,
        file.to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not empty"),
        "{again:?}"
    );
    let mut damaged = std::fs::read(&file).unwrap();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x40;
    let damaged_file = dir.path().join("damaged.hsbackup");
    std::fs::write(&damaged_file, damaged).unwrap();
    let other = dir.path().join("other");
    let out = run(&[
        "restore",
        "--data-dir",
        other.to_str().unwrap(),
        damaged_file.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("checksum"),
        "{out:?}"
    );
    assert!(!other.exists(), "a refused restore creates nothing");

    let restored = Node::start(&restored_dir, &[]);
    let node = call("GET", &format!("{}/api/node", restored.http()), None).1;
    assert_eq!(node["last_lsn"], lsn, "{node}");
    let source_node = call("GET", &format!("{}/api/node", source.http()), None).1;
    assert_ne!(
        node["node_id"], source_node["node_id"],
        "a new replica, not a copy"
    );
    let restored_digest = digest(&restored.http());
    assert_eq!(restored_digest["logical_clock"], expected_clock.to_string());
    assert_eq!(restored_digest["count"], expected.len().to_string());

    // Entry by entry: the source's entries for exactly the ids written through the LSN.
    let source_entries = entries(&source.http());
    let wanted: BTreeMap<u64, u64> = source_entries
        .into_iter()
        .filter(|(id, _)| expected.contains(id))
        .collect();
    assert_eq!(wanted.len(), expected.len());
    assert_eq!(entries(&restored.http()), wanted);
    let (state_hash, _, count) = recompute_digest(&restored.http(), "default");
    assert_eq!(restored_digest["state_hash"], state_hash.to_string());
    assert_eq!(count as usize, expected.len());
}
