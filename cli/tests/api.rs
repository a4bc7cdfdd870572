//! REST and gRPC round trips of every route of DESIGN.md §4–§6 against a real node process:
//! reads, writes, ?u64=string, the OpenAPI document, auth and metrics.
//! Bad input of every kind lives in `bad_input.rs`.
mod common;
mod support;

use common::*;
use hyperspace_sdk::{Client, Point, Query};
use serde_json::{json, Map, Value};
use support::*;

const BIG_ID: u64 = (1 << 53) + 1;

/// Points whose vectors need exact round trips: -0.0, a subnormal, values with no short
/// decimal form; ids above 2^53 given as a number and as a string.
fn sample_points() -> Value {
    json!([
        {"id": 5, "vector": [0.1, -0.0, 1e-45], "payload": {"color": "red", "n": 9007199254740992u64}},
        {"id": 1, "vector": [1.0, 0.0, 0.0], "payload": {"color": "blue"}},
        {"id": 3, "vector": [0.0, 1.0, 0.333_333_34], "payload": {"color": "red", "nested": {"a": [1, 2.5, null]}}},
        {"id": BIG_ID, "vector": [0.0, 0.0, 1.0], "payload": {"color": "blue"}},
        {"id": u64::MAX.to_string(), "vector": [-1.0, -1.0, -1.0]}
    ])
}

fn ids_of(list: &Value) -> Vec<u64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect()
}

