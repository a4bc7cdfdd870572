//! One collection in memory: its points (the source of truth for reads and the digest), the
//! digest kept in O(1) per write, the vector index derived from the points, and its
//! `logical_clock` (the stamp of the last write applied to it).
//!
//! A collection is changed only by `apply_*`, called by the engine in LSN order on the
//! leader, during recovery and (later) on followers alike. It does no I/O and knows nothing
//! about the WAL or transports. Small collections use the exact flat index; once a
//! collection passes `FLAT_INDEX_POINTS_MAX` points it is moved to HNSW for good.

use std::collections::BTreeMap;
use std::ops::Bound;

use parking_lot::RwLock;
use serde_json::{Map, Value};

use crate::digest::{bucket_of, entry_hash, Digest};
use crate::index::{new_index, Hit, IndexKind, SearchParams, VectorIndex};
use crate::limits::FLAT_INDEX_POINTS_MAX;
use crate::model::{CollectionInfo, CollectionSpec, Point, ScoredPoint, ScrollPage, SearchQuery};
use crate::storage::record::StoredPoint;

struct Entry {
    vector: Vec<f32>,
    payload: Map<String, Value>,
    entry_hash: u64,
}

struct State {
    points: BTreeMap<u64, Entry>,
    digest: Digest,
    index: Box<dyn VectorIndex>,
    logical_clock: u64,
}

pub struct Collection {
    spec: CollectionSpec,
    state: RwLock<State>,
}

fn index_for(spec: &CollectionSpec, kind: IndexKind) -> Box<dyn VectorIndex> {
    new_index(kind, spec.metric, spec.dimension)
        .expect("creating an empty index of a validated spec cannot fail")
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
                logical_clock,
            }),
        }
    }

    pub fn spec(&self) -> &CollectionSpec {
        &self.spec
    }

    /// Applies an upsert stamped `stamp`: each point replaces any previous one of its id.
    pub fn apply_upsert(&self, points: Vec<Point>, stamp: u64) {
        let mut state = self.state.write();
        let state = &mut *state;
        for point in points {
            state
                .index
                .upsert(point.id, &point.vector)
                .expect("index accepts a validated vector");
            let (id, entry) = entry_of(point);
            state.digest.insert(id, entry.entry_hash);
            if let Some(old) = state.points.insert(id, entry) {
                state.digest.remove(id, old.entry_hash);
            }
        }
        if state.index.kind() == IndexKind::Flat && state.points.len() > FLAT_INDEX_POINTS_MAX {
            state.index = build_index(&self.spec, IndexKind::Hnsw, &state.points);
        }
        state.logical_clock = state.logical_clock.max(stamp);
    }

    /// Applies a delete stamped `stamp`; returns how many of `ids` were live.
    pub fn apply_delete(&self, ids: &[u64], stamp: u64) -> u64 {
        let mut state = self.state.write();
        let mut deleted = 0;
        for id in ids {
            if let Some(old) = state.points.remove(id) {
                state.digest.remove(*id, old.entry_hash);
                state.index.remove(*id).expect("index removes a known id");
                deleted += 1;
            }
        }
        state.logical_clock = state.logical_clock.max(stamp);
        deleted
    }

    /// Loads a snapshot image; used once, on an empty collection, during recovery.
    pub fn load(&self, points: Vec<Point>, logical_clock: u64) {
        let mut state = self.state.write();
        assert!(
            state.points.is_empty(),
            "a snapshot loads into an empty collection"
        );
        let kind = if points.len() > FLAT_INDEX_POINTS_MAX {
            IndexKind::Hnsw
        } else {
            IndexKind::Flat
        };
        for point in points {
            let (id, entry) = entry_of(point);
            state.digest.insert(id, entry.entry_hash);
            let previous = state.points.insert(id, entry);
            assert!(previous.is_none(), "snapshot holds id {id} twice");
        }
        state.index = build_index(&self.spec, kind, &state.points);
        state.logical_clock = logical_clock;
    }

    pub fn info(&self) -> CollectionInfo {
        let state = self.state.read();
        CollectionInfo {
            spec: self.spec.clone(),
            count: state.digest.count(),
            logical_clock: state.logical_clock,
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
        let hits: Vec<Hit> = match &query.filter {
            None => state.index.search(&query.vector, params, None),
            Some(filter) => {
                let points = &state.points;
                let keep = |id: u64| {
                    points
                        .get(&id)
                        .is_some_and(|e| matches_filter(&e.payload, filter))
                };
                state.index.search(&query.vector, params, Some(&keep))
            }
        }
        .expect("index searches a validated query");
        hits.into_iter()
            .filter_map(|hit| {
                state.points.get(&hit.id).map(|entry| ScoredPoint {
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
fn entry_of(point: Point) -> (u64, Entry) {
    let entry_hash = entry_hash(point.id, &point.vector, &point.payload);
    let entry = Entry {
        vector: point.vector,
        payload: point.payload,
        entry_hash,
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
) -> Box<dyn VectorIndex> {
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
