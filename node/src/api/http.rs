//! REST transport (axum), DESIGN.md §5. Every answer is JSON, errors included: malformed
//! bodies, unknown routes (404), wrong methods (405) and oversized bodies (413) all use
//! `{"error":{"code","message"}}`, produced by `ApiError` only.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::sync::Semaphore;
use tower_http::cors::CorsLayer;

use super::wire::*;
use super::{ClusterView, NodeContext};
use crate::error::{Error, ErrorCode};
use crate::limits::{BODY_PARSE_INLINE_BYTES_MAX, REQUESTS_IN_FLIGHT_MAX, REQUEST_BODY_BYTES_MAX};
use crate::model::{CollectionSpec, NodeStatus};
use crate::{metrics, validate};

/// The one mapping from error class to HTTP status (exhaustive on purpose).
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidArgument => StatusCode::BAD_REQUEST,
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::AlreadyExists => StatusCode::CONFLICT,
        ErrorCode::NotLeader | ErrorCode::Diverged => StatusCode::CONFLICT,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// An error on its way out as JSON.
pub struct ApiError {
    code: ErrorCode,
    message: String,
    leader: Option<crate::error::LeaderAddress>,
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let leader = match &e {
            Error::NotLeader { leader } => leader.clone(),
            _ => None,
        };
        ApiError {
            code: e.code(),
            message: e.to_string(),
            leader,
        }
    }
}

impl ApiError {
    fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            leader: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code.as_str(), "message": self.message});
        if let Some(leader) = self.leader {
            error["leader"] = json!({
                "node_id": leader.node_id,
                "http_addr": leader.http_addr,
                "grpc_addr": leader.grpc_addr,
            });
        }
        let mut response = (status_of(self.code), Json(json!({ "error": error }))).into_response();
        response.extensions_mut().insert(self.code);
        response
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// A JSON body whose every rejection is an `ApiError`: 413 past the body limit, 400 for
/// anything that is not the expected JSON.
pub struct Body<T>(pub T);

/// Like [`Body`], for routes whose body may be left out: an empty (or all-whitespace) body
/// is `None`.
pub struct OptionalBody<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned + Send + 'static> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        parse_json(body_bytes(req, state).await?).await.map(Body)
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Send + 'static> FromRequest<S> for OptionalBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalBody(None));
        }
        parse_json(bytes).await.map(|body| OptionalBody(Some(body)))
    }
}

/// The request body, or 413 past `REQUEST_BODY_BYTES_MAX`.
async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("request body is larger than {REQUEST_BODY_BYTES_MAX} bytes"),
            )
        } else {
            ApiError::new(ErrorCode::InvalidArgument, rejection.body_text())
        }
    })
}

/// Parses a JSON body; 400 for anything that is not the expected JSON.
async fn parse_json<T: DeserializeOwned + Send + 'static>(bytes: Bytes) -> Result<T, ApiError> {
    let inline = bytes.len() < BODY_PARSE_INLINE_BYTES_MAX;
    let parse = move || {
        serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidArgument,
                format!("invalid JSON body: {e}"),
            )
        })
    };
    // Parsing megabytes of JSON takes milliseconds: keep it off the async workers, which
    // must stay free for /livez, /metrics and small requests.
    if inline {
        parse()
    } else {
        match tokio::task::spawn_blocking(parse).await {
            Ok(result) => result,
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }
}

/// Path parameters whose rejection (say, invalid UTF-8 after percent-decoding) is JSON like
/// every other error, not axum's plain text.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(ApiError::new(
                ErrorCode::InvalidArgument,
                rejection.body_text(),
            )),
        }
    }
}

fn parse_u64(field: &str, text: &str) -> Result<u64, Error> {
    text.parse()
        .map_err(|_| Error::invalid(field, format!("{text:?} is not an unsigned 64-bit integer")))
}