// Proves every REST route of §5 round-trips: admin, upsert, bit-exact get, scroll order and
// cursor, delete, search with and without filter, batch order, buckets, node and cluster.
#[test]
fn rest_round_trips_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(&dir.path().join("n"), &[]);
    let base = node.http();
    let api = format!("{base}/api/collections");
    assert_eq!(call("GET", &api, None), (200, json!({"collections": []})));

    create(&base, "docs", 3, "l2");
    create(&base, "other", 2, "cosine");
    let (s, list) = call("GET", &api, None);
    assert_eq!(s, 200);
    let docs = list["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "docs")
        .unwrap();
    assert_eq!(
        (
            docs["dimension"].clone(),
            docs["metric"].clone(),
            docs["count"].clone()
        ),
        (json!(3), json!("l2"), json!(0))
    );
    assert_eq!(list["collections"].as_array().unwrap().len(), 2);

    let points = sample_points();
    let ack = upsert(&base, "docs", points.clone());
    assert_eq!(ack["upserted"], 5);
    assert!(
        ack["lsn"].as_u64().unwrap() >= 3 && ack["logical_clock"].as_u64().is_some(),
        "{ack}"
    );
    let (s, info) = call("GET", &format!("{api}/docs"), None);
    assert_eq!(
        (s, info["name"].clone(), info["count"].clone()),
        (200, json!("docs"), json!(5))
    );

    // get: vector bit-exact, payload as written ({} when none), ids above 2^53 exact
    for p in points.as_array().unwrap() {
        let id = p["id"]
            .as_u64()
            .unwrap_or_else(|| p["id"].as_str().unwrap().parse().unwrap());
        let (s, got) = call("GET", &format!("{api}/docs/points/{id}"), None);
        assert_eq!(s, 200, "{got}");
        assert_eq!(got["id"].as_u64(), Some(id));
        assert_eq!(
            json_bits(&got["vector"]),
            json_bits(&p["vector"]),
            "vector of {id}: {got}"
        );
        let payload = if p["payload"].is_null() {
            json!({})
        } else {
            p["payload"].clone()
        };
        assert_eq!(got["payload"], payload);
    }

    // scroll: id order, pages of 2, next_after chaining, null at the end
    let (mut seen, mut after) = (Vec::new(), None::<u64>);
    loop {
        let cursor = after.map_or(String::new(), |a| format!("&after={a}"));
        let (s, page) = call("GET", &format!("{api}/docs/points?limit=2{cursor}"), None);
        assert_eq!(s, 200, "{page}");
        seen.extend(ids_of(&page["points"]));
        match page["next_after"].as_u64() {
            Some(next) => after = Some(next),
            None => break assert!(page["next_after"].is_null(), "{page}"),
        }
    }
    assert_eq!(seen, vec![1, 3, 5, BIG_ID, u64::MAX]);

    // search: nearest first; a filter returns only matching points
    let search = format!("{api}/docs/search");
    let (s, r) = call(
        "POST",
        &search,
        Some(&json!({"vector": [0.0, 1.0, 0.333_333_34], "top_k": 10})),
    );
    assert_eq!(s, 200, "{r}");
    assert_eq!(ids_of(&r["results"]).len(), 5);
    assert_eq!(r["results"][0]["id"], 3);
    assert_eq!(r["results"][0]["payload"]["color"], "red");
    let filtered =
        json!({"vector": [1.0, 0.0, 0.0], "top_k": 10, "filter": {"color": "red"}, "ef": 64});
    let (s, r) = call("POST", &search, Some(&filtered));
    assert_eq!(s, 200, "{r}");
    let mut red = ids_of(&r["results"]);
    red.sort();
    assert_eq!(red, vec![3, 5], "{r}");

    // batch search: answered in order
    let batch = json!({"searches": [
        {"vector": [0.0, 0.0, 1.0], "top_k": 1},
        {"vector": [1.0, 0.0, 0.0], "top_k": 1},
        {"vector": [-1.0, -1.0, -1.0], "top_k": 1, "filter": {}}]});
    let (s, r) = call("POST", &format!("{search}/batch"), Some(&batch));
    assert_eq!(s, 200, "{r}");
    let firsts: Vec<u64> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l[0]["id"].as_u64().unwrap())
        .collect();
    assert_eq!(firsts, vec![BIG_ID, 1, u64::MAX]);

    // digest equals a recomputation; a bucket's entries XOR to the digest's bucket
    let (_, digest) = call("GET", &format!("{api}/docs/digest"), None);
    let (state_hash, buckets, count) = recompute_digest(&base, "docs");
    assert_eq!(
        (digest["state_hash"].as_u64(), digest["count"].as_u64()),
        (Some(state_hash), Some(count))
    );
    let (s, bucket) = call("GET", &format!("{api}/docs/buckets/1"), None);
    assert_eq!((s, bucket["bucket"].clone()), (200, json!(1)), "{bucket}");
    let entries = bucket["entries"].as_array().unwrap();
    let mut ids: Vec<u64> = entries.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, vec![1, BIG_ID]);
    let xor = entries
        .iter()
        .fold(0, |a, e| a ^ e["entry_hash"].as_u64().unwrap());
    assert_eq!(
        (xor, digest["buckets"][1].as_u64().unwrap()),
        (buckets[1], buckets[1])
    );

    // delete: only existing ids count; the point is gone
    let (s, del) = call(
        "POST",
        &format!("{api}/docs/points/delete"),
        Some(&json!({"ids": [3, 999]})),
    );
    assert_eq!((s, del["deleted"].clone()), (200, json!(1)), "{del}");
    let (s, gone) = call("GET", &format!("{api}/docs/points/3"), None);
    assert_rest_error("deleted point", (s, &gone.to_string()), 404, "not_found");

    // node and cluster
    let (s, me) = call("GET", &format!("{base}/api/node"), None);
    assert_eq!(s, 200, "{me}");
    assert_eq!(
        (me["role"].as_str(), me["http_addr"].as_str()),
        (Some("leader"), Some(base.as_str()))
    );
    assert_eq!(me["grpc_addr"].as_str(), Some(node.grpc().as_str()));
    assert_eq!(me["last_lsn"], del["lsn"]);
    assert_eq!(me["logical_clock"], del["logical_clock"]);
    assert!(
        me["node_id"].as_str().is_some_and(|id| id.len() == 36) && me["version"].is_string(),
        "{me}"
    );
    let (s, cluster) = call("GET", &format!("{base}/api/cluster"), None);
    assert_eq!(s, 200, "{cluster}");
    for key in [
        "node_id",
        "role",
        "version",
        "http_addr",
        "grpc_addr",
        "last_lsn",
        "logical_clock",
    ] {
        assert_eq!(cluster[key], me[key], "{key}: {cluster}");
    }
    let leader = &cluster["leader"];
    assert_eq!(
        (
            &leader["node_id"],
            &leader["http_addr"],
            &leader["grpc_addr"]
        ),
        (&me["node_id"], &me["http_addr"], &me["grpc_addr"]),
        "{cluster}"
    );
    assert_eq!(cluster["followers"], json!([]));

    // drop
    let (s, dropped) = call("DELETE", &format!("{api}/other"), None);
    assert_eq!(s, 200, "{dropped}");
    let (s, gone) = call("GET", &format!("{api}/other"), None);
    assert_rest_error(
        "dropped collection",
        (s, &gone.to_string()),
        404,
        "not_found",
    );
    let (_, list) = call("GET", &api, None);
    assert_eq!(list["collections"].as_array().unwrap().len(), 1);
}

