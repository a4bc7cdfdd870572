//! Approximate k-NN on a usearch HNSW graph.
//!
//! # Backend mapping
//! Vectors are stored unquantised (`ScalarKind::F32`, one vector per key). The graph is built
//! with Cosine → `Cos`, L2 → `L2sq`, Dot → `IP`, Poincaré → a custom metric returning
//! |u-v|²/((1-|u|²)(1-|v|²)), a strictly increasing function of the Poincaré distance (custom
//! metrics are not serialised by usearch; this index is never saved, it is rebuilt from the
//! point store). usearch's distances only pick candidates: every candidate is re-scored with
//! [`score`] on the vector read back from usearch (an exact copy, since storage is f32), so the
//! reported scores are bit-identical to [`FlatIndex`](super::flat::FlatIndex)'s and ties order by
//! ascending id.
//!
//! # Per-request `ef`
//! usearch's beam width for a query is `max(expansion_search, wanted)`. The index is created
//! with `expansion_search = 1` and each query asks usearch for `wanted = max(top_k, ef)`
//! candidates, so the effective beam is exactly the request's `ef` — no shared setting is
//! mutated and concurrent searches with different `ef` need no coordination. The candidates
//! beyond `top_k` are re-scored and dropped: ef `get`s and score evaluations, small next to the
//! graph walk that produced them.
//!
//! # Concurrency
//! - `graph: RwLock<usearch::Index>`: searches hold it shared. Writers decide under `writer`
//!   and hold the graph shared for a plain insert into a fresh slot (several at once: the
//!   slot is reserved under `writer`, the add runs after releasing it, which is how the
//!   background indexer threads insert in parallel) and for `remove` (soft delete), which
//!   usearch supports concurrently with searches. They take it exclusively
//!   to grow capacity (usearch `reserve` must not race anything), to replace an existing id
//!   (remove + add is then atomic for readers), and whenever the add may reuse a soft-deleted
//!   slot (usearch would overwrite a vector that in-flight searches can still read). A remove
//!   while fresh-slot adds are in flight also takes it exclusively: usearch gives a freed slot
//!   to the next add, which must not be one already running.
//! - usearch needs one reserved thread slot per concurrent operation, or it fails the call.
//!   `search_slots` (a counting semaphore) caps concurrent searches at the number of CPUs, and
//!   usearch reserves that many slots plus one per indexer thread (the only concurrent
//!   adders) plus one exclusive writer, so no call can fail for lack of a slot; extra
//!   searches wait.
//! - Capacity starts at [`INITIAL_CAPACITY`] and doubles when full.
//!
//! # Filters and completeness
//! A filter is applied inside the graph walk. If the walk yields fewer than
//! `min(top_k, len)` hits — typical for selective filters — the search falls back to an exact
//! scan over all ids (filter on each id, score matching ones), so results are always complete;
//! the cost is O(n) filter calls plus O(matches·dim) for such queries.
//!
//! usearch reserves key `u64::MAX` as its free-slot marker; that one id is kept beside the graph
//! and scored exactly on every search.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashSet;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use parking_lot::{Condvar, Mutex, RwLock};
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

use super::{
    poincare_ratio, score, sort_hits, validate, Filter, Hit, IndexError, IndexKind, Metric,
    SearchParams, TopK, VectorIndex, CONNECTIVITY, EF_CONSTRUCTION, EF_SEARCH_DEFAULT,
};

/// Vectors reserved at creation; capacity doubles from here.
pub const INITIAL_CAPACITY: usize = 1024;

/// Key usearch uses to mark free slots; cannot be stored in the graph.
const SENTINEL_ID: u64 = u64::MAX;

pub struct HnswIndex {
    metric: Metric,
    dimension: usize,
    graph: RwLock<Index>,
    /// Serialises the decisions of upsert/remove; holds the count of soft-deleted slots
    /// usearch will reuse and of fresh-slot adds running without it.
    writer: Mutex<WriterState>,
    members: RwLock<Members>,
    search_slots: Semaphore,
    /// usearch thread slots: concurrent searches + concurrent adds + one exclusive writer.
    usearch_threads: usize,
}

struct WriterState {
    free_slots: usize,
    /// Fresh-slot adds in flight (each reserved one slot of capacity).
    inflight: usize,
}

