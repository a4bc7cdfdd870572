//! The engine's side of replication: the role, the leader's handshake decision, and the
//! follower's apply of its leader's records and snapshots.
//!
//! A follower appends each record under the leader's LSN (`Wal::append_at`, so a gap or a
//! repeat is refused), applies it through the same `apply` as the leader, and sets
//! `clock = max(clock, stamp)`. Stamps increase along the leader's log, so after the same
//! records the clocks are equal: that is why a caught-up follower shows exactly the
//! leader's `logical_clock` and `state_hash`.
//!
//! A history is identified by its last record: `(lsn, xxh3-64 of the body)`. The leader
//! accepts a follower whose last record it holds identically (or an empty follower); a
//! follower ahead of the leader's acknowledged LSN, or holding a different record at its
//! last LSN, is `diverged`. When the leader no longer holds that LSN, the follower gets a
//! snapshot that replaces its whole state (histories are never mixed).

use std::fs;

use tokio::sync::watch;

use super::*;
use crate::error::LeaderAddress;
use crate::storage::datadir::sync_dir;
use crate::storage::wal::WalReader;

/// Where a follower's stream starts, decided by the leader at the handshake.
#[derive(Debug)]
pub enum StreamStart {
    /// Records from this LSN on; the WAL still holds them.
    Wal { next_lsn: u64 },
    /// The follower is older than the retained WAL: the newest snapshot
    /// ([`Engine::snapshot_for_follower`]), then the records after it.
    Snapshot,
}

/// At open, before the WAL is read: finishes an install of the leader's snapshot that a
/// crash interrupted. If that snapshot is complete, the old WAL is cleared and its LSN is
/// returned (the WAL restarts after it); if not, the previous state is intact and kept.
pub(super) fn interrupted_install(
    data: &DataDir,
    snapshot: Option<&SnapshotImage>,
) -> Result<Option<u64>> {
    let Some(marker) = data.install_marker()? else {
        return Ok(None);
    };
    match snapshot {
        Some(image) if image.lsn >= marker => {
            tracing::warn!(
                lsn = image.lsn,
                "finishing an interrupted install of the leader's snapshot"
            );
            let wal = data.wal_dir();
            fs::remove_dir_all(&wal)
                .and_then(|()| fs::create_dir_all(&wal))
                .map_err(|e| Error::io(format!("clearing {}", wal.display()), e))?;
            sync_dir(wal.parent().unwrap_or(&wal))?;
            Ok(Some(image.lsn))
        }
        _ => {
            tracing::warn!(
                lsn = marker,
                "an install of the leader's snapshot stopped before the snapshot was \
                 complete; keeping the previous state"
            );
            data.clear_install_marker()?;
            Ok(None)
        }
    }
}

impl Engine {
    pub fn role(&self) -> RoleState {
        self.role.borrow().clone()
    }

    pub fn watch_role(&self) -> watch::Receiver<RoleState> {
        self.role.subscribe()
    }

    /// The newest acknowledged LSN, which is the newest one a follower may receive.
    pub fn acked_lsn(&self) -> u64 {
        *self.acked.borrow()
    }

    pub fn watch_acked(&self) -> watch::Receiver<u64> {
        self.acked.subscribe()
    }

    /// `(lsn, body hash)` of the newest record: this node's position in its history.
    pub fn last_record(&self) -> (u64, u64) {
        *self.last_record.lock()
    }

    pub fn tail(&self) -> &LiveTail {
        &self.tail
    }

    /// Reads WAL records from `from` (blocking file I/O).
    pub fn read_wal(&self, from: u64) -> Result<WalReader> {
        Ok(self.wal.read_from(from)?)
    }

    /// Extends the lineage with a record written by `origin` at `lsn`.
    pub(super) fn note_origin(&self, lsn: u64, origin: Uuid) {
        let mut lineage = self.lineage.lock();
        if lineage.last().is_none_or(|(_, last)| *last != origin) {
            lineage.push((lsn, origin));
        }
    }

    pub(super) fn set_lineage(&self, runs: &[(u64, [u8; 16])]) {
        *self.lineage.lock() = runs
            .iter()
            .map(|(lsn, id)| (*lsn, Uuid::from_bytes(*id)))
            .collect();
    }

    pub(super) fn lineage_image(&self) -> Vec<(u64, [u8; 16])> {
        self.lineage
            .lock()
            .iter()
            .map(|(lsn, id)| (*lsn, *id.as_bytes()))
            .collect()
    }

    /// The leader that wrote this node's record at `lsn`, if its lineage reaches that far.
    pub fn origin_at(&self, lsn: u64) -> Option<Uuid> {
        let lineage = self.lineage.lock();
        lineage
            .iter()
            .rev()
            .find(|(first, _)| *first <= lsn)
            .map(|(_, origin)| *origin)
    }