/// The REST router. `cors_origins` lists the browser origins allowed to call the API (none:
/// no CORS headers, so only same-origin pages can); preflights are answered before auth.
pub fn router(
    ctx: NodeContext,
    metrics_handle: PrometheusHandle,
    cors_origins: &[String],
) -> Router {
    let mut api = Router::new()
        .route(
            "/collections",
            get(list_collections).post(create_collection),
        )
        .route(
            "/collections/{name}",
            get(collection_info).delete(drop_collection),
        )
        .route("/collections/{name}/digest", get(digest))
        .route("/collections/{name}/points", get(scroll).put(upsert))
        .route("/collections/{name}/points/delete", post(delete_points))
        .route("/collections/{name}/points/{id}", get(get_point))
        .route("/collections/{name}/search", post(search))
        .route("/collections/{name}/search/batch", post(search_batch))
        .route("/collections/{name}/buckets/{bucket}", get(bucket))
        .route("/node", get(node))
        .route("/cluster", get(cluster))
        .route("/admin/promote", post(promote))
        .route("/admin/follow", post(follow))
        .route("/admin/backup", get(backup))
        .route("/admin/checkpoint", post(checkpoint))
        .route("/admin/repair", post(repair))
        .route("/openapi.json", get(openapi));
    // Debug routes exist only with --enable-fault-injection; otherwise they are unknown (404).
    if ctx.fault_injection {
        api = api
            .route("/debug/wal/fail", post(debug_wal_fail))
            .route("/debug/collections/{name}/corrupt", post(debug_corrupt));
    }
    let api = api
        .route_layer(middleware::from_fn_with_state(ctx.clone(), require_key))
        .route_layer(middleware::from_fn_with_state(in_flight(), limit_in_flight));
    for route in super::openapi::ROUTES {
        metrics::register_route("http", route);
    }
    let metrics_route = get(move || {
        let handle = metrics_handle.clone();
        async move {
            (
                [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                handle.render(),
            )
        }
    });
    let router = Router::new()
        .nest("/api", api)
        .route("/livez", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .route("/metrics", metrics_route)
        .fallback(|| async { ApiError::new(ErrorCode::NotFound, "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "method not allowed on this route",
            )
        })
        .layer(middleware::from_fn(observe))
        .layer(DefaultBodyLimit::max(REQUEST_BODY_BYTES_MAX));
    match cors(cors_origins) {
        Some(layer) => router.layer(layer).with_state(ctx),
        None => router.with_state(ctx),
    }
}

/// The CORS layer for `origins`; none at all when the list is empty, so preflights and
/// every other request behave exactly as without CORS.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| o.parse().ok()).collect();
    if origins.is_empty() {
        return None;
    }
    let layer = CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static("x-api-key"),
        ]);
    Some(layer)
}

/// Sets the u64 mode for the request and records its metrics.
async fn observe(req: Request, next: Next) -> Response {
    let as_string = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|pair| pair == "u64=string"));
    let route = route_label(req.uri().path());
    let started = Instant::now();
    let response = U64_AS_STRING.scope(as_string, next.run(req)).await;
    let code = response
        .extensions()
        .get::<ErrorCode>()
        .map_or("ok", |c| c.as_str());
    metrics::request("http", route, code, started.elapsed());
    response
}

fn in_flight() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(REQUESTS_IN_FLIGHT_MAX))
}

/// Bounds the `/api` requests being served at once (bodies included): more wait their turn,
/// so memory stays bounded however many clients connect.
async fn limit_in_flight(
    State(slots): State<Arc<Semaphore>>,
    req: Request,
    next: Next,
) -> Response {
    let _slot = slots
        .acquire()
        .await
        .expect("the semaphore is never closed");
    next.run(req).await
}

