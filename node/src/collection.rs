//! One collection in memory: its points (the source of truth for reads and the digest), the
//! digest kept in O(1) per write, the vector index derived from the points, and its
//! `logical_clock` (the stamp of the last write applied to it).
//!
//! A collection is changed only by `apply_*`, called by the engine in LSN order on the
//! leader, during recovery and on followers alike. It does no I/O and knows nothing about
//! the WAL or transports. Small collections use the exact flat index; once a collection
//! passes `FLAT_INDEX_POINTS_MAX` points it is moved to HNSW for good.
//!
//! # Deferred HNSW indexing
//! An HNSW insert costs ~100–200 µs, far more than the rest of a write, so writes do not
//! wait for it: `apply_upsert` stores the point (readable, in the digest, durable once the
//! WAL says so) and marks its id *pending*. Searches score pending points exactly and take
//! the rest from the graph, skipping graph entries of pending ids (their vector there may be
//! stale), so every write is searchable the moment it is acknowledged and results are never
//! worse than the graph's. Background indexer threads ([`Collection::index_pending`], driven
//! by the engine) insert pending points into the graph in chunks without holding the state
//! lock; an id is un-pended only if its entry is unchanged since it was claimed, and an id
//! deleted meanwhile is taken back out of the graph. Ingest is then bounded by the WAL, not
//! by graph construction, and a restart or snapshot install makes the node ready before its
//! graph is rebuilt.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use parking_lot::RwLock;
use serde_json::{Map, Value};

use crate::digest::{bucket_of, entry_hash, Digest};
use crate::index::{new_index, score, sort_hits, Hit, IndexKind, SearchParams, TopK, VectorIndex};
use crate::limits::FLAT_INDEX_POINTS_MAX;
use crate::model::{CollectionInfo, CollectionSpec, Point, ScoredPoint, ScrollPage, SearchQuery};
use crate::storage::record::StoredPoint;

mod repair;

struct Entry {
    vector: Vec<f32>,
    payload: Map<String, Value>,
    entry_hash: u64,
    /// Bumped by every write of this id (even one with identical content): an indexer
    /// settles an id only if no write happened since it claimed it.
    version: u64,
}

struct State {
    points: BTreeMap<u64, Entry>,
    digest: Digest,
    /// Shared so indexer threads insert into it without holding the state lock.
    index: Arc<dyn VectorIndex>,
    /// HNSW only: ids whose current vector is not in the graph yet (searched exactly).
    pending: BTreeSet<u64>,
    /// Pending ids an indexer thread is inserting right now.
    claimed: HashSet<u64>,
    /// Source of `Entry::version`.
    writes: u64,
    logical_clock: u64,
}

pub struct Collection {
    spec: CollectionSpec,
    state: RwLock<State>,
}

impl State {
    /// Stores a point, replacing any previous one of its id (digest follows).
    fn put(&mut self, point: Point) {
        if self.index.kind() == IndexKind::Flat {
            self.index
                .upsert(point.id, &point.vector)
                .expect("index accepts a validated vector");
        } else {
            self.pending.insert(point.id);
        }
        self.writes += 1;
        let (id, entry) = entry_of(point, self.writes);
        self.digest.insert(id, entry.entry_hash);
        if let Some(old) = self.points.insert(id, entry) {
            self.digest.remove(id, old.entry_hash);
        }
    }

    /// Removes a point; whether it was live.
    fn take(&mut self, id: u64) -> bool {
        let Some(old) = self.points.remove(&id) else {
            return false;
        };
        self.digest.remove(id, old.entry_hash);
        self.index.remove(id).expect("index removes a known id");
        self.pending.remove(&id);
        true
    }

    /// Moves a flat collection that outgrew `FLAT_INDEX_POINTS_MAX` to HNSW (for good).
    fn grow_index(&mut self, spec: &CollectionSpec) {
        if self.index.kind() == IndexKind::Flat && self.points.len() > FLAT_INDEX_POINTS_MAX {
            self.index = index_for(spec, IndexKind::Hnsw);
            self.pending = self.points.keys().copied().collect();
            self.claimed.clear();
        }
    }
}

