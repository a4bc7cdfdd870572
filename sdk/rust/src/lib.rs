//! Typed Rust client for a HyperspaceDB node over gRPC.
//!
//! Keeps the seed's call shape, so code written against v1.2.0 compiles:
//! ```no_run
//! # async fn demo() -> Result<(), hyperspace_sdk::SdkError> {
//! use hyperspace_sdk::Client;
//! let mut client = Client::connect("http://localhost:50051", Some("key".to_string())).await?;
//! let digest = client.get_digest(Some("my_collection".to_string())).await?;
//! println!("State Hash: {}", digest.state_hash);
//! println!("Logical Clock: {}", digest.logical_clock);
//! # Ok(()) }
//! ```
//! The SDK depends on `hyperspace-proto` only, never on the node. Payloads are
//! `serde_json::Value` objects; every u64 is exact.

use hyperspace_proto::v1 as pb;
use hyperspace_proto::v1::hyperspace_client::HyperspaceClient;
use serde_json::{Map, Value};
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub use pb::{
    CheckResult, CollectionInfo, DigestResponse as Digest, FollowerInfo, LeaderOutvoted, NodeInfo,
    RepairJob, WriteResponse,
};

#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    #[error("cannot connect to {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: tonic::transport::Error,
    },
    #[error("the API key is not valid header text")]
    InvalidKey,
    /// The node answered with an error; `code()` gives the DESIGN.md §5 error code.
    #[error("{}: {}", .0.code(), .0.message())]
    Status(#[from] tonic::Status),
    #[error("the node sent a payload that is not a JSON object: {0}")]
    BadPayload(String),
}

impl SdkError {
    /// The §5 error code (`not_found`, `invalid_argument`, …) when the node sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            SdkError::Status(status) => status.metadata().get("x-error-code")?.to_str().ok(),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, SdkError>;

/// Adds the API key to every call.
#[derive(Clone)]
pub struct ApiKeyInterceptor(Option<MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for ApiKeyInterceptor {
    fn call(
        &mut self,
        mut req: tonic::Request<()>,
    ) -> std::result::Result<tonic::Request<()>, tonic::Status> {
        if let Some(key) = &self.0 {
            req.metadata_mut().insert("x-api-key", key.clone());
        }
        Ok(req)
    }
}

/// A point to write or as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub id: u64,
    pub vector: Vec<f32>,
    pub payload: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScoredPoint {
    pub id: u64,
    pub score: f32,
    pub payload: Map<String, Value>,
}

/// One k-NN query; `filter` keeps points whose payload has each key equal.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub vector: Vec<f32>,
    pub top_k: u32,
    pub filter: Option<Map<String, Value>>,
    pub ef: Option<u32>,
}

#[derive(Clone)]
pub struct Client {
    inner: HyperspaceClient<InterceptedService<Channel, ApiKeyInterceptor>>,
}

fn payload_of(text: &str) -> Result<Map<String, Value>> {
    if text.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(SdkError::BadPayload(text.chars().take(80).collect())),
    }
}

fn query_to_pb(q: Query) -> pb::SearchQuery {
    pb::SearchQuery {
        vector: q.vector,
        top_k: q.top_k,
        filter_json: q
            .filter
            .map(|f| Value::Object(f).to_string())
            .unwrap_or_default(),
        ef: q.ef,
    }
}

fn scored_of(response: pb::SearchResponse) -> Result<Vec<ScoredPoint>> {
    response
        .results
        .into_iter()
        .map(|r| {
            Ok(ScoredPoint {
                id: r.id,
                score: r.score,
                payload: payload_of(&r.payload_json)?,
            })
        })
        .collect()
}

fn point_of(p: pb::Point) -> Result<Point> {
    Ok(Point {
        id: p.id,
        payload: payload_of(&p.payload_json)?,
        vector: p.vector,
    })
}

