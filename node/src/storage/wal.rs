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

fn segment_path(dir: &Path, first_lsn: u64) -> PathBuf {
    dir.join(format!("{first_lsn:020}.wal"))
}

fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".wal")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())?
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

fn frame_crc(lsn_bytes: &[u8], body: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(lsn_bytes);
    h.update(body);
    h.finalize()
}

fn encode_frame(buf: &mut Vec<u8>, lsn: u64, body: &[u8]) {
    let lsn_bytes = lsn.to_le_bytes();
    buf.clear();
    buf.extend_from_slice(&(body.len() as u32).to_le_bytes());
    buf.extend_from_slice(&frame_crc(&lsn_bytes, body).to_le_bytes());
    buf.extend_from_slice(&lsn_bytes);
    buf.extend_from_slice(body);
}

/// Checks the frame at `pos` (length and crc, not the LSN sequence);
/// returns its LSN and end offset, or why it is not a valid frame.
fn check_frame(data: &[u8], pos: usize) -> Result<(u64, usize), String> {
    let rest = &data[pos..];
    if rest.len() < FRAME_HEADER_LEN {
        return Err(format!(
            "frame header cut off ({} of {FRAME_HEADER_LEN} bytes before end of file)",
            rest.len()
        ));
    }
    let body_len = le_u32(rest) as usize;
    if body_len > FRAME_BODY_BYTES_MAX {
        return Err(format!(
            "body length {body_len} exceeds the maximum {FRAME_BODY_BYTES_MAX}"
        ));
    }
    let end = FRAME_HEADER_LEN + body_len;
    if rest.len() < end {
        return Err(format!(
            "frame of {end} bytes extends past end of file ({} bytes left)",
            rest.len()
        ));
    }
    let (stored, computed) = (le_u32(&rest[4..]), frame_crc(&rest[8..16], &rest[16..end]));
    if stored != computed {
        return Err(format!(
            "checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
        ));
    }
    Ok((le_u64(&rest[8..]), pos + end))
}

/// Scans forward from `from` for any offset where a valid frame with an LSN in
/// `(last_good, lsn_bound]` parses. The LSN bound is a cheap filter before the crc.
fn find_valid_frame(
    data: &[u8],
    from: usize,
    last_good: u64,
    lsn_bound: u64,
) -> Option<(usize, u64)> {
    let last_start = data.len().checked_sub(FRAME_HEADER_LEN)?;
    (from..=last_start).find_map(|off| {
        let lsn = le_u64(&data[off + 8..]);
        if lsn <= last_good || lsn > lsn_bound {
            return None;
        }
        check_frame(data, off).ok().map(|_| (off, lsn))
    })
}

/// Scans one whole segment. Returns its last LSN (first - 1 if empty) and the end
/// of its valid frames; for the last segment that may be short of the file length.
fn scan_segment(
    path: &Path,
    data: &[u8],
    name_lsn: u64,
    is_last: bool,
) -> Result<(u64, usize), WalError> {
    if data.len() < HEADER_LEN {
        return Err(corrupt!(
            path,
            0,
            "segment header cut off ({} of {HEADER_LEN} bytes)",
            data.len()
        ));
    }
    if &data[..8] != SEGMENT_MAGIC {
        return Err(corrupt!(
            path,
            0,
            "bad magic {:?}, expected \"HSWAL001\"",
            String::from_utf8_lossy(&data[..8])
        ));
    }
    let first = le_u64(&data[8..]);
    if first != name_lsn || first == 0 || first > u64::MAX / 2 {
        return Err(corrupt!(
            path,
            8,
            "header first LSN {first} does not match file name LSN {name_lsn}"
        ));
    }
    let (mut pos, mut expected) = (HEADER_LEN, first);
    while pos < data.len() {
        match check_frame(data, pos) {
            Ok((lsn, end)) if lsn == expected => (pos, expected) = (end, expected + 1),
            Ok((lsn, _)) => {
                return Err(corrupt!(
                    path,
                    pos as u64,
                    "record has LSN {lsn}, expected {expected}"
                ))
            }
            Err(reason) if !is_last => {
                return Err(corrupt!(
                    path,
                    pos as u64,
                    "{reason}, in a segment that is not the last"
                ));
            }
            Err(reason) => {
                let bound = first.saturating_add((data.len() / FRAME_HEADER_LEN) as u64);
                if let Some((at, lsn)) = find_valid_frame(data, pos + 1, expected - 1, bound) {
                    return Err(corrupt!(
                        path,
                        pos as u64,
                        "{reason}; a valid record (LSN {lsn}) follows at byte {at}"
                    ));
                }
                return Ok((expected - 1, pos));
            }
        }
    }
    Ok((expected - 1, pos))
}

