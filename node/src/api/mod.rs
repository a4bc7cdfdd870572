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

use crate::engine::Engine;
use crate::error::{Error, Result};

/// What both transports share. Cloned into every handler; no globals.
#[derive(Clone)]
pub struct NodeContext {
    engine: Arc<OnceLock<Arc<Engine>>>,
    pub auth: auth::ApiKey,
    pub advertise: Advertised,
    pub fault_injection: bool,
    ready: Arc<AtomicBool>,
}

/// The addresses this node tells others to use.
#[derive(Debug, Clone, Default)]
pub struct Advertised {
    pub http_addr: String,
    pub grpc_addr: String,
}

impl NodeContext {
    pub fn new(auth: auth::ApiKey, advertise: Advertised, fault_injection: bool) -> NodeContext {
        NodeContext {
            engine: Arc::new(OnceLock::new()),
            auth,
            advertise,
            fault_injection,
            ready: Arc::new(AtomicBool::new(false)),
        }
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
