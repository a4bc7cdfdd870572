//! The leader's side of one replication stream: handshake, then a sender that reads the
//! live tail (or the WAL when the follower is behind it) and a receiver that tracks the
//! follower's acknowledgements and liveness. See the protocol in the parent module.

use std::sync::Arc;
use std::time::Duration;

use hyperspace_proto::v1 as pb;
use pb::follower_message::Kind as FromFollower;
use pb::leader_message::Kind as ToFollower;
use tokio::sync::{mpsc, watch};
use tokio::time::timeout;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};

use super::{FollowerView, Replication};
use crate::antientropy::CheckResult;
use crate::engine::{Engine, StreamStart};
use crate::error::{Error, LeaderAddress, Result};
use crate::limits::{
    REPLICATION_BATCH_BYTES_MAX, REPLICATION_HEARTBEAT_MS, REPLICATION_PEER_TIMEOUT_MS,
    REPLICATION_QUEUE_MESSAGES_MAX, SNAPSHOT_CHUNK_BYTES,
};
use crate::model::RoleState;
use crate::storage::snapshot;
use crate::storage::wal::WalReader;

pub type Outbound = ReceiverStream<Result<pb::LeaderMessage, Status>>;

/// Answers one `Replicate` call: the handshake runs before this returns (so a refusal is the
/// call's status), then two tasks serve the stream until either side goes away.
pub async fn serve(
    engine: Arc<Engine>,
    replication: Arc<Replication>,
    me: LeaderAddress,
    mut inbound: Streaming<pb::FollowerMessage>,
    to_status: fn(Error) -> Status,
) -> std::result::Result<Outbound, Status> {
    if let RoleState::Follower { leader, .. } = engine.role() {
        return Err(to_status(Error::NotLeader { leader }));
    }
    let hello = match timeout(peer_timeout(), inbound.message()).await {
        Ok(Ok(Some(pb::FollowerMessage {
            kind: Some(FromFollower::Hello(hello)),
        }))) => hello,
        Ok(Err(status)) => return Err(status),
        _ => {
            return Err(to_status(Error::invalid(
                "replicate",
                "the first message must be a FollowerHello",
            )))
        }
    };
    let follower = checked_identity(&engine, &hello).map_err(to_status)?;
    // History first: a diverged follower is told so even while an old stream of it lingers.
    let decided = {
        let engine = Arc::clone(&engine);
        let (lsn, hash) = (hello.last_lsn, hello.last_record_hash);
        let origin = uuid::Uuid::parse_str(&hello.last_record_origin).ok();
        tokio::task::spawn_blocking(move || engine.stream_start(lsn, hash, origin))
            .await
            .expect("the handshake does not panic")
    };
    let start = decided.map_err(|e| {
        tracing::warn!(follower = %follower, error = %e, "refused a follower");
        to_status(e)
    })?;
    let stream = replication
        .connect(
            FollowerView {
                node_id: follower.clone(),
                http_addr: hello.http_addr,
                grpc_addr: hello.grpc_addr,
                connected: true,
                applied_lsn: hello.last_lsn,
            },
            engine.acked_lsn(),
        )
        .map_err(to_status)?;
    let next_lsn = match start {
        StreamStart::Wal { next_lsn } => next_lsn,
        StreamStart::Snapshot => 0,
    };
    let verifies = hello.anti_entropy != crate::antientropy::Mode::Off.as_str();
    replication.anti_entropy.set_voter(&follower, verifies);
    tracing::info!(follower = %follower, next_lsn, "follower connected");
    let (tx, rx) = mpsc::channel(REPLICATION_QUEUE_MESSAGES_MAX);
    let welcome = pb::LeaderWelcome {
        leader: Some(pb::NodeAddress {
            node_id: me.node_id,
            http_addr: me.http_addr,
            grpc_addr: me.grpc_addr,
        }),
        last_lsn: engine.acked_lsn(),
        next_lsn,
        snapshot_follows: next_lsn == 0,
    };
    let _ = tx.send(Ok(message(ToFollower::Welcome(welcome)))).await;
    let (dead_tx, dead_rx) = watch::channel(false);
    let session = Session {
        engine,
        replication,
        follower,
        stream,
        tx,
        dead: dead_rx,
        to_status,
    };
    tokio::spawn(receive(session.clone_parts(), inbound, dead_tx));
    tokio::spawn(async move {
        let follower = session.follower.clone();
        let why = session.send(next_lsn).await;
        tracing::info!(follower = %follower, reason = %why, "replication stream ended");
    });
    Ok(ReceiverStream::new(rx))
}

