//! The body of a WAL record: who wrote it (Lamport stamp, origin node) and what it does.
//!
//! Bodies are encoded with postcard (a compact, stable, documented serde format). Payloads
//! travel as the JSON text the client sent, re-serialized by serde_json, so they are never
//! rewritten beyond whitespace; the digest canonicalizes them separately. The WAL frames
//! and checksums these bytes; decoding a body that passed its CRC and still fails is
//! corruption, reported with the LSN.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::limits::BUCKET_COUNT;
use crate::model::{CollectionSpec, Metric, Point};

/// Format version of the body, first byte of every body.
const BODY_VERSION: u8 = 1;

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Lamport stamp given by the leader that accepted the write.
    pub stamp: u64,
    /// Node id of that leader.
    pub origin: Uuid,
    pub op: Op,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    CreateCollection(CollectionSpec),
    DropCollection {
        name: String,
    },
    Upsert {
        collection: String,
        points: Vec<Point>,
    },
    Delete {
        collection: String,
        ids: Vec<u64>,
    },
    /// Anti-entropy: the leader's digest of a collection as of this record's LSN (stamp 0,
    /// changes no data). A follower applying it compares its own buckets at the same prefix.
    Checkpoint {
        collection: String,
        buckets: Vec<u64>,
        counts: Vec<u64>,
    },
    /// Anti-entropy: the exact content of one bucket's ids in `from..=to` as of this record's
    /// LSN (stamp 0). Applying it replaces that range of the bucket; a bucket is repaired by
    /// chunks whose ranges together cover every id.
    RepairBucket(RepairChunk),
}

/// One chunk of a bucket repair (see `Op::RepairBucket`).
#[derive(Debug, Clone, PartialEq)]
pub struct RepairChunk {
    pub collection: String,
    pub bucket: u32,
    pub from: u64,
    pub to: u64,
    pub points: Vec<Point>,
}

impl Op {
    /// Whether the record is a client write, which takes a Lamport stamp. Anti-entropy
    /// records take an LSN but no stamp and never move a clock.
    pub fn is_stamped(&self) -> bool {
        !matches!(self, Op::Checkpoint { .. } | Op::RepairBucket(_))
    }
}

/// Stored form of a point, shared with snapshots.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredPoint {
    pub id: u64,
    pub vector: Vec<f32>,
    pub payload_json: String,
}

impl StoredPoint {
    pub fn from_point(point: &Point) -> StoredPoint {
        StoredPoint {
            id: point.id,
            vector: point.vector.clone(),
            payload_json: serde_json::to_string(&point.payload).expect("a JSON map serializes"),
        }
    }

    pub fn into_point(self) -> std::result::Result<Point, String> {
        let payload: Map<String, Value> = if self.payload_json.is_empty() {
            Map::new()
        } else {
            serde_json::from_str(&self.payload_json).map_err(|e| e.to_string())?
        };
        Ok(Point {
            id: self.id,
            vector: self.vector,
            payload,
        })
    }
}

#[derive(Serialize, Deserialize)]
enum WireOp {
    CreateCollection {
        name: String,
        dimension: u32,
        metric: String,
    },
    DropCollection {
        name: String,
    },
    Upsert {
        collection: String,
        points: Vec<StoredPoint>,
    },
    Delete {
        collection: String,
        ids: Vec<u64>,
    },
    // New variants go last: postcard numbers them in order.
    Checkpoint {
        collection: String,
        buckets: Vec<u64>,
        counts: Vec<u64>,
    },
    RepairBucket {
        collection: String,
        bucket: u32,
        from: u64,
        to: u64,
        points: Vec<StoredPoint>,
    },
}

#[derive(Serialize, Deserialize)]
struct WireRecord {
    version: u8,
    stamp: u64,
    origin: [u8; 16],
    op: WireOp,
}

