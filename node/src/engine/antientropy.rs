//! The engine's side of anti-entropy (see `crate::antientropy` for the design): the leader
//! appends checkpoint and bucket repair records through the one write path; a follower
//! verifies each checkpoint as it applies it, at exactly the LSN the leader described, and
//! every node applies repair records.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use parking_lot::Mutex;
use tokio::sync::{watch, Notify};

use super::Engine;
use crate::antientropy::{unix_ms, CheckResult, Mode};
use crate::error::Result;
use crate::limits::{BUCKET_COUNT, REPAIR_CHUNK_BYTES_MAX, REPAIR_CHUNK_POINTS_MAX};
use crate::metrics;
use crate::storage::record::{Op, RepairChunk};
use crate::validate;

/// Checkpoint triggers and verification results.
pub(super) struct Checks {
    mode: Mode,
    records_per_checkpoint: u64,
    writes_since: AtomicU64,
    due: Notify,
    /// Latest result per collection, each with the sequence number it was published under.
    latest: Mutex<BTreeMap<String, (u64, CheckResult)>>,
    /// Sequence number of the newest result.
    published: watch::Sender<u64>,
}

impl Checks {
    pub(super) fn new(mode: Mode, records_per_checkpoint: u64) -> Checks {
        Checks {
            mode,
            records_per_checkpoint,
            writes_since: AtomicU64::new(0),
            due: Notify::new(),
            latest: Mutex::default(),
            published: watch::Sender::new(0),
        }
    }

    /// Counts a client write; every `records_per_checkpoint` of them a checkpoint is due.
    pub(super) fn count_write(&self) {
        let n = self.writes_since.fetch_add(1, Ordering::Relaxed) + 1;
        if self.records_per_checkpoint > 0 && n >= self.records_per_checkpoint {
            self.writes_since.store(0, Ordering::Relaxed);
            self.due.notify_one();
        }
    }
}

/// One repair record written by the leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepairWritten {
    pub lsn: u64,
    pub points: u64,
    /// Where the bucket's next chunk starts; `None` when this was the last.
    pub next_from: Option<u64>,
}

impl Engine {
    pub fn anti_entropy(&self) -> Mode {
        self.checks.mode
    }

    /// Notified when enough client writes happened for the next checkpoint.
    pub fn checkpoint_due(&self) -> &Notify {
        &self.checks.due
    }

    /// Leader: appends a checkpoint record of `collection` (its digest as of that LSN).
    pub fn checkpoint(&self, collection: &str) -> Result<u64> {
        validate::collection_name(collection)?;
        let ack = self.write(|engine| {
            let (_, digest) = engine.collection(collection)?.digest();
            Ok(Op::Checkpoint {
                collection: collection.to_string(),
                buckets: digest.buckets().to_vec(),
                counts: digest.bucket_counts().to_vec(),
            })
        })?;
        Ok(ack.lsn)
    }