/// Keys whose values are u64 on the wire (outside payloads).
const U64_KEYS: &[&str] = &[
    "id",
    "lsn",
    "logical_clock",
    "last_lsn",
    "count",
    "upserted",
    "deleted",
    "state_hash",
    "entry_hash",
    "next_after",
    "buckets",
    "bucket_counts",
    "applied_lsn",
    "lag_records",
];

/// Asserts every u64 key outside a payload holds decimal strings, returns how many it saw.
fn u64s_are_strings(v: &Value, key: &str) -> usize {
    match v {
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| k.as_str() != "payload")
            .map(|(k, v)| u64s_are_strings(v, k))
            .sum(),
        Value::Array(items) => items.iter().map(|i| u64s_are_strings(i, key)).sum(),
        Value::Number(n) => {
            assert!(
                !U64_KEYS.contains(&key),
                "{key} is the number {n}, not a string"
            );
            0
        }
        Value::String(s) if U64_KEYS.contains(&key) => {
            assert!(
                s.parse::<u64>().is_ok(),
                "{key} = {s:?} is not a decimal u64"
            );
            1
        }
        _ => 0,
    }
}

// Proves ?u64=string turns every u64 of every route into a decimal string while payload
// values stay untouched, and that u64 ids above 2^53 round-trip exactly in both modes.
#[test]
fn rest_u64_as_string_on_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(&dir.path().join("n"), &[]);
    let base = node.http();
    let api = format!("{base}/api/collections");
    create(&base, "c", 3, "l2");
    let payload = json!({"n": 9007199254740992u64, "neg": -3, "f": 1.5, "s": "18446744073709551615", "deep": {"n": 7}});
    let points = json!([{"id": u64::MAX, "vector": [1.0, 2.0, 3.0], "payload": payload}, {"id": BIG_ID.to_string(), "vector": [0.0, 0.0, 0.5]}]);
    let body = json!({"points": points});
    let s = "u64=string";
    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("PUT", format!("{api}/c/points?{s}"), Some(body)),
        ("GET", format!("{api}?{s}"), None),
        ("GET", format!("{api}/c?{s}"), None),
        ("GET", format!("{api}/c/digest?{s}"), None),
        ("GET", format!("{api}/c/points/{}?{s}", u64::MAX), None),
        ("GET", format!("{api}/c/points?limit=1&{s}"), None),
        (
            "POST",
            format!("{api}/c/search?{s}"),
            Some(json!({"vector": [1.0, 2.0, 3.0], "top_k": 2})),
        ),
        (
            "POST",
            format!("{api}/c/search/batch?{s}"),
            Some(json!({"searches": [{"vector": [1.0, 2.0, 3.0], "top_k": 2}]})),
        ),
        ("GET", format!("{api}/c/buckets/255?{s}"), None),
        ("GET", format!("{base}/api/node?{s}"), None),
        ("GET", format!("{base}/api/cluster?{s}"), None),
        (
            "POST",
            format!("{api}/c/points/delete?{s}"),
            Some(json!({"ids": [BIG_ID.to_string()]})),
        ),
    ];
    for (method, url, body) in routes {
        let (status, answer) = call(method, &url, body.as_ref());
        assert_eq!(status, 200, "{method} {url}: {answer}");
        assert!(
            u64s_are_strings(&answer, "") > 0,
            "{method} {url}: no u64 in {answer}"
        );
        let text = answer.to_string();
        assert!(
            !text.contains(&u64::MAX.to_string()) || text.contains(&format!("\"{}\"", u64::MAX)),
            "{text}"
        );
        if url.contains("/points/") && method == "GET" || url.contains("/search") {
            let p = if url.contains("search/batch") {
                &answer["results"][0][0]
            } else if url.contains("search") {
                &answer["results"][0]
            } else {
                &answer
            };
            assert_eq!(p["id"], json!(u64::MAX.to_string()), "{answer}");
            assert_eq!(p["payload"], payload, "payload rewritten: {answer}");
        }
    }
    // Without the flag the same values are exact JSON numbers.
    let (_, p) = call("GET", &format!("{api}/c/points/{}", u64::MAX), None);
    assert_eq!(
        (p["id"].as_u64(), &p["payload"]),
        (Some(u64::MAX), &payload)
    );
    let (_, d) = call("GET", &format!("{api}/c/digest"), None);
    assert_eq!(
        d["state_hash"].as_u64(),
        Some(recompute_digest(&base, "c").0)
    );
    assert_eq!(
        d["state_hash_hex"],
        json!(format!("{:016x}", d["state_hash"].as_u64().unwrap()))
    );
}

