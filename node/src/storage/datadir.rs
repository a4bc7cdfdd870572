//! The data directory itself: its exclusive lock and the node's immutable identity.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::error::{Error, Result};

/// An open, locked data directory. The lock is released when this is dropped (or the
/// process dies: it is an OS advisory lock, so a SIGKILLed node never leaves it stale).
#[derive(Debug)]
pub struct DataDir {
    root: PathBuf,
    _lock: File,
    node_id: Uuid,
}

impl DataDir {
    /// Creates the directory if needed, takes the lock, and reads or makes the node id.
    pub fn open(root: &Path) -> Result<DataDir> {
        fs::create_dir_all(root)
            .map_err(|e| Error::io(format!("creating data directory {}", root.display()), e))?;
        let lock_path = root.join("LOCK");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(format!("opening {}", lock_path.display()), e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::DataDirLocked {
                    dir: root.to_path_buf(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io(format!("locking {}", lock_path.display()), e))
            }
        }
        // Create the subdirectories here and fsync the root once, so their entries survive a
        // power loss (an fsync of a file does not make its parent's entry durable).
        for sub in ["wal", "snapshots"] {
            let path = root.join(sub);
            fs::create_dir_all(&path)
                .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
        }
        sync_dir(root)?;
        let node_id = load_or_create_node_id(root)?;
        Ok(DataDir {
            root: root.to_path_buf(),
            _lock: lock,
            node_id,
        })
    }

    pub fn node_id(&self) -> Uuid {
        self.node_id
    }

    pub fn wal_dir(&self) -> PathBuf {
        self.root.join("wal")
    }

    pub fn snapshots_dir(&self) -> PathBuf {
        self.root.join("snapshots")
    }

    fn install_marker_path(&self) -> PathBuf {
        self.root.join("INSTALLING")
    }

    /// Records, durably, that a snapshot from the leader at `lsn` is being installed: until
    /// [`DataDir::clear_install_marker`], recovery lets that snapshot replace the WAL.
    pub fn set_install_marker(&self, lsn: u64) -> Result<()> {
        write_durably(&self.install_marker_path(), format!("{lsn}\n").as_bytes())
    }

    /// The LSN of an install that did not finish, if any.
    pub fn install_marker(&self) -> Result<Option<u64>> {
        let path = self.install_marker_path();
        match fs::read_to_string(&path) {
            Ok(text) => text.trim().parse().map(Some).map_err(|_| Error::Corrupt {
                what: "install marker",
                file: path.clone(),
                reason: format!("not an LSN: {text:?}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }

    pub fn clear_install_marker(&self) -> Result<()> {
        let path = self.install_marker_path();
        match fs::remove_file(&path) {
            Ok(()) => sync_dir(&self.root),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!("removing {}", path.display()), e)),
        }
    }
}

fn load_or_create_node_id(root: &Path) -> Result<Uuid> {
    let path = root.join("node_id");
    match fs::read_to_string(&path) {
        Ok(text) => Uuid::parse_str(text.trim()).map_err(|e| Error::Corrupt {
            what: "node id",
            file: path.clone(),
            reason: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let id = Uuid::new_v4();
            write_durably(&path, format!("{id}\n").as_bytes())?;
            tracing::info!(node_id = %id, "created a new node identity");
            Ok(id)
        }
        Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
    }
}

/// Writes a small file so that it is either absent or complete after a crash:
/// temp file, fsync, rename, fsync of the directory.
pub fn write_durably(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let context = |what: &str| format!("{what} {}", tmp.display());
    let mut file = File::create(&tmp).map_err(|e| Error::io(context("creating"), e))?;
    file.write_all(bytes)
        .map_err(|e| Error::io(context("writing"), e))?;
    file.sync_all()
        .map_err(|e| Error::io(context("syncing"), e))?;
    fs::rename(&tmp, path).map_err(|e| Error::io(context("renaming"), e))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Makes a rename or a new file in `dir` durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(format!("syncing directory {}", dir.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Proves the node id survives reopening and a second opener is refused while locked.
    #[test]
    fn identity_is_stable_and_directory_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDir::open(dir.path()).unwrap();
        let id = first.node_id();
        let second = DataDir::open(dir.path()).unwrap_err();
        assert!(matches!(second, Error::DataDirLocked { .. }), "{second}");
        drop(first);
        assert_eq!(DataDir::open(dir.path()).unwrap().node_id(), id);
    }
}
