//! gRPC transport (tonic), package `hyperspace.v1` (DESIGN.md §4). Handlers convert proto
//! messages to domain types (destructuring every field, so a new field cannot be dropped
//! silently), make one engine call, and convert back. Auth is an interceptor.

use std::time::Instant;

use futures::future::BoxFuture;
use hyperspace_proto::v1 as pb;
use hyperspace_proto::v1::hyperspace_server::{Hyperspace, HyperspaceServer};
use serde_json::{Map, Value};
use tonic::codegen::http;
use tonic::server::NamedService;
use tonic::service::interceptor::InterceptedService;
use tonic::{Code, Request, Response, Status};

use super::{ClusterView, NodeContext};
use crate::antientropy::RepairJob;
use crate::error::{Error, ErrorCode, LeaderAddress};
use crate::limits::REQUEST_BODY_BYTES_MAX;
use crate::model::{CollectionInfo, CollectionSpec, Point, ScoredPoint, SearchQuery, WriteAck};
use crate::{metrics, validate};

/// The one mapping from error class to gRPC code (exhaustive on purpose).
pub fn status_of(code: ErrorCode) -> Code {
    match code {
        ErrorCode::InvalidArgument => Code::InvalidArgument,
        ErrorCode::Unauthenticated => Code::Unauthenticated,
        ErrorCode::NotFound => Code::NotFound,
        ErrorCode::MethodNotAllowed => Code::Unimplemented,
        ErrorCode::AlreadyExists => Code::AlreadyExists,
        ErrorCode::NotLeader | ErrorCode::Diverged => Code::FailedPrecondition,
        ErrorCode::PayloadTooLarge => Code::ResourceExhausted,
        ErrorCode::Unavailable => Code::Unavailable,
    }
}

pub fn to_status(e: Error) -> Status {
    let mut message = e.to_string();
    if let Error::NotLeader {
        leader: Some(leader),
    } = &e
    {
        message = format!(
            "{message}; leader {} at {}",
            leader.node_id, leader.grpc_addr
        );
    }
    let mut status = Status::new(status_of(e.code()), message);
    if let Ok(value) = e.code().as_str().parse() {
        status.metadata_mut().insert("x-error-code", value);
    }
    status
}

pub type Service = InterceptedService<SizeLimit<HyperspaceServer<GrpcApi>>, Authenticator>;

/// The gRPC service with its auth interceptor and message size limits.
pub fn service(ctx: NodeContext) -> Service {
    for route in ROUTES {
        metrics::register_route("grpc", route);
    }
    let auth = Authenticator(ctx.auth.clone());
    let server = HyperspaceServer::new(GrpcApi { ctx })
        .max_decoding_message_size(REQUEST_BODY_BYTES_MAX)
        .max_encoding_message_size(usize::MAX);
    InterceptedService::new(SizeLimit(server), auth)
}

/// tonic refuses a request message above `max_decoding_message_size` itself, before any
/// handler runs, with OUT_OF_RANGE. This wrapper turns that one answer into the §5 class
/// `payload_too_large` (RESOURCE_EXHAUSTED), like the 413 of the REST body limit. Handlers
/// never answer OUT_OF_RANGE (`status_of` has no such class), so nothing else is rewritten.
#[derive(Clone)]
pub struct SizeLimit<S>(S);

impl<S: NamedService> NamedService for SizeLimit<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> tower::Service<http::Request<B>> for SizeLimit<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let response = self.0.call(req);
        Box::pin(async move {
            let response = response.await?;
            match Status::from_header_map(response.headers()) {
                Some(status) if status.code() == Code::OutOfRange => {
                    let bytes = status
                        .message()
                        .split_once("found ")
                        .and_then(|(_, rest)| rest.split(' ').next()?.parse().ok())
                        .unwrap_or(REQUEST_BODY_BYTES_MAX + 1);
                    let error = Error::PayloadTooLarge {
                        what: "the gRPC request message",
                        bytes,
                        max: REQUEST_BODY_BYTES_MAX,
                    };
                    Ok(to_status(error).into_http())
                }
                _ => Ok(response),
            }
        })
    }
}

const ROUTES: &[&str] = &[
    "GetDigest",
    "CreateCollection",
    "DropCollection",
    "GetCollection",
    "ListCollections",
    "Upsert",
    "Delete",
    "Get",
    "Scroll",
    "Search",
    "SearchBatch",
    "ListBucket",
    "GetNodeInfo",
    "Promote",
    "Follow",
    "Replicate",
    "Checkpoint",
    "Repair",
];

