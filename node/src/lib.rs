//! HyperspaceDB node: a durable vector store with an exact 256-bucket digest, a Lamport
//! clock and an immutable identity, served over REST and gRPC.
//!
//! Modules, in dependency order (each uses only those above it):
//! - `limits`: every limit of DESIGN.md §8, named, with its cost.
//! - `error`: the crate's one error enum and its wire-neutral classes.
//! - `model`: domain types shared by the engine and transports (no wire derives).
//! - `validate`: input checks against `limits`, before anything reaches the WAL.
//! - `digest`: entry hashes (xxh3 + RFC 8785) and the 256-bucket digest.
//! - `index`: k-NN behind one trait: exact flat and HNSW (usearch).
//! - `storage`: data directory (lock, node id), WAL, record codec, snapshots.
//! - `collection`: one collection in memory: points, digest, index, logical clock.
//! - `engine`: all collections, the write path, recovery, snapshots.
//! - `metrics`: Prometheus series of §6.
//! - `replication`: the leader's WAL stream to followers and the follower's client of it.
//! - `api`: REST (axum) and gRPC (tonic) transports, auth, OpenAPI.
//! - `server`: binds listeners, recovers, serves, drains.
//! - `synth`: deterministic clustered vectors for benchmarks and tests.

pub mod antientropy;
pub mod api;
pub mod backup;
pub mod collection;
pub mod digest;
pub mod engine;
pub mod error;
pub mod index;
pub mod limits;
pub mod metrics;
pub mod model;
pub mod replication;
pub mod server;
pub mod storage;
pub mod synth;
pub mod validate;

pub use engine::{Engine, EngineOptions};
pub use error::{Error, ErrorCode, Result};
pub use model::RoleState;
pub use server::{NodeOptions, TlsFiles};
pub use storage::wal::FsyncPolicy;
