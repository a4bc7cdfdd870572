//! The engine: every collection of a node, its WAL, its Lamport clock, and the one write
//! path. Both transports call only this module; replication (later) feeds `apply` too.
//!
//! Write path: validate → (under the write lock) stamp = clock + 1, append to the WAL under
//! the next LSN, apply to the collection, clock = stamp → (outside the lock) wait until the
//! record is durable (group commit) → acknowledge. A write is applied in memory before its
//! fsync completes, so a concurrent reader may briefly see a write that is not yet durable;
//! it is never acknowledged before it is, and a failed fsync stops all writes.
//!
//! Recovery: the newest snapshot, then every WAL record after it through the same `apply`,
//! with the clock set to the largest stamp seen. The HNSW graphs are derived state, rebuilt.
//!
//! Replication (`replica.rs`): a follower appends its leader's records under the leader's
//! LSNs and applies them through the same `apply`, with `clock = max(clock, stamp)`. Every
//! appended record also enters the live tail, and the acknowledged LSN (the newest record a
//! client was told about, so the newest a follower may receive) is published on a watch.

mod antientropy;
mod indexer;
mod replica;
pub use antientropy::RepairWritten;
pub use replica::StreamStart;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Weak};
use std::time::Instant;

use parking_lot::{Mutex, RwLock};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::collection::Collection;
use crate::digest::entry_hash;
use crate::error::{Error, Result};
use crate::limits::WAL_SEGMENT_BYTES_MAX;
use crate::model::*;
use crate::storage::datadir::DataDir;
use crate::storage::record::{self, Op, StoredPoint};
use crate::storage::snapshot::{self, CollectionImage, SnapshotImage};
use crate::storage::tail::LiveTail;
use crate::storage::wal::{FsyncPolicy, Wal, WalOptions, FRAME_BODY_BYTES_MAX};
use crate::{metrics, validate};

#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub data_dir: PathBuf,
    pub fsync: FsyncPolicy,
    /// WAL records between automatic snapshots.
    pub snapshot_records: u64,
    /// The role at start; replication and the admin calls change it later.
    pub role: RoleState,
    /// Bytes of newest records kept in memory for replication (`LIVE_TAIL_BYTES_MAX`).
    pub live_tail_bytes: usize,
    /// What this node does with checkpoints (`--anti-entropy`).
    pub anti_entropy: crate::antientropy::Mode,
    /// Client writes between automatic checkpoints (0: only by time and on demand).
    pub checkpoint_records: u64,
}

/// What recovery found, for the start-up log.
#[derive(Debug, Clone, Default)]
pub struct RecoveryReport {
    pub snapshot_lsn: Option<u64>,
    pub replayed_records: u64,
    pub last_lsn: u64,
    pub clock: u64,
    pub truncated_tail: Option<String>,
}

pub struct Engine {
    data: DataDir,
    wal: Wal,
    /// Serializes stamping, LSN assignment and apply, so both follow one order. A blocking
    /// mutex: no await happens while it is held.
    write_lock: Mutex<()>,
    clock: AtomicU64,
    collections: RwLock<BTreeMap<String, Arc<Collection>>>,
    snapshot_records: u64,
    records_since_snapshot: AtomicU64,
    /// Serializes snapshots and holds the LSN of the newest one written by this process.
    snapshot_lock: Mutex<u64>,
    snapshot_requests: Mutex<Option<mpsc::SyncSender<()>>>,
    /// Leader or follower (of which URL). Checked under the write lock by every write.
    role: tokio::sync::watch::Sender<RoleState>,
    /// LSN and xxh3-64 of the newest record's body: this node's position in its history.
    last_record: Mutex<(u64, u64)>,
    /// The newest records in memory, for the replication stream.
    tail: LiveTail,
    /// The newest acknowledged (durable, under `--fsync always`) LSN: what may be streamed.
    acked: tokio::sync::watch::Sender<u64>,
    /// Which leader wrote which LSNs: `(first_lsn, origin)` runs, oldest first (replica.rs).
    lineage: Mutex<Vec<(u64, Uuid)>>,
    /// Identity `(lsn, last_record_hash)` of the newest snapshot on disk.
    snapshot_identity: Mutex<(u64, u64)>,
    /// Wakes the background HNSW indexers (engine/indexer.rs).
    indexer: Arc<indexer::Indexer>,
    /// Checkpoint triggers and this follower's verification results (engine/antientropy.rs).
    checks: antientropy::Checks,
}