#[derive(Default)]
struct Members {
    /// Every present id, including [`SENTINEL_ID`]; for `len` and the exact fallback scan.
    ids: HashSet<u64>,
    sentinel_vector: Option<Vec<f32>>,
}

fn backend<E: std::fmt::Display>(op: &'static str) -> impl FnOnce(E) -> IndexError {
    move |e| IndexError::Backend {
        op,
        message: e.to_string(),
    }
}

fn passes(filter: Option<Filter<'_>>, id: u64) -> bool {
    filter.is_none_or(|f| f(id))
}

impl HnswIndex {
    pub fn new(metric: Metric, dimension: usize) -> Result<Self, IndexError> {
        if dimension == 0 {
            return Err(IndexError::ZeroDimension);
        }
        let options = IndexOptions {
            dimensions: dimension,
            metric: match metric {
                Metric::Cosine => MetricKind::Cos,
                Metric::L2 => MetricKind::L2sq,
                Metric::Dot => MetricKind::IP,
                // Replaced by the custom metric below.
                Metric::Poincare => MetricKind::L2sq,
            },
            quantization: ScalarKind::F32,
            connectivity: CONNECTIVITY,
            expansion_add: EF_CONSTRUCTION,
            // The beam is chosen per query through `wanted`; see the module docs.
            expansion_search: 1,
            multi: false,
        };
        let mut index = Index::new(&options).map_err(backend("create"))?;
        if metric == Metric::Poincare {
            index.change_metric::<f32>(Box::new(move |a: *const f32, b: *const f32| {
                // SAFETY: usearch calls the metric with pointers to two stored or query vectors
                // of exactly `dimension` f32 each (the index is f32, fixed-dimension).
                let (a, b) = unsafe {
                    (
                        std::slice::from_raw_parts(a, dimension),
                        std::slice::from_raw_parts(b, dimension),
                    )
                };
                poincare_ratio(a, b) as f32
            }));
        }
        let searches = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
        let usearch_threads = searches + super::indexer_threads() + 1;
        index
            .reserve_capacity_and_threads(INITIAL_CAPACITY, usearch_threads)
            .map_err(backend("reserve"))?;
        Ok(HnswIndex {
            metric,
            dimension,
            graph: RwLock::new(index),
            writer: Mutex::new(WriterState {
                free_slots: 0,
                inflight: 0,
            }),
            members: RwLock::new(Members::default()),
            search_slots: Semaphore::new(searches),
            usearch_threads,
        })
    }

