//! Write-ahead log: opaque record bodies numbered by a gapless LSN (1, 2, 3, ...),
//! framed, checksummed and fsynced into segment files in one directory. Callers
//! encode and decode the bodies; this module never looks inside them.
//!
//! # On-disk format, version 001
//!
//! * A segment file is named `{first_lsn:020}.wal` (20 decimal digits, so names sort
//!   in LSN order) and starts with a 16-byte header: the magic `b"HSWAL001"` (the
//!   trailing `001` is the format version), then `first_lsn: u64 LE`, which must
//!   equal the LSN in the file name.
//! * Frames follow back to back, with no padding:
//!   `body_len: u32 LE | crc: u32 LE | lsn: u64 LE | body (body_len bytes)`.
//!   `crc` is CRC-32 (IEEE, as computed by `crc32fast`) over the 8 `lsn` bytes
//!   followed by the body. `body_len <= FRAME_BODY_BYTES_MAX` (64 MiB).
//! * LSNs are consecutive within a segment, starting at the header's `first_lsn`,
//!   and across segments: a segment's `first_lsn` is the previous one's last LSN + 1.
//!   A segment may hold no frames (its header still fixes the next LSN).
//! * A new segment is created atomically: header written to `{name}.tmp`, fsynced,
//!   renamed to `{name}`, directory fsynced. Before appends switch to a new segment
//!   the old one is fsynced in full. A new frame goes to a new segment when the
//!   active one already holds a frame and would grow past `segment_bytes_max`, or
//!   when [`Wal::rotate`] was called while it held a frame (the engine does so at
//!   each snapshot, so the segments the snapshot covers can be removed).
//!
//! # Recovery rule ([`Wal::open`])
//!
//! Every segment is checked frame by frame (length plausible, crc, LSN sequence,
//! header consistent with the file name and with the previous segment).
//! * A bad frame at the tail of the LAST segment, with nothing after it that parses
//!   as a valid frame (a crash mid-write, or garbage appended), is cut off: the file
//!   is truncated to the end of the last valid frame and fsynced, a warning names
//!   the file, offset and bytes removed, and [`WalRecovery::truncated`] reports it.
//!   "Valid frame after it" means: at any later byte offset, a frame whose length
//!   fits in the file, whose crc matches and whose LSN is above the last good one.
//! * Any other bad frame (one followed by a valid frame, any bad frame in a segment
//!   that is not the last, a checksum-valid frame with the wrong LSN, a bad header)
//!   is [`WalError::Corrupt`], naming file and byte offset. Missing or overlapping
//!   LSNs between segments are [`WalError::Gap`]. Nothing is silently skipped.
//! * A last segment shorter than its 16-byte header is removed with a warning;
//!   stale `*.tmp` files are removed too. An empty directory is an empty WAL.
//!
//! # Durability promise
//!
//! [`Wal::append`] only hands the frame to the OS. A record is durable once
//! [`Wal::durable_lsn`] is at or above its LSN, which [`Wal::sync_until`] ensures
//! before returning under [`FsyncPolicy::Always`] (fdatasync, shared by concurrent
//! callers: one fsync covers everything appended before it started). Under
//! [`FsyncPolicy::IntervalMs`] a background thread fsyncs every interval (and once
//! more when the `Wal` is dropped), so up to one interval of records can be lost in
//! a crash. After any failed write or fsync the WAL is poisoned: the failed fsync is
//! never retried and every later append or sync returns [`WalError::Poisoned`];
//! restarting (recovery) is the only way on. Reads keep working.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;

/// Largest record body accepted by [`Wal::append`] and by recovery.
pub const FRAME_BODY_BYTES_MAX: usize = 64 << 20;
/// Default for [`WalOptions::segment_bytes_max`].
pub const SEGMENT_BYTES_MAX_DEFAULT: u64 = 64 << 20;
/// Segment header magic; the last three bytes are the format version.
pub const SEGMENT_MAGIC: &[u8; 8] = b"HSWAL001";
const HEADER_LEN: usize = 16;
const FRAME_HEADER_LEN: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// `sync_until` fsyncs (group commit) before returning.
    Always,
    /// `sync_until` returns at once; a background thread fsyncs every N ms.
    IntervalMs(u64),
}

#[derive(Debug, Clone)]
pub struct WalOptions {
    pub dir: PathBuf,
    pub segment_bytes_max: u64,
    pub fsync: FsyncPolicy,
}

impl WalOptions {
    /// Options with the default segment size and `FsyncPolicy::Always`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        WalOptions {
            dir: dir.into(),
            segment_bytes_max: SEGMENT_BYTES_MAX_DEFAULT,
            fsync: FsyncPolicy::Always,
        }
    }
}