fn peer_timeout() -> Duration {
    Duration::from_millis(REPLICATION_PEER_TIMEOUT_MS)
}

fn message(kind: ToFollower) -> pb::LeaderMessage {
    pb::LeaderMessage { kind: Some(kind) }
}

fn checked_identity(engine: &Engine, hello: &pb::FollowerHello) -> Result<String> {
    let id = uuid::Uuid::parse_str(&hello.node_id)
        .map_err(|_| Error::invalid("node_id", "must be a UUID"))?;
    if id == engine.node_id() {
        return Err(Error::invalid(
            "leader",
            "is this node itself; a node cannot follow itself",
        ));
    }
    Ok(id.to_string())
}

struct Session {
    engine: Arc<Engine>,
    replication: Arc<Replication>,
    follower: String,
    stream: u64,
    tx: mpsc::Sender<Result<pb::LeaderMessage, Status>>,
    dead: watch::Receiver<bool>,
    to_status: fn(Error) -> Status,
}

/// What the receiving task needs.
struct Parts {
    engine: Arc<Engine>,
    replication: Arc<Replication>,
    follower: String,
    stream: u64,
}

impl Session {
    fn clone_parts(&self) -> Parts {
        Parts {
            engine: Arc::clone(&self.engine),
            replication: Arc::clone(&self.replication),
            follower: self.follower.clone(),
            stream: self.stream,
        }
    }

    /// Queues one message; `false` once the follower is gone.
    async fn push(&mut self, kind: ToFollower) -> bool {
        let mut dead = self.dead.clone();
        tokio::select! {
            sent = self.tx.send(Ok(message(kind))) => sent.is_ok(),
            _ = dead.wait_for(|d| *d) => false,
        }
    }

    /// Sends an error status to the follower (unless it is already gone).
    async fn fail(&mut self, error: Error) {
        let mut dead = self.dead.clone();
        let status = (self.to_status)(error);
        tokio::select! {
            _ = self.tx.send(Err(status)) => {}
            _ = dead.wait_for(|d| *d) => {}
        }
    }

    /// Streams from `next` (after the newest snapshot when `next` is 0) until the follower
    /// goes away, the stream is replaced, or this node stops being the leader; returns why.
    async fn send(mut self, mut next: u64) -> String {
        if next == 0 {
            match self.send_snapshot().await {
                Ok(lsn) => next = lsn + 1,
                Err(why) => return why,
            }
        }
        let mut acked = self.engine.watch_acked();
        let mut role = self.engine.watch_role();
        let mut cursor: Option<WalCursor> = None;
        loop {
            if *role.borrow_and_update() != RoleState::Leader {
                let leader = match self.engine.role() {
                    RoleState::Follower { leader, .. } => leader,
                    RoleState::Leader => None,
                };
                self.fail(Error::NotLeader { leader }).await;
                return "this node is no longer the leader".into();
            }
            if !self.replication.is_current(&self.follower, self.stream) {
                return "replaced by a newer stream".into();
            }
            let until = *acked.borrow_and_update();
            if next <= until {
                let records = match self.next_batch(&mut cursor, next, until).await {
                    Ok(records) => records,
                    Err(e) => {
                        let why = format!("reading the WAL failed: {e}");
                        self.fail(e).await;
                        return why;
                    }
                };
                let Some(last) = records.last().map(|r| r.lsn) else {
                    return format!("no record {next} to send although {until} is acknowledged");
                };
                if !self
                    .push(ToFollower::Records(pb::RecordBatch { records }))
                    .await
                {
                    return "the follower went away".into();
                }
                next = last + 1;
                continue;
            }
            let mut dead = self.dead.clone();
            let beat_due = tokio::select! {
                _ = acked.changed() => false,
                _ = role.changed() => false,
                _ = dead.wait_for(|d| *d) => return "the follower went away".into(),
                _ = tokio::time::sleep(Duration::from_millis(REPLICATION_HEARTBEAT_MS)) => true,
            };
            let beat = pb::Heartbeat { last_lsn: until };
            if beat_due && !self.push(ToFollower::Heartbeat(beat)).await {
                return "the follower went away".into();
            }
        }
    }