/// The route template a path matches, as the `route` label (bounded cardinality).
fn route_label(path: &str) -> &'static str {
    let Some(rest) = path.strip_prefix("/api") else {
        return "other";
    };
    let segments: Vec<&str> = rest.split('/').collect();
    super::openapi::ROUTES
        .iter()
        .find(|route| {
            let pattern: Vec<&str> = route.split('/').collect();
            pattern.len() == segments.len()
                && pattern
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| p == s || (p.starts_with('{') && !s.is_empty()))
        })
        .copied()
        .unwrap_or("unmatched")
}

async fn require_key(State(ctx): State<NodeContext>, req: Request, next: Next) -> Response {
    let headers: &HeaderMap = req.headers();
    let ok = ctx.auth.check(
        headers.get("x-api-key").map(|v| v.as_bytes()),
        headers.get(header::AUTHORIZATION).map(|v| v.as_bytes()),
    );
    if ok {
        next.run(req).await
    } else {
        ApiError::from(Error::Unauthenticated).into_response()
    }
}

async fn readyz(State(ctx): State<NodeContext>) -> Response {
    if ctx.is_ready() {
        Json(json!({"status": "ready"})).into_response()
    } else {
        ApiError::new(ErrorCode::Unavailable, "recovering").into_response()
    }
}

async fn openapi() -> Json<serde_json::Value> {
    Json(super::openapi::document())
}

#[utoipa::path(get, path = "/api/collections", responses((status = 200, body = CollectionsJson)))]
pub async fn list_collections(State(ctx): State<NodeContext>) -> ApiResult<Json<CollectionsJson>> {
    let list = ctx.run(|e| Ok(e.list_collections())).await?;
    let list: Vec<CollectionJson> = list.into_iter().map(Into::into).collect();
    Ok(Json(CollectionsJson { collections: list }))
}

#[utoipa::path(post, path = "/api/collections", request_body = CreateCollectionBody,
    responses((status = 201, description = "created", body = CollectionJson)))]
pub async fn create_collection(
    State(ctx): State<NodeContext>,
    Body(body): Body<CreateCollectionBody>,
) -> ApiResult<(StatusCode, Json<CollectionJson>)> {
    let metric = validate::metric(&body.metric)?;
    let spec = CollectionSpec {
        name: body.name,
        dimension: body.dimension,
        metric,
    };
    let name = spec.name.clone();
    let info = ctx
        .run(move |e| {
            e.create_collection(spec)?;
            Ok(e.collection(&name)?.info())
        })
        .await?;
    Ok((StatusCode::CREATED, Json(info.into())))
}

#[utoipa::path(get, path = "/api/collections/{name}", responses((status = 200, body = CollectionJson)))]
pub async fn collection_info(
    State(ctx): State<NodeContext>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<CollectionJson>> {
    let info = ctx.run(move |e| Ok(e.collection(&name)?.info())).await?;
    Ok(Json(info.into()))
}

#[utoipa::path(delete, path = "/api/collections/{name}", responses((status = 200, body = WriteJson)))]
pub async fn drop_collection(
    State(ctx): State<NodeContext>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<WriteJson>> {
    let ack = ctx.run(move |e| e.drop_collection(&name)).await?;
    Ok(Json(WriteJson {
        upserted: None,
        deleted: None,
        lsn: U64(ack.lsn),
        logical_clock: U64(ack.logical_clock),
    }))
}

#[utoipa::path(get, path = "/api/collections/{name}/digest", responses((status = 200, body = DigestJson)))]
pub async fn digest(
    State(ctx): State<NodeContext>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<DigestJson>> {
    Ok(Json(ctx.run(move |e| e.digest(&name)).await?.into()))
}

#[utoipa::path(put, path = "/api/collections/{name}/points", request_body = UpsertBody,
    responses((status = 200, body = WriteJson)))]
pub async fn upsert(
    State(ctx): State<NodeContext>,
    ApiPath(name): ApiPath<String>,
    Body(body): Body<UpsertBody>,
) -> ApiResult<Json<WriteJson>> {
    let points = body.points.into_iter().map(PointBody::into_point).collect();
    let ack = ctx.run(move |e| e.upsert(&name, points)).await?;
    Ok(Json(WriteJson {
        upserted: Some(U64(ack.count)),
        deleted: None,
        lsn: U64(ack.lsn),
        logical_clock: U64(ack.logical_clock),
    }))
}

#[utoipa::path(post, path = "/api/collections/{name}/points/delete", request_body = DeleteBody,
    responses((status = 200, body = WriteJson)))]
