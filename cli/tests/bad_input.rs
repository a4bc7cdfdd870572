//! Table-driven bad input over REST and gRPC against a real node: every limit of DESIGN.md §8
//! and malformed requests get the exact status and code of the §5 table, never a 5xx, and
//! nothing is written.
mod common;
mod support;

use common::*;
use hyperspace_proto::v1 as pb;
use hyperspace_proto::v1::hyperspace_client::HyperspaceClient;
use serde_json::{json, Value};
use support::*;
use tonic::transport::Channel;
use tonic::Code;

const NAME_65: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// `good` (l2, 3), `ball` (poincare, 2) and `cos` (cosine, 2), each with two points.
fn fixtures(base: &str) {
    for (name, dimension, metric) in [
        ("good", 3, "l2"),
        ("ball", 2, "poincare"),
        ("cos", 2, "cosine"),
    ] {
        create(base, name, dimension, metric);
        let v = |x: f32| -> Vec<f32> {
            (0..dimension)
                .map(|i| if i == 0 { x } else { 0.1 })
                .collect()
        };
        upsert(
            base,
            name,
            json!([{"id": 1, "vector": v(0.5)}, {"id": 2, "vector": v(-0.5), "payload": {"k": 1}}]),
        );
    }
}

/// Everything a bad request could have changed: each collection's digest, the collection
/// list and the node's last LSN and clock.
fn state(base: &str) -> Value {
    let digests: Vec<Value> = ["good", "ball", "cos"]
        .iter()
        .map(|c| call("GET", &format!("{base}/api/collections/{c}/digest"), None).1)
        .collect();
    let (_, list) = call("GET", &format!("{base}/api/collections"), None);
    let (_, node) = call("GET", &format!("{base}/api/node"), None);
    json!({"digests": digests, "list": list, "lsn": node["last_lsn"], "clock": node["logical_clock"]})
}

/// Upsert bodies as JSON text.
fn points_json(n: usize) -> String {
    let points: Vec<Value> = (0..n)
        .map(|i| json!({"id": i, "vector": [0.0, 0.0, 1.0]}))
        .collect();
    json!({ "points": points }).to_string()
}

fn point(vector: Value, payload: Value) -> String {
    json!({"points": [{"id": 9, "vector": vector, "payload": payload}]}).to_string()
}

fn searches(n: usize) -> String {
    searches_of(n, 1)
}

fn searches_of(n: usize, top_k: usize) -> String {
    json!({"searches": vec![json!({"vector": [0.0, 0.0, 1.0], "top_k": top_k}); n]}).to_string()
}