/// Encodes a record's body without taking ownership of the operation (the engine applies
/// the same operation right after).
pub fn encode(stamp: u64, origin: Uuid, op: &Op) -> Vec<u8> {
    let op = match op {
        Op::CreateCollection(spec) => WireOp::CreateCollection {
            name: spec.name.clone(),
            dimension: u32::try_from(spec.dimension).expect("dimension is validated"),
            metric: spec.metric.as_str().to_string(),
        },
        Op::DropCollection { name } => WireOp::DropCollection { name: name.clone() },
        Op::Upsert { collection, points } => WireOp::Upsert {
            collection: collection.clone(),
            points: points.iter().map(StoredPoint::from_point).collect(),
        },
        Op::Delete { collection, ids } => WireOp::Delete {
            collection: collection.clone(),
            ids: ids.clone(),
        },
        Op::Checkpoint {
            collection,
            buckets,
            counts,
        } => WireOp::Checkpoint {
            collection: collection.clone(),
            buckets: buckets.clone(),
            counts: counts.clone(),
        },
        Op::RepairBucket(chunk) => WireOp::RepairBucket {
            collection: chunk.collection.clone(),
            bucket: chunk.bucket,
            from: chunk.from,
            to: chunk.to,
            points: chunk.points.iter().map(StoredPoint::from_point).collect(),
        },
    };
    let wire = WireRecord {
        version: BODY_VERSION,
        stamp,
        origin: *origin.as_bytes(),
        op,
    };
    postcard::to_stdvec(&wire).expect("records always encode")
}

/// The identity of a record: xxh3-64 of its body. Two logs hold the same record at an LSN
/// exactly when these agree (the body carries stamp, origin and operation).
pub fn body_hash(body: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(body)
}

pub fn decode(lsn: u64, bytes: &[u8]) -> Result<Record> {
    let corrupt = |reason: String| Error::Corrupt {
        what: "WAL record body",
        file: format!("LSN {lsn}").into(),
        reason,
    };
    let wire: WireRecord = postcard::from_bytes(bytes).map_err(|e| corrupt(e.to_string()))?;
    if wire.version != BODY_VERSION {
        return Err(corrupt(format!("unknown body version {}", wire.version)));
    }
    let op = match wire.op {
        WireOp::CreateCollection {
            name,
            dimension,
            metric,
        } => {
            let metric = Metric::parse(&metric)
                .ok_or_else(|| corrupt(format!("unknown metric {metric}")))?;
            Op::CreateCollection(CollectionSpec {
                name,
                dimension: dimension as usize,
                metric,
            })
        }
        WireOp::DropCollection { name } => Op::DropCollection { name },
        WireOp::Upsert { collection, points } => Op::Upsert {
            collection,
            points: into_points(points).map_err(corrupt)?,
        },
        WireOp::Delete { collection, ids } => Op::Delete { collection, ids },
        WireOp::Checkpoint {
            collection,
            buckets,
            counts,
        } => {
            if buckets.len() != BUCKET_COUNT || counts.len() != BUCKET_COUNT {
                return Err(corrupt("a checkpoint without 256 buckets".into()));
            }
            Op::Checkpoint {
                collection,
                buckets,
                counts,
            }
        }
        WireOp::RepairBucket {
            collection,
            bucket,
            from,
            to,
            points,
        } => {
            if bucket as usize >= BUCKET_COUNT || from > to {
                return Err(corrupt(format!(
                    "a repair record for bucket {bucket}, ids {from}..={to}"
                )));
            }
            Op::RepairBucket(RepairChunk {
                collection,
                bucket,
                from,
                to,
                points: into_points(points).map_err(corrupt)?,
            })
        }
    };
    if !op.is_stamped() && wire.stamp != 0 {
        return Err(corrupt(
            "an anti-entropy record with a Lamport stamp".into(),
        ));
    }
    Ok(Record {
        stamp: wire.stamp,
        origin: Uuid::from_bytes(wire.origin),
        op,
    })
}

