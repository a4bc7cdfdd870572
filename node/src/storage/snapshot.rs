//! Snapshots: the full state of every collection at one LSN, so old WAL segments can go and
//! recovery replays only the WAL after it.
//!
//! Format. A snapshot is a directory `snapshots/{lsn:020}/` holding one file per collection
//! (`{name}.snap`) and a `MANIFEST`. Every file is `magic "HSSNAP01" | crc32 u32 LE |
//! body_len u64 LE | body`, the body postcard-encoded and covered by the CRC. The directory is
//! built as `{lsn:020}.tmp`, every file fsynced, then renamed into place and the parent
//! fsynced: a snapshot directory without `.tmp` is complete. Recovery takes the newest
//! complete snapshot; a complete snapshot that fails its checks refuses to start (it is the
//! only copy of data whose WAL was already removed), and leftover `.tmp` directories are
//! deleted.
//!
//! The same content travels over the replication stream to a follower too far behind the
//! leader's WAL: [`encode_image`] / [`decode_image`] give it as one postcard byte string
//! (manifest, then every collection), which the stream cuts into chunks.

use std::borrow::Cow;
use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::datadir::sync_dir;
use super::record::StoredPoint;
use crate::error::{Error, Result};
use crate::model::{CollectionSpec, Metric};

/// Version 02 added `last_record_hash` and `lineage` to the manifest.
const MAGIC: &[u8; 8] = b"HSSNAP02";
const HEADER_BYTES: usize = 8 + 4 + 8;

/// One collection as stored in a snapshot.
#[derive(Debug, Clone)]
pub struct CollectionImage {
    pub spec: CollectionSpec,
    pub logical_clock: u64,
    pub points: Vec<StoredPoint>,
}

/// Every collection at `lsn`, and the node's Lamport clock then.
#[derive(Debug, Clone)]
pub struct SnapshotImage {
    pub lsn: u64,
    pub clock: u64,
    /// xxh3-64 of the body of the record at `lsn` (0 when `lsn` is 0): the identity of the
    /// last record, which a follower shows its leader to prove they share a history.
    pub last_record_hash: u64,
    /// Which leader wrote which LSNs up to `lsn`: `(first_lsn, origin node id)` runs.
    pub lineage: Vec<(u64, [u8; 16])>,
    pub collections: Vec<CollectionImage>,
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    lsn: u64,
    clock: u64,
    last_record_hash: u64,
    lineage: Vec<(u64, [u8; 16])>,
    collections: Vec<String>,
}

/// The stream form of a snapshot: manifest, then each collection.
#[derive(Serialize, Deserialize)]
struct StreamImage<'a> {
    manifest: Manifest,
    collections: Vec<CollectionFile<'a>>,
}

#[derive(Serialize, Deserialize)]
/// Borrowed when written (no copy of the points), owned when read.
struct CollectionFile<'a> {
    name: Cow<'a, str>,
    dimension: u32,
    metric: Cow<'a, str>,
    logical_clock: u64,
    points: Cow<'a, [StoredPoint]>,
}

fn dir_name(lsn: u64) -> String {
    format!("{lsn:020}")
}

/// Writes `image` durably under `root` and returns its directory.
pub fn write(root: &Path, image: &SnapshotImage) -> Result<PathBuf> {
    fs::create_dir_all(root).map_err(|e| Error::io(format!("creating {}", root.display()), e))?;
    let tmp = root.join(format!("{}.tmp", dir_name(image.lsn)));
    if tmp.exists() {
        fs::remove_dir_all(&tmp)
            .map_err(|e| Error::io(format!("removing {}", tmp.display()), e))?;
    }
    fs::create_dir(&tmp).map_err(|e| Error::io(format!("creating {}", tmp.display()), e))?;
    for collection in &image.collections {
        write_file(
            &tmp.join(format!("{}.snap", collection.spec.name)),
            &borrowed_file(collection),
        )?;
    }
    write_file(&tmp.join("MANIFEST"), &manifest_of(image))?;
    sync_dir(&tmp)?;
    let done = root.join(dir_name(image.lsn));
    fs::rename(&tmp, &done).map_err(|e| Error::io(format!("renaming {}", tmp.display()), e))?;
    sync_dir(root)?;
    Ok(done)
}

fn borrowed_file(collection: &CollectionImage) -> CollectionFile<'_> {
    CollectionFile {
        name: Cow::Borrowed(&collection.spec.name),
        dimension: collection.spec.dimension as u32,
        metric: Cow::Borrowed(collection.spec.metric.as_str()),
        logical_clock: collection.logical_clock,
        points: Cow::Borrowed(&collection.points),
    }
}