/// Creates a segment atomically (tmp file, fsync, rename, directory fsync).
fn create_segment(dir: &Path, first_lsn: u64) -> io::Result<(File, PathBuf)> {
    let path = segment_path(dir, first_lsn);
    let tmp = path.with_extension("wal.tmp");
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    f.write_all(SEGMENT_MAGIC)?;
    f.write_all(&first_lsn.to_le_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, &path)?;
    sync_dir(dir)?;
    Ok((f, path))
}

/// Lists `*.wal` segments sorted by LSN; removes stale `*.tmp` files.
fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, WalError> {
    let ctx = || format!("listing WAL directory {}", dir.display());
    let mut found = Vec::new();
    for entry in io_ctx(fs::read_dir(dir), ctx)? {
        let path = io_ctx(entry, ctx)?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.ends_with(".wal.tmp") {
            tracing::warn!(file = %path.display(), "removing unfinished WAL segment file");
            io_ctx(fs::remove_file(&path), || {
                format!("removing {}", path.display())
            })?;
        } else if let Some(lsn) = parse_segment_name(name) {
            found.push((lsn, path));
        }
    }
    found.sort();
    Ok(found)
}

/// What the segment scan of [`Wal::open`] found.
struct Recovered {
    segments: Vec<Segment>,
    last_lsn: u64,
    truncated: Option<TruncatedTail>,
    /// First LSN for a new segment if no segment is left.
    fresh_first: u64,
}

/// Checks every segment in LSN order, cutting a torn tail off the last one.
fn recover_segments(dir: &Path) -> Result<Recovered, WalError> {
    let found = list_segments(dir)?;
    let (mut segments, mut last_lsn, mut truncated) = (Vec::<Segment>::new(), 0u64, None);
    let mut fresh_first = 1;
    for (i, (name_lsn, path)) in found.iter().enumerate() {
        let is_last = i + 1 == found.len();
        let data = io_ctx(fs::read(path), || {
            format!("reading WAL segment {}", path.display())
        })?;
        if is_last && data.len() < HEADER_LEN {
            tracing::warn!(file = %path.display(), bytes = data.len(), "removing WAL segment with a torn header");
            io_ctx(fs::remove_file(path).and_then(|()| sync_dir(dir)), || {
                format!("removing {}", path.display())
            })?;
            truncated = Some(TruncatedTail {
                file: path.clone(),
                offset: 0,
                bytes_removed: data.len() as u64,
            });
            fresh_first = (*name_lsn).max(1);
            break;
        }
        if let Some(prev) = segments.last() {
            if *name_lsn != last_lsn + 1 {
                return Err(WalError::Gap {
                    prev_file: prev.path.clone(),
                    prev_last_lsn: last_lsn,
                    next_file: path.clone(),
                    next_first_lsn: *name_lsn,
                });
            }
        }
        let (seg_last, valid_end) = scan_segment(path, &data, *name_lsn, is_last)?;
        if valid_end < data.len() {
            let removed = (data.len() - valid_end) as u64;
            tracing::warn!(file = %path.display(), offset = valid_end, bytes_removed = removed, "truncating torn WAL tail");
            let cut = OpenOptions::new().write(true).open(path).and_then(|f| {
                f.set_len(valid_end as u64)?;
                f.sync_all()
            });
            io_ctx(cut, || {
                format!("truncating torn tail of {}", path.display())
            })?;
            truncated = Some(TruncatedTail {
                file: path.clone(),
                offset: valid_end as u64,
                bytes_removed: removed,
            });
        }
        last_lsn = seg_last;
        segments.push(Segment {
            first_lsn: *name_lsn,
            path: path.clone(),
        });
    }
    Ok(Recovered {
        segments,
        last_lsn,
        truncated,
        fresh_first,
    })
}

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

    /// Fault injection for tests: the next append or fsync fails as if the disk failed.
    pub fn inject_failure(&self) {
        self.shared.fail_next.store(true, Ordering::Release);
    }

    pub fn is_poisoned(&self) -> bool {
        self.shared.poisoned.load(Ordering::Acquire)
    }
}

