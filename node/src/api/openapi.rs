//! The OpenAPI document of the REST API, generated from the handlers' annotations (utoipa)
//! and served at `/api/openapi.json`.

use utoipa::OpenApi;

use super::http;
use super::wire;

/// Route templates as axum matches them under `/api`; also the `route` label of metrics.
pub const ROUTES: &[&str] = &[
    "/collections",
    "/collections/{name}",
    "/collections/{name}/digest",
    "/collections/{name}/points",
    "/collections/{name}/points/delete",
    "/collections/{name}/points/{id}",
    "/collections/{name}/search",
    "/collections/{name}/search/batch",
    "/collections/{name}/buckets/{bucket}",
    "/node",
    "/cluster",
    "/admin/promote",
    "/admin/follow",
    "/admin/backup",
    "/admin/checkpoint",
    "/admin/repair",
];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "HyperspaceDB node REST API",
        description = "DESIGN.md §5. u64 values are JSON numbers, or decimal strings with ?u64=string."
    ),
    paths(
        http::list_collections,
        http::create_collection,
        http::collection_info,
        http::drop_collection,
        http::digest,
        http::upsert,
        http::delete_points,
        http::get_point,
        http::scroll,
        http::search,
        http::search_batch,
        http::bucket,
        http::node,
        http::cluster,
        http::promote,
        http::follow,
        http::backup,
        http::checkpoint,
        http::repair
    ),
    components(schemas(
        wire::CreateCollectionBody,
        wire::UpsertBody,
        wire::PointBody,
        wire::DeleteBody,
        wire::SearchBody,
        wire::SearchBatchBody,
        wire::CollectionJson,
        wire::PointJson,
        wire::DigestJson,
        wire::WriteJson,
        wire::NodeJson,
        wire::ClusterJson,
        wire::NodeAddressJson,
        wire::FollowerJson,
        wire::FollowBody,
        wire::AntiEntropyJson,
        wire::CheckJson,
        wire::RepairJobJson,
        wire::OutvotedJson,
        wire::CheckpointBody,
        wire::CheckpointJson,
        wire::CheckpointTakenJson,
        wire::RepairBody
    ))
)]
struct ApiDoc;

pub fn document() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serializes")
}