fn manifest_of(image: &SnapshotImage) -> Manifest {
    Manifest {
        lsn: image.lsn,
        clock: image.clock,
        last_record_hash: image.last_record_hash,
        lineage: image.lineage.clone(),
        collections: image
            .collections
            .iter()
            .map(|c| c.spec.name.clone())
            .collect(),
    }
}

/// The whole image as one byte string for the replication stream.
pub fn encode_image(image: &SnapshotImage) -> Vec<u8> {
    let stream = StreamImage {
        manifest: manifest_of(image),
        collections: image.collections.iter().map(borrowed_file).collect(),
    };
    postcard::to_stdvec(&stream).expect("snapshot images always encode")
}

/// Decodes what [`encode_image`] made (received from a leader); `Corrupt` if it does not parse.
pub fn decode_image(bytes: &[u8]) -> Result<SnapshotImage> {
    decode_image_from(
        bytes,
        "snapshot received from the leader",
        Path::new("(replication stream)"),
    )
}

/// [`decode_image`] for bytes that came from `file`; errors name `what` and `file`.
pub fn decode_image_from(bytes: &[u8], what: &'static str, file: &Path) -> Result<SnapshotImage> {
    let stream: StreamImage<'static> = postcard::from_bytes(bytes).map_err(|e| Error::Corrupt {
        what,
        file: file.to_path_buf(),
        reason: e.to_string(),
    })?;
    let path = file.to_path_buf();
    let collections = stream
        .collections
        .into_iter()
        .map(|file| collection_image(file, &path))
        .collect::<Result<Vec<_>>>()?;
    Ok(image_of(&stream.manifest, collections))
}

fn image_of(manifest: &Manifest, collections: Vec<CollectionImage>) -> SnapshotImage {
    SnapshotImage {
        lsn: manifest.lsn,
        clock: manifest.clock,
        last_record_hash: manifest.last_record_hash,
        lineage: manifest.lineage.clone(),
        collections,
    }
}

fn collection_image(file: CollectionFile<'static>, path: &Path) -> Result<CollectionImage> {
    let metric = Metric::parse(&file.metric).ok_or_else(|| Error::Corrupt {
        what: "snapshot file",
        file: path.to_path_buf(),
        reason: format!("unknown metric {}", file.metric),
    })?;
    Ok(CollectionImage {
        spec: CollectionSpec {
            name: file.name.into_owned(),
            dimension: file.dimension as usize,
            metric,
        },
        logical_clock: file.logical_clock,
        points: file.points.into_owned(),
    })
}

/// `magic | crc32 u32 LE | body_len u64 LE | body`: the framing of every snapshot file (and
/// of backup files, with their own magic).
pub(crate) fn frame(magic: &[u8; 8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_BYTES + body.len());
    out.extend_from_slice(magic);
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// The body of a [`frame`]d byte string, checked; the error says what is wrong.
pub(crate) fn unframe<'a>(
    magic: &[u8; 8],
    bytes: &'a [u8],
) -> std::result::Result<&'a [u8], String> {
    if bytes.len() < HEADER_BYTES || &bytes[..8] != magic {
        return Err("bad header".into());
    }
    let crc = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    let len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    let body = &bytes[HEADER_BYTES..];
    if body.len() as u64 != len {
        return Err(format!("body is {} bytes, header says {len}", body.len()));
    }
    if crc32fast::hash(body) != crc {
        return Err("checksum mismatch".into());
    }
    Ok(body)
}

fn write_file<T: Serialize>(path: &Path, body: &T) -> Result<()> {
    let bytes = postcard::to_stdvec(body).expect("snapshot bodies always encode");
    let context = || format!("writing snapshot file {}", path.display());
    let file = File::create(path).map_err(|e| Error::io(context(), e))?;
    let mut out = BufWriter::new(file);
    out.write_all(&frame(MAGIC, &bytes))
        .and_then(|()| out.flush())
        .map_err(|e| Error::io(context(), e))?;
    out.get_ref()
        .sync_all()
        .map_err(|e| Error::io(context(), e))
}

fn read_file<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let corrupt = |reason: String| Error::Corrupt {
        what: "snapshot file",
        file: path.to_path_buf(),
        reason,
    };
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| Error::io(format!("reading snapshot file {}", path.display()), e))?;
    let body = unframe(MAGIC, &bytes).map_err(corrupt)?;
    postcard::from_bytes(body).map_err(|e| corrupt(e.to_string()))
}