fn sdk_points() -> Vec<Point> {
    let obj = |v: Value| -> Map<String, Value> { v.as_object().unwrap().clone() };
    vec![
        Point {
            id: 7,
            vector: vec![0.1, -0.0, 1e-45],
            payload: obj(json!({"color": "red", "n": 9007199254740992u64})),
        },
        Point {
            id: 2,
            vector: vec![1.0, 0.0, 0.0],
            payload: Map::new(),
        },
        Point {
            id: BIG_ID,
            vector: vec![0.0, 0.0, 1.0],
            payload: obj(json!({"color": "red"})),
        },
        Point {
            id: u64::MAX,
            vector: vec![-1.0, -1.0, -1.0],
            payload: obj(json!({"color": "blue"})),
        },
    ]
}

// Proves the gRPC API round-trips through the SDK (admin, upsert, bit-exact get, scroll,
// filtered search, batch order, buckets, node info, delete, drop) and that GetDigest equals
// the REST digest field by field, with `None` reading `default`.
#[tokio::test]
async fn grpc_round_trips_through_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n");
    let node = blocking(move || Node::start(&path, &[])).await;
    let (base, api) = (node.http(), format!("{}/api/collections", node.http()));
    let mut client = Client::connect(node.grpc(), None).await.unwrap();

    let info = client.create_collection("default", 3, "l2").await.unwrap();
    assert_eq!(
        (
            info.name.as_str(),
            info.dimension,
            info.metric.as_str(),
            info.count
        ),
        ("default", 3, "l2", 0)
    );
    client.create_collection("g", 3, "dot").await.unwrap();
    let names: Vec<String> = client
        .list_collections()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, vec!["default", "g"]);

    let points = sdk_points();
    let ack = client.upsert("g", points.clone()).await.unwrap();
    assert_eq!(ack.count, 4);
    client
        .upsert("default", points[..2].to_vec())
        .await
        .unwrap();
    assert_eq!(client.get_collection("g").await.unwrap().count, 4);
    for p in &points {
        let got = client.get("g", p.id).await.unwrap();
        assert_eq!(
            (got.id, bits(&got.vector), &got.payload),
            (p.id, bits(&p.vector), &p.payload)
        );
    }
    let (mut seen, mut after) = (Vec::new(), None);
    loop {
        let (page, next) = client.scroll("g", after, 3).await.unwrap();
        seen.extend(page.iter().map(|p| p.id));
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, vec![2, 7, BIG_ID, u64::MAX]);

    let red = json!({"color": "red"}).as_object().unwrap().clone();
    let query = |v: Vec<f32>, filter: Option<Map<String, Value>>| Query {
        vector: v,
        top_k: 10,
        filter,
        ef: None,
    };
    let hits = client
        .search("g", query(vec![0.0, 0.0, 1.0], Some(red)))
        .await
        .unwrap();
    let mut ids: Vec<u64> = hits.iter().map(|h| h.id).collect();
    ids.sort();
    assert_eq!(ids, vec![7, BIG_ID]);
    assert!(hits.iter().all(|h| h.payload["color"] == "red"));
    assert_eq!(
        client
            .search("g", query(vec![1.0, 0.0, 0.0], None))
            .await
            .unwrap()
            .len(),
        4
    );
    let queries = [
        vec![-1.0, -1.0, -1.0],
        vec![1.0, 0.0, 0.0],
        vec![0.0, 0.0, 1.0],
    ];
    let batch = client
        .search_batch(
            "g",
            queries
                .iter()
                .map(|v| Query {
                    top_k: 1,
                    ..query(v.clone(), None)
                })
                .collect(),
        )
        .await
        .unwrap();
    assert_eq!(
        batch.iter().map(|r| r[0].id).collect::<Vec<_>>(),
        vec![u64::MAX, 2, BIG_ID]
    );

    // GetDigest equals REST, field by field; None reads `default`; buckets match the listing
    for (name, sdk_name) in [("g", Some("g".to_string())), ("default", None)] {
        let d = client.get_digest(sdk_name).await.unwrap();
        let (_, rest_d) = rest("GET", format!("{api}/{name}/digest"), None).await;
        assert_eq!(json!(d.state_hash), rest_d["state_hash"], "{name}");
        assert_eq!(json!(d.buckets), rest_d["buckets"], "{name}");
        assert_eq!(json!(d.bucket_counts), rest_d["bucket_counts"], "{name}");
        assert_eq!(
            (json!(d.count), json!(d.logical_clock)),
            (rest_d["count"].clone(), rest_d["logical_clock"].clone()),
            "{name}"
        );
        assert_eq!(d.collection_name, name);
    }
    let digest = client.get_digest(Some("g".into())).await.unwrap();
    let bucket = client
        .list_bucket("g", (BIG_ID % 256) as u32)
        .await
        .unwrap();
    assert_eq!(
        bucket.iter().fold(0, |a, (_, h)| a ^ h),
        digest.buckets[(BIG_ID % 256) as usize]
    );
    let recomputed = blocking(move || recompute_digest(&base, "g")).await;
    assert_eq!(
        (digest.state_hash, digest.count),
        (recomputed.0, recomputed.2)
    );

    let me = client.node_info().await.unwrap();
    let (_, rest_me) = rest("GET", format!("{}/api/node", node.http()), None).await;
    assert_eq!(
        (json!(me.node_id), json!(me.role), json!(me.last_lsn)),
        (
            rest_me["node_id"].clone(),
            json!("leader"),
            rest_me["last_lsn"].clone()
        )
    );
    assert_eq!((me.http_addr, me.grpc_addr), (node.http(), node.grpc()));

    assert_eq!(client.delete("g", vec![7, 12345]).await.unwrap().count, 1);
    let err = client.get("g", 7).await.unwrap_err();
    assert_eq!(err.code(), Some("not_found"), "{err}");
    client.drop_collection("g").await.unwrap();
    assert_eq!(
        client
            .get_digest(Some("g".into()))
            .await
            .unwrap_err()
            .code(),
        Some("not_found")
    );
}