    pub fn metric(&self) -> Metric {
        self.metric
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Current usearch capacity (vectors storable before the next doubling).
    pub fn capacity(&self) -> usize {
        self.graph.read().capacity()
    }

    /// Runs the graph walk and re-scores its candidates exactly. `wanted` is the beam width.
    fn graph_candidates(
        &self,
        query: &[f32],
        wanted: usize,
        keep: usize,
        filter: Option<Filter<'_>>,
    ) -> Result<Vec<Hit>, IndexError> {
        let _slot = self.search_slots.acquire();
        let graph = self.graph.read();
        // The predicate is called from C++ through an `extern "C"` trampoline, where a panic
        // would abort; catch it here and re-raise it once usearch has returned.
        let panicked: RefCell<Option<Box<dyn Any + Send>>> = RefCell::new(None);
        let matches = match filter {
            None => graph.search(query, wanted),
            Some(f) => graph.filtered_search(query, wanted, |key: u64| {
                if panicked.borrow().is_some() {
                    return false;
                }
                catch_unwind(AssertUnwindSafe(|| f(key))).unwrap_or_else(|payload| {
                    *panicked.borrow_mut() = Some(payload);
                    false
                })
            }),
        };
        if let Some(payload) = panicked.into_inner() {
            drop(graph);
            resume_unwind(payload);
        }
        let matches = matches.map_err(backend("search"))?;
        let mut buf = vec![0.0f32; self.dimension];
        // usearch returns candidates best first; only the `keep` best are re-scored exactly
        // (reading a vector back costs more than the graph walk at small top_k).
        let mut hits = Vec::with_capacity(keep + 1);
        for &id in matches.keys.iter().take(keep) {
            // 0 if a concurrent remove got there first.
            if graph.get(id, &mut buf).map_err(backend("get"))? == 1 {
                hits.push(Hit {
                    id,
                    score: score(self.metric, query, &buf),
                });
            }
        }
        Ok(hits)
    }

    /// Exact scan over every id; the fallback when the graph walk comes back short.
    fn exact_scan(
        &self,
        query: &[f32],
        top_k: usize,
        filter: Option<Filter<'_>>,
    ) -> Result<Vec<Hit>, IndexError> {
        let mut top = TopK::new(self.metric, top_k);
        let mut buf = vec![0.0f32; self.dimension];
        let graph = self.graph.read();
        let members = self.members.read();
        for &id in &members.ids {
            if !passes(filter, id) {
                continue;
            }
            let vector = if id == SENTINEL_ID {
                match &members.sentinel_vector {
                    Some(v) => v.as_slice(),
                    None => continue,
                }
            } else if graph.get(id, &mut buf).map_err(backend("get"))? == 1 {
                buf.as_slice()
            } else {
                continue;
            };
            top.push(Hit {
                id,
                score: score(self.metric, query, vector),
            });
        }
        Ok(top.into_sorted())
    }

    /// usearch add (after removing an existing `id`), on a graph the caller has locked
    /// appropriately (see the module docs).
    fn replace_in(
        &self,
        graph: &Index,
        state: &mut WriterState,
        id: u64,
        vector: &[f32],
    ) -> Result<(), IndexError> {
        if graph.contains(id) {
            state.free_slots += graph.remove(id).map_err(backend("remove"))?;
            self.members.write().ids.remove(&id);
        }
        graph.add(id, vector).map_err(backend("add"))?;
        // usearch fills a soft-deleted slot before allocating a new one.
        state.free_slots = state.free_slots.saturating_sub(1);
        self.members.write().ids.insert(id);
        Ok(())
    }
}

impl VectorIndex for HnswIndex {
    fn kind(&self) -> IndexKind {
        IndexKind::Hnsw
    }

    fn len(&self) -> usize {
        self.members.read().ids.len()
    }

    fn upsert(&self, id: u64, vector: &[f32]) -> Result<(), IndexError> {
        validate(self.metric, self.dimension, vector)?;
        let mut state = self.writer.lock();
        if id == SENTINEL_ID {
            let mut members = self.members.write();
            members.sentinel_vector = Some(vector.to_vec());
            members.ids.insert(id);
            return Ok(());
        }
        let shared = self.graph.read();
        let exclusive = state.free_slots > 0
            || shared.size() + state.inflight + 1 > shared.capacity()
            || shared.contains(id);
        if !exclusive {
            // Fresh slot, reserved through `inflight`: the add runs without the writer lock,
            // so indexer threads insert concurrently (usearch links a slot only after its
            // vector is in place). Callers never upsert one id from two threads at once.
            state.inflight += 1;
            drop(state);
            let added = shared.add(id, vector).map_err(backend("add"));
            if added.is_ok() {
                self.members.write().ids.insert(id);
            }
            // The read guard goes before the writer lock: an exclusive writer holding the
            // writer lock waits for read guards.
            drop(shared);
            self.writer.lock().inflight -= 1;
            return added;
        }
        drop(shared);
        // Writers are serialised, so nothing changed between the check and this lock.
        let graph = self.graph.write();
        let capacity = graph.capacity();
        if graph.size() + 1 > capacity {
            let grown = (capacity * 2).max(INITIAL_CAPACITY);
            graph
                .reserve_capacity_and_threads(grown, self.usearch_threads)
                .map_err(backend("reserve"))?;
        }
        self.replace_in(&graph, &mut state, id, vector)
    }

    fn remove(&self, id: u64) -> Result<(), IndexError> {
        let mut state = self.writer.lock();
        if id == SENTINEL_ID {
            let mut members = self.members.write();
            members.sentinel_vector = None;
            members.ids.remove(&id);
            return Ok(());
        }
        // Soft delete: the slot keeps its vector until a later add reuses it (exclusively).
        // usearch hands a freed slot to the next add, so while fresh-slot adds run without
        // the writer lock the remove waits for them (holding `writer` keeps new ones out).
        let removed = if state.inflight > 0 {
            self.graph.write().remove(id)
        } else {
            self.graph.read().remove(id)
        };
        state.free_slots += removed.map_err(backend("remove"))?;
        self.members.write().ids.remove(&id);
        Ok(())
    }