/// (what, method, path, body as JSON text, (status, code)).
type RestCase = (
    &'static str,
    &'static str,
    String,
    Option<String>,
    (u16, &'static str),
);

// Proves every §8 limit and malformed body over REST gets its §5 JSON error and writes nothing.
#[test]
fn rest_bad_input_table() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(&dir.path().join("n"), &[]);
    let base = node.http();
    fixtures(&base);
    let before = state(&base);

    let c = "/api/collections";
    let g = "/api/collections/good";
    let (repair, checkpoint) = ("/api/admin/repair", "/api/admin/checkpoint");
    let big_payload = json!({"s": "x".repeat(65 * 1024)});
    let huge_body = point(json!([0.0, 0.0, 1.0]), json!({"s": "x".repeat(33 << 20)}));
    let create = |name: Value, dimension: Value, metric: &str| {
        json!({"name": name, "dimension": dimension, "metric": metric}).to_string()
    };
    let search =
        |vector: Value, top_k: Value| json!({"vector": vector, "top_k": top_k}).to_string();
    let (bad, not_found) = ((400, "invalid_argument"), (404, "not_found"));
    let (too_large, not_allowed) = ((413, "payload_too_large"), (405, "method_not_allowed"));
    #[rustfmt::skip]
    let cases: Vec<RestCase> = vec![
        ("dimension 0", "POST", c.into(), Some(create(json!("d0"), json!(0), "l2")), bad),
        ("dimension 4097", "POST", c.into(), Some(create(json!("d1"), json!(4097), "l2")), bad),
        ("negative dimension", "POST", c.into(), Some(create(json!("d2"), json!(-3), "l2")), bad),
        ("dimension as string", "POST", c.into(), Some(create(json!("d3"), json!("3"), "l2")), bad),
        ("unknown metric", "POST", c.into(), Some(create(json!("d4"), json!(3), "hamming")), bad),
        ("empty name", "POST", c.into(), Some(create(json!(""), json!(3), "l2")), bad),
        ("65-char name", "POST", c.into(), Some(create(json!(NAME_65), json!(3), "l2")), bad),
        ("name ..", "POST", c.into(), Some(create(json!(".."), json!(3), "l2")), bad),
        ("name a/b", "POST", c.into(), Some(create(json!("a/b"), json!(3), "l2")), bad),
        ("name not a string", "POST", c.into(), Some(create(json!(5), json!(3), "l2")), bad),
        ("duplicate create", "POST", c.into(), Some(create(json!("good"), json!(3), "l2")), (409, "already_exists")),
        ("malformed JSON", "POST", c.into(), Some("{\"name\":".into()), bad),
        ("body not an object", "POST", c.into(), Some("[]".into()), bad),
        ("empty body", "POST", c.into(), Some(String::new()), bad),
        ("path ..", "GET", format!("{c}/.."), None, bad),
        ("path ../digest", "GET", format!("{c}/../digest"), None, bad),
        ("drop ..", "DELETE", format!("{c}/.."), None, bad),
        ("path a%2Fb", "GET", format!("{c}/a%2Fb"), None, bad),
        ("path not UTF-8", "GET", format!("{c}/%FF/digest"), None, bad),
        ("path a%2Fb points", "PUT", format!("{c}/a%2Fb/points"), Some(points_json(1)), bad),
        ("path 65 chars", "GET", format!("{c}/{NAME_65}/digest"), None, bad),
        ("path empty name", "GET", format!("{c}//digest"), None, bad),
        ("unknown collection info", "GET", format!("{c}/nope"), None, not_found),
        ("unknown collection drop", "DELETE", format!("{c}/nope"), None, not_found),
        ("unknown collection digest", "GET", format!("{c}/nope/digest"), None, not_found),
        ("unknown collection upsert", "PUT", format!("{c}/nope/points"), Some(points_json(1)), not_found),
        ("unknown collection search", "POST", format!("{c}/nope/search"), Some(search(json!([0, 0, 1]), json!(1))), not_found),
        ("wrong dimension", "PUT", format!("{g}/points"), Some(point(json!([1.0, 2.0]), json!({}))), bad),
        ("1e39 overflows f32", "PUT", format!("{g}/points"), Some(point(json!([1e39, 0.0, 0.0]), json!({}))), bad),
        ("-1e39", "PUT", format!("{g}/points"), Some(point(json!([-1e39, 0.0, 0.0]), json!({}))), bad),
        ("component as string", "PUT", format!("{g}/points"), Some(point(json!(["1", 0.0, 0.0]), json!({}))), bad),
        ("vector not an array", "PUT", format!("{g}/points"), Some(point(json!("v"), json!({}))), bad),
        ("negative id", "PUT", format!("{g}/points"), Some(r#"{"points":[{"id":-1,"vector":[0,0,1]}]}"#.into()), bad),
        ("fractional id", "PUT", format!("{g}/points"), Some(r#"{"points":[{"id":1.5,"vector":[0,0,1]}]}"#.into()), bad),
        ("id string not a number", "PUT", format!("{g}/points"), Some(r#"{"points":[{"id":"x","vector":[0,0,1]}]}"#.into()), bad),
        ("id 2^64", "PUT", format!("{g}/points"), Some(r#"{"points":[{"id":18446744073709551616,"vector":[0,0,1]}]}"#.into()), bad),
        ("unknown field", "PUT", format!("{g}/points"), Some(r#"{"points":[],"x":1}"#.into()), bad),
        ("0 points", "PUT", format!("{g}/points"), Some(points_json(0)), bad),
        ("10,001 points", "PUT", format!("{g}/points"), Some(points_json(10_001)), bad),
        ("payload > 64 KiB", "PUT", format!("{g}/points"), Some(point(json!([0, 0, 1]), big_payload)), too_large),
        ("payload an array", "PUT", format!("{g}/points"), Some(point(json!([0, 0, 1]), json!([1]))), bad),
        ("payload a string", "PUT", format!("{g}/points"), Some(point(json!([0, 0, 1]), json!("p"))), bad),
        ("payload 2^53+1", "PUT", format!("{g}/points"), Some(point(json!([0, 0, 1]), json!({"n": 9007199254740993u64}))), bad),
        ("payload -(2^53+1) nested", "PUT", format!("{g}/points"), Some(point(json!([0, 0, 1]), json!({"a": [{"n": -9007199254740993i64}]}))), bad),
        ("body > 32 MiB", "PUT", format!("{g}/points"), Some(huge_body.clone()), too_large),
        ("poincare norm 1", "PUT", format!("{c}/ball/points"), Some(point(json!([1.0, 0.0]), json!({}))), bad),
        ("poincare norm > 1", "PUT", format!("{c}/ball/points"), Some(point(json!([0.9, 0.9]), json!({}))), bad),
        ("cosine zero vector", "PUT", format!("{c}/cos/points"), Some(point(json!([0.0, 0.0]), json!({}))), bad),
        ("get negative id", "GET", format!("{g}/points/-1"), None, bad),
        ("get fractional id", "GET", format!("{g}/points/1.5"), None, bad),
        ("get missing point", "GET", format!("{g}/points/404"), None, not_found),
        ("scroll limit 0", "GET", format!("{g}/points?limit=0"), None, bad),
        ("scroll limit 10001", "GET", format!("{g}/points?limit=10001"), None, bad),
        ("scroll limit abc", "GET", format!("{g}/points?limit=abc"), None, bad),
        ("scroll after -1", "GET", format!("{g}/points?after=-1"), None, bad),
        ("delete 0 ids", "POST", format!("{g}/points/delete"), Some(r#"{"ids":[]}"#.into()), bad),
        ("delete negative id", "POST", format!("{g}/points/delete"), Some(r#"{"ids":[-1]}"#.into()), bad),
        ("search wrong dimension", "POST", format!("{g}/search"), Some(search(json!([0, 1]), json!(1))), bad),
        ("search 1e39", "POST", format!("{g}/search"), Some(search(json!([1e39, 0, 1]), json!(1))), bad),
        ("top_k 0", "POST", format!("{g}/search"), Some(search(json!([0, 0, 1]), json!(0))), bad),
        ("top_k 1001", "POST", format!("{g}/search"), Some(search(json!([0, 0, 1]), json!(1001))), bad),
        ("top_k as string", "POST", format!("{g}/search"), Some(search(json!([0, 0, 1]), json!("5"))), bad),
        ("top_k negative", "POST", format!("{g}/search"), Some(search(json!([0, 0, 1]), json!(-1))), bad),
        ("ef 0", "POST", format!("{g}/search"), Some(r#"{"vector":[0,0,1],"top_k":1,"ef":0}"#.into()), bad),
        ("filter not an object", "POST", format!("{g}/search"), Some(r#"{"vector":[0,0,1],"top_k":1,"filter":[1]}"#.into()), bad),
        ("search poincare norm 1", "POST", format!("{c}/ball/search"), Some(search(json!([0.0, 1.0]), json!(1))), bad),
        ("search cosine zero", "POST", format!("{c}/cos/search"), Some(search(json!([0, 0]), json!(1))), bad),
        ("batch of 0", "POST", format!("{g}/search/batch"), Some(searches(0)), bad),
        ("batch of 1001", "POST", format!("{g}/search/batch"), Some(searches(1001)), bad),
        ("batch of 101,000 results", "POST", format!("{g}/search/batch"), Some(searches_of(101, 1000)), bad),
        ("batch with a bad search", "POST", format!("{g}/search/batch"), Some(r#"{"searches":[{"vector":[0,0,1],"top_k":1},{"vector":[0,0,1],"top_k":0}]}"#.into()), bad),
        ("bucket 256", "GET", format!("{g}/buckets/256"), None, bad),
        ("bucket x", "GET", format!("{g}/buckets/x"), None, bad),
        ("bucket -1", "GET", format!("{g}/buckets/-1"), None, bad),
        ("repair bucket 256", "POST", repair.into(), Some(json!({"collection": "good", "buckets": [256]}).to_string()), bad),
        ("repair no bucket", "POST", repair.into(), Some(json!({"collection": "good", "buckets": []}).to_string()), bad),
        ("repair bucket -1", "POST", repair.into(), Some(json!({"collection": "good", "buckets": [-1]}).to_string()), bad),
        ("repair unknown collection", "POST", repair.into(), Some(json!({"collection": "nope", "buckets": [1]}).to_string()), not_found),
        ("repair collection ..", "POST", repair.into(), Some(json!({"collection": "..", "buckets": [1]}).to_string()), bad),
        ("repair empty body", "POST", repair.into(), Some(String::new()), bad),
        ("checkpoint unknown collection", "POST", checkpoint.into(), Some(json!({"collection": "nope"}).to_string()), not_found),
        ("checkpoint collection a/b", "POST", checkpoint.into(), Some(json!({"collection": "a/b"}).to_string()), bad),
        ("checkpoint unknown field", "POST", checkpoint.into(), Some(r#"{"x":1}"#.into()), bad),
        ("checkpoint body > 32 MiB", "POST", checkpoint.into(), Some(huge_body), too_large),
        ("unknown route /api", "GET", "/api/nope".into(), None, not_found),
        ("unknown route", "GET", "/nope".into(), None, not_found),
        ("wrong method collections", "PATCH", c.into(), None, not_allowed),
        ("wrong method search", "GET", format!("{g}/search"), None, not_allowed),
        ("wrong method node", "DELETE", "/api/node".into(), None, not_allowed),
        ("wrong method livez", "POST", "/livez".into(), None, not_allowed),
    ];
    for (what, method, path, body, (status, code)) in cases {
        let body = body.map(String::into_bytes);
        let got = if path.contains("/..") {
            send_raw(
                node.http_port,
                method,
                &path,
                body.as_deref().unwrap_or_default(),
            )
        } else {
            send(method, &format!("{base}{path}"), body, &[])
        };
        assert_rest_error(what, (got.0, &got.1), status, code);
    }
    assert_eq!(state(&base), before, "a refused request changed the data");
}

/// One gRPC request of the table.
enum Req {
    Create(&'static str, u32, &'static str),
    Upsert(&'static str, Vec<pb::Point>),
    Delete(&'static str, Vec<u64>),
    Get(&'static str, u64),
    Scroll(&'static str, u32),
    Search(&'static str, Option<pb::SearchQuery>),
    Batch(&'static str, Vec<pb::SearchQuery>),
    Bucket(&'static str, u32),
    Digest(&'static str),
    Info(&'static str),
    Drop(&'static str),
    Checkpoint(&'static str),
    Repair(&'static str, Vec<u32>),
    /// A method the service does not have, on the node at this URL.
    Unknown(String),
}

async fn send_grpc(client: &mut HyperspaceClient<Channel>, req: Req) -> Result<(), tonic::Status> {
    let col = |c: &str| c.to_string();
    match req {
        Req::Create(name, dimension, metric) => {
            let r = pb::CreateCollectionRequest {
                name: col(name),
                dimension,
                metric: col(metric),
            };
            client.create_collection(r).await.map(drop)
        }
        Req::Upsert(c, points) => client
            .upsert(pb::UpsertRequest {
                collection: col(c),
                points,
            })
            .await
            .map(drop),
        Req::Delete(c, ids) => client
            .delete(pb::DeleteRequest {
                collection: col(c),
                ids,
            })
            .await
            .map(drop),
        Req::Get(c, id) => client
            .get(pb::GetPointRequest {
                collection: col(c),
                id,
            })
            .await
            .map(drop),
        Req::Scroll(c, limit) => {
            let r = pb::ScrollRequest {
                collection: col(c),
                after: None,
                limit: Some(limit),
            };
            client.scroll(r).await.map(drop)
        }
        Req::Search(c, query) => client
            .search(pb::SearchRequest {
                collection: col(c),
                query,
            })
            .await
            .map(drop),
        Req::Batch(c, queries) => client
            .search_batch(pb::SearchBatchRequest {
                collection: col(c),
                queries,
            })
            .await
            .map(drop),
        Req::Bucket(c, bucket) => client
            .list_bucket(pb::BucketRequest {
                collection: col(c),
                bucket,
            })
            .await
            .map(drop),
        Req::Digest(c) => client
            .get_digest(pb::DigestRequest { collection: col(c) })
            .await
            .map(drop),
        Req::Info(c) => client
            .get_collection(pb::CollectionRequest { name: col(c) })
            .await
            .map(drop),
        Req::Drop(c) => client
            .drop_collection(pb::CollectionRequest { name: col(c) })
            .await
            .map(drop),
        Req::Checkpoint(c) => client
            .checkpoint(pb::CheckpointRequest { collection: col(c) })
            .await
            .map(drop),
        Req::Repair(c, buckets) => client
            .repair(pb::RepairRequest {
                collection: col(c),
                buckets,
            })
            .await
            .map(drop),
        Req::Unknown(url) => {
            let mut grpc = tonic::client::Grpc::new(
                Channel::from_shared(url).unwrap().connect().await.unwrap(),
            );
            grpc.ready().await.unwrap();
            let path = tonic::codegen::http::uri::PathAndQuery::from_static(
                "/hyperspace.v1.Hyperspace/NoSuchMethod",
            );
            let codec = tonic_prost::ProstCodec::<pb::NodeInfoRequest, pb::NodeInfo>::default();
            grpc.unary(tonic::Request::new(pb::NodeInfoRequest {}), path, codec)
                .await
                .map(drop)
        }
    }
}

fn query(vector: Vec<f32>, top_k: u32) -> Option<pb::SearchQuery> {
    Some(pb_query(vector, top_k))
}

// Proves the same limits over gRPC get their §5 status code and x-error-code and write nothing.
#[tokio::test(flavor = "current_thread")]
async fn grpc_bad_input_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n");
    let node = blocking(move || Node::start(&path, &[])).await;
    let base = node.http();
    let before = blocking({
        let base = base.clone();
        move || {
            fixtures(&base);
            state(&base)
        }
    })
    .await;
    let mut client = raw_client(node.grpc()).await;

    let p = |vector: Vec<f32>, payload: &str| vec![pb_point(9, vector, payload)];
    let many = |n: usize| {
        (0..n as u64)
            .map(|i| pb_point(i, vec![0.0, 0.0, 1.0], ""))
            .collect::<Vec<_>>()
    };
    let big = format!(r#"{{"s":"{}"}}"#, "x".repeat(65 * 1024));
    let huge = format!(r#"{{"s":"{}"}}"#, "x".repeat(33 << 20));
    let filtered = |filter: &str| {
        Some(pb::SearchQuery {
            filter_json: filter.into(),
            ..pb_query(vec![0.0, 0.0, 1.0], 1)
        })
    };
    let (bad, not_found) = (
        (Code::InvalidArgument, "invalid_argument"),
        (Code::NotFound, "not_found"),
    );
    let too_large = (Code::ResourceExhausted, "payload_too_large");
    #[rustfmt::skip]
    let cases: Vec<(&str, Req, (Code, &str))> = vec![
        ("dimension 0", Req::Create("d0", 0, "l2"), bad),
        ("dimension 4097", Req::Create("d1", 4097, "l2"), bad),
        ("unknown metric", Req::Create("d2", 3, "hamming"), bad),
        ("empty name", Req::Create("", 3, "l2"), bad),
        ("name ..", Req::Create("..", 3, "l2"), bad),
        ("name a/b", Req::Create("a/b", 3, "l2"), bad),
        ("65-char name", Req::Create(NAME_65, 3, "l2"), bad),
        ("duplicate create", Req::Create("good", 3, "l2"), (Code::AlreadyExists, "already_exists")),
        ("wrong dimension", Req::Upsert("good", p(vec![1.0, 2.0], "")), bad),
        ("NaN", Req::Upsert("good", p(vec![f32::NAN, 0.0, 1.0], "")), bad),
        ("+inf", Req::Upsert("good", p(vec![0.0, f32::INFINITY, 1.0], "")), bad),
        ("-inf", Req::Upsert("good", p(vec![0.0, 0.0, f32::NEG_INFINITY], "")), bad),
        ("0 points", Req::Upsert("good", vec![]), bad),
        ("10,001 points", Req::Upsert("good", many(10_001)), bad),
        ("payload > 64 KiB", Req::Upsert("good", p(vec![0.0, 0.0, 1.0], &big)), too_large),
        ("payload an array", Req::Upsert("good", p(vec![0.0, 0.0, 1.0], "[1]")), bad),
        ("payload malformed", Req::Upsert("good", p(vec![0.0, 0.0, 1.0], "{")), bad),
        ("payload 2^53+1", Req::Upsert("good", p(vec![0.0, 0.0, 1.0], r#"{"n":9007199254740993}"#)), bad),
        ("payload -(2^53+1)", Req::Upsert("good", p(vec![0.0, 0.0, 1.0], r#"{"n":[-9007199254740993]}"#)), bad),
        ("message > 32 MiB", Req::Upsert("good", p(vec![0.0, 0.0, 1.0], &huge)), too_large),
        ("poincare norm 1", Req::Upsert("ball", p(vec![0.0, 1.0], "")), bad),
        ("poincare norm > 1", Req::Upsert("ball", p(vec![0.9, 0.9], "")), bad),
        ("cosine zero vector", Req::Upsert("cos", p(vec![0.0, 0.0], "")), bad),
        ("upsert unknown collection", Req::Upsert("nope", p(vec![0.0, 0.0, 1.0], "")), not_found),
        ("upsert collection ..", Req::Upsert("..", p(vec![0.0, 0.0, 1.0], "")), bad),
        ("delete 0 ids", Req::Delete("good", vec![]), bad),
        ("delete unknown collection", Req::Delete("nope", vec![1]), not_found),
        ("get missing point", Req::Get("good", 404), not_found),
        ("get unknown collection", Req::Get("nope", 1), not_found),
        ("scroll limit 0", Req::Scroll("good", 0), bad),
        ("scroll limit 10001", Req::Scroll("good", 10_001), bad),
        ("search wrong dimension", Req::Search("good", query(vec![0.0, 1.0], 1)), bad),
        ("search NaN", Req::Search("good", query(vec![f32::NAN, 0.0, 1.0], 1)), bad),
        ("search inf", Req::Search("good", query(vec![f32::INFINITY, 0.0, 1.0], 1)), bad),
        ("top_k 0", Req::Search("good", query(vec![0.0, 0.0, 1.0], 0)), bad),
        ("top_k 1001", Req::Search("good", query(vec![0.0, 0.0, 1.0], 1001)), bad),
        ("ef 0", Req::Search("good", Some(pb::SearchQuery { ef: Some(0), ..pb_query(vec![0.0, 0.0, 1.0], 1) })), bad),
        ("filter an array", Req::Search("good", filtered("[1]")), bad),
        ("filter malformed", Req::Search("good", filtered("{")), bad),
        ("no query", Req::Search("good", None), bad),
        ("search poincare norm 1", Req::Search("ball", query(vec![1.0, 0.0], 1)), bad),
        ("search cosine zero", Req::Search("cos", query(vec![0.0, 0.0], 1)), bad),
        ("search unknown collection", Req::Search("nope", query(vec![0.0, 0.0, 1.0], 1)), not_found),
        ("batch of 0", Req::Batch("good", vec![]), bad),
        ("batch of 1001", Req::Batch("good", vec![pb_query(vec![0.0, 0.0, 1.0], 1); 1001]), bad),
        ("batch of 101,000 results", Req::Batch("good", vec![pb_query(vec![0.0, 0.0, 1.0], 1000); 101]), bad),
        ("batch with a bad search", Req::Batch("good", vec![pb_query(vec![0.0, 0.0, 1.0], 1), pb_query(vec![0.0, 0.0, 1.0], 0)]), bad),
        ("bucket 256", Req::Bucket("good", 256), bad),
        ("digest unknown collection", Req::Digest("nope"), not_found),
        ("digest name ..", Req::Digest(".."), bad),
        ("info 65-char name", Req::Info(NAME_65), bad),
        ("drop unknown collection", Req::Drop("nope"), not_found),
        ("drop a/b", Req::Drop("a/b"), bad),
        ("checkpoint unknown collection", Req::Checkpoint("nope"), not_found),
        ("checkpoint name ..", Req::Checkpoint(".."), bad),
        ("repair bucket 256", Req::Repair("good", vec![256]), bad),
        ("repair no bucket", Req::Repair("good", vec![]), bad),
        ("repair unknown collection", Req::Repair("nope", vec![1]), not_found),
    ];
    for (what, req, (code, error_code)) in cases {
        let status = send_grpc(&mut client, req).await.expect_err(what);
        assert_grpc_error(what, &status, code, error_code);
    }
    // An unknown method is tonic's own answer: UNIMPLEMENTED, without message or x-error-code.
    let status = send_grpc(&mut client, Req::Unknown(node.grpc()))
        .await
        .expect_err("unknown method");
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");

    let after = blocking(move || state(&base)).await;
    assert_eq!(after, before, "a refused request changed the data");
}
