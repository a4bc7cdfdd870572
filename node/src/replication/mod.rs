//! Replication: one leader streams its WAL to followers over gRPC (`Replicate`, a
//! bidirectional stream opened by the follower).
//!
//! Protocol, in order:
//! 1. The follower sends `FollowerHello`: its node id, advertised addresses and its last
//!    record `(lsn, body hash)`. Auth is the API key on the call, like every gRPC call.
//! 2. The leader refuses a node id that already has a live stream (heard within
//!    `REPLICATION_LIVE_WINDOW_MS`: two nodes share an identity) and a follower whose log
//!    holds records it lacks (`diverged`, see `Engine::stream_start`). Otherwise it answers
//!    `LeaderWelcome` with its identity and where the records start.
//! 3. A follower older than the retained WAL first receives the newest snapshot in chunks
//!    and installs it (replacing its state, crash safe).
//! 4. Records follow in LSN order, only up to the leader's acknowledged LSN (so a follower
//!    never holds a record a client was not told about). The sender reads them from the live
//!    tail in memory; when the follower's next LSN has left the tail (it was slow, or came
//!    from far behind) it reads the WAL on disk, and returns to the tail once it catches up.
//!    The queue to the network is bounded; a slow follower only makes its sender wait, so it
//!    falls behind the tail and is switched to WAL reading — never dropped.
//! 5. The follower appends each record to its own WAL under the leader's LSN, applies it,
//!    makes it durable, then acknowledges the LSN (`FollowerAck`, also sent every heartbeat
//!    interval). The leader sends a heartbeat when idle. A side that hears nothing for
//!    `REPLICATION_PEER_TIMEOUT_MS` drops the stream; the follower reconnects with backoff
//!    and resumes from its last record.
//!
//! `Replication` holds what the API shows: on the leader each follower's position, on a
//! follower the state of its stream.

pub mod follower;
pub mod leader;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use crate::error::{Error, Result};
use crate::limits::REPLICATION_LIVE_WINDOW_MS;
use crate::metrics;

/// A follower as the leader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowerView {
    pub node_id: String,
    pub http_addr: String,
    pub grpc_addr: String,
    pub connected: bool,
    pub applied_lsn: u64,
}

/// This node's own stream to its leader, when it is a follower.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamStatus {
    pub connected: bool,
    /// The last failure's class and message, until the stream is up again.
    pub error: Option<(crate::error::ErrorCode, String)>,
}

struct Entry {
    view: FollowerView,
    stream: u64,
    heard: Instant,
}

/// Shared replication state of one node (both roles).
pub struct Replication {
    followers: Mutex<BTreeMap<String, Entry>>,
    next_stream: Mutex<u64>,
    upstream: Mutex<StreamStatus>,
    /// The API key this node presents to its leader.
    pub api_key: Option<String>,
    /// One snapshot is prepared and sent at a time (each holds the whole data set in memory).
    snapshot_sends: Arc<tokio::sync::Semaphore>,
    /// True once the node is shutting down: streams to followers end so the server drains.
    stopping: tokio::sync::watch::Sender<bool>,
    /// The leader's anti-entropy bookkeeping: the followers' checkpoint reports and repairs.
    pub anti_entropy: crate::antientropy::Coordinator,
}

impl Replication {
    pub fn new(api_key: Option<String>) -> Replication {
        Replication {
            followers: Mutex::default(),
            next_stream: Mutex::default(),
            upstream: Mutex::default(),
            api_key,
            snapshot_sends: Arc::new(tokio::sync::Semaphore::new(1)),
            stopping: tokio::sync::watch::Sender::new(false),
            anti_entropy: crate::antientropy::Coordinator::default(),
        }
    }

