//! The live tail: the newest WAL records kept in memory, so the leader streams them to
//! caught-up followers without touching the disk.
//!
//! A byte-bounded window of consecutive records (newest last). Records enter in LSN order
//! under the engine's write lock, right after their WAL append. A reader asks for records
//! from its next LSN; if that LSN already left the window (the follower was too slow, or
//! came from far behind), the answer is `Behind` and the reader goes to the WAL on disk
//! instead — a slow follower is switched to WAL reading, never dropped. The window always
//! keeps the newest record even when that one alone is over the byte bound.

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;

/// One WAL record as it was appended.
#[derive(Debug, PartialEq, Eq)]
pub struct TailRecord {
    pub lsn: u64,
    pub body: Vec<u8>,
}

/// The reader's next LSN is older than the window: read the WAL instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Behind {
    /// Oldest LSN still in the window.
    pub oldest: u64,
}

pub struct LiveTail {
    bytes_max: usize,
    inner: Mutex<Window>,
}

struct Window {
    records: VecDeque<Arc<TailRecord>>,
    bytes: usize,
    /// LSN the next pushed record must carry.
    next_lsn: u64,
}

impl LiveTail {
    /// An empty window whose first record will be `next_lsn`.
    pub fn new(bytes_max: usize, next_lsn: u64) -> LiveTail {
        LiveTail {
            bytes_max,
            inner: Mutex::new(Window {
                records: VecDeque::new(),
                bytes: 0,
                next_lsn,
            }),
        }
    }

    /// Adds the newest record, evicting the oldest ones beyond the byte bound. An LSN that
    /// does not follow the previous one empties the window first (never a gap inside it).
    pub fn push(&self, lsn: u64, body: Vec<u8>) {
        let mut w = self.inner.lock();
        if lsn != w.next_lsn {
            w.records.clear();
            w.bytes = 0;
        }
        w.bytes += body.len();
        w.records.push_back(Arc::new(TailRecord { lsn, body }));
        w.next_lsn = lsn + 1;
        while w.bytes > self.bytes_max && w.records.len() > 1 {
            let old = w.records.pop_front().expect("more than one record");
            w.bytes -= old.body.len();
        }
    }

    /// Empties the window; the next record will be `next_lsn` (after a snapshot install).
    pub fn reset(&self, next_lsn: u64) {
        let mut w = self.inner.lock();
        w.records.clear();
        w.bytes = 0;
        w.next_lsn = next_lsn;
    }

    /// Records `from..=until` in order, stopping once `budget_bytes` is reached (at least one
    /// record when any is due). Empty when `from > until` or nothing that new was pushed yet.
    pub fn read(
        &self,
        from: u64,
        until: u64,
        budget_bytes: usize,
    ) -> Result<Vec<Arc<TailRecord>>, Behind> {
        let w = self.inner.lock();
        let oldest = w.records.front().map_or(w.next_lsn, |r| r.lsn);
        if from < oldest {
            return Err(Behind { oldest });
        }
        let mut out = Vec::new();
        let mut bytes = 0;
        let start = (from - oldest) as usize;
        for record in w.records.iter().skip(start) {
            if record.lsn > until || (!out.is_empty() && bytes + record.body.len() > budget_bytes) {
                break;
            }
            bytes += record.body.len();
            out.push(Arc::clone(record));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lsns(records: &[Arc<TailRecord>]) -> Vec<u64> {
        records.iter().map(|r| r.lsn).collect()
    }

    // Proves the window keeps the newest records within its byte bound, answers ranges in
    // order, and tells a reader that fell out of it to go to the WAL.
    #[test]
    fn window_evicts_by_bytes_and_reports_behind() {
        let tail = LiveTail::new(30, 1);
        for lsn in 1..=5 {
            tail.push(lsn, vec![0; 10]);
        }
        assert_eq!(tail.read(1, 5, 1000), Err(Behind { oldest: 3 }));
        assert_eq!(lsns(&tail.read(3, 5, 1000).unwrap()), vec![3, 4, 5]);
        assert_eq!(lsns(&tail.read(4, 4, 1000).unwrap()), vec![4]);
        assert_eq!(lsns(&tail.read(3, 5, 15).unwrap()), vec![3]);
        assert!(tail.read(6, 9, 1000).unwrap().is_empty());
    }

    // Proves an oversized record still streams from memory, and a jump in LSNs never leaves
    // a gap inside the window.
    #[test]
    fn oversized_record_and_lsn_jump() {
        let tail = LiveTail::new(30, 1);
        tail.push(1, vec![0; 10]);
        tail.push(2, vec![0; 100]);
        assert_eq!(lsns(&tail.read(2, 2, 10).unwrap()), vec![2]);
        tail.push(10, vec![0; 1]);
        assert_eq!(tail.read(2, 10, 1000), Err(Behind { oldest: 10 }));
        tail.reset(50);
        assert_eq!(tail.read(49, 60, 1000), Err(Behind { oldest: 50 }));
        assert!(tail.read(50, 60, 1000).unwrap().is_empty());
    }
}