impl Engine {
    /// Opens (or creates) a data directory and recovers its state.
    pub fn open(options: EngineOptions) -> Result<(Arc<Engine>, RecoveryReport)> {
        let data = DataDir::open(&options.data_dir)?;
        let snapshot = snapshot::load_latest(&data.snapshots_dir())?;
        let finish_install = replica::interrupted_install(&data, snapshot.as_ref())?;
        let (wal, wal_recovery) = Wal::open(WalOptions {
            dir: data.wal_dir(),
            segment_bytes_max: WAL_SEGMENT_BYTES_MAX,
            fsync: options.fsync,
        })?;
        if let Some(lsn) = finish_install {
            wal.reset_to(lsn + 1)?;
            data.clear_install_marker()?;
        }
        let mut report = RecoveryReport {
            truncated_tail: wal_recovery.truncated.as_ref().map(|t| {
                format!(
                    "{} at byte {} ({} bytes)",
                    t.file.display(),
                    t.offset,
                    t.bytes_removed
                )
            }),
            ..RecoveryReport::default()
        };
        let engine = Engine {
            data,
            wal,
            write_lock: Mutex::new(()),
            clock: AtomicU64::new(0),
            collections: RwLock::new(BTreeMap::new()),
            snapshot_records: options.snapshot_records.max(1),
            records_since_snapshot: AtomicU64::new(0),
            snapshot_lock: Mutex::new(0),
            snapshot_requests: Mutex::new(None),
            role: tokio::sync::watch::Sender::new(options.role),
            last_record: Mutex::new((0, 0)),
            tail: LiveTail::new(options.live_tail_bytes, 1),
            acked: tokio::sync::watch::Sender::new(0),
            snapshot_identity: Mutex::new((0, 0)),
            lineage: Mutex::new(Vec::new()),
            indexer: Arc::default(),
            checks: antientropy::Checks::new(options.anti_entropy, options.checkpoint_records),
        };
        let replay_from = match snapshot {
            Some(image) => {
                report.snapshot_lsn = Some(image.lsn);
                *engine.snapshot_identity.lock() = (image.lsn, image.last_record_hash);
                *engine.last_record.lock() = (image.lsn, image.last_record_hash);
                engine.set_lineage(&image.lineage);
                engine.load_snapshot(image)?
            }
            None => 1,
        };
        report.replayed_records = engine.replay(replay_from)?;
        *engine.snapshot_lock.lock() = report.snapshot_lsn.unwrap_or(0);
        report.last_lsn = engine.wal.last_lsn();
        engine.tail.reset(report.last_lsn + 1);
        engine.acked.send_replace(report.last_lsn);
        report.clock = engine.clock.load(Ordering::SeqCst);
        let engine = Arc::new(engine);
        engine.start_snapshotter();
        engine.start_indexers();
        for collection in engine.collections.read().values() {
            metrics::collection_changed(collection);
        }
        metrics::wal_last_lsn(report.last_lsn);
        Ok((engine, report))
    }

    fn load_snapshot(&self, image: SnapshotImage) -> Result<u64> {
        if self.wal.last_lsn() < image.lsn {
            return Err(Error::Corrupt {
                what: "WAL",
                file: self.data.wal_dir(),
                reason: format!(
                    "ends at LSN {} but the snapshot is at LSN {}",
                    self.wal.last_lsn(),
                    image.lsn
                ),
            });
        }
        self.load_image(image)
    }

