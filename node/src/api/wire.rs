//! JSON wire types of the REST API (DESIGN.md §5) and their conversions to domain types.
//!
//! u64 values (ids, hashes, clocks, LSNs) are JSON numbers by default and decimal strings
//! with `?u64=string`, for clients whose numbers are doubles. The mode is a per-request
//! task-local set by the HTTP layer, so every response type serializes through `U64` without
//! threading a flag through each constructor. Requests accept a u64 as a number or a string.
//! Payloads are never rewritten: they pass through as JSON values.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::model::{Point, SearchQuery};

tokio::task_local! {
    /// True when the request asked for `?u64=string`.
    pub static U64_AS_STRING: bool;
}

/// A u64 on the wire: a number, or a decimal string under `?u64=string`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ToSchema)]
#[schema(value_type = u64)]
pub struct U64(pub u64);

impl Serialize for U64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if U64_AS_STRING
            .try_with(|as_string| *as_string)
            .unwrap_or(false)
        {
            s.collect_str(&self.0)
        } else {
            s.serialize_u64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for U64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<U64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum NumberOrString {
            Number(u64),
            String(String),
            Other(Value),
        }
        match NumberOrString::deserialize(d)? {
            NumberOrString::Number(n) => Ok(U64(n)),
            NumberOrString::String(s) => s.parse().map(U64).map_err(|_| {
                serde::de::Error::custom(format!("{s:?} is not an unsigned 64-bit integer"))
            }),
            NumberOrString::Other(v) => Err(serde::de::Error::custom(format!(
                "{v} is not an unsigned 64-bit integer (a JSON number or decimal string)"
            ))),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCollectionBody {
    pub name: String,
    pub dimension: usize,
    /// cosine, l2, dot or poincare
    pub metric: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointBody {
    pub id: U64,
    pub vector: Vec<f32>,
    #[schema(value_type = Option<Object>)]
    pub payload: Option<Map<String, Value>>,
}

impl PointBody {
    pub fn into_point(self) -> Point {
        Point {
            id: self.id.0,
            vector: self.vector,
            payload: self.payload.unwrap_or_default(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpsertBody {
    pub points: Vec<PointBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteBody {
    pub ids: Vec<U64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    pub vector: Vec<f32>,
    pub top_k: usize,
    /// Payload keys whose values must be equal.
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Map<String, Value>>,
    pub ef: Option<usize>,
}

impl SearchBody {
    pub fn into_query(self) -> SearchQuery {
        SearchQuery {
            vector: self.vector,
            top_k: self.top_k,
            filter: self.filter,
            ef: self.ef,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchBatchBody {
    pub searches: Vec<SearchBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionJson {
    pub name: String,
    pub dimension: usize,
    pub metric: &'static str,
    pub count: U64,
    pub logical_clock: U64,
    pub index: &'static str,
    /// Points not yet in the HNSW graph; searched exactly until they are.
    pub unindexed: U64,
}

impl From<crate::model::CollectionInfo> for CollectionJson {
    fn from(info: crate::model::CollectionInfo) -> Self {
        CollectionJson {
            name: info.spec.name,
            dimension: info.spec.dimension,
            metric: info.spec.metric.as_str(),
            count: U64(info.count),
            logical_clock: U64(info.logical_clock),
            index: info.index,
            unindexed: U64(info.unindexed),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PointJson {
    pub id: U64,
    pub vector: Vec<f32>,
    #[schema(value_type = Object)]
    pub payload: Map<String, Value>,
}

impl From<Point> for PointJson {
    fn from(p: Point) -> Self {
        PointJson {
            id: U64(p.id),
            vector: p.vector,
            payload: p.payload,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoredJson {
    pub id: U64,
    pub score: f32,
    #[schema(value_type = Object)]
    pub payload: Map<String, Value>,
}

impl From<crate::model::ScoredPoint> for ScoredJson {
    fn from(p: crate::model::ScoredPoint) -> Self {
        ScoredJson {
            id: U64(p.id),
            score: p.score,
            payload: p.payload,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DigestJson {
    pub collection_name: String,
    pub logical_clock: U64,
    pub state_hash: U64,
    pub count: U64,
    pub buckets: Vec<U64>,
    pub bucket_counts: Vec<U64>,
    /// 16 lowercase hex digits of state_hash, for JavaScript readers.
    pub state_hash_hex: String,
}

impl From<crate::model::DigestView> for DigestJson {
    fn from(view: crate::model::DigestView) -> Self {
        let digest = &view.digest;
        DigestJson {
            collection_name: view.collection,
            logical_clock: U64(view.logical_clock),
            state_hash: U64(digest.state_hash()),
            count: U64(digest.count()),
            buckets: digest.buckets().iter().map(|b| U64(*b)).collect(),
            bucket_counts: digest.bucket_counts().iter().map(|c| U64(*c)).collect(),
            state_hash_hex: format!("{:016x}", digest.state_hash()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WriteJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upserted: Option<U64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<U64>,
    pub lsn: U64,
    pub logical_clock: U64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BucketEntryJson {
    pub id: U64,
    pub entry_hash: U64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NodeJson {
    pub node_id: String,
    pub role: &'static str,
    pub version: &'static str,
    pub http_addr: String,
    pub grpc_addr: String,
    pub last_lsn: U64,
    pub logical_clock: U64,
}

/// Where a node can be reached, as `/api/cluster` names the leader.
#[derive(Debug, Serialize, ToSchema)]
pub struct NodeAddressJson {
    pub node_id: String,
    pub http_addr: String,
    pub grpc_addr: String,
}

/// A follower as the leader sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowerJson {
    pub node_id: String,
    pub http_addr: String,
    pub grpc_addr: String,
    pub connected: bool,
    pub applied_lsn: U64,
    pub lag_records: U64,
    /// The follower's latest checkpoint verification per collection, as it reported them.
    pub checks: Vec<CheckJson>,
}

/// `/api/cluster`: this node's fields, the leader and the followers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterJson {
    #[serde(flatten)]
    pub node: NodeJson,
    /// Null on a follower that has not reached its leader yet.
    pub leader: Option<NodeAddressJson>,
    pub followers: Vec<FollowerJson>,
    /// On a follower: the leader URL it follows (null on the leader).
    pub following: Option<String>,
    /// On a follower: whether its replication stream is up.
    pub connected: bool,
    /// On a follower: the last replication error, if the stream is down because of one.
    pub replication_error: Option<String>,
    pub anti_entropy: AntiEntropyJson,
}

/// Anti-entropy on this node: its mode, its own verifications (a follower's), and on the
/// leader the repairs (newest first) and collections where the followers outvote it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AntiEntropyJson {
    /// repair | detect | off
    pub mode: &'static str,
    pub checks: Vec<CheckJson>,
    pub repairs: Vec<RepairJobJson>,
    pub outvoted: Vec<OutvotedJson>,
}

/// One checkpoint verification: at `lsn` both sides described the same log prefix.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckJson {
    pub collection: String,
    pub lsn: U64,
    /// ok | drift
    pub result: &'static str,
    pub drifted_buckets: Vec<u32>,
    pub verified_unix_ms: U64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepairJobJson {
    pub id: U64,
    pub collection: String,
    /// checkpoint | operator
    pub reason: &'static str,
    pub buckets: Vec<u32>,
    pub buckets_done: u32,
    pub points_sent: U64,
    pub started_unix_ms: U64,
    /// null while running.
    pub finished_unix_ms: Option<U64>,
    pub error: Option<String>,
    pub last_lsn: U64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutvotedJson {
    pub collection: String,
    pub lsn: U64,
    pub followers_agreeing: u32,
    pub followers: u32,
    pub buckets: Vec<u32>,
}

/// `POST /api/admin/checkpoint` (the body is optional: no collection means every one).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckpointBody {
    pub collection: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointJson {
    pub checkpoints: Vec<CheckpointTakenJson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointTakenJson {
    pub collection: String,
    pub lsn: U64,
}

/// `POST /api/admin/repair`: replace these buckets on every follower with the leader's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepairBody {
    pub collection: String,
    pub buckets: Vec<u32>,
}

/// `POST /api/admin/follow`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowBody {
    /// gRPC URL of the new leader, `http://HOST:GRPC_PORT`.
    pub leader: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionsJson {
    pub collections: Vec<CollectionJson>,
}

/// A page of a scroll; `next_after` is null on the last page.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScrollJson {
    pub points: Vec<PointJson>,
    pub next_after: Option<U64>,
}

/// Search answers: best first; for a batch, one list per search, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultsJson<T> {
    pub results: T,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BucketJson {
    pub bucket: u64,
    pub entries: Vec<BucketEntryJson>,
}

/// Body of the fault-injection route `POST /api/debug/collections/{name}/corrupt`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorruptBody {
    pub id: U64,
}

impl From<&crate::antientropy::CheckResult> for CheckJson {
    fn from(r: &crate::antientropy::CheckResult) -> Self {
        CheckJson {
            collection: r.collection.clone(),
            lsn: U64(r.lsn),
            result: if r.is_ok() { "ok" } else { "drift" },
            drifted_buckets: r.drifted.iter().map(|(b, _)| *b).collect(),
            verified_unix_ms: U64(r.verified_unix_ms),
        }
    }
}

impl From<crate::antientropy::RepairJob> for RepairJobJson {
    fn from(job: crate::antientropy::RepairJob) -> Self {
        RepairJobJson {
            id: U64(job.id),
            collection: job.collection,
            reason: job.reason,
            buckets: job.buckets,
            buckets_done: job.buckets_done,
            points_sent: U64(job.points_sent),
            started_unix_ms: U64(job.started_unix_ms),
            finished_unix_ms: (job.finished_unix_ms > 0).then_some(U64(job.finished_unix_ms)),
            error: job.error,
            last_lsn: U64(job.last_lsn),
        }
    }
}

impl From<crate::antientropy::Outvoted> for OutvotedJson {
    fn from(o: crate::antientropy::Outvoted) -> Self {
        OutvotedJson {
            collection: o.collection,
            lsn: U64(o.lsn),
            followers_agreeing: o.followers_agreeing,
            followers: o.followers,
            buckets: o.buckets,
        }
    }
}