#[derive(Clone)]
pub struct Authenticator(super::auth::ApiKey);

impl tonic::service::Interceptor for Authenticator {
    fn call(&mut self, req: Request<()>) -> Result<Request<()>, Status> {
        let meta = req.metadata();
        let ok = self.0.check(
            meta.get("x-api-key").map(|v| v.as_bytes()),
            meta.get("authorization").map(|v| v.as_bytes()),
        );
        if ok {
            Ok(req)
        } else {
            Err(to_status(Error::Unauthenticated))
        }
    }
}

pub struct GrpcApi {
    ctx: NodeContext,
}

impl GrpcApi {
    /// Runs one engine call, records metrics, maps the error.
    async fn call<T, F>(&self, route: &'static str, f: F) -> Result<Response<T>, Status>
    where
        T: Send + 'static,
        F: FnOnce(&crate::engine::Engine) -> crate::error::Result<T> + Send + 'static,
    {
        let started = Instant::now();
        let result = self.ctx.run(f).await;
        finish(route, started, result)
    }

    /// [`GrpcApi::call`] for a short CPU-bound read (an unfiltered search of an indexed
    /// collection, a digest): run on this worker, because handing it to the blocking pool
    /// and back costs more than the call (two thread switches per request). Only for calls
    /// that take at most a few hundred microseconds and no lock held for long.
    fn call_inline<T>(
        &self,
        route: &'static str,
        f: impl FnOnce(&crate::engine::Engine) -> crate::error::Result<T>,
    ) -> Result<Response<T>, Status> {
        let started = Instant::now();
        let result = self.ctx.engine().and_then(|engine| f(&engine));
        finish(route, started, result)
    }
}

/// Records a call's metrics and maps its result to the wire.
fn finish<T>(
    route: &'static str,
    started: Instant,
    result: crate::error::Result<T>,
) -> Result<Response<T>, Status> {
    let code = result.as_ref().err().map_or("ok", |e| e.code().as_str());
    metrics::request("grpc", route, code, started.elapsed());
    result.map(Response::new).map_err(to_status)
}

fn payload_from_json(field: &str, text: &str) -> Result<Map<String, Value>, Error> {
    if text.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(Error::invalid(
            field,
            format!("must be a JSON object, got {other}"),
        )),
        Err(e) => Err(Error::invalid(field, format!("invalid JSON: {e}"))),
    }
}

fn payload_to_json(payload: &Map<String, Value>) -> String {
    serde_json::to_string(payload).expect("a JSON map serializes")
}

fn point_from_pb(i: usize, point: pb::Point) -> Result<Point, Error> {
    let pb::Point {
        id,
        vector,
        payload_json,
    } = point;
    Ok(Point {
        id,
        vector,
        payload: payload_from_json(&format!("points[{i}].payload_json"), &payload_json)?,
    })
}

fn point_to_pb(point: Point) -> pb::Point {
    pb::Point {
        id: point.id,
        payload_json: payload_to_json(&point.payload),
        vector: point.vector,
    }
}

fn query_from_pb(field: &str, query: Option<pb::SearchQuery>) -> Result<SearchQuery, Error> {
    let pb::SearchQuery {
        vector,
        top_k,
        filter_json,
        ef,
    } = query.ok_or_else(|| Error::invalid(field, "a query is required"))?;
    let filter = (!filter_json.is_empty())
        .then(|| payload_from_json(&format!("{field}.filter_json"), &filter_json))
        .transpose()?;
    Ok(SearchQuery {
        vector,
        top_k: top_k as usize,
        filter,
        ef: ef.map(|ef| ef as usize),
    })
}

fn scored_to_pb(results: Vec<ScoredPoint>) -> pb::SearchResponse {
    pb::SearchResponse {
        results: results
            .into_iter()
            .map(|p| pb::ScoredPoint {
                id: p.id,
                score: p.score,
                payload_json: payload_to_json(&p.payload),
            })
            .collect(),
    }
}