pub async fn delete_points(
    State(ctx): State<NodeContext>,
    ApiPath(name): ApiPath<String>,
    Body(body): Body<DeleteBody>,
) -> ApiResult<Json<WriteJson>> {
    let ids = body.ids.into_iter().map(|id| id.0).collect();
    let ack = ctx.run(move |e| e.delete(&name, ids)).await?;
    Ok(Json(WriteJson {
        upserted: None,
        deleted: Some(U64(ack.count)),
        lsn: U64(ack.lsn),
        logical_clock: U64(ack.logical_clock),
    }))
}

#[utoipa::path(get, path = "/api/collections/{name}/points/{id}", responses((status = 200, body = PointJson)))]
pub async fn get_point(
    State(ctx): State<NodeContext>,
    ApiPath((name, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<PointJson>> {
    let id = parse_u64("id", &id)?;
    Ok(Json(ctx.run(move |e| e.get(&name, id)).await?.into()))
}

#[utoipa::path(get, path = "/api/collections/{name}/points",
    params(("after" = Option<u64>, Query), ("limit" = Option<usize>, Query)),
    responses((status = 200, body = ScrollJson)))]
pub async fn scroll(
    State(ctx): State<NodeContext>,
    ApiPath(name): ApiPath<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<ScrollJson>> {
    let after = query
        .get("after")
        .map(|a| parse_u64("after", a))
        .transpose()?;
    let limit = query
        .get("limit")
        .map(|l| {
            l.parse::<usize>()
                .map_err(|_| Error::invalid("limit", format!("{l:?} is not a positive integer")))
        })
        .transpose()?;
    let page = ctx.run(move |e| e.scroll(&name, after, limit)).await?;
    let points: Vec<PointJson> = page.points.into_iter().map(Into::into).collect();
    Ok(Json(ScrollJson {
        points,
        next_after: page.next_after.map(U64),
    }))
}

#[utoipa::path(post, path = "/api/collections/{name}/search", request_body = SearchBody,
    responses((status = 200, body = ResultsJson<Vec<ScoredJson>>)))]
pub async fn search(
    State(ctx): State<NodeContext>,
    ApiPath(name): ApiPath<String>,
    Body(body): Body<SearchBody>,
) -> ApiResult<Json<ResultsJson<Vec<ScoredJson>>>> {
    let query = body.into_query();
    let results = ctx.run(move |e| e.search(&name, &query)).await?;
    let results = results.into_iter().map(Into::into).collect();
    Ok(Json(ResultsJson { results }))
}

#[utoipa::path(post, path = "/api/collections/{name}/search/batch", request_body = SearchBatchBody,
    responses((status = 200, body = ResultsJson<Vec<Vec<ScoredJson>>>)))]
pub async fn search_batch(
    State(ctx): State<NodeContext>,
    ApiPath(name): ApiPath<String>,
    Body(body): Body<SearchBatchBody>,
) -> ApiResult<Json<ResultsJson<Vec<Vec<ScoredJson>>>>> {
    let queries: Vec<_> = body
        .searches
        .into_iter()
        .map(SearchBody::into_query)
        .collect();
    let results = ctx.run(move |e| e.search_batch(&name, &queries)).await?;
    let results = results
        .into_iter()
        .map(|list| list.into_iter().map(Into::into).collect())
        .collect();
    Ok(Json(ResultsJson { results }))
}

#[utoipa::path(get, path = "/api/collections/{name}/buckets/{bucket}",
    responses((status = 200, body = BucketJson)))]