/// Every REST route of §5 as (method, path template).
const REST_ROUTES: &[(&str, &str)] = &[
    ("get", "/api/collections"),
    ("post", "/api/collections"),
    ("get", "/api/collections/{name}"),
    ("delete", "/api/collections/{name}"),
    ("get", "/api/collections/{name}/digest"),
    ("put", "/api/collections/{name}/points"),
    ("get", "/api/collections/{name}/points"),
    ("get", "/api/collections/{name}/points/{id}"),
    ("post", "/api/collections/{name}/points/delete"),
    ("post", "/api/collections/{name}/search"),
    ("post", "/api/collections/{name}/search/batch"),
    ("get", "/api/collections/{name}/buckets/{b}"),
    ("get", "/api/node"),
    ("get", "/api/cluster"),
];

/// A path template with parameter names erased, so `{b}` and `{bucket}` compare equal.
fn erase_params(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

// Proves /api/openapi.json is an OpenAPI document listing every REST route of §5.
#[test]
fn openapi_lists_every_rest_route() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(&dir.path().join("n"), &[]);
    let (s, doc) = call("GET", &format!("{}/api/openapi.json", node.http()), None);
    assert_eq!(s, 200);
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')),
        "{doc}"
    );
    let paths = doc["paths"].as_object().expect("paths");
    let listed: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), erase_params(path)))
        })
        .collect();
    let missing: Vec<_> = REST_ROUTES
        .iter()
        .filter(|(m, p)| !listed.contains(&(m.to_string(), erase_params(p))))
        .collect();
    assert!(
        missing.is_empty(),
        "missing from the OpenAPI document: {missing:?}"
    );
}

