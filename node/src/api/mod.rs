//! The node's two transports over one engine: REST (`http`, axum) and gRPC (`grpc`, tonic).
//!
//! Handlers are thin: decode → one engine call (on the blocking pool, because engine calls
//! take locks and may fsync) → encode. Validation, auth and apply live once, below them.
//! Each transport maps `ErrorCode` to its status in exactly one exhaustive function.

pub mod auth;
pub mod grpc;
pub mod http;
pub mod openapi;
pub mod wire;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crate::antientropy::{CheckResult, CoordinatorView, Mode, RepairJob};
use crate::engine::Engine;
use crate::error::{Error, LeaderAddress, Result};
use crate::model::{NodeStatus, RoleState};
use crate::replication::{follower, FollowerView, Replication};

/// What both transports share. Cloned into every handler; no globals.
#[derive(Clone)]
pub struct NodeContext {
    engine: Arc<OnceLock<Arc<Engine>>>,
    pub auth: auth::ApiKey,
    pub advertise: Advertised,
    pub fault_injection: bool,
    pub replication: Arc<Replication>,
    ready: Arc<AtomicBool>,
}

/// The cluster as this node sees it: what `/api/cluster` and gRPC `GetNodeInfo` show.
#[derive(Debug, Clone)]
pub struct ClusterView {
    pub status: NodeStatus,
    pub leader: Option<LeaderAddress>,
    /// On the leader: every follower seen since start, with its lag in records.
    pub followers: Vec<(FollowerView, u64)>,
    /// On a follower: the URL it follows, whether its stream is up, its last error.
    pub following: Option<String>,
    pub connected: bool,
    pub replication_error: Option<String>,
    pub anti_entropy: AntiEntropyView,
}

/// Anti-entropy as this node sees it.
#[derive(Debug, Clone)]
pub struct AntiEntropyView {
    pub mode: Mode,
    /// This node's own latest verification per collection (a follower's).
    pub checks: Vec<CheckResult>,
    /// On the leader: followers' reports, repair jobs, outvoted collections.
    pub coordinator: CoordinatorView,
}

impl AntiEntropyView {
    /// The latest results a follower reported, per collection.
    pub fn follower_checks(&self, follower: &str) -> Vec<CheckResult> {
        let results = &self.coordinator.results;
        results
            .iter()
            .filter(|(id, _)| id == follower)
            .map(|(_, r)| r.clone())
            .collect()
    }
}

/// The addresses this node tells others to use.
#[derive(Debug, Clone, Default)]
pub struct Advertised {
    pub http_addr: String,
    pub grpc_addr: String,
}

impl NodeContext {
    pub fn new(
        auth: auth::ApiKey,
        advertise: Advertised,
        fault_injection: bool,
        replication: Arc<Replication>,
    ) -> NodeContext {
        NodeContext {
            engine: Arc::new(OnceLock::new()),
            auth,
            advertise,
            fault_injection,
            replication,
            ready: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn me(&self) -> follower::Me {
        follower::Me {
            http_addr: self.advertise.http_addr.clone(),
            grpc_addr: self.advertise.grpc_addr.clone(),
        }
    }

    pub fn leader_address(&self, engine: &Engine) -> LeaderAddress {
        LeaderAddress {
            node_id: engine.node_id().to_string(),
            http_addr: self.advertise.http_addr.clone(),
            grpc_addr: self.advertise.grpc_addr.clone(),
        }
    }

    pub fn cluster(&self) -> Result<ClusterView> {
        let engine = self.engine()?;
        let status = engine.status();
        let acked = engine.acked_lsn();
        let upstream = self.replication.upstream();
        let anti_entropy = AntiEntropyView {
            mode: engine.anti_entropy(),
            checks: engine.checks(),
            coordinator: self.replication.anti_entropy.view(),
        };
        let view = match engine.role() {
            RoleState::Leader => ClusterView {
                status,
                leader: Some(self.leader_address(&engine)),
                followers: self
                    .replication
                    .followers()
                    .into_iter()
                    .map(|f| {
                        let lag = acked.saturating_sub(f.applied_lsn);
                        (f, lag)
                    })
                    .collect(),
                following: None,
                connected: false,
                replication_error: None,
                anti_entropy,
            },
            RoleState::Follower { leader_url, leader } => ClusterView {
                status,
                leader,
                followers: Vec::new(),
                following: Some(leader_url),
                connected: upstream.connected,
                replication_error: upstream.error.map(|(_, message)| message),
                anti_entropy,
            },
        };
        Ok(view)
    }

    /// Manual failover: this node becomes the leader.
    pub async fn promote(&self) -> Result<ClusterView> {
        self.run(|e| {
            e.promote();
            Ok(())
        })
        .await?;
        self.cluster()
    }

    /// Points this node at another leader (checked first: `diverged` refuses).
    pub async fn follow(&self, leader_url: &str) -> Result<ClusterView> {
        let engine = self.engine()?;
        follower::follow(&engine, &self.replication, leader_url).await?;
        self.cluster()
    }

    /// Leader: appends a checkpoint of one collection (or all); returns `(collection, lsn)`.
    pub async fn checkpoint(&self, collection: Option<String>) -> Result<Vec<(String, u64)>> {
        self.run(move |engine| {
            engine.ensure_leader()?;
            match collection {
                Some(name) => Ok(vec![(name.clone(), engine.checkpoint(&name)?)]),
                None => engine.checkpoint_all(),
            }
        })
        .await
    }

    /// Leader: queues a repair of `buckets` of `collection` (an operator's request).
    pub fn repair(&self, collection: &str, buckets: &[u32]) -> Result<RepairJob> {
        let engine = self.engine()?;
        engine.ensure_leader()?;
        engine.collection(collection)?;
        let buckets = crate::validate::repair_buckets(buckets)?;
        let job = self.replication.anti_entropy.request(collection, buckets);
        tracing::warn!(collection, buckets = ?job.buckets, job = job.id, "repair asked by an operator");
        Ok(job)
    }

    /// Hands over the recovered engine; until then data routes answer `unavailable`.
    pub fn set_engine(&self, engine: Arc<Engine>) {
        assert!(self.engine.set(engine).is_ok(), "the engine is set once");
    }

    pub fn engine(&self) -> Result<Arc<Engine>> {
        self.engine
            .get()
            .cloned()
            .ok_or_else(|| Error::Unavailable {
                reason: "the node is still recovering".into(),
            })
    }

    /// Marks the node ready: recovery done and both listeners serving.
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst) && self.engine.get().is_some()
    }

    /// Runs an engine call on the blocking pool.
    pub async fn run<T, F>(&self, call: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Engine) -> Result<T> + Send + 'static,
    {
        let engine = self.engine()?;
        match tokio::task::spawn_blocking(move || call(&engine)).await {
            Ok(result) => result,
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }
}