    fn search(
        &self,
        query: &[f32],
        params: SearchParams,
        filter: Option<Filter<'_>>,
    ) -> Result<Vec<Hit>, IndexError> {
        validate(self.metric, self.dimension, query)?;
        let top_k = params.top_k;
        if top_k == 0 {
            return Ok(Vec::new());
        }
        let wanted = params.ef.unwrap_or(EF_SEARCH_DEFAULT).max(top_k);
        let mut hits = self.graph_candidates(query, wanted, top_k, filter)?;
        let expected = {
            let members = self.members.read();
            if let Some(v) = &members.sentinel_vector {
                if passes(filter, SENTINEL_ID) {
                    hits.push(Hit {
                        id: SENTINEL_ID,
                        score: score(self.metric, query, v),
                    });
                }
            }
            top_k.min(members.ids.len())
        };
        if hits.len() < expected {
            return self.exact_scan(query, top_k, filter);
        }
        sort_hits(self.metric, &mut hits);
        hits.truncate(top_k);
        Ok(hits)
    }
}

/// Counting semaphore for usearch thread slots.
struct Semaphore {
    free: Mutex<usize>,
    released: Condvar,
}

struct Permit<'a>(&'a Semaphore);

impl Semaphore {
    fn new(permits: usize) -> Self {
        Semaphore {
            free: Mutex::new(permits),
            released: Condvar::new(),
        }
    }

    fn acquire(&self) -> Permit<'_> {
        let mut free = self.free.lock();
        while *free == 0 {
            self.released.wait(&mut free);
        }
        *free -= 1;
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.0.free.lock() += 1;
        self.0.released.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::super::flat::FlatIndex;
    use super::super::test_util::{check, Rng};
    use super::*;

