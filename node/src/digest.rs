//! The 256-bucket digest of a collection (DESIGN.md §3), kept in O(1) per write.
//!
//! `entry_hash` is the exact, language-neutral hash of one point: xxh3-64 over the id, the
//! vector's f32 bits and the payload canonicalized by RFC 8785 (JCS, through a maintained
//! crate rather than by hand). A bucket is the XOR of its entries' hashes, so an upsert XORs
//! the old entry out and the new one in and the result does not depend on write order.
//! The Lamport stamp is deliberately not hashed: the digest describes content, not history.
//! This module knows nothing about storage or transports.

use serde_json::{Map, Value};
use xxhash_rust::xxh3::Xxh3;

use crate::limits::BUCKET_COUNT;

/// The bucket of a point id.
pub fn bucket_of(id: u64) -> usize {
    (id % BUCKET_COUNT as u64) as usize
}

/// The RFC 8785 canonical bytes of a payload. Payloads are validated JSON objects whose
/// numbers are exact doubles, so canonicalization cannot fail for them.
pub fn canonical_payload(payload: &Map<String, Value>) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(payload)
        .expect("a validated payload always canonicalizes (finite, exact numbers)")
}

/// The entry hash of one live point (DESIGN.md §3).
pub fn entry_hash(id: u64, vector: &[f32], payload: &Map<String, Value>) -> u64 {
    let mut hasher = Xxh3::with_seed(0);
    hasher.update(&id.to_le_bytes());
    let components = u32::try_from(vector.len()).expect("dimension is at most 4096");
    hasher.update(&components.to_le_bytes());
    for component in vector {
        hasher.update(&component.to_bits().to_le_bytes());
    }
    hasher.update(&canonical_payload(payload));
    hasher.digest()
}

/// Bucket hashes and counts of one collection.
#[derive(Clone, PartialEq, Eq)]
pub struct Digest {
    buckets: [u64; BUCKET_COUNT],
    bucket_counts: [u64; BUCKET_COUNT],
    count: u64,
}

impl Default for Digest {
    fn default() -> Self {
        Digest {
            buckets: [0; BUCKET_COUNT],
            bucket_counts: [0; BUCKET_COUNT],
            count: 0,
        }
    }
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Digest")
            .field("state_hash", &format_args!("{:016x}", self.state_hash()))
            .field("count", &self.count)
            .finish()
    }
}

impl Digest {
    /// Adds a live point's entry hash.
    pub fn insert(&mut self, id: u64, entry_hash: u64) {
        let bucket = bucket_of(id);
        self.buckets[bucket] ^= entry_hash;
        self.bucket_counts[bucket] += 1;
        self.count += 1;
    }

    /// Removes a point's entry hash; the caller passes the hash it inserted.
    pub fn remove(&mut self, id: u64, entry_hash: u64) {
        let bucket = bucket_of(id);
        assert!(
            self.bucket_counts[bucket] > 0,
            "digest: removing from empty bucket {bucket}"
        );
        self.buckets[bucket] ^= entry_hash;
        self.bucket_counts[bucket] -= 1;
        self.count -= 1;
    }

    /// XOR of the 256 buckets.
    pub fn state_hash(&self) -> u64 {
        self.buckets.iter().fold(0, |acc, bucket| acc ^ bucket)
    }

    pub fn buckets(&self) -> &[u64; BUCKET_COUNT] {
        &self.buckets
    }

    pub fn bucket_counts(&self) -> &[u64; BUCKET_COUNT] {
        &self.bucket_counts
    }