/// Iterator over `(lsn, body)` returned by [`Wal::read_from`]; stops after the first error.
pub struct WalReader {
    segments: Vec<Segment>,
    next_seg: usize,
    cur: Option<SegmentCursor>,
    next_lsn: u64,
    from: u64,
    until: u64,
    done: bool,
}

struct SegmentCursor {
    file: BufReader<File>,
    path: PathBuf,
    offset: u64,
}

/// Reads until `buf` is full or EOF; returns the byte count.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl WalReader {
    fn open_segment(&mut self) -> Result<SegmentCursor, WalError> {
        let seg = &self.segments[self.next_seg];
        let ctx = || format!("reading WAL segment {}", seg.path.display());
        let mut file = BufReader::new(io_ctx(File::open(&seg.path), ctx)?);
        let mut header = [0u8; HEADER_LEN];
        if io_ctx(read_full(&mut file, &mut header), ctx)? < HEADER_LEN
            || &header[..8] != SEGMENT_MAGIC
        {
            return Err(corrupt!(&seg.path, 0, "bad or cut-off segment header"));
        }
        if le_u64(&header[8..]) != seg.first_lsn || seg.first_lsn != self.next_lsn {
            let prev = &self.segments[self.next_seg.saturating_sub(1)];
            return Err(WalError::Gap {
                prev_file: prev.path.clone(),
                prev_last_lsn: self.next_lsn - 1,
                next_file: seg.path.clone(),
                next_first_lsn: le_u64(&header[8..]),
            });
        }
        self.next_seg += 1;
        Ok(SegmentCursor {
            file,
            path: seg.path.clone(),
            offset: HEADER_LEN as u64,
        })
    }

    fn read_next(&mut self) -> Result<(u64, Vec<u8>), WalError> {
        loop {
            if self.cur.is_none() {
                self.cur = Some(self.open_segment()?);
            }
            let Some(c) = self.cur.as_mut() else { continue };
            let ctx = || format!("reading WAL segment {}", c.path.display());
            let mut hdr = [0u8; FRAME_HEADER_LEN];
            let n = io_ctx(read_full(&mut c.file, &mut hdr), ctx)?;
            if n == 0 && self.next_seg < self.segments.len() {
                self.cur = None;
                continue;
            }
            if n < FRAME_HEADER_LEN {
                let reason = format!(
                    "segment ends before LSN {} ({n} bytes of a frame header)",
                    self.next_lsn
                );
                return Err(corrupt!(&c.path, c.offset, "{reason}"));
            }
            let (body_len, lsn) = (le_u32(&hdr) as usize, le_u64(&hdr[8..]));
            if body_len > FRAME_BODY_BYTES_MAX || lsn != self.next_lsn {
                let reason = format!(
                    "frame with body length {body_len} and LSN {lsn}, expected LSN {}",
                    self.next_lsn
                );
                return Err(corrupt!(&c.path, c.offset, "{reason}"));
            }
            let frame_start = c.offset;
            c.offset += (FRAME_HEADER_LEN + body_len) as u64;
            self.next_lsn += 1;
            if lsn < self.from {
                io_ctx(c.file.seek_relative(body_len as i64), ctx)?;
                continue;
            }
            let mut body = vec![0u8; body_len];
            if io_ctx(read_full(&mut c.file, &mut body), ctx)? < body_len {
                return Err(corrupt!(&c.path, frame_start, "frame body cut off"));
            }
            if frame_crc(&hdr[8..], &body) != le_u32(&hdr[4..]) {
                return Err(corrupt!(&c.path, frame_start, "checksum mismatch"));
            }
            return Ok((lsn, body));
        }
    }
}