pub async fn bucket(
    State(ctx): State<NodeContext>,
    ApiPath((name, bucket)): ApiPath<(String, String)>,
) -> ApiResult<Json<BucketJson>> {
    let bucket = parse_u64("bucket", &bucket)?;
    let entries = ctx.run(move |e| e.bucket(&name, bucket)).await?;
    let entries: Vec<BucketEntryJson> = entries
        .into_iter()
        .map(|(id, hash)| BucketEntryJson {
            id: U64(id),
            entry_hash: U64(hash),
        })
        .collect();
    Ok(Json(BucketJson { bucket, entries }))
}

#[utoipa::path(get, path = "/api/node", responses((status = 200, body = NodeJson)))]
pub async fn node(State(ctx): State<NodeContext>) -> ApiResult<Json<NodeJson>> {
    Ok(Json(node_json(&ctx).await?))
}

/// This node's fields, the leader's addresses and (on the leader) the followers.
#[utoipa::path(get, path = "/api/cluster", responses((status = 200, body = ClusterJson)))]
pub async fn cluster(State(ctx): State<NodeContext>) -> ApiResult<Json<ClusterJson>> {
    let view = ctx.cluster()?;
    Ok(Json(cluster_json(&ctx, view)))
}

/// Manual failover: this follower becomes the leader, continuing its LSNs.
#[utoipa::path(post, path = "/api/admin/promote", responses((status = 200, body = ClusterJson)))]
pub async fn promote(State(ctx): State<NodeContext>) -> ApiResult<Json<ClusterJson>> {
    let view = ctx.promote().await?;
    Ok(Json(cluster_json(&ctx, view)))
}

/// Points this node at another leader; `diverged` (409) if its log has records that leader
/// lacks, and nothing changes.
#[utoipa::path(post, path = "/api/admin/follow", request_body = FollowBody,
    responses((status = 200, body = ClusterJson)))]
pub async fn follow(
    State(ctx): State<NodeContext>,
    Body(body): Body<FollowBody>,
) -> ApiResult<Json<ClusterJson>> {
    let view = ctx.follow(&body.leader).await?;
    Ok(Json(cluster_json(&ctx, view)))
}

/// A consistent backup of every collection, in the backup file format (`hyperspace backup`
/// writes it to a file, `hyperspace restore` makes a data directory of it). Writes pause
/// while the image is copied; the `x-hyperspace-lsn` header gives the LSN it is
/// consistent at. Works on followers too (their applied prefix).
#[utoipa::path(get, path = "/api/admin/backup", responses((status = 200,
    content_type = "application/octet-stream", description = "the backup file")))]
pub async fn backup(State(ctx): State<NodeContext>) -> ApiResult<Response> {
    let (lsn, bytes) = ctx
        .run(|engine| {
            let image = engine.backup_image()?;
            Ok((image.lsn, crate::backup::encode(&image)))
        })
        .await?;
    let headers = [
        (header::CONTENT_TYPE, "application/octet-stream".to_string()),
        (HeaderName::from_static("x-hyperspace-lsn"), lsn.to_string()),
    ];
    Ok((headers, bytes).into_response())
}

/// Anti-entropy, leader: appends a digest checkpoint of one collection (or of every one)
/// now, which every follower verifies at the same LSN.
#[utoipa::path(post, path = "/api/admin/checkpoint", request_body = CheckpointBody,
    responses((status = 200, body = CheckpointJson)))]
pub async fn checkpoint(
    State(ctx): State<NodeContext>,
    OptionalBody(body): OptionalBody<CheckpointBody>,
) -> ApiResult<Json<CheckpointJson>> {
    let taken = ctx.checkpoint(body.and_then(|b| b.collection)).await?;
    Ok(Json(CheckpointJson {
        checkpoints: taken
            .into_iter()
            .map(|(collection, lsn)| CheckpointTakenJson {
                collection,
                lsn: U64(lsn),
            })
            .collect(),
    }))
}

