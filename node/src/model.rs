//! Domain types shared by the engine and the transports. They derive nothing wire-related:
//! the HTTP and gRPC layers convert to and from their own types at the edge.

use serde_json::{Map, Value};

pub use crate::index::Metric;

/// A point as clients write and read it. `payload` is always a JSON object (`{}` when none).
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub id: u64,
    pub vector: Vec<f32>,
    pub payload: Map<String, Value>,
}

/// What a collection is created with; immutable afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionSpec {
    pub name: String,
    pub dimension: usize,
    pub metric: Metric,
}

/// Summary of a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionInfo {
    pub spec: CollectionSpec,
    pub count: u64,
    pub logical_clock: u64,
    pub index: &'static str,
    /// Points not yet in the HNSW graph (searched exactly meanwhile).
    pub unindexed: u64,
}

/// What an acknowledged write returns: its LSN and the Lamport stamp it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteAck {
    /// Points upserted or deleted (0 for collection admin).
    pub count: u64,
    pub lsn: u64,
    pub logical_clock: u64,
}

/// One k-NN query. `filter` keeps points whose payload has every key equal to the value.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    pub vector: Vec<f32>,
    pub top_k: usize,
    pub filter: Option<Map<String, Value>>,
    pub ef: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScoredPoint {
    pub id: u64,
    pub score: f32,
    pub payload: Map<String, Value>,
}

/// One page of a scroll in id order.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrollPage {
    pub points: Vec<Point>,
    pub next_after: Option<u64>,
}

/// A collection's digest as of its `logical_clock`.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestView {
    pub collection: String,
    pub logical_clock: u64,
    pub digest: crate::digest::Digest,
}

/// The role of a node in replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Leader,
    Follower,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Leader => "leader",
            Role::Follower => "follower",
        }
    }
}

/// The role with what it needs: a follower knows the URL it follows and, once the leader
/// answered, the leader's identity and addresses (carried by `not_leader` errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleState {
    Leader,
    Follower {
        leader_url: String,
        leader: Option<crate::error::LeaderAddress>,
    },
}

impl RoleState {
    pub fn role(&self) -> Role {
        match self {
            RoleState::Leader => Role::Leader,
            RoleState::Follower { .. } => Role::Follower,
        }
    }
}

/// Identity and position of this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStatus {
    pub node_id: String,
    pub role: Role,
    pub last_lsn: u64,
    pub logical_clock: u64,
}