/// What [`Wal::open`] found.
#[derive(Debug, Clone, Default)]
pub struct WalRecovery {
    pub last_lsn: u64,
    /// Oldest LSN still on disk, 0 if the WAL holds no record.
    pub first_lsn: u64,
    pub truncated: Option<TruncatedTail>,
}

/// A torn or garbage tail cut off the last segment during recovery.
#[derive(Debug, Clone)]
pub struct TruncatedTail {
    pub file: PathBuf,
    pub offset: u64,
    pub bytes_removed: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WalError {
    #[error("WAL I/O error while {context}: {source}")]
    Io { context: String, source: io::Error },
    #[error("corrupt WAL record in {} at byte {offset}: {reason}", .file.display())]
    Corrupt {
        file: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("WAL segments are not contiguous: {} ends at LSN {prev_last_lsn} but {} starts at LSN {next_first_lsn}", .prev_file.display(), .next_file.display())]
    Gap {
        prev_file: PathBuf,
        prev_last_lsn: u64,
        next_file: PathBuf,
        next_first_lsn: u64,
    },
    #[error("the WAL is unavailable after a failed write or fsync; restart the node")]
    Poisoned,
    #[error("WAL record body is {bytes} bytes, more than the maximum of {max}")]
    TooLarge { bytes: usize, max: usize },
    #[error("WAL append out of order: expected LSN {expected}, got {got}")]
    LsnOutOfOrder { expected: u64, got: u64 },
    #[error("cannot sync through LSN {lsn}: the last LSN written is {last_lsn}")]
    NotWritten { lsn: u64, last_lsn: u64 },
    #[error("WAL records from LSN {from} are no longer retained; the oldest is LSN {first_lsn}")]
    NotRetained { from: u64, first_lsn: u64 },
    #[error("invalid WAL options: {0}")]
    InvalidOptions(String),
}

fn io_ctx<T>(r: io::Result<T>, context: impl FnOnce() -> String) -> Result<T, WalError> {
    r.map_err(|source| WalError::Io {
        context: context(),
        source,
    })
}

macro_rules! corrupt {
    ($file:expr, $offset:expr, $($reason:tt)+) => {
        WalError::Corrupt { file: $file.to_path_buf(), offset: $offset, reason: format!($($reason)+) }
    };
}

mod format;
mod reader;
#[cfg(test)]
mod tests;

use format::*;
pub use reader::WalReader;

#[derive(Debug, Clone)]
struct Segment {
    first_lsn: u64,
    path: PathBuf,
}

/// Append-side state, guarded by the append lock.
struct Active {
    file: Arc<File>,
    path: PathBuf,
    len: u64,
    /// All retained segments, oldest first; the last one is the active segment.
    segments: Vec<Segment>,
    buf: Vec<u8>,
}

struct Shared {
    dir: PathBuf,
    segment_bytes_max: u64,
    active: Mutex<Active>,
    /// Held by the one thread running an fsync for `sync_until`; never with `active`.
    sync_lock: Mutex<()>,
    last_lsn: AtomicU64,
    durable_lsn: AtomicU64,
    poisoned: AtomicBool,
    fail_next: AtomicBool,
}

impl Shared {
    fn check_poisoned(&self) -> Result<(), WalError> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(WalError::Poisoned);
        }
        Ok(())
    }

    fn poison<T>(&self, context: String, source: io::Error) -> Result<T, WalError> {
        self.poisoned.store(true, Ordering::Release);
        tracing::error!(%context, error = %source, "WAL write or fsync failed; the WAL is poisoned");
        Err(WalError::Io { context, source })
    }

    fn injected(&self) -> io::Result<()> {
        if self.fail_next.swap(false, Ordering::AcqRel) {
            return Err(io::Error::other("injected disk failure"));
        }
        Ok(())
    }

    fn append_locked(&self, a: &mut Active, lsn: u64, body: &[u8]) -> Result<(), WalError> {
        if body.len() > FRAME_BODY_BYTES_MAX {
            return Err(WalError::TooLarge {
                bytes: body.len(),
                max: FRAME_BODY_BYTES_MAX,
            });
        }
        self.check_poisoned()?;
        let frame_len = (FRAME_HEADER_LEN + body.len()) as u64;
        if let Err(e) = self.injected() {
            return self.poison(
                format!("appending WAL record {lsn} to {}", a.path.display()),
                e,
            );
        }
        if a.len > HEADER_LEN as u64 && a.len + frame_len > self.segment_bytes_max {
            self.rotate(a, lsn)?;
        }
        encode_frame(&mut a.buf, lsn, body);
        if let Err(e) = (&*a.file).write_all(&a.buf) {
            return self.poison(
                format!("appending WAL record {lsn} to {}", a.path.display()),
                e,
            );
        }
        if a.buf.capacity() > 1 << 20 {
            a.buf = Vec::new();
        }
        a.len += frame_len;
        self.last_lsn.store(lsn, Ordering::Release);
        Ok(())
    }

    /// Fsyncs the full active segment, then starts a new one at `next_lsn`.
    fn rotate(&self, a: &mut Active, next_lsn: u64) -> Result<(), WalError> {
        if let Err(e) = a.file.sync_data() {
            return self.poison(
                format!("fsyncing WAL segment {} before rotation", a.path.display()),
                e,
            );
        }
        self.durable_lsn.fetch_max(next_lsn - 1, Ordering::AcqRel);
        let (file, path) = match create_segment(&self.dir, next_lsn) {
            Ok(created) => created,
            Err(e) => {
                return self.poison(
                    format!(
                        "creating WAL segment for LSN {next_lsn} in {}",
                        self.dir.display()
                    ),
                    e,
                )
            }
        };
        a.segments.push(Segment {
            first_lsn: next_lsn,
            path: path.clone(),
        });
        (a.file, a.path, a.len) = (Arc::new(file), path, HEADER_LEN as u64);
        Ok(())
    }

    /// Group commit: one fsync at a time; it covers everything appended before it
    /// started, and callers whose LSN it covered return without their own fsync.
    fn sync_covering(&self, lsn: u64) -> Result<(), WalError> {
        let _leader = self.sync_lock.lock();
        if self.durable_lsn.load(Ordering::Acquire) >= lsn {
            return Ok(());
        }
        self.check_poisoned()?;
        let (file, path, target) = {
            let a = self.active.lock();
            (
                Arc::clone(&a.file),
                a.path.clone(),
                self.last_lsn.load(Ordering::Acquire),
            )
        };
        // Older segments were fsynced in full when they were rotated out.
        if let Err(e) = self.injected().and_then(|()| file.sync_data()) {
            return self.poison(format!("fsyncing WAL segment {}", path.display()), e);
        }
        self.durable_lsn.fetch_max(target, Ordering::AcqRel);
        Ok(())
    }
}