fn index_for(spec: &CollectionSpec, kind: IndexKind) -> Arc<dyn VectorIndex> {
    Arc::from(
        new_index(kind, spec.metric, spec.dimension)
            .expect("creating an empty index of a validated spec cannot fail"),
    )
}

impl Collection {
    /// An empty collection whose `logical_clock` is the stamp of the write that created it.
    pub fn new(spec: CollectionSpec, logical_clock: u64) -> Collection {
        let index = index_for(&spec, IndexKind::Flat);
        Collection {
            spec,
            state: RwLock::new(State {
                points: BTreeMap::new(),
                digest: Digest::default(),
                index,
                pending: BTreeSet::new(),
                claimed: HashSet::new(),
                writes: 0,
                logical_clock,
            }),
        }
    }

    pub fn spec(&self) -> &CollectionSpec {
        &self.spec
    }

    /// Applies an upsert stamped `stamp`: each point replaces any previous one of its id.
    /// On HNSW the graph insert is deferred (see the module docs).
    pub fn apply_upsert(&self, points: Vec<Point>, stamp: u64) {
        let mut state = self.state.write();
        for point in points {
            state.put(point);
        }
        state.grow_index(&self.spec);
        state.logical_clock = state.logical_clock.max(stamp);
    }

    /// Applies a delete stamped `stamp`; returns how many of `ids` were live.
    pub fn apply_delete(&self, ids: &[u64], stamp: u64) -> u64 {
        let mut state = self.state.write();
        let deleted = ids.iter().filter(|id| state.take(**id)).count() as u64;
        state.logical_clock = state.logical_clock.max(stamp);
        deleted
    }

    /// Loads a snapshot image; used once, on an empty collection, during recovery. A large
    /// collection's graph is built in the background (its points are pending until then).
    pub fn load(&self, points: Vec<Point>, logical_clock: u64) {
        let mut state = self.state.write();
        assert!(
            state.points.is_empty(),
            "a snapshot loads into an empty collection"
        );
        for point in points {
            state.writes += 1;
            let (id, entry) = entry_of(point, state.writes);
            state.digest.insert(id, entry.entry_hash);
            let previous = state.points.insert(id, entry);
            assert!(previous.is_none(), "snapshot holds id {id} twice");
        }
        if state.points.len() > FLAT_INDEX_POINTS_MAX {
            state.index = index_for(&self.spec, IndexKind::Hnsw);
            state.pending = state.points.keys().copied().collect();
        } else {
            state.index = build_index(&self.spec, IndexKind::Flat, &state.points);
        }
        state.logical_clock = logical_clock;
    }

    /// Points written but not yet in the HNSW graph (0 on a flat index).
    pub fn unindexed(&self) -> u64 {
        self.state.read().pending.len() as u64
    }

    /// Inserts up to `max` pending points into the graph; returns how many it inserted (0:
    /// nothing to do). Several threads may call it at once: each claims different ids. The
    /// state lock is held only to claim and to settle, never during graph inserts. A failed
    /// insert (usearch out of memory) releases the claims and leaves the ids pending, still
    /// searched exactly.
    pub fn index_pending(&self, max: usize) -> usize {
        let (index, work) = {
            let mut state = self.state.write();
            let state = &mut *state;
            let work: Vec<(u64, Vec<f32>, u64)> = state
                .pending
                .iter()
                .filter(|id| !state.claimed.contains(id))
                .take(max)
                .map(|id| {
                    let entry = &state.points[id];
                    (*id, entry.vector.clone(), entry.version)
                })
                .collect();
            if work.is_empty() {
                return 0;
            }
            state.claimed.extend(work.iter().map(|(id, _, _)| *id));
            (Arc::clone(&state.index), work)
        };
        let mut failed = None;
        for (id, vector, _) in &work {
            if let Err(e) = index.upsert(*id, vector) {
                failed = Some(e);
                break;
            }
        }
        let mut state = self.state.write();
        let current = Arc::ptr_eq(&state.index, &index) && failed.is_none();
        for (id, _, version) in &work {
            state.claimed.remove(id);
            if !current {
                continue; // replaced meanwhile (its own pending set rules), or failed
            }
            match state.points.get(id) {
                // Deleted meanwhile: the insert above put it back into the graph.
                None => index.remove(*id).expect("index removes a known id"),
                Some(entry) if entry.version == *version => {
                    state.pending.remove(id);
                }
                Some(_) => {} // written again meanwhile: stays pending, indexed again later
            }
        }
        if let Some(e) = failed {
            tracing::error!(collection = %self.spec.name, error = %e,
                "HNSW insert failed; the points stay pending (searched exactly)");
            return 0;
        }
        work.len()
    }

