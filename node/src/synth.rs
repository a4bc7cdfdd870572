//! Deterministic clustered synthetic vectors for benchmarks, the bench tool and tests.
//!
//! Uniform random vectors flatter or punish HNSW unrealistically (every point is about as far
//! from every other), so data here comes from Gaussian clusters around random centres, the
//! shape of real embedding sets. A seeded xorshift keeps runs repeatable.

/// xorshift64*: small, fast, deterministic; not for cryptography.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in [-1, 1).
    pub fn sym(&mut self) -> f32 {
        2.0 * self.unit() - 1.0
    }

    /// `dimension` components uniform in [-1, 1).
    pub fn vector(&mut self, dimension: usize) -> Vec<f32> {
        (0..dimension).map(|_| self.sym()).collect()
    }

    /// Standard normal (Box–Muller).
    pub fn gauss(&mut self) -> f32 {
        let u1 = self.unit().max(1e-7);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
    }
}

/// Points drawn around `clusters` centres in `[-1, 1]^dim` with standard deviation `spread`.
#[derive(Debug, Clone)]
pub struct Clustered {
    rng: Rng,
    centres: Vec<Vec<f32>>,
    spread: f32,
}

impl Clustered {
    pub fn new(seed: u64, dimension: usize, clusters: usize) -> Clustered {
        let mut rng = Rng::new(seed);
        let centres = (0..clusters.max(1))
            .map(|_| rng.vector(dimension))
            .collect();
        Clustered {
            rng,
            centres,
            spread: 0.15,
        }
    }

    /// The next point: a random centre plus Gaussian noise.
    pub fn point(&mut self) -> Vec<f32> {
        self.labelled_point().1
    }

    /// The next point and the index of the centre it was drawn around (the same sequence
    /// of points as [`Clustered::point`]), for payloads that name the cluster.
    pub fn labelled_point(&mut self) -> (usize, Vec<f32>) {
        let centre = (self.rng.next_u64() % self.centres.len() as u64) as usize;
        let spread = self.spread;
        let rng = &mut self.rng;
        let point = self.centres[centre]
            .iter()
            .map(|c| c + spread * rng.gauss())
            .collect();
        (centre, point)
    }
}

/// Fraction of `truth` found in `got` (recall@k with k = truth.len()).
pub fn recall(truth: &[u64], got: &[u64]) -> f64 {
    if truth.is_empty() {
        return 1.0;
    }
    let found = truth.iter().filter(|id| got.contains(id)).count();
    found as f64 / truth.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    // Proves the generator is deterministic per seed and recall counts overlap.
    #[test]
    fn deterministic_and_recall() {
        let a: Vec<Vec<f32>> = {
            let mut g = Clustered::new(7, 4, 3);
            (0..5).map(|_| g.point()).collect()
        };
        let mut g = Clustered::new(7, 4, 3);
        assert_eq!(a, (0..5).map(|_| g.point()).collect::<Vec<_>>());
        assert_eq!(recall(&[1, 2, 3, 4], &[4, 9, 1, 8]), 0.5);
    }
}