fn into_points(points: Vec<StoredPoint>) -> std::result::Result<Vec<Point>, String> {
    points.into_iter().map(StoredPoint::into_point).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(op: Op) {
        let record = Record {
            stamp: if op.is_stamped() { 77 } else { 0 },
            origin: Uuid::new_v4(),
            op,
        };
        assert_eq!(
            decode(5, &encode(record.stamp, record.origin, &record.op)).unwrap(),
            record
        );
    }

    // Proves every operation round-trips through the body codec bit-exactly.
    #[test]
    fn every_op_round_trips() {
        check(Op::CreateCollection(CollectionSpec {
            name: "c".into(),
            dimension: 3,
            metric: Metric::Poincare,
        }));
        check(Op::DropCollection { name: "c".into() });
        let payload = json!({"z": 1, "a": [1.5, "x", null], "big": 9007199254740992u64});
        check(Op::Upsert {
            collection: "c".into(),
            points: vec![Point {
                id: u64::MAX,
                vector: vec![-0.0, 1e-38, 3.5],
                payload: payload.as_object().unwrap().clone(),
            }],
        });
        check(Op::Delete {
            collection: "c".into(),
            ids: vec![0, 1, u64::MAX],
        });
        check(Op::Checkpoint {
            collection: "c".into(),
            buckets: (0..256).map(|b| b * 7919).collect(),
            counts: (0..256).collect(),
        });
        check(Op::RepairBucket(RepairChunk {
            collection: "c".into(),
            bucket: 3,
            from: 3,
            to: u64::MAX,
            points: vec![Point {
                id: 259,
                vector: vec![1.0, -2.0],
                payload: Map::new(),
            }],
        }));
    }

    // Proves payload floats keep their exact value through a request parse and a WAL round
    // trip, so a point's entry hash is the same live and after replay (DESIGN §3).
    #[test]
    fn payload_floats_round_trip_exactly() {
        let text = r#"{"a":0.9452706955539223,"b":-5.001964645085646e-8,"c":1e21,"d":5e-324}"#;
        let payload: serde_json::Map<String, Value> = serde_json::from_str(text).unwrap();
        assert_eq!(payload["a"].as_f64(), Some(0.9452706955539223));
        assert_eq!(payload["b"].as_f64(), Some(-5.001964645085646e-8));
        let point = Point {
            id: 1,
            vector: vec![0.5],
            payload,
        };
        let hash = crate::digest::entry_hash(1, &point.vector, &point.payload);
        let op = Op::Upsert {
            collection: "c".into(),
            points: vec![point],
        };
        let decoded = decode(1, &encode(1, Uuid::nil(), &op)).unwrap();
        let Op::Upsert { points, .. } = decoded.op else {
            panic!("not an upsert")
        };
        assert_eq!(
            crate::digest::entry_hash(1, &points[0].vector, &points[0].payload),
            hash
        );
    }

    // Proves a body that passed the CRC but does not decode is reported, not panicked on,
    // and so are anti-entropy records no leader writes (a bucket ≥ 256, an empty id range,
    // a stamp), which would otherwise panic or move a clock when applied.
    #[test]
    fn garbage_body_is_corruption() {
        let err = decode(9, &[1, 2, 3]).unwrap_err();
        assert!(err.to_string().contains("LSN 9"), "{err}");
        let chunk = |bucket, from, to| {
            Op::RepairBucket(RepairChunk {
                collection: "c".into(),
                bucket,
                from,
                to,
                points: Vec::new(),
            })
        };
        for (stamp, op) in [
            (0, chunk(256, 0, 1)),
            (0, chunk(1, 5, 4)),
            (3, chunk(1, 0, 9)),
        ] {
            assert!(
                decode(1, &encode(stamp, Uuid::nil(), &op)).is_err(),
                "{op:?}"
            );
        }
        assert!(decode(1, &encode(0, Uuid::nil(), &chunk(255, 0, u64::MAX))).is_ok());
    }
}
