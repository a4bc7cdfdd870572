//! One poll round: every node's identity and role, then the digest of every collection —
//! followers first, the leader last (DESIGN.md §7), so that under a steady write load a
//! follower never looks ahead of the leader by accident. Every call has a timeout; a node
//! that fails or answers garbage in a round is `Down` with the error, and the round goes on.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::join_all;
use hyperspace_sdk::{Client, NodeInfo};

use crate::model::{CheckSample, DigestSample, NodePoll, NodeRole, NodeSample, Round, BUCKETS};

/// The nodes to poll and how.
pub struct Poller {
    targets: Vec<Target>,
    api_key: Option<String>,
    timeout: Duration,
}

struct Target {
    url: String,
    client: Option<Client>,
    /// The node id this URL answered with last, so a node that goes down keeps its name
    /// (and its series: a down node's drift gauge drops to 0 instead of going stale).
    node_id: Option<String>,
}

/// What the first phase learned about a node.
struct Identity {
    node_id: String,
    role: NodeRole,
    info: NodeInfo,
}

/// One round and, per target in order, the node info it answered (the topology: the
/// leader's view of its followers, a follower's view of its stream).
pub struct Observation {
    pub round: Round,
    pub infos: Vec<Option<NodeInfo>>,
}

impl Poller {
    pub fn new(urls: Vec<String>, api_key: Option<String>, timeout: Duration) -> Poller {
        let targets = urls
            .into_iter()
            .map(|url| Target {
                url,
                client: None,
                node_id: None,
            })
            .collect();
        Poller {
            targets,
            api_key,
            timeout,
        }
    }

    pub fn urls(&self) -> Vec<String> {
        self.targets.iter().map(|t| t.url.clone()).collect()
    }

    /// A client for every target (reconnecting the ones that failed last round).
    async fn clients(&mut self) -> Vec<Result<Client, String>> {
        let (key, timeout) = (self.api_key.clone(), self.timeout);
        let connecting = self.targets.iter().map(|t| {
            let (url, cached, key) = (t.url.clone(), t.client.clone(), key.clone());
            async move {
                match cached {
                    Some(client) => Ok(client),
                    None => {
                        within(timeout, async {
                            Client::connect(url, key).await.map_err(|e| e.to_string())
                        })
                        .await
                    }
                }
            }
        });
        let clients = join_all(connecting).await;
        for (target, client) in self.targets.iter_mut().zip(&clients) {
            target.client = client.as_ref().ok().cloned();
        }
        clients
    }

    /// Polls every node once; never fails as a whole.
    pub async fn round(&mut self) -> Observation {
        let timeout = self.timeout;
        let clients = self.clients().await;
        let identities = join_all(clients.iter().map(|client| async move {
            let mut client = client.clone()?;
            let info = within(timeout, async {
                client.node_info().await.map_err(|e| e.to_string())
            })
            .await?;
            let role = match info.role.as_str() {
                "leader" => NodeRole::Leader,
                "follower" => NodeRole::Follower,
                other => return Err(format!("unknown role {other:?}")),
            };
            Ok(Identity {
                node_id: info.node_id.clone(),
                role,
                info,
            })
        }))
        .await;
        let mut polls: Vec<Option<NodePoll>> = vec![None; self.targets.len()];
        // Followers (and nodes whose role is unknown) first, then the leader(s).
        for leaders in [false, true] {
            let phase = identities.iter().enumerate().filter(|(_, id)| {
                id.as_ref()
                    .is_ok_and(|id| (id.role == NodeRole::Leader) == leaders)
            });
            let sampled = join_all(phase.map(|(i, id)| {
                let id = id.as_ref().expect("filtered on Ok");
                let client = clients[i].clone().expect("identity needed a client");
                let (node_id, role) = (id.node_id.clone(), id.role.clone());
                let checks = checks_of(&id.info);
                let url = self.targets[i].url.clone();
                async move {
                    let sampled = digests(client, timeout).await;
                    let poll = match sampled {
                        Ok(collections) => NodePoll::Up(NodeSample {
                            node_id,
                            addr: url,
                            role,
                            collections,
                            checks,
                        }),
                        Err(error) => NodePoll::Down {
                            addr: url,
                            node_id: Some(node_id),
                            error,
                        },
                    };
                    (i, poll)
                }
            }))
            .await;
            for (i, poll) in sampled {
                polls[i] = Some(poll);
            }
        }
        let infos = identities
            .iter()
            .map(|id| id.as_ref().ok().map(|id| id.info.clone()))
            .collect();
        let nodes = polls
            .into_iter()
            .zip(identities)
            .zip(&mut self.targets)
            .map(|((poll, identity), target)| match (poll, identity) {
                (Some(poll), Ok(identity)) => {
                    if matches!(poll, NodePoll::Down { .. }) {
                        target.client = None;
                    }
                    target.node_id = Some(identity.node_id);
                    poll
                }
                (None, Err(error)) => {
                    target.client = None;
                    NodePoll::Down {
                        addr: target.url.clone(),
                        node_id: target.node_id.clone(),
                        error,
                    }
                }
                (Some(poll), Err(_)) => poll,
                (None, Ok(_)) => unreachable!("every identified node is sampled"),
            })
            .collect();
        Observation {
            round: Round { nodes },
            infos,
        }
    }
}

/// A node's latest checkpoint verification per collection, from its node info.
fn checks_of(info: &NodeInfo) -> BTreeMap<String, CheckSample> {
    info.checks
        .iter()
        .map(|c| {
            let drifted = c.drifted_buckets.iter().map(|b| *b as usize).collect();
            (
                c.collection.clone(),
                CheckSample {
                    lsn: c.lsn,
                    drifted,
                },
            )
        })
        .collect()
}

/// Every collection's digest on one node.
async fn digests(
    mut client: Client,
    timeout: Duration,
) -> Result<BTreeMap<String, DigestSample>, String> {
    let collections = within(timeout, async {
        client.list_collections().await.map_err(|e| e.to_string())
    })
    .await?;
    let mut out = BTreeMap::new();
    for info in collections {
        let digest = within(timeout, async {
            client
                .get_digest(Some(info.name.clone()))
                .await
                .map_err(|e| e.to_string())
        })
        .await?;
        if digest.buckets.len() != BUCKETS || digest.bucket_counts.len() != BUCKETS {
            return Err(format!(
                "digest of {} has {} buckets and {} counts, not {BUCKETS}",
                info.name,
                digest.buckets.len(),
                digest.bucket_counts.len()
            ));
        }
        out.insert(
            info.name,
            DigestSample {
                logical_clock: digest.logical_clock,
                state_hash: digest.state_hash,
                count: digest.count,
                buckets: digest.buckets,
                bucket_counts: digest.bucket_counts,
            },
        );
    }
    Ok(out)
}

async fn within<T>(
    timeout: Duration,
    call: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    match tokio::time::timeout(timeout, call).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    }
}