fn flusher_loop(shared: &Shared, stop: mpsc::Receiver<()>, interval: Duration) {
    loop {
        let stopping = !matches!(
            stop.recv_timeout(interval),
            Err(mpsc::RecvTimeoutError::Timeout)
        );
        let last = shared.last_lsn.load(Ordering::Acquire);
        if shared.poisoned.load(Ordering::Acquire)
            || (last > shared.durable_lsn.load(Ordering::Acquire)
                && shared.sync_covering(last).is_err())
            || stopping
        {
            return;
        }
    }
}

/// The write-ahead log. `Send + Sync`; share it as `Arc<Wal>`.
pub struct Wal {
    shared: Arc<Shared>,
    policy: FsyncPolicy,
    stop_flusher: Option<mpsc::Sender<()>>,
    flusher: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Wal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wal")
            .field("dir", &self.shared.dir)
            .field("last_lsn", &self.last_lsn())
            .field("durable_lsn", &self.durable_lsn())
            .field("poisoned", &self.is_poisoned())
            .finish()
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        drop(self.stop_flusher.take());
        if let Some(handle) = self.flusher.take() {
            let _ = handle.join();
        }
    }
}

impl Wal {
    /// Opens (or creates) the WAL in `opts.dir`, recovering as the module doc says.
    pub fn open(opts: WalOptions) -> Result<(Wal, WalRecovery), WalError> {
        if opts.fsync == FsyncPolicy::IntervalMs(0) {
            return Err(WalError::InvalidOptions(
                "fsync interval must be at least 1 ms".into(),
            ));
        }
        let dir = opts.dir.clone();
        io_ctx(fs::create_dir_all(&dir), || {
            format!("creating WAL directory {}", dir.display())
        })?;
        let Recovered {
            mut segments,
            mut last_lsn,
            truncated,
            fresh_first,
        } = recover_segments(&dir)?;
        let (file, len) = match segments.last() {
            Some(seg) => {
                let opened = OpenOptions::new()
                    .write(true)
                    .open(&seg.path)
                    .and_then(|mut f| {
                        let len = f.seek(SeekFrom::End(0))?;
                        f.sync_data()?; // what recovery read may have been in the page cache only
                        Ok((f, len))
                    });
                io_ctx(opened, || {
                    format!("opening WAL segment {}", seg.path.display())
                })?
            }
            None => {
                let created = create_segment(&dir, fresh_first);
                let (f, path) = io_ctx(created, || {
                    format!("creating the first WAL segment in {}", dir.display())
                })?;
                last_lsn = fresh_first - 1;
                segments.push(Segment {
                    first_lsn: fresh_first,
                    path,
                });
                (f, HEADER_LEN as u64)
            }
        };
        let oldest = segments[0].first_lsn;
        let recovery = WalRecovery {
            last_lsn,
            first_lsn: if last_lsn >= oldest { oldest } else { 0 },
            truncated,
        };
        let active = Active {
            file: Arc::new(file),
            path: segments[segments.len() - 1].path.clone(),
            len,
            segments,
            buf: Vec::new(),
        };
        let shared = Arc::new(Shared {
            dir,
            segment_bytes_max: opts.segment_bytes_max,
            active: Mutex::new(active),
            sync_lock: Mutex::new(()),
            last_lsn: AtomicU64::new(last_lsn),
            durable_lsn: AtomicU64::new(last_lsn),
            poisoned: AtomicBool::new(false),
            fail_next: AtomicBool::new(false),
        });
        let mut wal = Wal {
            shared,
            policy: opts.fsync,
            stop_flusher: None,
            flusher: None,
        };
        if let FsyncPolicy::IntervalMs(ms) = opts.fsync {
            let (tx, rx) = mpsc::channel();
            let shared = Arc::clone(&wal.shared);
            let spawned = std::thread::Builder::new()
                .name("wal-fsync".into())
                .spawn(move || flusher_loop(&shared, rx, Duration::from_millis(ms)));
            wal.flusher = Some(io_ctx(spawned, || "starting the WAL fsync thread".into())?);
            wal.stop_flusher = Some(tx);
        }
        Ok((wal, recovery))
    }

