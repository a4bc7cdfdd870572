//! Exact k-NN by scanning every stored vector.
//!
//! Vectors are kept densely (one contiguous `Vec<f32>`, swap-remove on delete) so a scan is a
//! linear pass over memory. Search is O(n·dim) per query, under a shared lock; writes take the
//! exclusive lock. Used for small collections and as ground truth for the HNSW index.

use std::collections::HashMap;

use parking_lot::RwLock;

use super::{
    score, validate, Filter, Hit, IndexError, IndexKind, Metric, SearchParams, TopK, VectorIndex,
};

pub struct FlatIndex {
    metric: Metric,
    dimension: usize,
    store: RwLock<Dense>,
}

#[derive(Default)]
struct Dense {
    /// `ids[slot]` owns `data[slot * dim .. (slot + 1) * dim]`.
    ids: Vec<u64>,
    data: Vec<f32>,
    slot_of: HashMap<u64, usize>,
}

impl FlatIndex {
    pub fn new(metric: Metric, dimension: usize) -> Result<Self, IndexError> {
        if dimension == 0 {
            return Err(IndexError::ZeroDimension);
        }
        Ok(FlatIndex {
            metric,
            dimension,
            store: RwLock::new(Dense::default()),
        })
    }

    pub fn metric(&self) -> Metric {
        self.metric
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }
}

impl VectorIndex for FlatIndex {
    fn kind(&self) -> IndexKind {
        IndexKind::Flat
    }

    fn len(&self) -> usize {
        self.store.read().ids.len()
    }

    fn upsert(&self, id: u64, vector: &[f32]) -> Result<(), IndexError> {
        validate(self.metric, self.dimension, vector)?;
        let dim = self.dimension;
        let mut s = self.store.write();
        match s.slot_of.get(&id) {
            Some(&slot) => s.data[slot * dim..(slot + 1) * dim].copy_from_slice(vector),
            None => {
                let slot = s.ids.len();
                s.ids.push(id);
                s.data.extend_from_slice(vector);
                s.slot_of.insert(id, slot);
            }
        }
        Ok(())
    }

    fn remove(&self, id: u64) -> Result<(), IndexError> {
        let dim = self.dimension;
        let mut s = self.store.write();
        let Some(slot) = s.slot_of.remove(&id) else {
            return Ok(());
        };
        let last = s.ids.len() - 1;
        if slot != last {
            let moved = s.ids[last];
            s.ids[slot] = moved;
            s.data.copy_within(last * dim..(last + 1) * dim, slot * dim);
            s.slot_of.insert(moved, slot);
        }
        s.ids.pop();
        s.data.truncate(last * dim);
        Ok(())
    }