impl Client {
    /// Connects to `url` (`http://host:port`); `api_key` is sent as `x-api-key` on every call.
    pub async fn connect(url: impl Into<String>, api_key: Option<String>) -> Result<Client> {
        let url = url.into();
        let key = api_key
            .map(|k| k.parse().map_err(|_| SdkError::InvalidKey))
            .transpose()?;
        let channel = Channel::from_shared(url.clone())
            .map_err(|_| SdkError::InvalidKey)?
            .connect()
            .await
            .map_err(|source| SdkError::Connect { url, source })?;
        let inner = HyperspaceClient::with_interceptor(channel, ApiKeyInterceptor(key))
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20);
        Ok(Client { inner })
    }

    /// The digest of a collection (`None` = `default`).
    pub async fn get_digest(&mut self, collection: Option<String>) -> Result<Digest> {
        let request = pb::DigestRequest {
            collection: collection.unwrap_or_default(),
        };
        Ok(self.inner.get_digest(request).await?.into_inner())
    }

    pub async fn create_collection(
        &mut self,
        name: &str,
        dimension: u32,
        metric: &str,
    ) -> Result<CollectionInfo> {
        let request = pb::CreateCollectionRequest {
            name: name.into(),
            dimension,
            metric: metric.into(),
        };
        Ok(self.inner.create_collection(request).await?.into_inner())
    }

    pub async fn drop_collection(&mut self, name: &str) -> Result<()> {
        self.inner
            .drop_collection(pb::CollectionRequest { name: name.into() })
            .await?;
        Ok(())
    }

    pub async fn get_collection(&mut self, name: &str) -> Result<CollectionInfo> {
        let request = pb::CollectionRequest { name: name.into() };
        Ok(self.inner.get_collection(request).await?.into_inner())
    }

    pub async fn list_collections(&mut self) -> Result<Vec<CollectionInfo>> {
        let response = self
            .inner
            .list_collections(pb::ListCollectionsRequest {})
            .await?;
        Ok(response.into_inner().collections)
    }

    pub async fn upsert(&mut self, collection: &str, points: Vec<Point>) -> Result<WriteResponse> {
        let points = points
            .into_iter()
            .map(|p| pb::Point {
                id: p.id,
                vector: p.vector,
                payload_json: Value::Object(p.payload).to_string(),
            })
            .collect();
        let request = pb::UpsertRequest {
            collection: collection.into(),
            points,
        };
        Ok(self.inner.upsert(request).await?.into_inner())
    }

    pub async fn delete(&mut self, collection: &str, ids: Vec<u64>) -> Result<WriteResponse> {
        let request = pb::DeleteRequest {
            collection: collection.into(),
            ids,
        };
        Ok(self.inner.delete(request).await?.into_inner())
    }

    pub async fn get(&mut self, collection: &str, id: u64) -> Result<Point> {
        let request = pb::GetPointRequest {
            collection: collection.into(),
            id,
        };
        point_of(self.inner.get(request).await?.into_inner())
    }

    /// One page of points in id order after `after`; returns the points and the next cursor.
    pub async fn scroll(
        &mut self,
        collection: &str,
        after: Option<u64>,
        limit: u32,
    ) -> Result<(Vec<Point>, Option<u64>)> {
        let request = pb::ScrollRequest {
            collection: collection.into(),
            after,
            limit: Some(limit),
        };
        let page = self.inner.scroll(request).await?.into_inner();
        let points = page
            .points
            .into_iter()
            .map(point_of)
            .collect::<Result<_>>()?;
        Ok((points, page.next_after))
    }

    pub async fn search(&mut self, collection: &str, query: Query) -> Result<Vec<ScoredPoint>> {
        let request = pb::SearchRequest {
            collection: collection.into(),
            query: Some(query_to_pb(query)),
        };
        scored_of(self.inner.search(request).await?.into_inner())
    }

    /// Many queries in one call, answered in order.
    pub async fn search_batch(
        &mut self,
        collection: &str,
        queries: Vec<Query>,
    ) -> Result<Vec<Vec<ScoredPoint>>> {
        let request = pb::SearchBatchRequest {
            collection: collection.into(),
            queries: queries.into_iter().map(query_to_pb).collect(),
        };
        let response = self.inner.search_batch(request).await?.into_inner();
        response.results.into_iter().map(scored_of).collect()
    }

    /// Ids and entry hashes of one bucket.
    pub async fn list_bucket(&mut self, collection: &str, bucket: u32) -> Result<Vec<(u64, u64)>> {
        let request = pb::BucketRequest {
            collection: collection.into(),
            bucket,
        };
        let response = self.inner.list_bucket(request).await?.into_inner();
        Ok(response
            .entries
            .into_iter()
            .map(|e| (e.id, e.entry_hash))
            .collect())
    }

    /// Manual failover: makes this follower the leader; answers its new node info.
    pub async fn promote(&mut self) -> Result<NodeInfo> {
        Ok(self
            .inner
            .promote(pb::PromoteRequest {})
            .await?
            .into_inner())
    }

    /// Points this node at the leader at `leader` (`http://HOST:GRPC_PORT`); refused with
    /// code `diverged` when this node holds records that leader lacks.
    pub async fn follow(&mut self, leader: &str) -> Result<NodeInfo> {
        let request = pb::FollowRequest {
            leader: leader.into(),
        };
        Ok(self.inner.follow(request).await?.into_inner())
    }

    /// Anti-entropy (leader only): appends a digest checkpoint of `collection` (every
    /// collection when `None`), which followers verify at the same LSN. Answers
    /// `(collection, lsn)` of each checkpoint written.
    pub async fn checkpoint(&mut self, collection: Option<&str>) -> Result<Vec<(String, u64)>> {
        let request = pb::CheckpointRequest {
            collection: collection.unwrap_or_default().into(),
        };
        let response = self.inner.checkpoint(request).await?.into_inner();
        Ok(response
            .checkpoints
            .into_iter()
            .map(|c| (c.collection, c.lsn))
            .collect())
    }

    /// Anti-entropy (leader only): queues a repair of `buckets`, which replaces them on
    /// every follower with the leader's content; progress shows in [`Client::node_info`].
    pub async fn repair(&mut self, collection: &str, buckets: Vec<u32>) -> Result<RepairJob> {
        let request = pb::RepairRequest {
            collection: collection.into(),
            buckets,
        };
        Ok(self.inner.repair(request).await?.into_inner())
    }

    pub async fn node_info(&mut self) -> Result<NodeInfo> {
        Ok(self
            .inner
            .get_node_info(pb::NodeInfoRequest {})
            .await?
            .into_inner())
    }
}