    /// 50 Gaussian clusters in `dim` dimensions; returns (points, queries near the centres).
    fn clustered(
        rng: &mut Rng,
        n: usize,
        queries: usize,
        dim: usize,
    ) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
        let centres: Vec<Vec<f32>> = (0..50)
            .map(|_| (0..dim).map(|_| rng.gauss()).collect())
            .collect();
        let near = |rng: &mut Rng, spread: f32| -> Vec<f32> {
            let c = &centres[(rng.next_u64() % 50) as usize];
            c.iter().map(|x| x + spread * rng.gauss()).collect()
        };
        let points = (0..n).map(|_| near(rng, 0.3)).collect();
        let qs = (0..queries).map(|_| near(rng, 0.15)).collect();
        (points, qs)
    }

    fn ids(hits: &[Hit]) -> Vec<u64> {
        hits.iter().map(|h| h.id).collect()
    }

    fn top(k: usize) -> SearchParams {
        SearchParams { top_k: k, ef: None }
    }

    #[test]
    fn recall_at_10_default_ef() {
        // Proves HNSW at EF_SEARCH_DEFAULT reaches recall@10 >= 0.95 against the exact scan (cosine and l2).
        let (n, dim) = (20_000, 64);
        let mut rng = Rng::new(42);
        let (points, queries) = clustered(&mut rng, n, 200, dim);
        for metric in [Metric::Cosine, Metric::L2] {
            let flat = FlatIndex::new(metric, dim).unwrap();
            let hnsw = HnswIndex::new(metric, dim).unwrap();
            let started = Instant::now();
            for (id, p) in points.iter().enumerate() {
                hnsw.upsert(id as u64, p).unwrap();
            }
            let build = started.elapsed();
            for (id, p) in points.iter().enumerate() {
                flat.upsert(id as u64, p).unwrap();
            }
            let (mut found, mut total) = (0usize, 0usize);
            let started = Instant::now();
            let approx: Vec<Vec<Hit>> = queries
                .iter()
                .map(|q| hnsw.search(q, top(10), None).unwrap())
                .collect();
            let search = started.elapsed();
            for (q, got) in queries.iter().zip(&approx) {
                let truth = ids(&flat.search(q, top(10), None).unwrap());
                total += truth.len();
                found += got.iter().filter(|h| truth.contains(&h.id)).count();
            }
            let recall = found as f64 / total as f64;
            eprintln!(
                "{metric:?}: recall@10 = {recall:.4}, build {n} x {dim} = {build:.2?}, 200 searches = {search:.2?}"
            );
            assert!(recall >= 0.95, "{metric:?} recall {recall}");
        }
    }

    #[test]
    fn poincare_matches_flat() {
        // Proves the custom Poincaré metric gives the exact top-10 ids and scores of the flat scan.
        let dim = 16;
        let mut rng = Rng::new(3);
        let ball = |rng: &mut Rng| -> Vec<f32> {
            let v = rng.vector(dim);
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            let r = 0.95 * rng.unit();
            v.iter().map(|x| x / norm * r).collect()
        };
        let flat = FlatIndex::new(Metric::Poincare, dim).unwrap();
        let hnsw = HnswIndex::new(Metric::Poincare, dim).unwrap();
        for id in 0..500u64 {
            let v = ball(&mut rng);
            flat.upsert(id, &v).unwrap();
            hnsw.upsert(id, &v).unwrap();
        }
        for _ in 0..20 {
            let q = ball(&mut rng);
            let p = SearchParams {
                top_k: 10,
                ef: Some(200),
            };
            assert_eq!(
                hnsw.search(&q, p, None).unwrap(),
                flat.search(&q, p, None).unwrap()
            );
        }
    }

    fn small_l2(n: u64) -> HnswIndex {
        let idx = HnswIndex::new(Metric::L2, 2).unwrap();
        for id in 0..n {
            idx.upsert(id, &[id as f32, 0.0]).unwrap();
        }
        idx
    }

    #[test]
    fn filtered_search_returns_only_matches_and_is_complete() {
        // Proves filtered results contain only accepted ids, and a very selective filter still gets the exact top-k.
        let idx = small_l2(2000);
        let even = |id: u64| id.is_multiple_of(2);
        let hits = idx.search(&[1000.2, 0.0], top(10), Some(&even)).unwrap();
        assert_eq!(
            ids(&hits),
            [1000, 1002, 998, 1004, 996, 1006, 994, 1008, 992, 1010]
        );
        // Only 3 ids in 2000 match and they are far from the query: the exact fallback finds them.
        let rare = |id: u64| id == 3 || id == 1999 || id == 17;
        check(&idx, &[1000.0, 0.0], 10, Some(&rare), &[17, 3, 1999]);
        let none = |_: u64| false;
        check(&idx, &[1000.0, 0.0], 10, Some(&none), &[]);
    }

    #[test]
    #[should_panic(expected = "filter exploded")]
    fn filter_panic_propagates() {
        // Proves a panicking filter unwinds to the caller instead of aborting inside usearch.
        let idx = small_l2(10);
        let bad = |_: u64| -> bool { panic!("filter exploded") };
        let _ = idx.search(&[0.0, 0.0], top(3), Some(&bad));
    }

    #[test]
    fn remove_then_search_never_returns_removed() {
        // Proves removed ids vanish from results, absent ids are fine, and adds into freed slots stay exact.
        let dim = 8;
        let mut rng = Rng::new(5);
        let flat = FlatIndex::new(Metric::L2, dim).unwrap();
        let hnsw = HnswIndex::new(Metric::L2, dim).unwrap();
        for id in 0..900u64 {
            let v = rng.vector(dim);
            flat.upsert(id, &v).unwrap();
            hnsw.upsert(id, &v).unwrap();
        }
        for id in (0..900).step_by(3) {
            flat.remove(id).unwrap();
            hnsw.remove(id).unwrap();
        }
        hnsw.remove(100_000).unwrap();
        assert_eq!(hnsw.len(), 600);
        let queries: Vec<Vec<f32>> = (0..20).map(|_| rng.vector(dim)).collect();
        for q in &queries {
            let hits = hnsw.search(q, top(50), None).unwrap();
            assert_eq!(hits.len(), 50);
            assert!(hits.iter().all(|h| !h.id.is_multiple_of(3)), "{hits:?}");
        }
        // New ids fill the soft-deleted slots.
        for id in 1000..1300u64 {
            let v = rng.vector(dim);
            flat.upsert(id, &v).unwrap();
            hnsw.upsert(id, &v).unwrap();
        }
        assert_eq!(hnsw.len(), 900);
        let wide = SearchParams {
            top_k: 10,
            ef: Some(900),
        };
        for q in &queries {
            assert_eq!(
                hnsw.search(q, wide, None).unwrap(),
                flat.search(q, wide, None).unwrap()
            );
        }
    }

    #[test]
    fn upsert_replaces_vector() {
        // Proves upserting an existing id moves it: found first at its new place, no longer at the old one.
        let idx = small_l2(500);
        idx.upsert(7, &[10_000.0, 5.0]).unwrap();
        assert_eq!(idx.len(), 500);
        let hits = check(&idx, &[10_000.0, 5.0], 1, None, &[7]);
        assert_eq!(hits[0].score, 0.0);
        check(&idx, &[7.0, 0.0], 3, None, &[6, 8, 5]);
    }

    #[test]
    fn capacity_grows_past_initial_reservation() {
        // Proves inserting beyond INITIAL_CAPACITY grows the index and every point stays findable.
        let n = INITIAL_CAPACITY as u64 * 2 + 10;
        let idx = small_l2(n);
        assert_eq!(idx.len() as u64, n);
        assert!(idx.capacity() >= n as usize);
        for id in [0, INITIAL_CAPACITY as u64, n - 1] {
            check(&idx, &[id as f32, 0.0], 1, None, &[id]);
        }
    }

    #[test]
    fn sentinel_id_u64_max_is_supported() {
        // Proves id u64::MAX (usearch's free-slot key) can be upserted, found, filtered, replaced and removed.
        let idx = small_l2(100);
        idx.upsert(u64::MAX, &[50.2, 0.0]).unwrap();
        assert_eq!(idx.len(), 101);
        check(&idx, &[50.3, 0.0], 2, None, &[u64::MAX, 50]);
        let not_max = |id: u64| id != u64::MAX;
        check(&idx, &[50.3, 0.0], 2, Some(&not_max), &[50, 51]);
        idx.upsert(u64::MAX, &[-5.0, 0.0]).unwrap();
        check(&idx, &[-4.0, 0.0], 2, None, &[u64::MAX, 0]);
        idx.remove(u64::MAX).unwrap();
        check(&idx, &[-4.0, 0.0], 2, None, &[0, 1]);
        assert_eq!(idx.len(), 100);
    }

    #[test]
    fn per_request_ef_concurrent_with_default_searches_and_writes() {
        // Proves large-ef searches, default-ef searches and upserts run concurrently with correct results.
        let dim = 16;
        let mut rng = Rng::new(11);
        let points: Vec<Vec<f32>> = (0..3000).map(|_| rng.vector(dim)).collect();
        let queries: Vec<Vec<f32>> = (0..40).map(|_| rng.vector(dim)).collect();
        let flat = FlatIndex::new(Metric::L2, dim).unwrap();
        let hnsw = HnswIndex::new(Metric::L2, dim).unwrap();
        for (id, p) in points.iter().enumerate() {
            flat.upsert(id as u64, p).unwrap();
            hnsw.upsert(id as u64, p).unwrap();
        }
        let truth: Vec<Vec<Hit>> = queries
            .iter()
            .map(|q| flat.search(q, top(10), None).unwrap())
            .collect();
        let wide = SearchParams {
            top_k: 10,
            ef: Some(3000),
        };
        std::thread::scope(|s| {
            // Large ef: the beam covers the whole graph, so results are exact.
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..5 {
                        for (q, t) in queries.iter().zip(&truth) {
                            assert_eq!(&hnsw.search(q, wide, None).unwrap(), t);
                        }
                    }
                });
            }
            for _ in 0..3 {
                s.spawn(|| {
                    for _ in 0..20 {
                        for q in &queries {
                            let hits = hnsw.search(q, top(10), None).unwrap();
                            assert_eq!(hits.len(), 10);
                            assert!(hits.iter().all(|h| h.id < 3000));
                        }
                    }
                });
            }
            // A writer adding far-away points (never in any top-10) and replacing them.
            s.spawn(|| {
                for id in 10_000..12_500u64 {
                    hnsw.upsert(id, &[100.0 + id as f32; 16]).unwrap();
                    if id.is_multiple_of(5) {
                        hnsw.upsert(id, &[200.0 + id as f32; 16]).unwrap();
                    }
                    if id.is_multiple_of(7) {
                        hnsw.remove(id).unwrap();
                    }
                }
            });
        });
        assert_eq!(hnsw.len(), 3000 + 2500 - 2500 / 7);
    }
}
