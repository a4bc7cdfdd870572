//! The bench's data set and its exact answers.
//!
//! Points are clustered (`hyperspace_node::synth::Clustered`): uniform random vectors flatter
//! or punish HNSW unrealistically. Queries are later draws of the same generator, so they
//! fall in the same clusters as the data without being data points themselves (a generator
//! with another seed would have other cluster centres, and its queries would land far from
//! every point). The vectors stay in memory because recall needs an exact scan over them;
//! the scan uses the node's own `score`, so "exact" means the same numbers the index ranks.

use std::sync::Arc;

use anyhow::Context;
use hyperspace_node::index::{score, Metric};
use hyperspace_node::synth::Clustered;

use super::BenchArgs;

/// Results per search; recall is recall@`TOP_K`.
pub(crate) const TOP_K: u32 = 10;
/// Single searches of each `--ef` sweep step's QPS run: long enough for a steady rate,
/// short enough that a four-step sweep costs seconds, not minutes.
pub(crate) const EF_SWEEP_QUERIES: u64 = 2_000;
/// Distinct query vectors of the search phases; longer runs cycle through them. Bounds the
/// memory of the pool (10,000 × dimension × 4 bytes).
pub(crate) const QUERY_POOL_MAX: u64 = 10_000;

pub(crate) struct Dataset {
    pub metric: Metric,
    pub dimension: usize,
    /// Point `i` has id `i`, vector `vectors[i]`, drawn around centre `clusters[i]`.
    pub vectors: Vec<Vec<f32>>,
    pub clusters: Vec<u32>,
    /// Query vectors of the search, batch search and ef sweep phases.
    pub queries: Vec<Vec<f32>>,
    /// Query vectors of the recall phase, one per `--recall-queries`.
    pub recall_queries: Vec<Vec<f32>>,
}

impl Dataset {
    /// Everything drawn from one generator seeded with `--seed`: the points, then the search
    /// queries, then the recall queries. The same flags give the same data.
    pub(crate) fn generate(args: &BenchArgs, metric: Metric) -> Dataset {
        let dimension = args.dim as usize;
        let mut generator = Clustered::new(args.seed, dimension, args.clusters as usize);
        let (clusters, vectors): (Vec<u32>, Vec<Vec<f32>>) = (0..args.points)
            .map(|_| {
                let (cluster, vector) = generator.labelled_point();
                (cluster as u32, vector)
            })
            .unzip();
        let pool = args.queries.clamp(EF_SWEEP_QUERIES, QUERY_POOL_MAX);
        let queries = (0..pool).map(|_| generator.point()).collect();
        let recall_queries = (0..args.recall_queries)
            .map(|_| generator.point())
            .collect();
        Dataset {
            metric,
            dimension,
            vectors,
            clusters,
            queries,
            recall_queries,
        }
    }

    /// The search query number `n` (the pool is cycled).
    pub(crate) fn query(&self, n: u64) -> Vec<f32> {
        self.queries[(n % self.queries.len() as u64) as usize].clone()
    }

    /// Ids of the `k` best points for `query` by exact scan, best first, ties by ascending id
    /// (the node's order).
    fn exact_top(&self, query: &[f32], k: usize) -> Vec<u64> {
        let higher_is_better = self.metric.higher_is_better();
        // A rank key where lower is better; `+ 0.0` turns -0.0 into 0.0 as the node does.
        let mut ranked: Vec<(f32, u64)> = self
            .vectors
            .iter()
            .enumerate()
            .map(|(id, vector)| {
                let s = score(self.metric, query, vector);
                ((if higher_is_better { -s } else { s }) + 0.0, id as u64)
            })
            .collect();
        let by_rank = |a: &(f32, u64), b: &(f32, u64)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        let k = k.min(ranked.len());
        if k == 0 {
            return Vec::new();
        }
        ranked.select_nth_unstable_by(k - 1, by_rank);
        ranked.truncate(k);
        ranked.sort_unstable_by(by_rank);
        ranked.into_iter().map(|(_, id)| id).collect()
    }
}

/// The exact top-`TOP_K` ids of every recall query, in order. A blocking scan of
/// recall queries × points, spread over every core, off the async workers.
pub(crate) async fn ground_truth(data: Arc<Dataset>) -> anyhow::Result<Arc<Vec<Vec<u64>>>> {
    let truth = tokio::task::spawn_blocking(move || {
        let data: &Dataset = &data;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = data.recall_queries.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let handles: Vec<_> = data
                .recall_queries
                .chunks(chunk)
                .map(|queries| {
                    scope.spawn(move || {
                        queries
                            .iter()
                            .map(|q| data.exact_top(q, TOP_K as usize))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a ground-truth thread panicked"))
                .collect::<Vec<_>>()
        })
    })
    .await
    .context("the ground-truth scan panicked")?;
    Ok(Arc::new(truth))
}