    /// Leader: a checkpoint of every collection; returns `(collection, lsn)` of each.
    pub fn checkpoint_all(&self) -> Result<Vec<(String, u64)>> {
        self.checks.writes_since.store(0, Ordering::Relaxed);
        let names = self.collection_names();
        let mut taken = Vec::with_capacity(names.len());
        for name in names {
            match self.checkpoint(&name) {
                Ok(lsn) => taken.push((name, lsn)),
                // Dropped meanwhile: nothing to verify.
                Err(crate::error::Error::CollectionNotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(taken)
    }

    /// Leader: appends the repair record of `bucket`'s ids from `from` on (one chunk, cut
    /// under the write lock, so exact at its LSN).
    pub fn repair_chunk(&self, collection: &str, bucket: u32, from: u64) -> Result<RepairWritten> {
        validate::collection_name(collection)?;
        let b = validate::bucket(u64::from(bucket))?;
        let mut cut = None;
        let ack = self.write(|engine| {
            let chunk = engine.collection(collection)?.bucket_chunk(
                b,
                from,
                REPAIR_CHUNK_POINTS_MAX,
                REPAIR_CHUNK_BYTES_MAX,
            );
            cut = Some((chunk.points.len() as u64, chunk.to));
            Ok(Op::RepairBucket(RepairChunk {
                collection: collection.to_string(),
                bucket,
                from,
                to: chunk.to,
                points: chunk.points,
            }))
        })?;
        let (points, to) = cut.expect("the chunk was cut");
        Ok(RepairWritten {
            lsn: ack.lsn,
            points,
            next_from: (to != u64::MAX).then(|| to + 1),
        })
    }

    /// Applies a repair record (any node, also in recovery); a missing collection (dropped
    /// on this node by a divergent history) is left to the next checkpoint's verdict.
    pub(super) fn apply_repair(&self, chunk: RepairChunk) -> u64 {
        let Ok(collection) = self.collection(&chunk.collection) else {
            tracing::warn!(collection = %chunk.collection, "repair record for a missing collection");
            return 0;
        };
        let dimension = collection.spec().dimension;
        let (points, foreign): (Vec<_>, Vec<_>) = chunk
            .points
            .into_iter()
            .partition(|p| p.vector.len() == dimension);
        if !foreign.is_empty() {
            tracing::error!(collection = %chunk.collection, skipped = foreign.len(),
                "repair record holds vectors of another dimension (a divergent history)");
        }
        let bucket = chunk.bucket as usize; // < BUCKET_COUNT, checked by `record::decode`
        let changed = collection.apply_repair(bucket, chunk.from, chunk.to, points);
        if changed > 0 {
            tracing::warn!(collection = %chunk.collection, bucket, changed, "repaired points");
            metrics::repaired_points(&chunk.collection, changed);
            metrics::collection_changed(&collection);
            if collection.unindexed() > 0 {
                self.indexer.notify();
            }
        }
        changed
    }

    /// Follower, under the write lock, before applying the record at `lsn`: verifies a
    /// checkpoint against this node's buckets, which hold exactly the records before `lsn`.
    pub(super) fn verify_checkpoint(&self, lsn: u64, op: &Op) {
        let Op::Checkpoint {
            collection,
            buckets,
            counts,
        } = op
        else {
            return;
        };
        if self.checks.mode == Mode::Off {
            return;
        }
        let drifted: Vec<(u32, u64)> = match self.collection(collection) {
            Ok(mine) => {
                let (_, digest) = mine.digest();
                (0..BUCKET_COUNT)
                    .filter(|b| {
                        digest.buckets()[*b] != buckets[*b]
                            || digest.bucket_counts()[*b] != counts[*b]
                    })
                    .map(|b| (b as u32, digest.buckets()[b]))
                    .collect()
            }
            Err(_) => (0..BUCKET_COUNT)
                .filter(|b| counts[*b] > 0)
                .map(|b| (b as u32, 0))
                .collect(),
        };
        metrics::checkpoint_verified(collection, lsn, drifted.len());
        if !drifted.is_empty() {
            tracing::warn!(
                collection = %collection,
                lsn,
                buckets = ?drifted.iter().map(|(b, _)| b).collect::<Vec<_>>(),
                "checkpoint: this node differs from the leader at the same LSN"
            );
        }
        let result = CheckResult {
            collection: collection.clone(),
            lsn,
            drifted,
            verified_unix_ms: unix_ms(SystemTime::now()),
        };
        let mut latest = self.checks.latest.lock();
        self.checks.published.send_modify(|seq| {
            *seq += 1;
            latest.insert(collection.clone(), (*seq, result));
        });
    }

    /// Forgets a dropped collection's verification (and zeroes its gauges).
    pub(super) fn forget_checks(&self, collection: &str) {
        self.checks.latest.lock().remove(collection);
        metrics::antientropy_dropped(collection);
    }

    /// This node's latest verification of each collection.
    pub fn checks(&self) -> Vec<CheckResult> {
        let latest = self.checks.latest.lock();
        latest.values().map(|(_, r)| r.clone()).collect()
    }

    /// Results published after sequence number `seen`, and the newest sequence number.
    pub fn checks_after(&self, seen: u64) -> (u64, Vec<CheckResult>) {
        let latest = self.checks.latest.lock();
        let newest = latest.values().map(|(s, _)| *s).max().unwrap_or(seen);
        let fresh = latest
            .values()
            .filter(|(s, _)| *s > seen)
            .map(|(_, r)| r.clone())
            .collect();
        (newest.max(seen), fresh)
    }

    /// Changes whenever a verification result is published.
    pub fn watch_checks(&self) -> watch::Receiver<u64> {
        self.checks.published.subscribe()
    }
}