    /// Frames `body` under the next LSN and writes it to the OS (write(2)); returns the LSN. Not yet durable.
    pub fn append(&self, body: &[u8]) -> Result<u64, WalError> {
        let mut a = self.shared.active.lock();
        let lsn = self.shared.last_lsn.load(Ordering::Acquire) + 1;
        self.shared.append_locked(&mut a, lsn, body)?;
        Ok(lsn)
    }

    /// Appends under a given LSN, which must be `last_lsn() + 1` (else `LsnOutOfOrder`).
    pub fn append_at(&self, lsn: u64, body: &[u8]) -> Result<(), WalError> {
        let mut a = self.shared.active.lock();
        let expected = self.shared.last_lsn.load(Ordering::Acquire) + 1;
        if lsn != expected {
            return Err(WalError::LsnOutOfOrder { expected, got: lsn });
        }
        self.shared.append_locked(&mut a, lsn, body)
    }

    /// Makes every record up to `lsn` durable (see the module doc for each policy).
    pub fn sync_until(&self, lsn: u64) -> Result<(), WalError> {
        self.shared.check_poisoned()?;
        let last_lsn = self.last_lsn();
        if lsn > last_lsn {
            return Err(WalError::NotWritten { lsn, last_lsn });
        }
        if self.durable_lsn() >= lsn || self.policy != FsyncPolicy::Always {
            return Ok(());
        }
        self.shared.sync_covering(lsn)
    }

    /// Fsyncs everything appended so far, whatever the policy (e.g. before a snapshot or shutdown).
    pub fn sync_all(&self) -> Result<(), WalError> {
        self.shared.check_poisoned()?;
        self.shared.sync_covering(self.last_lsn())
    }

    pub fn last_lsn(&self) -> u64 {
        self.shared.last_lsn.load(Ordering::Acquire)
    }

    pub fn durable_lsn(&self) -> u64 {
        self.shared.durable_lsn.load(Ordering::Acquire)
    }

    /// Oldest LSN still on disk (0 if none).
    pub fn first_lsn(&self) -> u64 {
        let a = self.shared.active.lock();
        let oldest = a.segments[0].first_lsn;
        if self.last_lsn() >= oldest {
            oldest
        } else {
            0
        }
    }

