//! Criterion benchmarks of the node's hot paths (figures go in the closing note and README):
//! digest update per write, WAL append per record (`always` and group commit), HNSW search
//! at ef 16..256 on 100,000 × 64 clustered vectors (1 and 2 threads, with recall printed),
//! batch search through the engine, and the anti-entropy records' cost (a checkpoint, a
//! repair chunk) beside a single-point write.
//!
//! Run: `cargo bench -p hyperspace-node --bench core` (HYPERSPACE_BENCH_POINTS overrides the
//! 100,000-point default for a quick run).

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hyperspace_node::digest::{entry_hash, Digest};
use hyperspace_node::index::{new_index, IndexKind, Metric, SearchParams, VectorIndex};
use hyperspace_node::model::{CollectionSpec, Point, SearchQuery};
use hyperspace_node::storage::wal::{FsyncPolicy, Wal, WalOptions};
use hyperspace_node::synth::{recall, Clustered};
use hyperspace_node::{Engine, EngineOptions};
use serde_json::{json, Map, Value};

const DIM: usize = 64;

fn points_count() -> usize {
    std::env::var("HYPERSPACE_BENCH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn payload(i: u64) -> Map<String, Value> {
    json!({"group": i % 10, "name": format!("point-{i}")})
        .as_object()
        .unwrap()
        .clone()
}

fn digest_update(c: &mut Criterion) {
    let mut data = Clustered::new(1, DIM, 10);
    let vector = data.point();
    let payload = payload(7);
    let mut digest = Digest::default();
    let mut id = 0u64;
    let mut group = c.benchmark_group("digest");
    group.throughput(Throughput::Elements(1));
    group.bench_function("entry_hash+insert (dim 64, small payload)", |b| {
        b.iter(|| {
            id += 1;
            digest.insert(id, entry_hash(id, &vector, &payload));
        })
    });
    group.bench_function("xor update only", |b| {
        b.iter(|| {
            id += 1;
            digest.insert(id, id.wrapping_mul(0x9E37_79B9));
        })
    });
    group.finish();
}

fn wal_append(c: &mut Criterion) {
    let body = vec![7u8; 400]; // about one 64-dim point with a small payload
    let mut group = c.benchmark_group("wal_append");
    group.throughput(Throughput::Elements(1));
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    for (name, fsync) in [
        ("always", FsyncPolicy::Always),
        ("group_commit_5ms", FsyncPolicy::IntervalMs(5)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (wal, _) = Wal::open(WalOptions {
            dir: dir.path().join("wal"),
            segment_bytes_max: 64 << 20,
            fsync,
        })
        .unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                let lsn = wal.append(&body).unwrap();
                wal.sync_until(lsn).unwrap();
            })
        });
    }
    // Group commit under contention: 4 writers, each waiting for its record to be fsynced.
    let dir = tempfile::tempdir().unwrap();
    let wal = Arc::new(
        Wal::open(WalOptions {
            dir: dir.path().join("wal"),
            segment_bytes_max: 64 << 20,
            fsync: FsyncPolicy::Always,
        })
        .unwrap()
        .0,
    );
    group.bench_function("always_4_writers", |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..4 {
                    let wal = &wal;
                    let body = &body;
                    s.spawn(move || {
                        for _ in 0..iters.div_ceil(4) {
                            let lsn = wal.append(body).unwrap();
                            wal.sync_until(lsn).unwrap();
                        }
                    });
                }
            });
            started.elapsed()
        })
    });
    group.finish();
}

struct SearchSet {
    hnsw: Box<dyn VectorIndex>,
    queries: Vec<Vec<f32>>,
    truth: Vec<Vec<u64>>,
}

fn search_set(metric: Metric) -> SearchSet {
    let n = points_count();
    let mut data = Clustered::new(42, DIM, 100);
    let hnsw = new_index(IndexKind::Hnsw, metric, DIM).unwrap();
    let flat = new_index(IndexKind::Flat, metric, DIM).unwrap();
    let started = Instant::now();
    for id in 0..n as u64 {
        let v = data.point();
        hnsw.upsert(id, &v).unwrap();
        flat.upsert(id, &v).unwrap();
    }
    eprintln!(
        "built HNSW of {n} x {DIM} ({}) in {:.1?}",
        metric.as_str(),
        started.elapsed()
    );
    let queries: Vec<Vec<f32>> = (0..200).map(|_| data.point()).collect();
    let params = SearchParams {
        top_k: 10,
        ef: None,
    };
    let truth = queries
        .iter()
        .map(|q| {
            flat.search(q, params, None)
                .unwrap()
                .iter()
                .map(|h| h.id)
                .collect()
        })
        .collect();
    SearchSet {
        hnsw,
        queries,
        truth,
    }
}