    /// Replaces every collection and the clock with the image's; returns the next LSN.
    fn load_image(&self, image: SnapshotImage) -> Result<u64> {
        self.clock.store(image.clock, Ordering::SeqCst);
        let mut collections = self.collections.write();
        for name in collections.keys() {
            metrics::collection_dropped(name);
        }
        collections.clear();
        for CollectionImage {
            spec,
            logical_clock,
            points,
        } in image.collections
        {
            let collection = Collection::new(spec, 0);
            let points = points
                .into_iter()
                .map(StoredPoint::into_point)
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|reason| Error::Corrupt {
                    what: "snapshot payload",
                    file: self.data.snapshots_dir(),
                    reason,
                })?;
            collection.load(points, logical_clock);
            metrics::collection_changed(&collection);
            metrics::antientropy_register(&collection.spec().name);
            collections.insert(collection.spec().name.clone(), Arc::new(collection));
        }
        Ok(image.lsn + 1)
    }

    fn replay(&self, from: u64) -> Result<u64> {
        let first = self.wal.first_lsn();
        if first > from && self.wal.last_lsn() >= first {
            return Err(Error::Corrupt {
                what: "WAL",
                file: self.data.wal_dir(),
                reason: format!("recovery needs LSN {from} but the oldest record is {first}"),
            });
        }
        let mut replayed = 0;
        for item in self.wal.read_from(from)? {
            let (lsn, body) = item?;
            let record = record::decode(lsn, &body)?;
            *self.last_record.lock() = (lsn, record::body_hash(&body));
            self.note_origin(lsn, record.origin);
            self.clock.fetch_max(record.stamp, Ordering::SeqCst);
            self.apply(record.op, record.stamp)
                .map_err(|e| Error::Corrupt {
                    what: "WAL record",
                    file: format!("LSN {lsn}").into(),
                    reason: format!("cannot be replayed: {e}"),
                })?;
            replayed += 1;
        }
        Ok(replayed)
    }

    /// Applies one operation. The only place where collections change.
    fn apply(&self, op: Op, stamp: u64) -> Result<u64> {
        match op {
            Op::CreateCollection(spec) => {
                let mut collections = self.collections.write();
                if collections.contains_key(&spec.name) {
                    return Err(Error::CollectionExists {
                        collection: spec.name,
                    });
                }
                let collection = Arc::new(Collection::new(spec.clone(), stamp));
                metrics::collection_changed(&collection);
                metrics::antientropy_register(&spec.name);
                collections.insert(spec.name, collection);
                Ok(0)
            }
            Op::DropCollection { name } => match self.collections.write().remove(&name) {
                Some(_) => {
                    metrics::collection_dropped(&name);
                    self.forget_checks(&name);
                    Ok(0)
                }
                None => Err(Error::CollectionNotFound { collection: name }),
            },
            Op::Upsert { collection, points } => {
                let collection = self.collection(&collection)?;
                let count = points.len() as u64;
                collection.apply_upsert(points, stamp);
                metrics::collection_changed(&collection);
                if collection.unindexed() > 0 {
                    self.indexer.notify();
                }
                Ok(count)
            }
            Op::Delete { collection, ids } => {
                let collection = self.collection(&collection)?;
                let deleted = collection.apply_delete(&ids, stamp);
                metrics::collection_changed(&collection);
                Ok(deleted)
            }
            // Verified by a follower as it applies it (`apply_replicated`); no data change.
            Op::Checkpoint { .. } => Ok(0),
            Op::RepairBucket(chunk) => Ok(self.apply_repair(chunk)),
        }
    }

    /// Notes a record just appended under the write lock: this node's position, the tail.
    fn appended(&self, lsn: u64, origin: Uuid, body: Vec<u8>) {
        *self.last_record.lock() = (lsn, record::body_hash(&body));
        self.note_origin(lsn, origin);
        self.tail.push(lsn, body);
    }

    /// Applies a record already in the log. If that fails now (say, usearch cannot
    /// allocate), memory and log disagree, so all writes stop before the failure goes on.
    fn apply_appended(&self, lsn: u64, op: Op, stamp: u64) -> Result<u64> {
        match catch_unwind(AssertUnwindSafe(|| self.apply(op, stamp))) {
            Ok(Ok(count)) => Ok(count),
            Ok(Err(e)) => {
                self.wal.poison(&format!("apply of LSN {lsn} failed: {e}"));
                Err(e)
            }
            Err(panic) => {
                self.wal.poison(&format!("apply of LSN {lsn} panicked"));
                resume_unwind(panic);
            }
        }
    }

    /// Waits until every record through `lsn` is durable (group commit), then publishes
    /// `lsn` as acknowledged, which lets the replication stream send it.
    fn make_durable(&self, lsn: u64) -> Result<()> {
        let started = Instant::now();
        self.wal.sync_until(lsn).map_err(|e| {
            tracing::error!(error = %e, "WAL fsync failed; writes are stopped");
            unavailable()
        })?;
        metrics::fsync_observed(started.elapsed());
        metrics::wal_last_lsn(self.wal.last_lsn());
        self.acked.send_if_modified(|acked| {
            let newer = lsn > *acked;
            if newer {
                *acked = lsn;
            }
            newer
        });
        Ok(())
    }

    /// The leader's write path (see the module doc). `build` runs under the write lock: it
    /// checks what the operation depends on and returns it. Client writes take a Lamport
    /// stamp; anti-entropy records take an LSN only and leave the clock alone.
    fn write(&self, build: impl FnOnce(&Self) -> Result<Op>) -> Result<WriteAck> {
        let guard = self.write_lock.lock();
        self.ensure_leader()?;
        if self.wal.is_poisoned() {
            return Err(unavailable());
        }
        let op = build(self)?;
        let stamped = op.is_stamped();
        let clock = self.clock.load(Ordering::SeqCst);
        let stamp = if stamped { clock + 1 } else { 0 };
        let body = record::encode(stamp, self.data.node_id(), &op);
        if body.len() > FRAME_BODY_BYTES_MAX {
            // Payload numbers can grow when re-serialized (1e15 → 1000000000000000.0), so a body
            // under the request limit can still make a record over the frame limit: refuse it
            // as too large rather than let the WAL fail.
            return Err(Error::PayloadTooLarge {
                what: "the encoded WAL record",
                bytes: body.len(),
                max: FRAME_BODY_BYTES_MAX,
            });
        }
        let lsn = self.wal.append(&body).map_err(|e| {
            tracing::error!(error = %e, "WAL append failed; writes are stopped");
            unavailable()
        })?;
        if stamped {
            self.clock.store(stamp, Ordering::SeqCst);
        }
        self.appended(lsn, self.data.node_id(), body);
        let count = self.apply_appended(lsn, op, stamp)?;
        drop(guard);
        self.make_durable(lsn)?;
        self.after_write(1);
        if stamped {
            self.checks.count_write();
        }
        Ok(WriteAck {
            count,
            lsn,
            logical_clock: if stamped { stamp } else { clock },
        })
    }

    pub fn create_collection(&self, spec: CollectionSpec) -> Result<WriteAck> {
        self.ensure_leader()?;
        validate::collection_spec(&spec)?;
        self.write(
            |engine| match engine.collections.read().contains_key(&spec.name) {
                true => Err(Error::CollectionExists {
                    collection: spec.name,
                }),
                false => Ok(Op::CreateCollection(spec)),
            },
        )
    }

    pub fn drop_collection(&self, name: &str) -> Result<WriteAck> {
        self.ensure_leader()?;
        validate::collection_name(name)?;
        self.write(|engine| {
            engine.collection(name)?;
            Ok(Op::DropCollection {
                name: name.to_string(),
            })
        })
    }

    pub fn upsert(&self, collection: &str, points: Vec<Point>) -> Result<WriteAck> {
        self.ensure_leader()?;
        let spec = self.collection(collection)?.spec().clone();
        validate::points(&spec, &points)?;
        self.write(|engine| {
            same_spec(engine, &spec)?;
            Ok(Op::Upsert {
                collection: collection.to_string(),
                points,
            })
        })
    }

    pub fn delete(&self, collection: &str, ids: Vec<u64>) -> Result<WriteAck> {
        self.ensure_leader()?;
        let spec = self.collection(collection)?.spec().clone();
        validate::ids(&ids)?;
        self.write(|engine| {
            same_spec(engine, &spec)?;
            Ok(Op::Delete {
                collection: collection.to_string(),
                ids,
            })
        })
    }

    /// A live collection, or `CollectionNotFound` (names are validated first).
    pub fn collection(&self, name: &str) -> Result<Arc<Collection>> {
        validate::collection_name(name)?;
        self.collections
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::CollectionNotFound {
                collection: name.to_string(),
            })
    }

    /// The names of every collection.
    pub fn collection_names(&self) -> std::collections::BTreeSet<String> {
        self.collections.read().keys().cloned().collect()
    }

    pub fn list_collections(&self) -> Vec<CollectionInfo> {
        self.collections.read().values().map(|c| c.info()).collect()
    }

    pub fn get(&self, collection: &str, id: u64) -> Result<Point> {
        self.collection(collection)?
            .get(id)
            .ok_or_else(|| Error::PointNotFound {
                collection: collection.to_string(),
                id,
            })
    }

    pub fn scroll(
        &self,
        collection: &str,
        after: Option<u64>,
        limit: Option<usize>,
    ) -> Result<ScrollPage> {
        let collection = self.collection(collection)?;
        let limit = validate::scroll_limit(limit)?;
        Ok(collection.scroll(after, limit))
    }

    pub fn search(&self, collection: &str, query: &SearchQuery) -> Result<Vec<ScoredPoint>> {
        let collection = self.collection(collection)?;
        validate::search(collection.spec(), "", query)?;
        Ok(collection.search(query))
    }

    /// Answers every query in order; all are validated before any runs.
    pub fn search_batch(
        &self,
        collection: &str,
        queries: &[SearchQuery],
    ) -> Result<Vec<Vec<ScoredPoint>>> {
        let collection = self.collection(collection)?;
        validate::batch(queries)?;
        for (i, query) in queries.iter().enumerate() {
            validate::search(collection.spec(), &format!("searches[{i}]."), query)?;
        }
        Ok(parallel_map(queries, |q| collection.search(q)))
    }

    pub fn digest(&self, collection: &str) -> Result<DigestView> {
        let (logical_clock, digest) = self.collection(collection)?.digest();
        Ok(DigestView {
            collection: collection.to_string(),
            logical_clock,
            digest,
        })
    }

    pub fn bucket(&self, collection: &str, bucket: u64) -> Result<Vec<(u64, u64)>> {
        let collection = self.collection(collection)?;
        Ok(collection.bucket(validate::bucket(bucket)?))
    }

    pub fn node_id(&self) -> Uuid {
        self.data.node_id()
    }

    pub fn status(&self) -> NodeStatus {
        NodeStatus {
            node_id: self.node_id().to_string(),
            role: self.role.borrow().role(),
            last_lsn: self.wal.last_lsn(),
            logical_clock: self.clock.load(Ordering::SeqCst),
        }
    }

    /// Fault injection: the next WAL write or fsync fails as if the disk had.
    pub fn inject_wal_failure(&self) {
        self.wal.inject_failure();
    }

    /// Fault injection: replaces one point's payload with `{"_corrupted":true}` in memory only
    /// (no WAL record, no clock tick) through the apply path, so index and digest follow.
    /// Produces drift at an equal clock on purpose; a restart replays the true data unless a
    /// snapshot was taken in between. Returns the point's new entry hash.
    pub fn corrupt_point(&self, collection: &str, id: u64) -> Result<u64> {
        let _no_write_interleaves = self.write_lock.lock();
        let target = self.collection(collection)?;
        let mut point = self.get(collection, id)?;
        point.payload = Map::from_iter([("_corrupted".to_string(), Value::Bool(true))]);
        let hash = entry_hash(id, &point.vector, &point.payload);
        target.apply_upsert(vec![point], 0);
        metrics::collection_changed(&target);
        tracing::warn!(
            collection,
            id,
            "fault injection: corrupted a point in memory"
        );
        Ok(hash)
    }

    fn after_write(&self, records: u64) {
        let since = self
            .records_since_snapshot
            .fetch_add(records, Ordering::SeqCst)
            + records;
        if since >= self.snapshot_records {
            if let Some(sender) = self.snapshot_requests.lock().as_ref() {
                let _ = sender.try_send(());
            }
        }
    }

    fn start_snapshotter(self: &Arc<Self>) {
        let (sender, receiver) = mpsc::sync_channel::<()>(1);
        *self.snapshot_requests.lock() = Some(sender);
        let engine: Weak<Engine> = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("snapshotter".into())
            .spawn(move || {
                while receiver.recv().is_ok() {
                    let Some(engine) = engine.upgrade() else {
                        break;
                    };
                    if let Err(e) = engine.snapshot() {
                        tracing::error!(error = %e, "snapshot failed; the WAL is kept");
                    }
                }
            })
            .expect("spawning the snapshot thread");
    }

    /// Writes a snapshot of every collection at the current LSN, then drops the WAL segments
    /// and snapshots it makes unnecessary. Returns the snapshot's LSN.
    pub fn snapshot(&self) -> Result<u64> {
        let mut last_snapshot_lsn = self.snapshot_lock.lock();
        let image = {
            let _writes_paused = self.write_lock.lock();
            if self.wal.last_lsn() == *last_snapshot_lsn {
                // Nothing was written since the last snapshot (a late trigger).
                return Ok(*last_snapshot_lsn);
            }
            self.records_since_snapshot.store(0, Ordering::SeqCst);
            // Records after the image go to a new segment, so the ones before can go.
            self.wal.rotate()?;
            self.capture_image()
        };
        self.wal.sync_until(image.lsn)?;
        let started = Instant::now();
        snapshot::write(&self.data.snapshots_dir(), &image)?;
        let removed = self.wal.remove_segments_through(image.lsn)?;
        snapshot::remove_older_than(&self.data.snapshots_dir(), image.lsn)?;
        *last_snapshot_lsn = image.lsn;
        *self.snapshot_identity.lock() = (image.lsn, image.last_record_hash);
        tracing::info!(
            lsn = image.lsn,
            segments_removed = removed,
            ms = started.elapsed().as_millis() as u64,
            "snapshot written"
        );
        Ok(image.lsn)
    }

    /// Every collection at the current LSN; the caller holds the write lock, so no record is
    /// half applied and the LSN, clocks and points describe one cut.
    fn capture_image(&self) -> SnapshotImage {
        let collections = self
            .collections
            .read()
            .values()
            .map(|c| {
                let (logical_clock, points) = c.image_points();
                CollectionImage {
                    spec: c.spec().clone(),
                    logical_clock,
                    points,
                }
            })
            .collect();
        let (lsn, last_record_hash) = *self.last_record.lock();
        debug_assert_eq!(lsn, self.wal.last_lsn());
        SnapshotImage {
            lsn,
            clock: self.clock.load(Ordering::SeqCst),
            last_record_hash,
            lineage: self.lineage_image(),
            collections,
        }
    }

    /// A consistent image of every collection for a backup: one cut taken under the write
    /// lock (writes pause for the copy, as for a snapshot), returned once every record in it
    /// is durable, so a backup never holds a write the node could still lose. Nothing is
    /// written to the data directory.
    pub fn backup_image(&self) -> Result<SnapshotImage> {
        let image = {
            let _writes_paused = self.write_lock.lock();
            self.capture_image()
        };
        self.make_durable(image.lsn)?;
        Ok(image)
    }

    /// Stops the snapshot and indexer threads; called on shutdown.
    pub fn close(&self) {
        self.snapshot_requests.lock().take();
        self.indexer.stop();
    }
}

/// Maps `items` in order, spread over the machine's cores when there are enough of them to
/// be worth a thread each: a batch search is how one client reaches the node's peak rate.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    const ITEMS_PER_THREAD_MIN: usize = 8;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = threads.min(items.len() / ITEMS_PER_THREAD_MIN).max(1);
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a search thread does not panic"))
            .collect()
    })
}

fn unavailable() -> Error {
    Error::Unavailable {
        reason: "a WAL write or fsync failed; writes stay refused until the node is restarted \
                 (reads go on)"
            .into(),
    }
}

/// Refuses a write validated against a collection that was since dropped or re-created.
fn same_spec(engine: &Engine, spec: &CollectionSpec) -> Result<()> {
    let current = engine.collection(&spec.name)?;
    if current.spec() != spec {
        return Err(Error::invalid(
            "collection",
            "was re-created during the request; retry",
        ));
    }
    Ok(())
}