    fn search(
        &self,
        query: &[f32],
        params: SearchParams,
        filter: Option<Filter<'_>>,
    ) -> Result<Vec<Hit>, IndexError> {
        validate(self.metric, self.dimension, query)?;
        if params.top_k == 0 {
            return Ok(Vec::new());
        }
        let mut top = TopK::new(self.metric, params.top_k);
        let s = self.store.read();
        for (&id, v) in s.ids.iter().zip(s.data.chunks_exact(self.dimension)) {
            if filter.is_none_or(|f| f(id)) {
                top.push(Hit {
                    id,
                    score: score(self.metric, query, v),
                });
            }
        }
        drop(s);
        Ok(top.into_sorted())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::check;
    use super::*;

    fn flat(metric: Metric, dim: usize) -> FlatIndex {
        FlatIndex::new(metric, dim).unwrap()
    }

    #[test]
    fn upsert_replace_remove() {
        // Proves upsert inserts, a second upsert replaces the vector, and remove (also of absent ids) works.
        let idx = flat(Metric::L2, 2);
        assert!(idx.is_empty());
        idx.upsert(1, &[0.0, 0.0]).unwrap();
        idx.upsert(2, &[1.0, 0.0]).unwrap();
        idx.upsert(3, &[2.0, 0.0]).unwrap();
        assert_eq!(idx.len(), 3);
        check(&idx, &[0.1, 0.0], 3, None, &[1, 2, 3]);
        idx.upsert(1, &[5.0, 0.0]).unwrap();
        assert_eq!(idx.len(), 3);
        let hits = check(&idx, &[0.1, 0.0], 3, None, &[2, 3, 1]);
        assert!((hits[2].score - 4.9).abs() < 1e-5);
        idx.remove(2).unwrap();
        idx.remove(2).unwrap();
        idx.remove(99).unwrap();
        assert_eq!(idx.len(), 2);
        check(&idx, &[0.1, 0.0], 10, None, &[3, 1]);
        // The swap-removed slot kept the right vector.
        idx.remove(1).unwrap();
        check(&idx, &[2.0, 0.0], 10, None, &[3]);
        idx.remove(3).unwrap();
        assert!(idx.is_empty());
        check(&idx, &[2.0, 0.0], 10, None, &[]);
        idx.upsert(u64::MAX, &[1.0, 1.0]).unwrap();
        check(&idx, &[2.0, 0.0], 10, None, &[u64::MAX]);
    }

    #[test]
    fn ordering_per_metric() {
        // Proves best-first order per metric: similarity descending for cosine/dot, distance ascending for l2/poincare.
        let points: [(u64, [f32; 2]); 4] = [
            (10, [0.1, 0.0]),
            (11, [0.5, 0.1]),
            (12, [-0.3, 0.4]),
            (13, [0.0, -0.6]),
        ];
        let q = [0.4, 0.0];
        for (metric, expected) in [
            // cos: 1, 0.98, -0.6, 0
            (Metric::Cosine, [10, 11, 13, 12]),
            // dot: 0.04, 0.2, -0.12, 0
            (Metric::Dot, [11, 10, 13, 12]),
            // l2: 0.3, 0.14, 0.81, 0.72
            (Metric::L2, [11, 10, 13, 12]),
            (Metric::Poincare, [11, 10, 13, 12]),
        ] {
            let idx = flat(metric, 2);
            for (id, v) in points {
                idx.upsert(id, &v).unwrap();
            }
            let hits = check(&idx, &q, 4, None, &expected);
            for h in &hits {
                let v = points.iter().find(|p| p.0 == h.id).unwrap().1;
                assert_eq!(h.score, score(metric, &q, &v));
            }
            check(&idx, &q, 2, None, &expected[..2]);
        }
    }

    #[test]
    fn ties_break_by_ascending_id() {
        // Proves equal scores come out in ascending id order, also when the heap evicts (top_k < n).
        for metric in [Metric::L2, Metric::Dot, Metric::Cosine] {
            let idx = flat(metric, 2);
            for id in [9u64, 3, 7, 1, 5] {
                idx.upsert(id, &[1.0, 1.0]).unwrap();
            }
            check(&idx, &[1.0, 1.0], 5, None, &[1, 3, 5, 7, 9]);
            check(&idx, &[1.0, 1.0], 3, None, &[1, 3, 5]);
        }
        // -0.0 and 0.0 are the same score.
        let idx = flat(Metric::Dot, 2);
        idx.upsert(2, &[0.0, 1.0]).unwrap();
        idx.upsert(1, &[0.0, -1.0]).unwrap();
        check(&idx, &[-1.0, 0.0], 2, None, &[1, 2]);
    }

    #[test]
    fn filter_restricts_hits() {
        // Proves only ids accepted by the filter are returned, still best first and capped at top_k.
        let idx = flat(Metric::L2, 1);
        for id in 0..20u64 {
            idx.upsert(id, &[id as f32]).unwrap();
        }
        let odd = |id: u64| id % 2 == 1;
        check(&idx, &[0.0], 3, Some(&odd), &[1, 3, 5]);
        let none = |_: u64| false;
        check(&idx, &[0.0], 3, Some(&none), &[]);
    }
}
