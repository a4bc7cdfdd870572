//! Durable state on disk: the data directory (lock, node id), the WAL, the record codec and
//! snapshots. Nothing here knows about indexes, digests, HTTP, gRPC or tokio.
//!
//! Layout of a data directory:
//! ```text
//! DATA/LOCK                      exclusive lock: one process per data directory
//! DATA/node_id                   UUID v4, written once on first start
//! DATA/wal/{first_lsn:020}.wal   WAL segments (format in `wal`)
//! DATA/snapshots/{lsn:020}/      a complete snapshot at that LSN (format in `snapshot`)
//! DATA/INSTALLING                only while a leader's snapshot is being installed: its LSN
//! ```
//!
//! `tail` is the in-memory window of the newest records that the replication stream reads.

pub mod datadir;
pub mod record;
pub mod snapshot;
pub mod tail;
pub mod wal;