    /// `not_leader` (with the leader's addresses when known) unless this node leads.
    pub fn ensure_leader(&self) -> Result<()> {
        match &*self.role.borrow() {
            RoleState::Leader => Ok(()),
            // Until the leader answered, its URL is all this node knows about it.
            RoleState::Follower { leader, leader_url } => Err(Error::NotLeader {
                leader: Some(leader.clone().unwrap_or_else(|| LeaderAddress {
                    node_id: String::new(),
                    http_addr: String::new(),
                    grpc_addr: leader_url.clone(),
                })),
            }),
        }
    }

    /// Manual failover: this node becomes the leader. Its LSNs continue from its last
    /// record and its clock from the largest stamp it holds. Idempotent on a leader.
    pub fn promote(&self) {
        let _no_write_in_flight = self.write_lock.lock();
        let was = self.role.send_replace(RoleState::Leader);
        if was != RoleState::Leader {
            metrics::role_changed(&self.node_id().to_string(), "follower", "leader");
            tracing::warn!(
                last_lsn = self.wal.last_lsn(),
                clock = self.clock.load(Ordering::SeqCst),
                "promoted to leader"
            );
        }
    }

    /// Sets the role (writes are refused from the moment it is a follower); returns the
    /// previous one, so a refused `follow` can go back to it.
    pub fn set_role(&self, role: RoleState) -> RoleState {
        let _no_write_in_flight = self.write_lock.lock();
        let was = self.role.send_replace(role.clone());
        if was.role() != role.role() {
            let id = self.node_id().to_string();
            metrics::role_changed(&id, was.role().as_str(), role.role().as_str());
        }
        if let RoleState::Follower { leader_url, .. } = &role {
            tracing::info!(leader = %leader_url, "following");
        }
        was
    }

    /// Records the leader's identity once it answered, while still following `leader_url`.
    pub fn set_leader(&self, leader_url: &str, address: LeaderAddress) {
        self.role.send_if_modified(|role| match role {
            RoleState::Follower {
                leader_url: url,
                leader,
            } if url == leader_url && leader.as_ref() != Some(&address) => {
                *leader = Some(address);
                true
            }
            _ => false,
        });
    }

    /// Leader side of the handshake: where the stream of a follower whose last record is
    /// `(follower_lsn, follower_hash)` starts, or `Diverged` (see the module doc).
    pub fn stream_start(
        &self,
        follower_lsn: u64,
        follower_hash: u64,
        follower_origin: Option<Uuid>,
    ) -> Result<StreamStart> {
        let acked = self.acked_lsn();
        let diverged = |reason: String| Err(Error::Diverged { reason });
        if follower_lsn > acked {
            return diverged(format!(
                "the follower's log reaches LSN {follower_lsn}, the leader's only {acked}"
            ));
        }
        if follower_lsn > 0 {
            match self.record_hash_at(follower_lsn)? {
                Some(hash) if hash != follower_hash => {
                    return diverged(format!(
                        "the two logs hold different records at LSN {follower_lsn}"
                    ))
                }
                Some(_) => {}
                // The record itself is compacted away here: compare who wrote it.
                None => {
                    let here = self.origin_at(follower_lsn);
                    if here.is_none() || here != follower_origin {
                        return diverged(format!(
                            "LSN {follower_lsn} was written by leader {} here but by {} on the \
                             follower",
                            here.map_or("unknown".into(), |u| u.to_string()),
                            follower_origin.map_or("unknown".into(), |u| u.to_string()),
                        ));
                    }
                    tracing::info!(
                        follower_lsn,
                        "the follower is older than the retained WAL; sending a snapshot"
                    );
                    return Ok(StreamStart::Snapshot);
                }
            }
        }
        match self.wal_retains(follower_lsn + 1) {
            true => Ok(StreamStart::Wal {
                next_lsn: follower_lsn + 1,
            }),
            false => Ok(StreamStart::Snapshot),
        }
    }

    /// The origin of this node's last record (None for an empty log).
    pub fn last_origin(&self) -> Option<Uuid> {
        self.lineage.lock().last().map(|(_, origin)| *origin)
    }

    fn wal_retains(&self, lsn: u64) -> bool {
        match self.wal.first_lsn() {
            0 => lsn > self.wal.last_lsn(),
            first => lsn >= first,
        }
    }