/// Anti-entropy, leader: queues a repair of these buckets. Their full content is written to
/// the log as repair records, which replace them on every follower; progress shows in
/// `/api/cluster` under `anti_entropy.repairs`.
#[utoipa::path(post, path = "/api/admin/repair", request_body = RepairBody,
    responses((status = 200, body = RepairJobJson)))]
pub async fn repair(
    State(ctx): State<NodeContext>,
    Body(body): Body<RepairBody>,
) -> ApiResult<Json<RepairJobJson>> {
    let job = ctx.repair(&body.collection, &body.buckets)?;
    Ok(Json(RepairJobJson::from(job)))
}

fn cluster_json(ctx: &NodeContext, view: ClusterView) -> ClusterJson {
    let ClusterView {
        status,
        leader,
        followers,
        following,
        connected,
        replication_error,
        anti_entropy,
    } = view;
    let checks = |checks: &[crate::antientropy::CheckResult]| -> Vec<CheckJson> {
        checks.iter().map(CheckJson::from).collect()
    };
    ClusterJson {
        node: node_json_of(ctx, status),
        leader: leader.map(|l| NodeAddressJson {
            node_id: l.node_id,
            http_addr: l.http_addr,
            grpc_addr: l.grpc_addr,
        }),
        followers: followers
            .into_iter()
            .map(|(f, lag)| FollowerJson {
                checks: checks(&anti_entropy.follower_checks(&f.node_id)),
                node_id: f.node_id,
                http_addr: f.http_addr,
                grpc_addr: f.grpc_addr,
                connected: f.connected,
                applied_lsn: U64(f.applied_lsn),
                lag_records: U64(lag),
            })
            .collect(),
        following,
        connected,
        replication_error,
        anti_entropy: AntiEntropyJson {
            mode: anti_entropy.mode.as_str(),
            checks: checks(&anti_entropy.checks),
            repairs: anti_entropy
                .coordinator
                .jobs
                .into_iter()
                .map(RepairJobJson::from)
                .collect(),
            outvoted: anti_entropy
                .coordinator
                .outvoted
                .into_iter()
                .map(OutvotedJson::from)
                .collect(),
        },
    }
}

fn node_json_of(ctx: &NodeContext, status: NodeStatus) -> NodeJson {
    NodeJson {
        node_id: status.node_id,
        role: status.role.as_str(),
        version: env!("CARGO_PKG_VERSION"),
        http_addr: ctx.advertise.http_addr.clone(),
        grpc_addr: ctx.advertise.grpc_addr.clone(),
        last_lsn: U64(status.last_lsn),
        logical_clock: U64(status.logical_clock),
    }
}

async fn node_json(ctx: &NodeContext) -> ApiResult<NodeJson> {
    let status = ctx.run(|e| Ok(e.status())).await?;
    Ok(node_json_of(ctx, status))
}

/// Fault injection: the next WAL write fails.
async fn debug_wal_fail(State(ctx): State<NodeContext>) -> ApiResult<Json<serde_json::Value>> {
    ctx.run(|e| {
        e.inject_wal_failure();
        Ok(())
    })
    .await?;
    Ok(Json(json!({"injected": "wal_failure"})))
}

/// Fault injection: replaces one point's payload in memory (no WAL record, no clock tick),
/// so replicas drift at an equal clock; answers the point's new entry hash.
async fn debug_corrupt(
    State(ctx): State<NodeContext>,
    ApiPath(name): ApiPath<String>,
    Body(body): Body<CorruptBody>,
) -> ApiResult<Json<BucketEntryJson>> {
    let id = body.id.0;
    let entry_hash = ctx.run(move |e| e.corrupt_point(&name, id)).await?;
    Ok(Json(BucketEntryJson {
        id: U64(id),
        entry_hash: U64(entry_hash),
    }))
}