// Proves --api-key guards /api over REST (401 JSON without or with a wrong key; both header
// forms accepted) and over gRPC (Unauthenticated), while /metrics, /livez, /readyz stay open.
#[tokio::test]
async fn api_key_guards_both_transports() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n");
    let node = blocking(move || Node::start(&path, &["--api-key", "s3cret"])).await;
    let base = node.http();
    blocking(move || {
        let url = format!("{base}/api/collections");
        let refused: [&[(&str, &str)]; 4] = [
            &[],
            &[("x-api-key", "nope")],
            &[("authorization", "Bearer nope")],
            &[("authorization", "s3cret")],
        ];
        for headers in refused {
            let (s, body) = send("GET", &url, None, headers);
            assert_rest_error(&format!("{headers:?}"), (s, &body), 401, "unauthenticated");
        }
        for headers in [
            [("x-api-key", "s3cret")],
            [("authorization", "Bearer s3cret")],
        ] {
            let (s, body) = send("GET", &url, None, &headers);
            assert_eq!(s, 200, "{headers:?}: {body}");
        }
        for open in ["/metrics", "/livez", "/readyz"] {
            assert_eq!(
                send("GET", &format!("{base}{open}"), None, &[]).0,
                200,
                "{open}"
            );
        }
    })
    .await;

    for key in [None, Some("nope".to_string())] {
        let mut client = Client::connect(node.grpc(), key.clone()).await.unwrap();
        let err = client.list_collections().await.unwrap_err();
        let hyperspace_sdk::SdkError::Status(status) = &err else {
            panic!("{err}")
        };
        assert_grpc_error(
            &format!("{key:?}"),
            status,
            tonic::Code::Unauthenticated,
            Some("unauthenticated"),
        );
    }
    let mut client = Client::connect(node.grpc(), Some("s3cret".into()))
        .await
        .unwrap();
    assert!(client.list_collections().await.unwrap().is_empty());
    let mut raw = raw_client(node.grpc()).await;
    let mut req = tonic::Request::new(hyperspace_proto::v1::ListCollectionsRequest {});
    req.metadata_mut()
        .insert("authorization", "Bearer s3cret".parse().unwrap());
    raw.list_collections(req)
        .await
        .expect("Bearer key accepted over gRPC");
}

// Proves /metrics exposes every §6 node series, each with # HELP and # TYPE.
#[test]
fn metrics_expose_node_series() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(&dir.path().join("n"), &[]);
    let base = node.http();
    create(&base, "m", 2, "l2");
    upsert(&base, "m", json!([{"id": 1, "vector": [1.0, 2.0]}]));
    let (s, text) = send("GET", &format!("{base}/metrics"), None, &[]);
    assert_eq!(s, 200);
    let series = [
        (
            "hyperspace_build_info",
            "gauge",
            "hyperspace_build_info{version=",
        ),
        ("hyperspace_node_info", "gauge", "hyperspace_node_info{"),
        (
            "hyperspace_collection_points",
            "gauge",
            "hyperspace_collection_points{collection=\"m\"} 1",
        ),
        (
            "hyperspace_collection_logical_clock",
            "gauge",
            "hyperspace_collection_logical_clock{collection=\"m\"} 2",
        ),
        (
            "hyperspace_collection_state_hash52",
            "gauge",
            "hyperspace_collection_state_hash52{collection=\"m\"}",
        ),
        (
            "hyperspace_wal_last_lsn",
            "gauge",
            "hyperspace_wal_last_lsn 2",
        ),
        (
            "hyperspace_wal_fsync_duration_seconds",
            "histogram",
            "hyperspace_wal_fsync_duration_seconds_bucket{le=",
        ),
        (
            "hyperspace_requests_total",
            "counter",
            "hyperspace_requests_total{",
        ),
        (
            "hyperspace_request_duration_seconds",
            "histogram",
            "hyperspace_request_duration_seconds_bucket{",
        ),
    ];
    for (name, kind, sample) in series {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("# HELP {name} "))),
            "no HELP for {name}:\n{text}"
        );
        assert!(
            text.lines().any(|l| l == format!("# TYPE {name} {kind}")),
            "no TYPE {kind} for {name}:\n{text}"
        );
        assert!(
            text.lines().any(|l| l.starts_with(sample)),
            "no sample {sample}:\n{text}"
        );
    }
}