    pub fn info(&self) -> CollectionInfo {
        let state = self.state.read();
        CollectionInfo {
            spec: self.spec.clone(),
            count: state.digest.count(),
            logical_clock: state.logical_clock,
            unindexed: state.pending.len() as u64,
            index: match state.index.kind() {
                IndexKind::Flat => "flat",
                IndexKind::Hnsw => "hnsw",
            },
        }
    }

    /// (count, logical_clock, state_hash) without copying the buckets.
    pub fn summary(&self) -> (u64, u64, u64) {
        let state = self.state.read();
        (
            state.digest.count(),
            state.logical_clock,
            state.digest.state_hash(),
        )
    }

    pub fn digest(&self) -> (u64, Digest) {
        let state = self.state.read();
        (state.logical_clock, state.digest.clone())
    }

    pub fn get(&self, id: u64) -> Option<Point> {
        let state = self.state.read();
        state.points.get(&id).map(|entry| point_of(id, entry))
    }

    pub fn scroll(&self, after: Option<u64>, limit: usize) -> ScrollPage {
        let state = self.state.read();
        let points: Vec<Point> = state
            .points
            .range(after_bound(after))
            .take(limit)
            .map(|(id, e)| point_of(*id, e))
            .collect();
        // A cursor only when more points follow; `Excluded` also works at id u64::MAX.
        let next_after = match points.last() {
            Some(last)
                if points.len() == limit
                    && state
                        .points
                        .range(after_bound(Some(last.id)))
                        .next()
                        .is_some() =>
            {
                Some(last.id)
            }
            _ => None,
        };
        ScrollPage { points, next_after }
    }

    /// Ids and entry hashes of one bucket, in id order.
    pub fn bucket(&self, bucket: usize) -> Vec<(u64, u64)> {
        let state = self.state.read();
        state
            .points
            .iter()
            .filter(|(id, _)| bucket_of(**id) == bucket)
            .map(|(id, entry)| (*id, entry.entry_hash))
            .collect()
    }

    pub fn search(&self, query: &SearchQuery) -> Vec<ScoredPoint> {
        let state = self.state.read();
        let params = SearchParams {
            top_k: query.top_k,
            ef: query.ef,
        };
        let points = &state.points;
        let pending = &state.pending;
        let wanted = |id: u64| match &query.filter {
            None => true,
            Some(filter) => points
                .get(&id)
                .is_some_and(|e| matches_filter(&e.payload, filter)),
        };
        // While indexers work, the graph can briefly hold an id deleted after it was claimed:
        // filter on liveness then, so it cannot take a place in the top k.
        let settling = !state.claimed.is_empty();
        let mut hits: Vec<Hit> = if pending.is_empty() && !settling {
            let keep = |id: u64| wanted(id);
            let filter: Option<&(dyn Fn(u64) -> bool + Sync)> = match &query.filter {
                None => None,
                Some(_) => Some(&keep),
            };
            state.index.search(&query.vector, params, filter)
        } else {
            // The graph may hold stale vectors of pending ids: skip them there and score
            // every pending point exactly instead.
            let keep = |id: u64| {
                !pending.contains(&id) && (!settling || points.contains_key(&id)) && wanted(id)
            };
            state.index.search(&query.vector, params, Some(&keep))
        }
        .expect("index searches a validated query");
        if !pending.is_empty() {
            let mut exact = TopK::new(self.spec.metric, query.top_k);
            for id in pending.iter().copied().filter(|id| wanted(*id)) {
                exact.push(Hit {
                    id,
                    score: score(self.spec.metric, &query.vector, &points[&id].vector),
                });
            }
            hits.extend(exact.into_sorted());
            sort_hits(self.spec.metric, &mut hits);
            hits.truncate(query.top_k);
        }
        hits.into_iter()
            .filter_map(|hit| {
                points.get(&hit.id).map(|entry| ScoredPoint {
                    id: hit.id,
                    score: hit.score,
                    payload: entry.payload.clone(),
                })
            })
            .collect()
    }