fn search(c: &mut Criterion) {
    let set = search_set(Metric::L2);
    let mut group = c.benchmark_group("search_100k_x64_l2");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    for ef in [16usize, 32, 64, 128, 256] {
        let params = SearchParams {
            top_k: 10,
            ef: Some(ef),
        };
        let mean_recall: f64 = set
            .queries
            .iter()
            .zip(&set.truth)
            .map(|(q, t)| {
                let got: Vec<u64> = set
                    .hnsw
                    .search(q, params, None)
                    .unwrap()
                    .iter()
                    .map(|h| h.id)
                    .collect();
                recall(t, &got)
            })
            .sum::<f64>()
            / set.queries.len() as f64;
        eprintln!("ef {ef}: recall@10 = {mean_recall:.4}");
        group.throughput(Throughput::Elements(set.queries.len() as u64));
        group.bench_function(format!("ef{ef}_1thread"), |b| {
            b.iter(|| {
                for q in &set.queries {
                    set.hnsw.search(q, params, None).unwrap();
                }
            })
        });
        group.bench_function(format!("ef{ef}_2threads"), |b| {
            b.iter(|| {
                std::thread::scope(|s| {
                    for half in set.queries.chunks(set.queries.len() / 2) {
                        let hnsw = &set.hnsw;
                        s.spawn(move || {
                            for q in half {
                                hnsw.search(q, params, None).unwrap();
                            }
                        });
                    }
                })
            })
        });
    }
    group.finish();
}

/// An engine (background fsync, as a bulk load would run) holding collection `b`: the
/// benchmark's `points_count()` clustered points with payloads; returns it and the data
/// source for queries.
fn loaded_engine(dir: &std::path::Path) -> (Arc<Engine>, Clustered) {
    let (engine, _) = Engine::open(EngineOptions {
        data_dir: dir.to_path_buf(),
        fsync: FsyncPolicy::IntervalMs(50),
        snapshot_records: u64::MAX,
        role: hyperspace_node::RoleState::Leader,
        live_tail_bytes: hyperspace_node::limits::LIVE_TAIL_BYTES_MAX,
        anti_entropy: Default::default(),
        checkpoint_records: 0,
    })
    .unwrap();
    engine
        .create_collection(CollectionSpec {
            name: "b".into(),
            dimension: DIM,
            metric: Metric::Cosine,
        })
        .unwrap();
    let mut data = Clustered::new(9, DIM, 100);
    let n = points_count() as u64;
    for chunk in (0..n).collect::<Vec<_>>().chunks(5_000) {
        let points = chunk
            .iter()
            .map(|id| Point {
                id: *id,
                vector: data.point(),
                payload: payload(*id),
            })
            .collect();
        engine.upsert("b", points).unwrap();
    }
    (engine, data)
}

/// Anti-entropy on the leader: one checkpoint record (digest copy, encode, WAL append) and
/// one repair chunk (scan a bucket's ids, copy up to 1,000 points, append) at the
/// benchmark's collection size; their cost against a single-point write.
fn antientropy(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (engine, mut data) = loaded_engine(dir.path());
    let mut group = c.benchmark_group("engine_antientropy");
    group.sample_size(20);
    group.bench_function("checkpoint", |b| b.iter(|| engine.checkpoint("b").unwrap()));
    group.bench_function("repair_chunk_bucket_0", |b| {
        b.iter(|| engine.repair_chunk("b", 0, 0).unwrap())
    });
    let mut id = 10_000_000;
    group.bench_function("upsert_one_point", |b| {
        b.iter(|| {
            id += 1;
            let point = Point {
                id,
                vector: data.point(),
                payload: payload(id),
            };
            engine.upsert("b", vec![point]).unwrap()
        })
    });
    group.finish();
}

fn batch_search(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (engine, mut data) = loaded_engine(dir.path());
    let queries: Vec<SearchQuery> = (0..100)
        .map(|_| SearchQuery {
            vector: data.point(),
            top_k: 10,
            filter: None,
            ef: None,
        })
        .collect();
    let mut group = c.benchmark_group("engine_batch_search_cosine");
    group
        .sample_size(10)
        .throughput(Throughput::Elements(queries.len() as u64));
    group.bench_function("batch_of_100", |b| {
        b.iter_batched(
            || (),
            |()| engine.search_batch("b", &queries).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(
    benches,
    digest_update,
    wal_append,
    search,
    batch_search,
    antientropy
);
criterion_main!(benches);
