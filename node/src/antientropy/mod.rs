//! Anti-entropy: replicas verified at the same log position, and drifted buckets repaired
//! through the log itself.
//!
//! Comparing two live replicas' digests only works when they happen to sit at the same
//! clock, which a steady write load rarely allows. Instead the leader writes a *checkpoint*
//! record into its WAL (its 256 bucket hashes and counts as of that LSN; no Lamport stamp,
//! no data change) every `--checkpoint-records` writes or `--checkpoint-interval`. A follower
//! applies records in LSN order, so when it applies the checkpoint its state is exactly the
//! prefix the leader described: the comparison is exact under any load, with no pause.
//!
//! A follower reports each result on its replication stream (`CheckpointReport`). With
//! `--anti-entropy repair` it asks for repair of the drifted buckets; the leader
//! ([`Coordinator`]) decides: with one follower the leader is the source of truth; with two
//! or more, when every follower reports the same drifted buckets with the same hashes, the
//! leader is the odd one out and nothing is repaired automatically ("outvoted"). A repair
//! appends *repair records* — one bucket's exact content in id-ordered chunks, each cut
//! under the write lock, so each is exact at its own LSN and writes racing the repair follow
//! it in the log on every replica. Repair records take LSNs but no stamps: clocks and the
//! leader's data do not change, applying one twice changes nothing, and a repair cut short
//! by a crash is finished by the next checkpoint's verdict. The worker ([`tasks`]) is
//! rate-limited (`--repair-points-per-second`) so repair never starves the live stream.

pub mod coordinator;
pub mod tasks;

pub use coordinator::{Coordinator, CoordinatorView, Outvoted, RepairJob};

use std::time::SystemTime;

/// `--anti-entropy`: what a node does with checkpoints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Followers verify checkpoints and ask for repairs; the leader writes checkpoints and
    /// repairs automatically.
    #[default]
    Repair,
    /// Followers verify and report; nothing is repaired automatically (an operator still can).
    Detect,
    /// Followers do not verify; a leader writes no checkpoints.
    Off,
}

impl Mode {
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "repair" => Some(Mode::Repair),
            "detect" => Some(Mode::Detect),
            "off" => Some(Mode::Off),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Repair => "repair",
            Mode::Detect => "detect",
            Mode::Off => "off",
        }
    }
}

/// The outcome of verifying one checkpoint record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    pub collection: String,
    /// The checkpoint record's LSN: the log prefix both sides described.
    pub lsn: u64,
    /// `(bucket, this node's hash)` of every bucket that differs from the leader's.
    pub drifted: Vec<(u32, u64)>,
    pub verified_unix_ms: u64,
}

impl CheckResult {
    pub fn is_ok(&self) -> bool {
        self.drifted.is_empty()
    }
}

pub fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl From<&CheckResult> for hyperspace_proto::v1::CheckResult {
    fn from(r: &CheckResult) -> Self {
        hyperspace_proto::v1::CheckResult {
            collection: r.collection.clone(),
            lsn: r.lsn,
            drifted_buckets: r.drifted.iter().map(|(b, _)| *b).collect(),
            drifted_hashes: r.drifted.iter().map(|(_, h)| *h).collect(),
            verified_unix_ms: r.verified_unix_ms,
        }
    }
}

impl From<hyperspace_proto::v1::CheckResult> for CheckResult {
    fn from(r: hyperspace_proto::v1::CheckResult) -> Self {
        CheckResult {
            collection: r.collection,
            lsn: r.lsn,
            drifted: r
                .drifted_buckets
                .into_iter()
                .zip(r.drifted_hashes)
                .collect(),
            verified_unix_ms: r.verified_unix_ms,
        }
    }
}