fn info_to_pb(info: CollectionInfo) -> pb::CollectionInfo {
    pb::CollectionInfo {
        name: info.spec.name,
        dimension: info.spec.dimension as u32,
        metric: info.spec.metric.as_str().to_string(),
        count: info.count,
        logical_clock: info.logical_clock,
        index: info.index.to_string(),
        unindexed: info.unindexed,
    }
}

fn write_to_pb(ack: WriteAck) -> pb::WriteResponse {
    pb::WriteResponse {
        count: ack.count,
        lsn: ack.lsn,
        logical_clock: ack.logical_clock,
    }
}

#[tonic::async_trait]
impl Hyperspace for GrpcApi {
    async fn get_digest(
        &self,
        req: Request<pb::DigestRequest>,
    ) -> Result<Response<pb::DigestResponse>, Status> {
        let pb::DigestRequest { collection } = req.into_inner();
        let name = if collection.is_empty() {
            "default".to_string()
        } else {
            collection
        };
        self.call_inline("GetDigest", move |e| {
            let view = e.digest(&name)?;
            Ok(pb::DigestResponse {
                logical_clock: view.logical_clock,
                state_hash: view.digest.state_hash(),
                buckets: view.digest.buckets().to_vec(),
                count: view.digest.count(),
                bucket_counts: view.digest.bucket_counts().to_vec(),
                collection_name: view.collection,
            })
        })
    }

    async fn create_collection(
        &self,
        req: Request<pb::CreateCollectionRequest>,
    ) -> Result<Response<pb::CollectionInfo>, Status> {
        let pb::CreateCollectionRequest {
            name,
            dimension,
            metric,
        } = req.into_inner();
        self.call("CreateCollection", move |e| {
            let spec = CollectionSpec {
                name: name.clone(),
                dimension: dimension as usize,
                metric: validate::metric(&metric)?,
            };
            e.create_collection(spec)?;
            Ok(info_to_pb(e.collection(&name)?.info()))
        })
        .await
    }

    async fn drop_collection(
        &self,
        req: Request<pb::CollectionRequest>,
    ) -> Result<Response<pb::DropCollectionResponse>, Status> {
        let pb::CollectionRequest { name } = req.into_inner();
        self.call("DropCollection", move |e| {
            let ack = e.drop_collection(&name)?;
            Ok(pb::DropCollectionResponse {
                lsn: ack.lsn,
                logical_clock: ack.logical_clock,
            })
        })
        .await
    }

    async fn get_collection(
        &self,
        req: Request<pb::CollectionRequest>,
    ) -> Result<Response<pb::CollectionInfo>, Status> {
        let pb::CollectionRequest { name } = req.into_inner();
        self.call("GetCollection", move |e| {
            Ok(info_to_pb(e.collection(&name)?.info()))
        })
        .await
    }

    async fn list_collections(
        &self,
        req: Request<pb::ListCollectionsRequest>,
    ) -> Result<Response<pb::ListCollectionsResponse>, Status> {
        let pb::ListCollectionsRequest {} = req.into_inner();
        self.call("ListCollections", |e| {
            Ok(pb::ListCollectionsResponse {
                collections: e.list_collections().into_iter().map(info_to_pb).collect(),
            })
        })
        .await
    }

    async fn upsert(
        &self,
        req: Request<pb::UpsertRequest>,
    ) -> Result<Response<pb::WriteResponse>, Status> {
        let pb::UpsertRequest { collection, points } = req.into_inner();
        self.call("Upsert", move |e| {
            let points = points
                .into_iter()
                .enumerate()
                .map(|(i, p)| point_from_pb(i, p))
                .collect::<Result<Vec<_>, _>>()?;
            e.upsert(&collection, points).map(write_to_pb)
        })
        .await
    }

