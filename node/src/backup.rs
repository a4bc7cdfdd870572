//! Backups: one consistent image of every collection, fetched through the node's API
//! (`GET /api/admin/backup`, see [`crate::Engine::backup_image`]) and turned back into a
//! data directory by [`restore`].
//!
//! File format: `magic "HSBKUP01" | crc32 u32 LE | body_len u64 LE | body`, the body the
//! same encoding the replication stream uses for a snapshot (manifest with the LSN the image
//! is consistent at, the Lamport clock, the last record's identity and the lineage; then
//! every collection with its logical clock and points). A restored directory therefore
//! starts exactly where the source was at that LSN: same digests, same clocks, same LSN, so
//! it can also seed a follower of the source (its history matches up to that LSN). It gets
//! a node id of its own: it is a new replica, not the source.
//!
//! A restore builds the directory beside its destination (`DIR.restoring`, through the same
//! install path a follower uses for its leader's snapshot) and renames it into place when it
//! is complete: a crash leaves no `DIR` or a complete one, never a half-restored one (a
//! leftover `DIR.restoring` is removed by the next restore).

use std::path::Path;

use crate::engine::{Engine, EngineOptions};
use crate::error::{Error, Result};
use crate::model::RoleState;
use crate::storage::snapshot::{self, SnapshotImage};
use crate::storage::wal::FsyncPolicy;

const MAGIC: &[u8; 8] = b"HSBKUP01";

/// What a backup holds, for the tools' messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// The LSN the image is consistent at: every record through it, none after.
    pub lsn: u64,
    /// The node's Lamport clock at that LSN.
    pub clock: u64,
    /// `(name, points, logical clock)` of every collection.
    pub collections: Vec<(String, u64, u64)>,
}

impl BackupSummary {
    pub fn of(image: &SnapshotImage) -> BackupSummary {
        BackupSummary {
            lsn: image.lsn,
            clock: image.clock,
            collections: image
                .collections
                .iter()
                .map(|c| {
                    let points = c.points.len() as u64;
                    (c.spec.name.clone(), points, c.logical_clock)
                })
                .collect(),
        }
    }
}

/// The backup file's bytes for an image.
pub fn encode(image: &SnapshotImage) -> Vec<u8> {
    snapshot::frame(MAGIC, &snapshot::encode_image(image))
}

/// Reads a backup file's bytes (`file` names it in errors); `Corrupt` unless intact.
pub fn decode(bytes: &[u8], file: &Path) -> Result<SnapshotImage> {
    let body = snapshot::unframe(MAGIC, bytes).map_err(|reason| Error::Corrupt {
        what: "backup file",
        file: file.to_path_buf(),
        reason,
    })?;
    snapshot::decode_image_from(body, "backup file", file)
}

/// Makes `data_dir` (missing or empty) a data directory holding exactly `image`; a node
/// started on it recovers that state.
pub fn restore(data_dir: &Path, image: SnapshotImage) -> Result<BackupSummary> {
    let occupied = match std::fs::read_dir(data_dir) {
        Ok(mut entries) => entries.next().is_some(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(Error::io(format!("reading {}", data_dir.display()), e)),
    };
    if occupied {
        return Err(Error::invalid(
            "data-dir",
            format!(
                "{} is not empty; restore only into a new or empty directory (nothing was \
                 changed)",
                data_dir.display()
            ),
        ));
    }
    let summary = BackupSummary::of(&image);
    let mut staging = data_dir.as_os_str().to_owned();
    staging.push(".restoring");
    let staging = std::path::PathBuf::from(staging);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .map_err(|e| Error::io(format!("removing {}", staging.display()), e))?;
    }
    let (engine, _) = Engine::open(EngineOptions {
        data_dir: staging.clone(),
        fsync: FsyncPolicy::Always,
        snapshot_records: crate::limits::SNAPSHOT_RECORDS_DEFAULT,
        // Installing a snapshot is a follower's operation; the role is not stored, so the
        // node started on this directory takes whatever role its flags say.
        role: RoleState::Follower {
            leader_url: "(restore)".into(),
            leader: None,
        },
        live_tail_bytes: 1 << 20,
        anti_entropy: Default::default(),
        checkpoint_records: 0,
    })?;
    engine.install_snapshot(image)?;
    engine.close();
    drop(engine);
    if data_dir.exists() {
        std::fs::remove_dir(data_dir)
            .map_err(|e| Error::io(format!("replacing {}", data_dir.display()), e))?;
    }
    std::fs::rename(&staging, data_dir)
        .map_err(|e| Error::io(format!("renaming {}", staging.display()), e))?;
    let parent = match data_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    crate::storage::datadir::sync_dir(parent)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CollectionSpec, Metric, Point};

    fn engine(dir: &Path) -> std::sync::Arc<Engine> {
        let options = EngineOptions {
            data_dir: dir.to_path_buf(),
            fsync: FsyncPolicy::Always,
            snapshot_records: 1_000_000,
            role: RoleState::Leader,
            live_tail_bytes: 1 << 20,
            anti_entropy: Default::default(),
            checkpoint_records: 0,
        };
        Engine::open(options).unwrap().0
    }

    // A backup restored into a new directory starts with the source's LSN, clocks and
    // digests; a corrupt file and an occupied directory are refused without changes.
    #[test]
    fn restore_reproduces_the_source_and_refuses_bad_input() {
        let root = tempfile::tempdir().unwrap();
        let source = engine(&root.path().join("source"));
        let spec = CollectionSpec {
            name: "c".into(),
            dimension: 2,
            metric: Metric::L2,
        };
        source.create_collection(spec).unwrap();
        for id in 0..300_u64 {
            let point = Point {
                id,
                vector: vec![id as f32, 1.0],
                payload: serde_json::Map::new(),
            };
            source.upsert("c", vec![point]).unwrap();
        }
        source.delete("c", vec![7, 8]).unwrap();
        let bytes = encode(&source.backup_image().unwrap());
        let file = root.path().join("b.hsbackup");
        let image = decode(&bytes, &file).unwrap();
        assert_eq!(image.lsn, source.status().last_lsn);

        let target = root.path().join("restored");
        let summary = restore(&target, image.clone()).unwrap();
        assert_eq!(summary.collections, vec![("c".to_string(), 298, 302)]);
        let restored = engine(&target);
        assert_ne!(restored.node_id(), source.node_id());
        assert_eq!(restored.status().last_lsn, source.status().last_lsn);
        let (a, b) = (source.digest("c").unwrap(), restored.digest("c").unwrap());
        assert_eq!(a.digest, b.digest);
        assert_eq!(a.logical_clock, b.logical_clock);
        drop(restored);

        let err = restore(&target, image).unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
        let mut broken = bytes.clone();
        let last = broken.len() - 1;
        broken[last] ^= 1;
        let err = decode(&broken, &file).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
    }
}
