//! The segment and frame format of the WAL and the recovery scan (spec in the parent
//! module doc): encoding and checking frames, listing segments, truncating a torn tail.

use super::*;

pub(super) fn segment_path(dir: &Path, first_lsn: u64) -> PathBuf {
    dir.join(format!("{first_lsn:020}.wal"))
}

pub(super) fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".wal")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())?
}

pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

pub(super) fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

pub(super) fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

pub(super) fn frame_crc(lsn_bytes: &[u8], body: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(lsn_bytes);
    h.update(body);
    h.finalize()
}

pub(super) fn encode_frame(buf: &mut Vec<u8>, lsn: u64, body: &[u8]) {
    let lsn_bytes = lsn.to_le_bytes();
    buf.clear();
    buf.extend_from_slice(&(body.len() as u32).to_le_bytes());
    buf.extend_from_slice(&frame_crc(&lsn_bytes, body).to_le_bytes());
    buf.extend_from_slice(&lsn_bytes);
    buf.extend_from_slice(body);
}

/// Checks the frame at `pos` (length and crc, not the LSN sequence);
/// returns its LSN and end offset, or why it is not a valid frame.
pub(super) fn check_frame(data: &[u8], pos: usize) -> Result<(u64, usize), String> {
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
pub(super) fn find_valid_frame(
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
pub(super) fn scan_segment(
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
pub(super) fn create_segment(dir: &Path, first_lsn: u64) -> io::Result<(File, PathBuf)> {
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
pub(super) fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, WalError> {
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
pub(super) struct Recovered {
    pub(super) segments: Vec<Segment>,
    pub(super) last_lsn: u64,
    pub(super) truncated: Option<TruncatedTail>,
    /// First LSN for a new segment if no segment is left.
    pub(super) fresh_first: u64,
}

/// Checks every segment in LSN order, cutting a torn tail off the last one.
pub(super) fn recover_segments(dir: &Path) -> Result<Recovered, WalError> {
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