    async fn delete(
        &self,
        req: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::WriteResponse>, Status> {
        let pb::DeleteRequest { collection, ids } = req.into_inner();
        self.call("Delete", move |e| {
            e.delete(&collection, ids).map(write_to_pb)
        })
        .await
    }

    async fn get(&self, req: Request<pb::GetPointRequest>) -> Result<Response<pb::Point>, Status> {
        let pb::GetPointRequest { collection, id } = req.into_inner();
        self.call("Get", move |e| e.get(&collection, id).map(point_to_pb))
            .await
    }

    async fn scroll(
        &self,
        req: Request<pb::ScrollRequest>,
    ) -> Result<Response<pb::ScrollResponse>, Status> {
        let pb::ScrollRequest {
            collection,
            after,
            limit,
        } = req.into_inner();
        self.call("Scroll", move |e| {
            let page = e.scroll(&collection, after, limit.map(|l| l as usize))?;
            Ok(pb::ScrollResponse {
                points: page.points.into_iter().map(point_to_pb).collect(),
                next_after: page.next_after,
            })
        })
        .await
    }

    async fn search(
        &self,
        req: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchResponse>, Status> {
        let pb::SearchRequest { collection, query } = req.into_inner();
        let filter_free = query.as_ref().is_some_and(|q| q.filter_json.is_empty());
        let name = collection.clone();
        let search = move |e: &crate::engine::Engine| {
            let query = query_from_pb("query", query)?;
            e.search(&collection, &query).map(scored_to_pb)
        };
        // A plain graph search is short; a filter (exact fallback) or points still pending
        // (exact scan) can take long, so those go to the blocking pool.
        let short = filter_free
            && self
                .ctx
                .engine()
                .is_ok_and(|e| e.collection(&name).is_ok_and(|c| c.unindexed() == 0));
        if short {
            self.call_inline("Search", search)
        } else {
            self.call("Search", search).await
        }
    }

    async fn search_batch(
        &self,
        req: Request<pb::SearchBatchRequest>,
    ) -> Result<Response<pb::SearchBatchResponse>, Status> {
        let pb::SearchBatchRequest {
            collection,
            queries,
        } = req.into_inner();
        self.call("SearchBatch", move |e| {
            let queries = queries
                .into_iter()
                .enumerate()
                .map(|(i, q)| query_from_pb(&format!("queries[{i}]"), Some(q)))
                .collect::<Result<Vec<_>, _>>()?;
            let results = e.search_batch(&collection, &queries)?;
            Ok(pb::SearchBatchResponse {
                results: results.into_iter().map(scored_to_pb).collect(),
            })
        })
        .await
    }

    async fn list_bucket(
        &self,
        req: Request<pb::BucketRequest>,
    ) -> Result<Response<pb::BucketResponse>, Status> {
        let pb::BucketRequest { collection, bucket } = req.into_inner();
        self.call("ListBucket", move |e| {
            let entries = e.bucket(&collection, u64::from(bucket))?;
            Ok(pb::BucketResponse {
                bucket,
                entries: entries
                    .into_iter()
                    .map(|(id, entry_hash)| pb::BucketEntry { id, entry_hash })
                    .collect(),
            })
        })
        .await
    }

    async fn get_node_info(
        &self,
        req: Request<pb::NodeInfoRequest>,
    ) -> Result<Response<pb::NodeInfo>, Status> {
        let pb::NodeInfoRequest {} = req.into_inner();
        self.admin("GetNodeInfo", async { self.ctx.cluster() })
            .await
    }

    async fn promote(
        &self,
        req: Request<pb::PromoteRequest>,
    ) -> Result<Response<pb::NodeInfo>, Status> {
        let pb::PromoteRequest {} = req.into_inner();
        self.admin("Promote", self.ctx.promote()).await
    }

    async fn follow(
        &self,
        req: Request<pb::FollowRequest>,
    ) -> Result<Response<pb::NodeInfo>, Status> {
        let pb::FollowRequest { leader } = req.into_inner();
        self.admin("Follow", self.ctx.follow(&leader)).await
    }

    async fn checkpoint(
        &self,
        req: Request<pb::CheckpointRequest>,
    ) -> Result<Response<pb::CheckpointResponse>, Status> {
        let pb::CheckpointRequest { collection } = req.into_inner();
        let started = Instant::now();
        let collection = (!collection.is_empty()).then_some(collection);
        let result = self.ctx.checkpoint(collection).await.map(|taken| {
            let checkpoints = taken
                .into_iter()
                .map(|(collection, lsn)| pb::CheckpointTaken { collection, lsn })
                .collect();
            pb::CheckpointResponse { checkpoints }
        });
        finish("Checkpoint", started, result)
    }

    async fn repair(
        &self,
        req: Request<pb::RepairRequest>,
    ) -> Result<Response<pb::RepairJob>, Status> {
        let pb::RepairRequest {
            collection,
            buckets,
        } = req.into_inner();
        let started = Instant::now();
        let result = self.ctx.repair(&collection, &buckets).map(repair_job_pb);
        finish("Repair", started, result)
    }

    type ReplicateStream = crate::replication::leader::Outbound;

    async fn replicate(
        &self,
        req: Request<tonic::Streaming<pb::FollowerMessage>>,
    ) -> Result<Response<Self::ReplicateStream>, Status> {
        let started = Instant::now();
        let served = match self.ctx.engine() {
            Ok(engine) => {
                let me = self.ctx.leader_address(&engine);
                let replication = std::sync::Arc::clone(&self.ctx.replication);
                crate::replication::leader::serve(
                    engine,
                    replication,
                    me,
                    req.into_inner(),
                    to_status,
                )
                .await
            }
            Err(e) => Err(to_status(e)),
        };
        let code = match &served {
            Ok(_) => "ok",
            Err(status) => status
                .metadata()
                .get("x-error-code")
                .and_then(|v| v.to_str().ok())
                .and_then(|c| ErrorCode::ALL.into_iter().find(|k| k.as_str() == c))
                .map_or("unknown", |k| k.as_str()),
        };
        metrics::request("grpc", "Replicate", code, started.elapsed());
        served.map(Response::new)
    }
}

impl GrpcApi {
    /// Runs an admin call that answers the cluster view, with metrics and error mapping.
    async fn admin(
        &self,
        route: &'static str,
        call: impl std::future::Future<Output = crate::error::Result<ClusterView>>,
    ) -> Result<Response<pb::NodeInfo>, Status> {
        let started = Instant::now();
        let result = call.await;
        let code = result.as_ref().err().map_or("ok", |e| e.code().as_str());
        metrics::request("grpc", route, code, started.elapsed());
        result
            .map(|view| Response::new(node_info(&self.ctx, view)))
            .map_err(to_status)
    }
}

fn address_pb(address: LeaderAddress) -> pb::NodeAddress {
    let LeaderAddress {
        node_id,
        http_addr,
        grpc_addr,
    } = address;
    pb::NodeAddress {
        node_id,
        http_addr,
        grpc_addr,
    }
}

fn repair_job_pb(job: RepairJob) -> pb::RepairJob {
    pb::RepairJob {
        id: job.id,
        collection: job.collection,
        reason: job.reason.to_string(),
        buckets: job.buckets,
        buckets_done: job.buckets_done,
        points_sent: job.points_sent,
        started_unix_ms: job.started_unix_ms,
        finished_unix_ms: job.finished_unix_ms,
        error: job.error.unwrap_or_default(),
        last_lsn: job.last_lsn,
    }
}

fn node_info(ctx: &NodeContext, view: ClusterView) -> pb::NodeInfo {
    let ClusterView {
        status,
        leader,
        followers,
        following,
        connected,
        replication_error,
        anti_entropy,
    } = view;
    let checks_pb = |checks: Vec<crate::antientropy::CheckResult>| {
        checks.iter().map(pb::CheckResult::from).collect::<Vec<_>>()
    };
    pb::NodeInfo {
        node_id: status.node_id,
        role: status.role.as_str().to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        http_addr: ctx.advertise.http_addr.clone(),
        grpc_addr: ctx.advertise.grpc_addr.clone(),
        last_lsn: status.last_lsn,
        logical_clock: status.logical_clock,
        leader: leader.map(address_pb),
        followers: followers
            .into_iter()
            .map(|(f, lag_records)| pb::FollowerInfo {
                checks: checks_pb(anti_entropy.follower_checks(&f.node_id)),
                node_id: f.node_id,
                http_addr: f.http_addr,
                grpc_addr: f.grpc_addr,
                connected: f.connected,
                applied_lsn: f.applied_lsn,
                lag_records,
            })
            .collect(),
        following: following.unwrap_or_default(),
        connected,
        replication_error: replication_error.unwrap_or_default(),
        checks: checks_pb(anti_entropy.checks),
        repairs: anti_entropy
            .coordinator
            .jobs
            .into_iter()
            .map(repair_job_pb)
            .collect(),
        outvoted: anti_entropy
            .coordinator
            .outvoted
            .into_iter()
            .map(|o| pb::LeaderOutvoted {
                collection: o.collection,
                lsn: o.lsn,
                followers_agreeing: o.followers_agreeing,
                followers: o.followers,
                buckets: o.buckets,
            })
            .collect(),
        anti_entropy: anti_entropy.mode.as_str().to_string(),
    }
}