impl Iterator for WalReader {
    type Item = Result<(u64, Vec<u8>), WalError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.next_lsn > self.until {
            return None;
        }
        let item = self.read_next();
        self.done = item.is_err();
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one helper: opens the WAL in `dir` with `segment_bytes_max` and `FsyncPolicy::Always`.
    fn open(dir: &Path, segment_bytes_max: u64) -> Result<(Wal, WalRecovery), WalError> {
        Wal::open(WalOptions {
            dir: dir.to_path_buf(),
            segment_bytes_max,
            fsync: FsyncPolicy::Always,
        })
    }

    fn body(i: u64) -> Vec<u8> {
        (0..i % 37 + 3).map(|j| (i * 31 + j) as u8).collect()
    }

    fn fill(wal: &Wal, lsns: std::ops::RangeInclusive<u64>) {
        lsns.for_each(|i| assert_eq!(wal.append(&body(i)).unwrap(), i));
    }

    fn records(wal: &Wal, from: u64) -> Vec<(u64, Vec<u8>)> {
        wal.read_from(from)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn expected(lsns: std::ops::RangeInclusive<u64>) -> Vec<(u64, Vec<u8>)> {
        lsns.map(|i| (i, body(i))).collect()
    }

    fn seg_file(dir: &Path) -> PathBuf {
        segment_path(dir, 1)
    }

    /// Writes 5 records to a fresh WAL; returns (file bytes, offset of each frame).
    fn five_records(dir: &Path) -> (Vec<u8>, Vec<usize>) {
        let (wal, _) = open(dir, SEGMENT_BYTES_MAX_DEFAULT).unwrap();
        let mut starts = Vec::new();
        for i in 1..=5 {
            starts.push(fs::metadata(seg_file(dir)).unwrap().len() as usize);
            assert_eq!(wal.append(&body(i)).unwrap(), i);
        }
        wal.sync_until(5).unwrap();
        (fs::read(seg_file(dir)).unwrap(), starts)
    }

    #[test]
    fn append_and_reopen_returns_same_records() {
        // Records appended and synced come back unchanged, with last_lsn, after a reopen.
        let dir = tempfile::tempdir().unwrap();
        let (wal, rec) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
        assert_eq!((rec.last_lsn, rec.first_lsn, wal.first_lsn()), (0, 0, 0));
        for i in 1..=20 {
            assert_eq!(wal.append(&body(i)).unwrap(), i);
        }
        wal.sync_until(20).unwrap();
        assert_eq!(
            (wal.durable_lsn(), records(&wal, 0)),
            (20, expected(1..=20))
        );
        drop(wal);
        let (wal, rec) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
        assert!(rec.truncated.is_none());
        assert_eq!((rec.last_lsn, rec.first_lsn, wal.last_lsn()), (20, 1, 20));
        assert_eq!(records(&wal, 1), expected(1..=20));
        assert_eq!(wal.append(b"x").unwrap(), 21);
    }

    #[test]
    fn rotate_on_demand_lets_covered_segments_go() {
        // rotate() starts a segment only after a frame; then removal frees all before it.
        let dir = tempfile::tempdir().unwrap();
        let (wal, _) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
        fill(&wal, 1..=5);
        wal.rotate().unwrap();
        wal.rotate().unwrap();
        assert_eq!(wal.durable_lsn(), 5, "rotation fsyncs the old segment");
        let names: Vec<u64> = list_segments(dir.path())
            .unwrap()
            .iter()
            .map(|s| s.0)
            .collect();
        assert_eq!(names, vec![1, 6]);
        assert_eq!(wal.remove_segments_through(5).unwrap(), 1);
        drop(wal);
        let (wal, rec) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
        assert_eq!((rec.last_lsn, rec.first_lsn), (5, 0));
        assert_eq!(wal.append(&body(6)).unwrap(), 6);
        assert_eq!(records(&wal, 6), expected(6..=6));
    }

    #[test]
    fn rotation_read_from_middle_and_segment_removal() {
        // Tiny segments rotate; read_from works mid-WAL; removal keeps later records readable.
        let dir = tempfile::tempdir().unwrap();
        let (wal, _) = open(dir.path(), 150).unwrap();
        for i in 1..=50 {
            wal.append(&body(i)).unwrap();
        }
        let segs = list_segments(dir.path()).unwrap();
        assert!(segs.len() > 5, "only {} segments", segs.len());
        assert!(
            wal.durable_lsn() >= segs.last().unwrap().0 - 1,
            "rotation fsyncs the old segment"
        );
        assert_eq!(records(&wal, 23), expected(23..=50));
        assert_eq!(records(&wal, 51), vec![]);
        drop(wal);
        let (wal, rec) = open(dir.path(), 150).unwrap();
        assert_eq!((rec.last_lsn, rec.first_lsn), (50, 1));
        assert_eq!(records(&wal, 1), expected(1..=50));
        let removed = wal.remove_segments_through(20).unwrap();
        let first = wal.first_lsn();
        assert!(
            removed > 0 && first > 1 && first <= 21,
            "removed {removed}, first {first}"
        );
        assert_eq!(
            list_segments(dir.path()).unwrap().len(),
            segs.len() - removed
        );
        assert_eq!(records(&wal, 21), expected(21..=50));
        assert!(matches!(
            wal.read_from(1),
            Err(WalError::NotRetained { from: 1, .. })
        ));
        assert!(wal.remove_segments_through(u64::MAX).unwrap() > 0);
        assert_eq!(
            list_segments(dir.path()).unwrap().len(),
            1,
            "the active segment stays"
        );
        drop(wal);
        let (wal, rec) = open(dir.path(), 150).unwrap();
        assert_eq!(rec.last_lsn, 50);
        assert_eq!(wal.append(&body(51)).unwrap(), 51);
        assert_eq!(
            records(&wal, wal.first_lsn()).last().unwrap(),
            &(51, body(51))
        );
    }

    #[test]
    fn torn_tail_at_every_offset_is_truncated() {
        // A crash at any byte inside the last frame loses only that record, is reported, and LSNs continue.
        let src = tempfile::tempdir().unwrap();
        let (full, starts) = five_records(src.path());
        let last_start = starts[4];
        for cut in last_start..full.len() {
            let dir = tempfile::tempdir().unwrap();
            fs::write(seg_file(dir.path()), &full[..cut]).unwrap();
            let (wal, rec) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
            assert_eq!(rec.last_lsn, 4, "cut at {cut}");
            match &rec.truncated {
                None => assert_eq!(cut, last_start),
                Some(t) => assert_eq!(
                    (t.offset, t.bytes_removed),
                    (last_start as u64, (cut - last_start) as u64)
                ),
            }
            assert_eq!(
                fs::metadata(seg_file(dir.path())).unwrap().len(),
                last_start as u64
            );
            assert_eq!(records(&wal, 1), expected(1..=4));
            assert_eq!(wal.append(&body(5)).unwrap(), 5);
            wal.sync_until(5).unwrap();
            drop(wal);
            let (wal, rec) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
            assert!(rec.truncated.is_none());
            assert_eq!(records(&wal, 1), expected(1..=5));
        }
    }

    #[test]
    fn random_garbage_tail_is_truncated() {
        // Garbage after the last valid record is cut off and every valid record is kept.
        let src = tempfile::tempdir().unwrap();
        let (full, _) = five_records(src.path());
        for seed in 1..=10u64 {
            let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut next = || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            };
            let n = (next() % 300 + 1) as usize;
            let mut bytes = full.clone();
            bytes.extend((0..n).map(|_| next() as u8));
            let dir = tempfile::tempdir().unwrap();
            fs::write(seg_file(dir.path()), &bytes).unwrap();
            let (wal, rec) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
            let t = rec.truncated.expect("garbage reported");
            assert_eq!(
                (t.offset, t.bytes_removed, rec.last_lsn),
                (full.len() as u64, n as u64, 5),
                "seed {seed}"
            );
            assert_eq!(records(&wal, 1), expected(1..=5));
        }
    }