/// Complete snapshots under `root`, newest first; removes leftover `.tmp` directories.
fn complete_snapshots(root: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let entries = match fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(format!("listing {}", root.display()), e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("listing {}", root.display()), e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".tmp") {
            tracing::warn!(dir = %entry.path().display(), "removing an unfinished snapshot");
            let _ = fs::remove_dir_all(entry.path());
        } else if let Ok(lsn) = name.parse::<u64>() {
            found.push((lsn, entry.path()));
        }
    }
    found.sort_by_key(|(lsn, _)| std::cmp::Reverse(*lsn));
    Ok(found)
}

/// The newest complete snapshot, if any.
pub fn load_latest(root: &Path) -> Result<Option<SnapshotImage>> {
    let Some((lsn, dir)) = complete_snapshots(root)?.into_iter().next() else {
        return Ok(None);
    };
    let manifest: Manifest = read_file(&dir.join("MANIFEST"))?;
    if manifest.lsn != lsn {
        return Err(Error::Corrupt {
            what: "snapshot manifest",
            file: dir.join("MANIFEST"),
            reason: format!("says LSN {}, directory says {lsn}", manifest.lsn),
        });
    }
    let mut collections = Vec::with_capacity(manifest.collections.len());
    for name in &manifest.collections {
        let path = dir.join(format!("{name}.snap"));
        let file: CollectionFile<'static> = read_file(&path)?;
        collections.push(collection_image(file, &path)?);
    }
    Ok(Some(image_of(&manifest, collections)))
}

/// Removes every complete snapshot older than `lsn`.
pub fn remove_older_than(root: &Path, lsn: u64) -> Result<()> {
    for (old, dir) in complete_snapshots(root)? {
        if old < lsn {
            fs::remove_dir_all(&dir)
                .map_err(|e| Error::io(format!("removing snapshot {}", dir.display()), e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(lsn: u64) -> SnapshotImage {
        SnapshotImage {
            lsn,
            clock: lsn + 3,
            last_record_hash: lsn * 7,
            lineage: vec![(1, [7; 16])],
            collections: vec![CollectionImage {
                spec: CollectionSpec {
                    name: "c-1".into(),
                    dimension: 2,
                    metric: Metric::L2,
                },
                logical_clock: lsn,
                points: vec![StoredPoint {
                    id: 9,
                    vector: vec![1.0, -2.0],
                    payload_json: r#"{"a":1}"#.into(),
                }],
            }],
        }
    }

    // Proves the newest snapshot is loaded intact, older ones can be removed, and a
    // damaged file is refused rather than half-loaded.
    #[test]
    fn write_load_prune_and_detect_corruption() {
        let root = tempfile::tempdir().unwrap();
        write(root.path(), &image(10)).unwrap();
        let newest = write(root.path(), &image(20)).unwrap();
        fs::create_dir(root.path().join("00000000000000000030.tmp")).unwrap();
        let loaded = load_latest(root.path()).unwrap().unwrap();
        assert_eq!(
            (loaded.lsn, loaded.clock, loaded.last_record_hash),
            (20, 23, 140)
        );
        assert_eq!(loaded.collections[0].points[0].vector, vec![1.0, -2.0]);
        remove_older_than(root.path(), 20).unwrap();
        assert_eq!(complete_snapshots(root.path()).unwrap().len(), 1);

        let file = newest.join("c-1.snap");
        let mut bytes = fs::read(&file).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        fs::write(&file, bytes).unwrap();
        let err = load_latest(root.path()).unwrap_err();
        assert!(err.to_string().contains("c-1.snap"), "{err}");
    }

    // Proves the stream form carries the same content, and a cut-off stream is refused.
    #[test]
    fn stream_image_round_trips_and_refuses_truncation() {
        let bytes = encode_image(&image(5));
        let back = decode_image(&bytes).unwrap();
        assert_eq!((back.lsn, back.clock, back.last_record_hash), (5, 8, 35));
        assert_eq!(back.lineage, vec![(1, [7; 16])]);
        assert_eq!(back.collections[0].spec.name, "c-1");
        assert_eq!(back.collections[0].points[0].payload_json, r#"{"a":1}"#);
        assert!(decode_image(&bytes[..bytes.len() - 3]).is_err());
    }
}
