//! Sequential reading of WAL records from a given LSN, with file handles of its own so
//! appends can go on meanwhile (recovery replay, and later the replication stream).

use super::format::{le_u32, le_u64};
use super::*;

/// Iterator over `(lsn, body)` returned by [`Wal::read_from`]; stops after the first error.
pub struct WalReader {
    pub(super) segments: Vec<Segment>,
    pub(super) next_seg: usize,
    pub(super) cur: Option<SegmentCursor>,
    pub(super) next_lsn: u64,
    pub(super) from: u64,
    pub(super) until: u64,
    pub(super) done: bool,
}

pub(super) struct SegmentCursor {
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
