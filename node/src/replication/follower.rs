//! The follower's side: one task that keeps a replication stream to the leader this node
//! follows, applying what arrives and acknowledging it, and reconnects with backoff when
//! the leader is down, silent or the connection breaks. It follows the role: promoted, it
//! idles; pointed at another leader, it switches.

use std::sync::Arc;
use std::time::Duration;

use hyperspace_proto::v1 as pb;
use hyperspace_proto::v1::hyperspace_client::HyperspaceClient;
use pb::follower_message::Kind as ToLeader;
use pb::leader_message::Kind as FromLeader;
use tokio::sync::{mpsc, watch};
use tokio::time::timeout;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Endpoint;
use tonic::Streaming;

use super::Replication;
use crate::antientropy::Mode;
use crate::engine::Engine;
use crate::error::{Error, ErrorCode, LeaderAddress, Result};
use crate::limits::{
    RECONNECT_BACKOFF_MAX_MS, RECONNECT_BACKOFF_MIN_MS, REPLICATION_HEARTBEAT_MS,
    REPLICATION_MESSAGE_BYTES_MAX, REPLICATION_PEER_TIMEOUT_MS, REPLICATION_QUEUE_MESSAGES_MAX,
    SNAPSHOT_STREAM_BYTES_MAX,
};
use crate::metrics;
use crate::model::RoleState;
use crate::storage::snapshot;

/// This node's identity as it introduces itself to a leader.
#[derive(Debug, Clone)]
pub struct Me {
    pub http_addr: String,
    pub grpc_addr: String,
}

/// Runs for the life of the node: follows whichever leader the role names.
pub async fn run(
    engine: Arc<Engine>,
    replication: Arc<Replication>,
    me: Me,
    mut stop: watch::Receiver<bool>,
) {
    let mut role = engine.watch_role();
    let mut backoff = RECONNECT_BACKOFF_MIN_MS;
    loop {
        let current = role.borrow_and_update().clone();
        let RoleState::Follower { leader_url, .. } = &current else {
            replication.set_upstream(false, None);
            tokio::select! {
                _ = role.changed() => continue,
                _ = stop.wait_for(|s| *s) => return,
            }
        };
        let outcome = tokio::select! {
            r = session(&engine, &replication, &me, leader_url) => Some(r),
            _ = role.wait_for(|r| !follows(r, leader_url)) => None,
            _ = stop.wait_for(|s| *s) => return,
        };
        match outcome {
            None => {
                backoff = RECONNECT_BACKOFF_MIN_MS;
                continue;
            }
            Some(Ok(())) => backoff = RECONNECT_BACKOFF_MIN_MS,
            Some(Err(e)) => {
                tracing::warn!(leader = %leader_url, error = %e, retry_ms = backoff, "replication stream failed");
                replication.set_upstream(false, Some((e.code(), e.to_string())));
            }
        }
        replication.set_upstream(false, None);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(backoff)) => {}
            _ = role.changed() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        backoff = (backoff * 2).min(RECONNECT_BACKOFF_MAX_MS);
    }
}

fn follows(role: &RoleState, url: &str) -> bool {
    matches!(role, RoleState::Follower { leader_url, .. } if leader_url == url)
}

/// Connects and says hello; returns the stream once the leader welcomed this node. A
/// refusal (`diverged`, a duplicate id, a wrong key) is the error, with the leader's class.
async fn handshake(
    engine: &Engine,
    api_key: Option<&str>,
    me: &Me,
    leader_url: &str,
) -> Result<(
    Streaming<pb::LeaderMessage>,
    mpsc::Sender<pb::FollowerMessage>,
    LeaderAddress,
)> {
    let unreachable = |e: &dyn std::fmt::Display| Error::Replication {
        reason: format!("cannot reach the leader at {leader_url}: {e}"),
    };
    let endpoint = Endpoint::from_shared(leader_url.to_string())
        .map_err(|e| Error::invalid("leader", format!("not a URL: {e}")))?
        .connect_timeout(Duration::from_secs(2))
        .tcp_nodelay(true);
    let channel = endpoint.connect().await.map_err(|e| unreachable(&e))?;
    let mut client =
        HyperspaceClient::new(channel).max_decoding_message_size(REPLICATION_MESSAGE_BYTES_MAX);
    let (tx, rx) = mpsc::channel(REPLICATION_QUEUE_MESSAGES_MAX);
    let (last_lsn, last_record_hash) = engine.last_record();
    let hello = pb::FollowerHello {
        node_id: engine.node_id().to_string(),
        http_addr: me.http_addr.clone(),
        grpc_addr: me.grpc_addr.clone(),
        last_lsn,
        last_record_hash,
        last_record_origin: engine
            .last_origin()
            .map_or(String::new(), |origin| origin.to_string()),
        anti_entropy: engine.anti_entropy().as_str().to_string(),
    };
    tx.send(pb::FollowerMessage {
        kind: Some(ToLeader::Hello(hello)),
    })
    .await
    .expect("the receiver is alive");
    let mut request = tonic::Request::new(ReceiverStream::new(rx));
    if let Some(key) = api_key {
        let value = key
            .parse()
            .map_err(|_| Error::invalid("api_key", "is not a valid header value"))?;
        request.metadata_mut().insert("x-api-key", value);
    }
    let call = client.replicate(request);
    let mut inbound = match timeout(peer_timeout(), call).await {
        Ok(Ok(response)) => response.into_inner(),
        Ok(Err(status)) => return Err(refusal(status)),
        Err(_) => return Err(unreachable(&"no answer")),
    };
    match timeout(peer_timeout(), inbound.message()).await {
        Ok(Ok(Some(pb::LeaderMessage {
            kind: Some(FromLeader::Welcome(welcome)),
        }))) => {
            let leader = welcome.leader.unwrap_or_default();
            let address = LeaderAddress {
                node_id: leader.node_id,
                http_addr: leader.http_addr,
                grpc_addr: leader.grpc_addr,
            };
            Ok((inbound, tx, address))
        }
        Ok(Err(status)) => Err(refusal(status)),
        Ok(Ok(_)) => Err(Error::Replication {
            reason: "the leader did not start with a welcome".into(),
        }),
        Err(_) => Err(unreachable(&"no welcome")),
    }
}