    /// Reads records with `lsn >= from` (0 counts as 1) up to `last_lsn()` at the time
    /// of the call, in order, with its own file handles. `NotRetained` if some of them
    /// were already removed.
    pub fn read_from(&self, from: u64) -> Result<WalReader, WalError> {
        let (segments, until) = {
            let a = self.shared.active.lock();
            (a.segments.clone(), self.last_lsn())
        };
        let from = from.max(1);
        let first_lsn = segments[0].first_lsn;
        if from < first_lsn && from <= until {
            return Err(WalError::NotRetained { from, first_lsn });
        }
        let start = segments
            .iter()
            .rposition(|s| s.first_lsn <= from)
            .unwrap_or(0);
        let next_lsn = segments[start].first_lsn;
        let done = from > until;
        Ok(WalReader {
            segments: segments[start..].to_vec(),
            next_seg: 0,
            cur: None,
            next_lsn,
            from,
            until,
            done,
        })
    }

    /// Starts a new segment at `last_lsn() + 1` (after fsyncing the active one in full)
    /// if the active segment holds a frame; afterwards every record so far lies in
    /// segments that [`Wal::remove_segments_through`] can delete.
    pub fn rotate(&self) -> Result<(), WalError> {
        let mut a = self.shared.active.lock();
        self.shared.check_poisoned()?;
        if a.len <= HEADER_LEN as u64 {
            return Ok(());
        }
        let next_lsn = self.shared.last_lsn.load(Ordering::Acquire) + 1;
        self.shared.rotate(&mut a, next_lsn)
    }

    /// Deletes whole segments all of whose records have `lsn <=` the given LSN (never
    /// the active segment); returns how many were removed.
    pub fn remove_segments_through(&self, lsn: u64) -> Result<usize, WalError> {
        let mut a = self.shared.active.lock();
        let mut removed = 0;
        while a.segments.len() > 1 && a.segments[1].first_lsn - 1 <= lsn {
            let path = a.segments[0].path.clone();
            io_ctx(fs::remove_file(&path), || {
                format!("removing WAL segment {}", path.display())
            })?;
            a.segments.remove(0);
            removed += 1;
        }
        drop(a); // the directory fsync need not stall appends
        if removed > 0 {
            io_ctx(sync_dir(&self.shared.dir), || {
                format!("fsyncing WAL directory {}", self.shared.dir.display())
            })?;
        }
        Ok(removed)
    }

    /// Drops every record and continues the log at `next_lsn` (which may jump ahead): used
    /// when a follower installs its leader's snapshot at `next_lsn - 1`, after which its
    /// own older records mean nothing. The new (empty) segment is created durably before
    /// the old ones are removed, so a crash in between leaves a log that recovery reads
    /// (the old records, then a gap the caller's snapshot covers — see `Engine`).
    pub fn reset_to(&self, next_lsn: u64) -> Result<(), WalError> {
        let next_lsn = next_lsn.max(1);
        let mut a = self.shared.active.lock();
        self.shared.check_poisoned()?;
        let (file, path) = match create_segment(&self.shared.dir, next_lsn) {
            Ok(created) => created,
            Err(e) => {
                return self.shared.poison(
                    format!("creating WAL segment for LSN {next_lsn} (reset)"),
                    e,
                )
            }
        };
        let old = std::mem::replace(
            &mut a.segments,
            vec![Segment {
                first_lsn: next_lsn,
                path: path.clone(),
            }],
        );
        (a.file, a.path, a.len) = (Arc::new(file), path.clone(), HEADER_LEN as u64);
        self.shared.last_lsn.store(next_lsn - 1, Ordering::Release);
        self.shared
            .durable_lsn
            .store(next_lsn - 1, Ordering::Release);
        for segment in old.iter().filter(|s| s.path != path) {
            if let Err(e) = fs::remove_file(&segment.path) {
                return self.shared.poison(
                    format!("removing WAL segment {} (reset)", segment.path.display()),
                    e,
                );
            }
        }
        if let Err(e) = sync_dir(&self.shared.dir) {
            return self.shared.poison(
                format!("fsyncing WAL directory {}", self.shared.dir.display()),
                e,
            );
        }
        Ok(())
    }

    /// Fault injection for tests: the next append or fsync fails as if the disk failed.
    pub fn inject_failure(&self) {
        self.shared.fail_next.store(true, Ordering::Release);
    }

    pub fn is_poisoned(&self) -> bool {
        self.shared.poisoned.load(Ordering::Acquire)
    }

    /// Stops every later append and sync, as a failed fsync does: for a caller that can no
    /// longer keep its state in step with the log (say, an apply that failed after its
    /// record was appended). Reads go on; restarting (recovery) is the only way on.
    pub fn poison(&self, reason: &str) {
        self.shared.poisoned.store(true, Ordering::Release);
        tracing::error!(%reason, "the WAL is poisoned: writes are stopped until restart");
    }
}