    /// Number of live points.
    pub fn count(&self) -> u64 {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn check_entry(id: u64, vector: &[f32], payload: Value, expected: u64) {
        let payload = payload.as_object().expect("test payloads are objects");
        assert_eq!(
            entry_hash(id, vector, payload),
            expected,
            "entry hash of id {id}"
        );
    }

    // Proves the four entry-hash test vectors of DESIGN.md §3, JCS edge cases included.
    #[test]
    fn entry_hash_test_vectors() {
        check_entry(
            42,
            &[0.5, -1.0, 2.25],
            json!({"b":1,"a":"x"}),
            11995086230025530625,
        );
        check_entry(0, &[0.0, 0.25, 1.0], json!({}), 15492647471513518463);
        check_entry(
            298,
            &[1.0, 2.0, 3.0],
            json!({"tag":"ü"}),
            6118478708286267052,
        );
        let payload: Value = serde_json::from_str(
            r#"{"x":1.0,"y":1e21,"z":0.000001,"n":-3,"€":[true,null,"€"],"😀":"a","｡":"b"}"#,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(canonical_payload(payload.as_object().unwrap())).unwrap(),
            r#"{"n":-3,"x":1,"y":1e+21,"z":0.000001,"€":[true,null,"€"],"😀":"a","｡":"b"}"#
        );
        check_entry(7, &[0.1, -0.0], payload, 886682457369270957);
    }

    // Proves the three-point collection of DESIGN.md §3: buckets, counts and state hash.
    #[test]
    fn three_point_collection_test_vector() {
        let mut digest = Digest::default();
        for (id, vector, payload) in [
            (42, vec![0.5, -1.0, 2.25], json!({"b":1,"a":"x"})),
            (0, vec![0.0, 0.25, 1.0], json!({})),
            (298, vec![1.0, 2.0, 3.0], json!({"tag":"ü"})),
        ] {
            digest.insert(id, entry_hash(id, &vector, payload.as_object().unwrap()));
        }
        assert_eq!(digest.buckets()[0], 15492647471513518463);
        assert_eq!(digest.buckets()[42], 17482455506791986093);
        let nonzero = digest.buckets().iter().filter(|b| **b != 0).count();
        assert_eq!(nonzero, 2, "every other bucket is 0");
        assert_eq!(digest.state_hash(), 2710841945336492754);
        assert_eq!(digest.count(), 3);
        assert_eq!(digest.bucket_counts()[42], 2);
        assert_eq!(digest.bucket_counts()[0], 1);
    }

    #[derive(Debug, Clone)]
    enum Write {
        Upsert { id: u64, value: u8 },
        Delete { id: u64 },
    }

    fn write_strategy() -> impl Strategy<Value = Write> {
        // Few distinct ids (some sharing a bucket) so overwrites and deletes are common.
        let id = prop_oneof![0u64..8, Just(256), Just(512), Just(u64::MAX)];
        prop_oneof![
            (id.clone(), any::<u8>()).prop_map(|(id, value)| Write::Upsert { id, value }),
            id.prop_map(|id| Write::Delete { id }),
        ]
    }

    fn point_of(id: u64, value: u8) -> (Vec<f32>, Value) {
        (
            vec![f32::from(value), -0.5],
            json!({"v": value, "id": id.to_string()}),
        )
    }

    /// Applies writes incrementally, the way a collection does, and returns the digest and
    /// the final live points.
    fn apply_all(writes: &[Write]) -> (Digest, BTreeMap<u64, u64>) {
        let mut digest = Digest::default();
        let mut live: BTreeMap<u64, u64> = BTreeMap::new();
        for write in writes {
            match *write {
                Write::Upsert { id, value } => {
                    let (vector, payload) = point_of(id, value);
                    let hash = entry_hash(id, &vector, payload.as_object().unwrap());
                    if let Some(old) = live.insert(id, hash) {
                        digest.remove(id, old);
                    }
                    digest.insert(id, hash);
                }
                Write::Delete { id } => {
                    if let Some(old) = live.remove(&id) {
                        digest.remove(id, old);
                    }
                }
            }
        }
        (digest, live)
    }

    proptest! {
        // Proves the incremental digest equals the one recomputed from the final points.
        #[test]
        fn incremental_digest_equals_recomputed(writes in prop::collection::vec(write_strategy(), 0..64)) {
            let (digest, live) = apply_all(&writes);
            let mut recomputed = Digest::default();
            for (id, hash) in &live {
                recomputed.insert(*id, *hash);
            }
            prop_assert_eq!(&digest, &recomputed);
            prop_assert_eq!(digest.count(), live.len() as u64);
        }

        // Proves that writes to different ids commute: any interleaving gives the same digest.
        #[test]
        fn commuting_writes_give_same_digest(
            writes in prop::collection::vec(write_strategy(), 0..48),
            seed in any::<u64>(),
        ) {
            // Reorder across ids but keep each id's own writes in order (they do not commute).
            let mut by_id: BTreeMap<u64, Vec<Write>> = BTreeMap::new();
            for w in &writes {
                let id = match w { Write::Upsert { id, .. } | Write::Delete { id } => *id };
                by_id.entry(id).or_default().push(w.clone());
            }
            let mut queues: Vec<Vec<Write>> = by_id.into_values().map(|mut q| { q.reverse(); q }).collect();
            let mut state = seed | 1;
            let mut shuffled = Vec::new();
            while !queues.is_empty() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                let pick = (state % queues.len() as u64) as usize;
                shuffled.push(queues[pick].pop().unwrap());
                if queues[pick].is_empty() { queues.swap_remove(pick); }
            }
            prop_assert_eq!(apply_all(&writes).0, apply_all(&shuffled).0);
        }
    }
}
