//! Anti-entropy on one collection: reading a bucket's exact content in id-ordered chunks
//! (the leader, for repair records) and replacing a chunk's id range with it (every node,
//! when it applies a repair record).
//!
//! A chunk covers the ids `from..=to` of one bucket. The leader cuts chunks under its write
//! lock, so each is exact at its own LSN; later records follow it in the log on every
//! replica alike, so once all chunks of a bucket are applied the bucket equals the leader's
//! at every later LSN. Applying a chunk that matches changes nothing (idempotent), and the
//! clock is never touched: repair describes content, not history.

use std::collections::HashSet;

use super::{point_of, Collection};
use crate::digest::{bucket_of, entry_hash};
use crate::model::Point;

/// One chunk read from a bucket: its points and the last id it covers.
#[derive(Debug)]
pub struct BucketChunk {
    pub points: Vec<Point>,
    /// `u64::MAX` when no later id of the bucket remains.
    pub to: u64,
}

impl Collection {
    /// The points of `bucket` with ids from `from` on, in id order, up to `max_points` and
    /// about `max_bytes` (at least one point, however large).
    pub fn bucket_chunk(
        &self,
        bucket: usize,
        from: u64,
        max_points: usize,
        max_bytes: usize,
    ) -> BucketChunk {
        let state = self.state.read();
        let mut points = Vec::new();
        let mut bytes = 0;
        for (id, entry) in state.points.range(from..) {
            if bucket_of(*id) != bucket {
                continue;
            }
            let size = 16 + entry.vector.len() * 4 + payload_bytes(&entry.payload);
            if !points.is_empty() && (points.len() == max_points || bytes + size > max_bytes) {
                let to = points.last().map_or(from, |p: &Point| p.id);
                return BucketChunk { points, to };
            }
            bytes += size;
            points.push(point_of(*id, entry));
        }
        BucketChunk {
            points,
            to: u64::MAX,
        }
    }

    /// Makes the ids `from..=to` of `bucket` hold exactly `points`: others there are
    /// removed, differing ones replaced, equal ones left alone (not even re-indexed).
    /// Returns how many points changed. The logical clock does not move.
    pub fn apply_repair(&self, bucket: usize, from: u64, to: u64, points: Vec<Point>) -> u64 {
        let mut state = self.state.write();
        let inside = |id: u64| bucket_of(id) == bucket && (from..=to).contains(&id);
        let keep: HashSet<u64> = points.iter().map(|p| p.id).collect();
        let stale: Vec<u64> = state
            .points
            .range(from..=to)
            .map(|(id, _)| *id)
            .filter(|id| inside(*id) && !keep.contains(id))
            .collect();
        let mut changed = stale.len() as u64;
        for id in stale {
            state.take(id);
        }
        for point in points {
            if !inside(point.id) {
                tracing::error!(
                    id = point.id,
                    bucket,
                    "repair record holds a foreign id; skipped"
                );
                continue;
            }
            let hash = entry_hash(point.id, &point.vector, &point.payload);
            if state
                .points
                .get(&point.id)
                .is_some_and(|e| e.entry_hash == hash)
            {
                continue;
            }
            changed += 1;
            state.put(point);
        }
        state.grow_index(&self.spec);
        changed
    }
}

fn payload_bytes(payload: &serde_json::Map<String, serde_json::Value>) -> usize {
    serde_json::to_vec(payload).map_or(0, |v| v.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CollectionSpec, Metric};
    use serde_json::json;

    fn point(id: u64, tag: &str) -> Point {
        Point {
            id,
            vector: vec![id as f32, 1.0],
            payload: json!({ "tag": tag }).as_object().unwrap().clone(),
        }
    }

    fn collection(points: Vec<Point>, clock: u64) -> Collection {
        let c = Collection::new(
            CollectionSpec {
                name: "c".into(),
                dimension: 2,
                metric: Metric::L2,
            },
            0,
        );
        c.apply_upsert(points, clock);
        c
    }

    fn chunks(c: &Collection, bucket: usize, max_points: usize) -> Vec<(u64, BucketChunk)> {
        let mut out = Vec::new();
        let mut from = 0;
        loop {
            let chunk = c.bucket_chunk(bucket, from, max_points, usize::MAX);
            let to = chunk.to;
            out.push((from, chunk));
            if to == u64::MAX {
                return out;
            }
            from = to + 1;
        }
    }

    // Proves chunks cover a bucket exactly, and applying them to a drifted copy (an extra
    // id, a changed payload, a missing id, other buckets untouched) makes its digest equal
    // the source's without moving the clock; a second application changes nothing.
    #[test]
    fn chunked_repair_makes_a_bucket_equal_and_is_idempotent() {
        let ids: Vec<u64> = (0..40).map(|i| 5 + 256 * i).chain([6, 7]).collect();
        let source = collection(ids.iter().map(|id| point(*id, "ok")).collect(), 9);
        let drifted = collection(ids.iter().map(|id| point(*id, "ok")).collect(), 9);
        drifted.apply_upsert(vec![point(5 + 256 * 3, "bad"), point(5 + 256 * 99, "x")], 0);
        drifted.apply_delete(&[5 + 256 * 7], 0);
        drifted.apply_upsert(vec![point(6, "other bucket differs")], 0);
        let parts = chunks(&source, 5, 7);
        assert_eq!(parts.len(), 6, "40 points in chunks of 7");
        let covered: usize = parts.iter().map(|(_, c)| c.points.len()).sum();
        assert_eq!(covered, 40);
        let mut changed = 0;
        for (from, chunk) in &parts {
            changed += drifted.apply_repair(5, *from, chunk.to, chunk.points.clone());
        }
        assert_eq!(changed, 3, "one replaced, one removed, one restored");
        let (clock, digest) = drifted.digest();
        let (_, want) = source.digest();
        assert_eq!(clock, 9);
        assert_eq!(digest.buckets()[5], want.buckets()[5]);
        assert_ne!(
            digest.buckets()[6],
            want.buckets()[6],
            "bucket 6 not repaired"
        );
        for (from, chunk) in parts {
            assert_eq!(drifted.apply_repair(5, from, chunk.to, chunk.points), 0);
        }
    }

    // Proves an empty source bucket empties the target's bucket and one large point still
    // makes a chunk.
    #[test]
    fn empty_source_clears_and_large_points_still_chunk() {
        let target = collection(vec![point(1, "a"), point(257, "b")], 1);
        assert_eq!(target.apply_repair(1, 0, u64::MAX, Vec::new()), 2);
        assert_eq!(target.digest().1.bucket_counts()[1], 0);
        let source = collection(vec![point(1, "a"), point(257, "b")], 1);
        let chunk = source.bucket_chunk(1, 0, 100, 1);
        assert_eq!((chunk.points.len(), chunk.to), (1, 1));
    }
}
