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
            points: points
                .into_iter()
                .map(StoredPoint::into_point)
                .collect::<std::result::Result<_, _>>()
                .map_err(corrupt)?,
        },
        WireOp::Delete { collection, ids } => Op::Delete { collection, ids },
    };
    Ok(Record {
        stamp: wire.stamp,
        origin: Uuid::from_bytes(wire.origin),
        op,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(op: Op) {
        let record = Record {
            stamp: 77,
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

    // Proves a body that passed the CRC but does not decode is reported, not panicked on.
    #[test]
    fn garbage_body_is_corruption() {
        let err = decode(9, &[1, 2, 3]).unwrap_err();
        assert!(err.to_string().contains("LSN 9"), "{err}");
    }
}