    /// Loads, encodes and sends the newest snapshot (one at a time per leader, heartbeats
    /// while it is prepared); returns its LSN.
    async fn send_snapshot(&mut self) -> std::result::Result<u64, String> {
        let permit = Arc::clone(&self.replication.snapshot_sends)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let engine = Arc::clone(&self.engine);
        let mut prepare = tokio::task::spawn_blocking(move || {
            let image = engine.snapshot_for_follower()?;
            Ok::<_, Error>((image.lsn, snapshot::encode_image(&image)))
        });
        let (lsn, bytes) = loop {
            let beat = tokio::time::sleep(Duration::from_millis(REPLICATION_HEARTBEAT_MS));
            tokio::select! {
                prepared = &mut prepare => match prepared.expect("preparing does not panic") {
                    Ok(prepared) => break prepared,
                    Err(e) => {
                        let why = format!("preparing the snapshot failed: {e}");
                        self.fail(e).await;
                        return Err(why);
                    }
                },
                _ = beat => {
                    let beat = pb::Heartbeat { last_lsn: self.engine.acked_lsn() };
                    if !self.push(ToFollower::Heartbeat(beat)).await {
                        return Err("the follower went away during the snapshot".into());
                    }
                }
            }
        };
        tracing::info!(follower = %self.follower, lsn, bytes = bytes.len(), "sending a snapshot");
        let chunks = bytes.chunks(SNAPSHOT_CHUNK_BYTES).count();
        for (i, data) in bytes.chunks(SNAPSHOT_CHUNK_BYTES).enumerate() {
            let chunk = pb::SnapshotChunk {
                lsn,
                data: data.to_vec(),
                last: i + 1 == chunks,
            };
            if !self.push(ToFollower::Snapshot(chunk)).await {
                return Err("the follower went away during the snapshot".into());
            }
        }
        drop(permit);
        Ok(lsn)
    }

    /// Records `next..=until` (up to the batch size): from the live tail in memory, or from
    /// the WAL on disk while `next` is older than the tail. Logs each switch.
    async fn next_batch(
        &self,
        cursor: &mut Option<WalCursor>,
        next: u64,
        until: u64,
    ) -> Result<Vec<pb::WalRecord>> {
        match self
            .engine
            .tail()
            .read(next, until, REPLICATION_BATCH_BYTES_MAX)
        {
            Ok(live) if !live.is_empty() => {
                if cursor.take().is_some() {
                    tracing::info!(follower = %self.follower, next, "caught up with the live tail");
                }
                Ok(live
                    .iter()
                    .map(|r| pb::WalRecord {
                        lsn: r.lsn,
                        body: r.body.clone(),
                    })
                    .collect())
            }
            behind => {
                if cursor.is_none() {
                    let oldest = behind.err().map_or(next, |b| b.oldest);
                    tracing::info!(
                        follower = %self.follower,
                        next,
                        oldest_in_memory = oldest,
                        "follower behind the live tail; reading the WAL"
                    );
                }
                self.read_wal(cursor, next, until).await
            }
        }
    }