    /// Every point in stored form, for a snapshot.
    pub fn image_points(&self) -> (u64, Vec<StoredPoint>) {
        let state = self.state.read();
        let points = state
            .points
            .iter()
            .map(|(id, entry)| StoredPoint::from_point(&point_of(*id, entry)))
            .collect();
        (state.logical_clock, points)
    }
}

/// The ids strictly after `after` (all ids when `None`).
fn after_bound(after: Option<u64>) -> (Bound<u64>, Bound<u64>) {
    match after {
        Some(after) => (Bound::Excluded(after), Bound::Unbounded),
        None => (Bound::Unbounded, Bound::Unbounded),
    }
}

/// A point as stored, with its entry hash computed once.
fn entry_of(point: Point, version: u64) -> (u64, Entry) {
    let entry_hash = entry_hash(point.id, &point.vector, &point.payload);
    let entry = Entry {
        vector: point.vector,
        payload: point.payload,
        entry_hash,
        version,
    };
    (point.id, entry)
}

fn point_of(id: u64, entry: &Entry) -> Point {
    Point {
        id,
        vector: entry.vector.clone(),
        payload: entry.payload.clone(),
    }
}

fn build_index(
    spec: &CollectionSpec,
    kind: IndexKind,
    points: &BTreeMap<u64, Entry>,
) -> Arc<dyn VectorIndex> {
    let index = index_for(spec, kind);
    for (id, entry) in points {
        index
            .upsert(*id, &entry.vector)
            .expect("index accepts a stored vector");
    }
    index
}

/// Payload equality filter: every key of `filter` is present with an equal value. Numbers
/// compare by value (1 equals 1.0), as JSON does.
fn matches_filter(payload: &Map<String, Value>, filter: &Map<String, Value>) -> bool {
    filter
        .iter()
        .all(|(key, want)| payload.get(key).is_some_and(|have| json_equal(have, want)))
}

fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || (x.as_f64().is_some() && x.as_f64() == y.as_f64())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Metric;
    use crate::synth::{Clustered, Rng};

    fn collection(metric: Metric, dimension: usize) -> Collection {
        let spec = CollectionSpec {
            name: "c".into(),
            dimension,
            metric,
        };
        Collection::new(spec, 1)
    }

    fn point(id: u64, vector: Vec<f32>) -> Point {
        Point {
            id,
            vector,
            payload: Map::new(),
        }
    }

    fn query(vector: Vec<f32>, top_k: usize) -> SearchQuery {
        SearchQuery {
            vector,
            top_k,
            ef: None,
            filter: None,
        }
    }

    fn exact(c: &Collection, q: &[f32], top_k: usize) -> Vec<(u64, f32)> {
        let state = c.state.read();
        let mut top = TopK::new(c.spec.metric, top_k);
        for (id, entry) in &state.points {
            top.push(Hit {
                id: *id,
                score: score(c.spec.metric, q, &entry.vector),
            });
        }
        top.into_sorted()
            .into_iter()
            .map(|h| (h.id, h.score))
            .collect()
    }

    // Proves a point is searchable the moment it is applied: with the whole collection
    // pending, results equal the exact scan; once indexed, recall stays high.
    #[test]
    fn pending_points_are_searched_exactly_until_indexed() {
        let c = collection(Metric::Cosine, 16);
        let mut data = Clustered::new(5, 16, 12);
        let points: Vec<Point> = (0..3_000).map(|id| point(id, data.point())).collect();
        for chunk in points.chunks(500) {
            c.apply_upsert(chunk.to_vec(), 2);
        }
        assert_eq!(c.info().index, "hnsw");
        assert_eq!(c.unindexed(), 3_000, "nothing indexed yet");
        let queries: Vec<Vec<f32>> = (0..40).map(|_| data.point()).collect();
        for q in &queries {
            let got: Vec<(u64, f32)> = c
                .search(&query(q.clone(), 10))
                .iter()
                .map(|p| (p.id, p.score))
                .collect();
            assert_eq!(got, exact(&c, q, 10));
        }
        while c.index_pending(64) > 0 {}
        assert_eq!(c.unindexed(), 0);
        let mut found = 0;
        for q in &queries {
            let truth: Vec<u64> = exact(&c, q, 10).iter().map(|(id, _)| *id).collect();
            let got = c.search(&query(q.clone(), 10));
            found += got.iter().filter(|p| truth.contains(&p.id)).count();
        }
        assert!(
            found as f64 / 400.0 >= 0.95,
            "recall {}",
            found as f64 / 400.0
        );
    }

    // Proves rewrites, deletes and delete + identical re-inserts racing two indexer threads
    // settle right: a concurrent searcher always gets a full top 10 (no deleted id takes a
    // place), and afterwards every live id is found by its current vector (not a stale one)
    // and no deleted id is left in the graph.
    #[test]
    fn rewrites_and_deletes_during_indexing_settle_to_the_current_data() {
        use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
        let c = Arc::new(collection(Metric::L2, 8));
        let mut rng = Rng::new(9);
        let ids = 2_000_u64;
        let mut current: BTreeMap<u64, Vec<f32>> = (0..ids).map(|id| (id, rng.vector(8))).collect();
        let batch = current
            .iter()
            .map(|(id, v)| point(*id, v.clone()))
            .collect();
        c.apply_upsert(batch, 2);
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads: Vec<_> = (0..2)
            .map(|_| {
                let (c, stop) = (Arc::clone(&c), Arc::clone(&stop));
                std::thread::spawn(move || {
                    while !stop.load(SeqCst) {
                        if c.index_pending(16) == 0 {
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        let (searcher, stop_search) = (Arc::clone(&c), Arc::clone(&stop));
        threads.push(std::thread::spawn(move || {
            let mut rng = Rng::new(11);
            while !stop_search.load(SeqCst) {
                let got = searcher.search(&query(rng.vector(8), 10));
                assert_eq!(got.len(), 10, "a full top 10 while indexing");
            }
        }));
        for round in 0..600_u64 {
            let id = rng.next_u64() % ids;
            let stamp = 3 + round;
            match round % 3 {
                0 => {
                    c.apply_delete(&[id], stamp);
                    current.remove(&id);
                }
                1 => {
                    // Delete, then write back exactly the same point.
                    let vector = current.get(&id).cloned().unwrap_or_else(|| rng.vector(8));
                    c.apply_delete(&[id], stamp);
                    c.apply_upsert(vec![point(id, vector.clone())], stamp);
                    current.insert(id, vector);
                }
                _ => {
                    let vector = rng.vector(8);
                    c.apply_upsert(vec![point(id, vector.clone())], stamp);
                    current.insert(id, vector);
                }
            }
        }
        stop.store(true, SeqCst);
        for t in threads {
            t.join().unwrap();
        }
        while c.index_pending(64) > 0 {}
        assert_eq!(c.unindexed(), 0);
        for (id, vector) in &current {
            let mut q = query(vector.clone(), 1);
            q.ef = Some(256);
            let top = c.search(&q);
            assert_eq!(top[0].id, *id, "id {id} is found by its current vector");
            assert_eq!(top[0].score, 0.0);
        }
        let state = c.state.read();
        assert_eq!(state.points.len(), current.len());
        assert_eq!(
            state.index.len(),
            current.len(),
            "deleted ids left the graph"
        );
    }
}