    #[test]
    fn flipped_bit_in_a_middle_record_is_corrupt() {
        // A damaged record with a valid one after it (or in a non-last segment) is an error naming file and offset.
        let src = tempfile::tempdir().unwrap();
        let (full, starts) = five_records(src.path());
        let mid = starts[2];
        for (what, at) in [("body", mid + 17), ("length", mid), ("crc", mid + 5)] {
            let mut bytes = full.clone();
            bytes[at] ^= 0x01;
            let dir = tempfile::tempdir().unwrap();
            fs::write(seg_file(dir.path()), &bytes).unwrap();
            let err = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).expect_err(what);
            let msg = err.to_string();
            assert!(
                msg.contains(&seg_file(dir.path()).display().to_string())
                    && msg.contains(&format!("byte {mid}")),
                "{what}: {msg}"
            );
            assert!(
                matches!(err, WalError::Corrupt { offset, .. } if offset == mid as u64),
                "{what}: {msg}"
            );
        }
        // The last record of a segment that is not the last one.
        let dir = tempfile::tempdir().unwrap();
        let (wal, _) = open(dir.path(), 150).unwrap();
        fill(&wal, 1..=20);
        drop(wal);
        let first_seg = &list_segments(dir.path()).unwrap()[0].1;
        let mut bytes = fs::read(first_seg).unwrap();
        let len = bytes.len();
        bytes[len - 1] ^= 0x80;
        fs::write(first_seg, &bytes).unwrap();
        assert!(
            matches!(open(dir.path(), 150), Err(WalError::Corrupt { file, .. }) if &file == first_seg)
        );
    }

    #[test]
    fn missing_segment_is_a_gap() {
        // A deleted middle segment makes open fail with Gap naming the neighbouring files.
        let dir = tempfile::tempdir().unwrap();
        let (wal, _) = open(dir.path(), 150).unwrap();
        fill(&wal, 1..=30);
        drop(wal);
        let segs = list_segments(dir.path()).unwrap();
        fs::remove_file(&segs[1].1).unwrap();
        match open(dir.path(), 150) {
            Err(WalError::Gap {
                prev_file,
                next_file,
                ..
            }) => assert_eq!(
                (prev_file, next_file),
                (segs[0].1.clone(), segs[2].1.clone())
            ),
            other => panic!("expected Gap, got {:?}", other.err()),
        }
    }

    #[test]
    fn torn_header_of_last_segment_is_removed() {
        // A last segment shorter than its header is removed and the WAL continues from the previous one.
        let dir = tempfile::tempdir().unwrap();
        let (wal, _) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
        fill(&wal, 1..=3);
        drop(wal);
        fs::write(segment_path(dir.path(), 4), &SEGMENT_MAGIC[..5]).unwrap();
        fs::write(
            segment_path(dir.path(), 4).with_extension("wal.tmp"),
            b"junk",
        )
        .unwrap();
        let (wal, rec) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
        assert_eq!((rec.last_lsn, rec.truncated.unwrap().bytes_removed), (3, 5));
        assert_eq!(list_segments(dir.path()).unwrap().len(), 1);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "tmp file removed"
        );
        assert_eq!(wal.append(&body(4)).unwrap(), 4);
        assert_eq!(records(&wal, 1), expected(1..=4));
    }

    #[test]
    fn injected_failure_poisons_but_reads_still_work() {
        // A failed write or fsync returns the I/O error once, then Poisoned; earlier records stay readable.
        for fail_in_sync in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let (wal, _) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
            fill(&wal, 1..=3);
            wal.sync_until(3).unwrap();
            if fail_in_sync {
                wal.append(&body(4)).unwrap();
                wal.inject_failure();
                assert!(matches!(wal.sync_until(4), Err(WalError::Io { .. })));
            } else {
                wal.inject_failure();
                assert!(matches!(wal.append(&body(4)), Err(WalError::Io { .. })));
            }
            assert!(wal.is_poisoned());
            assert!(matches!(wal.append(b"x"), Err(WalError::Poisoned)));
            assert!(matches!(
                wal.append_at(wal.last_lsn() + 1, b"x"),
                Err(WalError::Poisoned)
            ));
            assert!(matches!(wal.sync_until(3), Err(WalError::Poisoned)));
            assert_eq!(wal.durable_lsn(), 3);
            assert_eq!(records(&wal, 1)[..3], expected(1..=3)[..]);
            drop(wal);
            let (wal, rec) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
            assert!(!wal.is_poisoned() && rec.last_lsn >= 3);
        }
    }

    #[test]
    fn append_at_refuses_wrong_lsn_and_oversized_body() {
        // append_at only accepts last_lsn()+1; bodies over the maximum are refused without poisoning.
        let dir = tempfile::tempdir().unwrap();
        let (wal, _) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
        assert!(matches!(
            wal.append_at(2, b"a"),
            Err(WalError::LsnOutOfOrder {
                expected: 1,
                got: 2
            })
        ));
        wal.append_at(1, b"a").unwrap();
        assert!(matches!(
            wal.append_at(1, b"b"),
            Err(WalError::LsnOutOfOrder {
                expected: 2,
                got: 1
            })
        ));
        assert!(matches!(
            wal.append_at(3, b"b"),
            Err(WalError::LsnOutOfOrder {
                expected: 2,
                got: 3
            })
        ));
        assert!(matches!(
            wal.sync_until(2),
            Err(WalError::NotWritten {
                lsn: 2,
                last_lsn: 1
            })
        ));
        let big = vec![0u8; FRAME_BODY_BYTES_MAX + 1];
        assert!(matches!(wal.append(&big), Err(WalError::TooLarge { .. })));
        assert!(!wal.is_poisoned());
        assert_eq!(records(&wal, 1), vec![(1, b"a".to_vec())]);
    }

    #[test]
    fn group_commit_under_concurrent_appends() {
        // Threads appending and syncing concurrently (across rotations) end fully durable with gapless LSNs.
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Wal>();
        let dir = tempfile::tempdir().unwrap();
        let wal = Arc::new(open(dir.path(), 4096).unwrap().0);
        let threads: Vec<_> = (0..4u8)
            .map(|t| {
                let wal = Arc::clone(&wal);
                std::thread::spawn(move || {
                    for i in 0..150u8 {
                        let lsn = wal.append(&[t, i]).unwrap();
                        wal.sync_until(lsn).unwrap();
                        assert!(wal.durable_lsn() >= lsn);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!((wal.last_lsn(), wal.durable_lsn()), (600, 600));
        let all = records(&wal, 1);
        assert!(all
            .iter()
            .enumerate()
            .all(|(i, (lsn, _))| *lsn == i as u64 + 1));
        for t in 0..4u8 {
            let mine: Vec<u8> = all
                .iter()
                .filter(|(_, b)| b[0] == t)
                .map(|(_, b)| b[1])
                .collect();
            assert_eq!(
                mine,
                (0..150).collect::<Vec<u8>>(),
                "thread {t} records in order"
            );
        }
        drop(wal);
        assert_eq!(open(dir.path(), 4096).unwrap().1.last_lsn, 600);
    }

    #[test]
    fn interval_policy_syncs_in_background() {
        // Under IntervalMs, sync_until returns at once and the background thread makes records durable.
        let dir = tempfile::tempdir().unwrap();
        let opts = WalOptions {
            fsync: FsyncPolicy::IntervalMs(5),
            ..WalOptions::new(dir.path())
        };
        let (wal, _) = Wal::open(opts).unwrap();
        let lsn = wal.append(b"a").unwrap();
        wal.sync_until(lsn).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while wal.durable_lsn() < lsn && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(wal.durable_lsn(), lsn);
        drop(wal); // joins the fsync thread
        let zero = WalOptions {
            fsync: FsyncPolicy::IntervalMs(0),
            ..WalOptions::new(dir.path())
        };
        assert!(matches!(Wal::open(zero), Err(WalError::InvalidOptions(_))));
    }
}