    /// The next batch from the WAL on disk, keeping the reader between batches.
    async fn read_wal(
        &self,
        cursor: &mut Option<WalCursor>,
        next: u64,
        until: u64,
    ) -> Result<Vec<pb::WalRecord>> {
        let engine = Arc::clone(&self.engine);
        let taken = cursor.take().filter(|c| c.next == next);
        let (records, kept) = tokio::task::spawn_blocking(move || {
            let open = || -> Result<WalCursor> {
                Ok(WalCursor {
                    reader: engine.read_wal(next)?,
                    pending: None,
                    next,
                })
            };
            let mut c = match taken {
                Some(c) => c,
                None => open()?,
            };
            let mut records = c.batch(until)?;
            if records.is_empty() {
                // The reader ended at the last LSN of its time; newer records need a new one.
                c = open()?;
                records = c.batch(until)?;
            }
            Ok::<_, Error>((records, c))
        })
        .await
        .expect("reading the WAL does not panic")?;
        *cursor = Some(kept);
        Ok(records)
    }
}

/// A WAL reader between batches, with the record it read past the acknowledged LSN.
struct WalCursor {
    reader: WalReader,
    pending: Option<(u64, Vec<u8>)>,
    next: u64,
}

impl WalCursor {
    fn batch(&mut self, until: u64) -> Result<Vec<pb::WalRecord>> {
        let mut out = Vec::new();
        let mut bytes = 0;
        loop {
            let item = match self.pending.take() {
                Some(item) => item,
                None => match self.reader.next() {
                    Some(item) => item?,
                    None => break,
                },
            };
            let (lsn, body) = item;
            if lsn < self.next {
                continue;
            }
            if lsn > until || (!out.is_empty() && bytes + body.len() > REPLICATION_BATCH_BYTES_MAX)
            {
                self.pending = Some((lsn, body));
                break;
            }
            bytes += body.len();
            self.next = lsn + 1;
            out.push(pb::WalRecord { lsn, body });
        }
        Ok(out)
    }
}

/// Reads the follower's messages: acknowledgements move its position; silence for the
/// peer timeout, an error or the end of its stream marks it gone.
async fn receive(
    parts: Parts,
    mut inbound: Streaming<pb::FollowerMessage>,
    dead: watch::Sender<bool>,
) {
    let mut stopping = parts.replication.stopping.subscribe();
    let why = loop {
        let next = tokio::select! {
            next = timeout(peer_timeout(), inbound.message()) => next,
            _ = stopping.wait_for(|s| *s) => break "this node is shutting down".to_string(),
        };
        match next {
            Ok(Ok(Some(pb::FollowerMessage {
                kind: Some(FromFollower::Ack(ack)),
            }))) => parts.replication.heard(
                &parts.follower,
                parts.stream,
                ack.applied_lsn,
                parts.engine.acked_lsn(),
            ),
            Ok(Ok(Some(pb::FollowerMessage {
                kind: Some(FromFollower::Report(report)),
            }))) => {
                if let Some(result) = report.result {
                    let result = CheckResult::from(result);
                    parts
                        .replication
                        .anti_entropy
                        .report(&parts.follower, result, report.repair);
                }
            }
            Ok(Ok(Some(_))) => break "an unexpected message".to_string(),
            Ok(Ok(None)) => break "the follower closed the stream".into(),
            Ok(Err(status)) => break format!("stream error: {}", status.message()),
            Err(_) => break format!("silent for {REPLICATION_PEER_TIMEOUT_MS} ms"),
        }
    };
    tracing::info!(follower = %parts.follower, reason = %why, "follower disconnected");
    parts
        .replication
        .disconnect(&parts.follower, parts.stream, parts.engine.acked_lsn());
    let _ = dead.send(true);
}