    /// The body hash of this node's record at `lsn`, if it still knows it.
    fn record_hash_at(&self, lsn: u64) -> Result<Option<u64>> {
        let (last, hash) = self.last_record();
        if lsn == last {
            return Ok(Some(hash));
        }
        let (snapshot_lsn, snapshot_hash) = *self.snapshot_identity.lock();
        if lsn == snapshot_lsn {
            return Ok(Some(snapshot_hash));
        }
        if !self.wal_retains(lsn) {
            return Ok(None);
        }
        match self.wal.read_from(lsn)?.next() {
            Some(Ok((at, body))) if at == lsn => Ok(Some(record::body_hash(&body))),
            Some(Err(e)) => Err(e.into()),
            _ => Ok(None),
        }
    }

    /// The newest snapshot on disk for a follower (one is written first if there is none).
    pub fn snapshot_for_follower(&self) -> Result<SnapshotImage> {
        for _ in 0..2 {
            let latest = {
                let _no_snapshot_in_flight = self.snapshot_lock.lock();
                snapshot::load_latest(&self.data.snapshots_dir())?
            };
            match latest {
                Some(image) => return Ok(image),
                None => {
                    self.snapshot()?;
                }
            }
        }
        Err(Error::Replication {
            reason: "no snapshot to seed the follower from".into(),
        })
    }

    /// Follower side: appends the leader's records under their LSNs and applies them; returns
    /// the last LSN applied. Not yet durable: [`Engine::sync_replicated`] makes it so before
    /// the follower acknowledges (one fsync then covers every batch applied meanwhile).
    /// Records at or below the last LSN (a repeat after a reconnect) are skipped.
    pub fn apply_replicated(&self, records: Vec<(u64, Vec<u8>)>) -> Result<u64> {
        let guard = self.write_lock.lock();
        self.ensure_follower()?;
        if self.wal.is_poisoned() {
            return Err(unavailable());
        }
        let mut last = self.wal.last_lsn();
        let mut applied = 0;
        for (lsn, body) in records {
            if lsn <= last {
                continue;
            }
            let record = record::decode(lsn, &body)?;
            self.wal.append_at(lsn, &body)?;
            self.verify_checkpoint(lsn, &record.op);
            self.clock.fetch_max(record.stamp, Ordering::SeqCst);
            self.appended(lsn, record.origin, body);
            self.apply_appended(lsn, record.op, record.stamp)?;
            last = lsn;
            applied += 1;
        }
        drop(guard);
        self.after_write(applied);
        Ok(last)
    }

    /// Follower side: makes every replicated record through `lsn` durable (group commit);
    /// afterwards `lsn` may be acknowledged to the leader.
    pub fn sync_replicated(&self, lsn: u64) -> Result<()> {
        self.make_durable(lsn)?;
        metrics::replication_applied(lsn);
        Ok(())
    }

    /// Follower side: replaces this node's whole state with the leader's snapshot. Crash
    /// safe through the data directory's install marker (see `interrupted_install`).
    pub fn install_snapshot(&self, image: SnapshotImage) -> Result<()> {
        let mut snapshot_lsn = self.snapshot_lock.lock();
        let _guard = self.write_lock.lock();
        self.ensure_follower()?;
        let (lsn, hash) = (image.lsn, image.last_record_hash);
        let started = Instant::now();
        self.data.set_install_marker(lsn)?;
        // From here on, memory and disk may be half old, half new: any failure stops all
        // writes, and the next start finishes the install from the marker.
        let installed = (|| {
            snapshot::write(&self.data.snapshots_dir(), &image)?;
            self.wal.reset_to(lsn + 1)?;
            *self.last_record.lock() = (lsn, hash);
            *self.snapshot_identity.lock() = (lsn, hash);
            self.set_lineage(&image.lineage);
            self.records_since_snapshot.store(0, Ordering::SeqCst);
            self.load_image(image)?;
            self.tail.reset(lsn + 1);
            self.acked.send_replace(lsn);
            snapshot::remove_older_than(&self.data.snapshots_dir(), lsn)?;
            *snapshot_lsn = lsn;
            self.data.clear_install_marker()
        })();
        if let Err(e) = &installed {
            self.wal.poison(&format!(
                "installing the leader's snapshot at LSN {lsn} failed: {e}"
            ));
        }
        installed?;
        metrics::wal_last_lsn(lsn);
        metrics::replication_applied(lsn);
        tracing::info!(
            lsn,
            ms = started.elapsed().as_millis() as u64,
            "installed the leader's snapshot"
        );
        Ok(())
    }

    fn ensure_follower(&self) -> Result<()> {
        match &*self.role.borrow() {
            RoleState::Follower { .. } => Ok(()),
            RoleState::Leader => Err(Error::Replication {
                reason: "this node is the leader; it takes no records from another".into(),
            }),
        }
    }
}