    /// Registers a new stream for a follower; returns its stream number, or
    /// `DuplicateFollower` while another stream of that node id is live.
    pub fn connect(&self, view: FollowerView, acked_lsn: u64) -> Result<u64> {
        let mut followers = self.followers.lock();
        if let Some(old) = followers.get(&view.node_id) {
            let heard_ms = old.heard.elapsed().as_millis() as u64;
            if old.view.connected && heard_ms < REPLICATION_LIVE_WINDOW_MS {
                return Err(Error::DuplicateFollower {
                    node_id: view.node_id,
                    heard_ms,
                });
            }
        }
        let stream = {
            let mut next = self.next_stream.lock();
            *next += 1;
            *next
        };
        let lag = acked_lsn.saturating_sub(view.applied_lsn);
        metrics::follower_state(&view.node_id, true, lag);
        followers.insert(
            view.node_id.clone(),
            Entry {
                view: FollowerView {
                    connected: true,
                    ..view
                },
                stream,
                heard: Instant::now(),
            },
        );
        Ok(stream)
    }

    /// A message arrived on `stream`: the follower is alive and at `applied_lsn`.
    pub fn heard(&self, node_id: &str, stream: u64, applied_lsn: u64, acked_lsn: u64) {
        if let Some(entry) = self.followers.lock().get_mut(node_id) {
            if entry.stream == stream {
                entry.heard = Instant::now();
                entry.view.applied_lsn = entry.view.applied_lsn.max(applied_lsn);
                let lag = acked_lsn.saturating_sub(entry.view.applied_lsn);
                metrics::follower_state(node_id, true, lag);
            }
        }
    }

    /// `stream` ended; a newer stream of the same follower is left alone.
    pub fn disconnect(&self, node_id: &str, stream: u64, acked_lsn: u64) {
        if let Some(entry) = self.followers.lock().get_mut(node_id) {
            if entry.stream == stream {
                entry.view.connected = false;
                let lag = acked_lsn.saturating_sub(entry.view.applied_lsn);
                metrics::follower_state(node_id, false, lag);
            }
        }
    }

    /// Whether `stream` is still the follower's current stream.
    pub fn is_current(&self, node_id: &str, stream: u64) -> bool {
        self.followers
            .lock()
            .get(node_id)
            .is_some_and(|e| e.stream == stream && e.view.connected)
    }

    /// Every follower seen since this node started, by node id.
    pub fn followers(&self) -> Vec<FollowerView> {
        self.followers
            .lock()
            .values()
            .map(|e| e.view.clone())
            .collect()
    }

    /// Ends every stream to followers (on shutdown; they reconnect to the restarted node).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    pub fn upstream(&self) -> StreamStatus {
        self.upstream.lock().clone()
    }

    fn set_upstream(&self, connected: bool, error: Option<(crate::error::ErrorCode, String)>) {
        let mut upstream = self.upstream.lock();
        upstream.connected = connected;
        if connected || error.is_some() {
            upstream.error = error;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(id: &str, applied: u64) -> FollowerView {
        FollowerView {
            node_id: id.into(),
            http_addr: "h".into(),
            grpc_addr: "g".into(),
            connected: false,
            applied_lsn: applied,
        }
    }

    // Proves a live identity is refused, a dead stream is replaced, and an old stream's
    // late messages do not touch the new one.
    #[test]
    fn duplicate_identity_refused_while_live_and_old_streams_ignored() {
        let r = Replication::new(None);
        let first = r.connect(view("a", 5), 10).unwrap();
        let err = r.connect(view("a", 5), 10).unwrap_err();
        assert!(matches!(err, Error::DuplicateFollower { .. }), "{err}");
        r.disconnect("a", first, 10);
        let second = r.connect(view("a", 7), 10).unwrap();
        r.heard("a", first, 9, 10);
        assert_eq!(r.followers()[0].applied_lsn, 7);
        r.heard("a", second, 9, 10);
        assert_eq!(r.followers()[0].applied_lsn, 9);
        r.disconnect("a", first, 10);
        assert!(r.is_current("a", second));
    }
}