/// Points this node at `leader_url`. The node stops taking writes first, then waits for the
/// leader's answer on the new stream; if the leader refuses (`diverged`, a wrong key) or
/// cannot be reached, the node goes back to its previous role and the refusal is answered.
pub async fn follow(
    engine: &Arc<Engine>,
    replication: &Replication,
    leader_url: &str,
) -> Result<()> {
    if !(leader_url.starts_with("http://") || leader_url.starts_with("https://")) {
        return Err(Error::invalid(
            "leader",
            format!("expected http://HOST:GRPC_PORT, got {leader_url:?}"),
        ));
    }
    if follows(&engine.role(), leader_url) {
        return Ok(());
    }
    replication.set_upstream(false, None);
    replication.upstream.lock().error = None;
    let role = RoleState::Follower {
        leader_url: leader_url.to_string(),
        leader: None,
    };
    let previous = blocking({
        let engine = Arc::clone(engine);
        move || Ok(engine.set_role(role))
    })
    .await?;
    let deadline = tokio::time::Instant::now() + FOLLOW_ANSWER_TIMEOUT;
    let refused = loop {
        let upstream = replication.upstream();
        if upstream.connected {
            return Ok(());
        }
        let last = upstream
            .error
            .map(|(code, message)| Error::Refused { code, message });
        // A lingering stream of this node (already_exists) or a leader restarting
        // (unavailable) may clear up while the stream retries; a refusal of the history,
        // the key or the request will not.
        if let Some(refused) = last {
            let transient = matches!(
                refused.code(),
                ErrorCode::AlreadyExists | ErrorCode::Unavailable
            );
            if !transient || tokio::time::Instant::now() > deadline {
                break refused;
            }
        } else if tokio::time::Instant::now() > deadline {
            break Error::Replication {
                reason: format!("no answer from {leader_url} within {FOLLOW_ANSWER_TIMEOUT:?}"),
            };
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tracing::warn!(leader = %leader_url, error = %refused, "follow refused; keeping the previous role");
    let engine = Arc::clone(engine);
    blocking(move || Ok(engine.set_role(previous))).await?;
    Err(refused)
}

/// How long `follow` waits for the new leader to accept or refuse this node.
const FOLLOW_ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// The leader's refusal as this node's error, keeping the leader's error class.
fn refusal(status: tonic::Status) -> Error {
    let code = status
        .metadata()
        .get("x-error-code")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| ErrorCode::ALL.into_iter().find(|k| k.as_str() == c));
    match code {
        Some(code) => Error::Refused {
            code,
            message: format!(
                "the leader refused the stream ({}): {}",
                code.as_str(),
                status.message()
            ),
        },
        None => Error::Replication {
            reason: format!("the stream failed: {}", status.message()),
        },
    }
}

fn peer_timeout() -> Duration {
    Duration::from_millis(REPLICATION_PEER_TIMEOUT_MS)
}

/// One connection: handshake, then apply and acknowledge until it breaks.
async fn session(
    engine: &Arc<Engine>,
    replication: &Replication,
    me: &Me,
    leader_url: &str,
) -> Result<()> {
    let (mut inbound, tx, leader) =
        handshake(engine, replication.api_key.as_deref(), me, leader_url).await?;
    tracing::info!(leader = %leader.node_id, url = %leader_url, "replication stream up");
    engine.set_leader(leader_url, leader);
    replication.set_upstream(true, None);
    // Both tasks are aborted when the session ends or is dropped (role change), which
    // closes the stream.
    let _heartbeat = AbortOnDrop(tokio::spawn(heartbeats(Arc::clone(engine), tx.clone())));
    let _reports = AbortOnDrop(tokio::spawn(reports(Arc::clone(engine), tx.clone())));
    let (applied_tx, applied_rx) = watch::channel(engine.acked_lsn());
    let syncer = tokio::spawn(acknowledge(Arc::clone(engine), applied_rx, tx));
    let _syncer = AbortOnDrop(tokio::spawn(async move {
        if let Ok(Err(e)) = syncer.await {
            tracing::error!(error = %e, "making replicated records durable failed");
        }
    }));
    receive(engine, &mut inbound, &applied_tx).await
}

/// Makes applied records durable and acknowledges them: one fsync covers every batch
/// applied since the previous one, so the apply loop never waits for the disk.
async fn acknowledge(
    engine: Arc<Engine>,
    mut applied: watch::Receiver<u64>,
    tx: mpsc::Sender<pb::FollowerMessage>,
) -> Result<()> {
    loop {
        if applied.changed().await.is_err() {
            return Ok(());
        }
        let lsn = *applied.borrow_and_update();
        let engine = Arc::clone(&engine);
        blocking(move || engine.sync_replicated(lsn)).await?;
        if tx.send(ack(lsn)).await.is_err() {
            return Ok(());
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Acknowledges the applied LSN every heartbeat interval, which is also the liveness signal.
async fn heartbeats(engine: Arc<Engine>, tx: mpsc::Sender<pb::FollowerMessage>) {
    loop {
        tokio::time::sleep(Duration::from_millis(REPLICATION_HEARTBEAT_MS)).await;
        if tx.send(ack(engine.acked_lsn())).await.is_err() {
            return;
        }
    }
}

/// Sends each checkpoint verification to the leader as it is made; in `repair` mode a
/// drifted result asks for repair. Results made while no stream was up are not resent: the
/// next checkpoint comes within the checkpoint interval.
async fn reports(engine: Arc<Engine>, tx: mpsc::Sender<pb::FollowerMessage>) {
    let mut published = engine.watch_checks();
    let mut seen = *published.borrow_and_update();
    let repair = engine.anti_entropy() == Mode::Repair;
    while published.changed().await.is_ok() {
        let (newest, fresh) = engine.checks_after(seen);
        seen = newest;
        for result in fresh {
            let asks = repair && !result.is_ok();
            if asks {
                metrics::repair_requested(&result.collection, result.drifted.len() as u64);
            }
            let report = pb::CheckpointReport {
                result: Some(pb::CheckResult::from(&result)),
                repair: asks,
            };
            let message = pb::FollowerMessage {
                kind: Some(ToLeader::Report(report)),
            };
            if tx.send(message).await.is_err() {
                return;
            }
        }
    }
}

fn ack(applied_lsn: u64) -> pb::FollowerMessage {
    pb::FollowerMessage {
        kind: Some(ToLeader::Ack(pb::FollowerAck { applied_lsn })),
    }
}

async fn receive(
    engine: &Arc<Engine>,
    inbound: &mut Streaming<pb::LeaderMessage>,
    applied: &watch::Sender<u64>,
) -> Result<()> {
    let mut snapshot_bytes: Vec<u8> = Vec::new();
    loop {
        let kind = match timeout(peer_timeout(), inbound.message()).await {
            Ok(Ok(Some(message))) => message.kind,
            Ok(Ok(None)) => return Ok(()),
            Ok(Err(status)) => return Err(refusal(status)),
            Err(_) => {
                return Err(Error::Replication {
                    reason: format!("the leader was silent for {REPLICATION_PEER_TIMEOUT_MS} ms"),
                })
            }
        };
        let lsn = match kind {
            Some(FromLeader::Records(batch)) => {
                let records = batch.records.into_iter().map(|r| (r.lsn, r.body)).collect();
                let engine = Arc::clone(engine);
                blocking(move || engine.apply_replicated(records)).await?
            }
            Some(FromLeader::Snapshot(chunk)) => {
                if snapshot_bytes.len() + chunk.data.len() > SNAPSHOT_STREAM_BYTES_MAX {
                    return Err(Error::PayloadTooLarge {
                        what: "the snapshot received from the leader",
                        bytes: snapshot_bytes.len() + chunk.data.len(),
                        max: SNAPSHOT_STREAM_BYTES_MAX,
                    });
                }
                snapshot_bytes.extend_from_slice(&chunk.data);
                if !chunk.last {
                    continue;
                }
                let bytes = std::mem::take(&mut snapshot_bytes);
                let engine = Arc::clone(engine);
                blocking(move || {
                    let image = snapshot::decode_image(&bytes)?;
                    let lsn = image.lsn;
                    engine.install_snapshot(image)?;
                    Ok(lsn)
                })
                .await?
            }
            Some(FromLeader::Heartbeat(_)) => continue,
            Some(FromLeader::Welcome(_)) | None => {
                return Err(Error::Replication {
                    reason: "unexpected message from the leader".into(),
                })
            }
        };
        applied.send_replace(lsn);
    }
}

/// Runs blocking engine work on the blocking pool; a panic there goes on here.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(join) => std::panic::resume_unwind(join.into_panic()),
    }
}
