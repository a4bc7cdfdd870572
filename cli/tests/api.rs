//! REST and gRPC round trips of every route of DESIGN.md §4–§6 against a real node process:
//! reads, writes, ?u64=string, the OpenAPI document, auth and metrics.
//! Bad input of every kind lives in `bad_input.rs`.
mod common;
mod support;

use common::*;
use hyperspace_sdk::{Client, Point, Query, SdkError};
use serde_json::{json, Value};
use support::*;

const BIG_ID: u64 = (1 << 53) + 1;

/// Points whose vectors need exact round trips (-0.0, a subnormal, values without a short
/// decimal form) and ids above 2^53, given as a number and as a string.
fn sample_points() -> Value {
    json!([
        {"id": 5, "vector": [0.1, -0.0, 1e-45], "payload": {"color": "red", "n": 1u64 << 53}},
        {"id": 1, "vector": [1.0, 0.0, 0.0], "payload": {"color": "blue"}},
        {"id": 3, "vector": [0.0, 1.0, 0.333_333_34], "payload": {"color": "red", "a": [1, 2.5, null]}},
        {"id": BIG_ID, "vector": [0.0, 0.0, 1.0], "payload": {"color": "blue"}},
        {"id": u64::MAX.to_string(), "vector": [-1.0, -1.0, -1.0]}
    ])
}

// Proves every REST route of §5 round-trips: bit-exact get, scroll order, filters, batch order.
#[test]
fn rest_round_trips_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(&dir.path().join("n"), &[]);
    let base = node.http();
    let api = format!("{base}/api/collections");
    assert_eq!(ok("GET", &api, None), json!({"collections": []}));
    create(&base, "docs", 3, "l2");
    create(&base, "other", 2, "cosine");
    let list = ok("GET", &api, None)["collections"].clone();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    let docs = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "docs")
        .unwrap();
    assert_eq!(
        [&docs["dimension"], &docs["metric"], &docs["count"]],
        [&json!(3), &json!("l2"), &json!(0)]
    );

    let points = sample_points();
    let ack = upsert(&base, "docs", points.clone());
    assert_eq!(ack["upserted"], 5);
    assert!(
        ack["lsn"].as_u64().unwrap() >= 3 && ack["logical_clock"].is_u64(),
        "{ack}"
    );
    let info = ok("GET", &format!("{api}/docs"), None);
    assert_eq!([&info["name"], &info["count"]], [&json!("docs"), &json!(5)]);

    // get: vector bit-exact, payload as written ({} when none), ids above 2^53 exact
    for p in points.as_array().unwrap() {
        let id = p["id"]
            .as_u64()
            .unwrap_or_else(|| p["id"].as_str().unwrap().parse().unwrap());
        let got = ok("GET", &format!("{api}/docs/points/{id}"), None);
        assert_eq!(got["id"].as_u64(), Some(id));
        assert_eq!(json_bits(&got["vector"]), json_bits(&p["vector"]), "{got}");
        let payload = if p["payload"].is_null() {
            json!({})
        } else {
            p["payload"].clone()
        };
        assert_eq!(got["payload"], payload);
    }

    // scroll: id order, pages of 2, next_after chaining, null at the end
    let (mut seen, mut cursor) = (Vec::new(), String::new());
    loop {
        let page = ok("GET", &format!("{api}/docs/points?limit=2{cursor}"), None);
        seen.extend(ids_of(&page["points"]));
        match page["next_after"].as_u64() {
            Some(next) => cursor = format!("&after={next}"),
            None => break assert!(page["next_after"].is_null(), "{page}"),
        }
    }
    assert_eq!(seen, vec![1, 3, 5, BIG_ID, u64::MAX]);

    // search: nearest first; a filter returns only matching points
    let search = format!("{api}/docs/search");
    let r = ok(
        "POST",
        &search,
        Some(json!({"vector": [0.0, 1.0, 0.333_333_34], "top_k": 10})),
    );
    assert_eq!(
        sorted(ids_of(&r["results"])),
        vec![1, 3, 5, BIG_ID, u64::MAX]
    );
    assert_eq!(
        [&r["results"][0]["id"], &r["results"][0]["payload"]["color"]],
        [&json!(3), &json!("red")]
    );
    let red = json!({"vector": [1.0, 0.0, 0.0], "top_k": 10, "filter": {"color": "red"}, "ef": 64});
    assert_eq!(
        sorted(ids_of(&ok("POST", &search, Some(red))["results"])),
        vec![3, 5]
    );

    // batch search: answered in order
    let batch = json!({"searches": [
        {"vector": [0.0, 0.0, 1.0], "top_k": 1},
        {"vector": [1.0, 0.0, 0.0], "top_k": 1},
        {"vector": [-1.0, -1.0, -1.0], "top_k": 1, "filter": {}}]});
    let results = ok("POST", &format!("{search}/batch"), Some(batch))["results"].clone();
    let firsts: Vec<u64> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|l| ids_of(l)[0])
        .collect();
    assert_eq!(firsts, vec![BIG_ID, 1, u64::MAX]);

    // digest equals a recomputation; a bucket's entries XOR to the digest's bucket
    let digest = ok("GET", &format!("{api}/docs/digest"), None);
    let (state_hash, buckets, count) = recompute_digest(&base, "docs");
    assert_eq!(
        [digest["state_hash"].as_u64(), digest["count"].as_u64()],
        [Some(state_hash), Some(count)]
    );
    let bucket = ok("GET", &format!("{api}/docs/buckets/1"), None);
    assert_eq!(bucket["bucket"], 1);
    assert_eq!(sorted(ids_of(&bucket["entries"])), vec![1, BIG_ID]);
    let entries = bucket["entries"].as_array().unwrap();
    let xor = entries
        .iter()
        .fold(0, |a, e| a ^ e["entry_hash"].as_u64().unwrap());
    assert_eq!(
        [xor, digest["buckets"][1].as_u64().unwrap()],
        [buckets[1], buckets[1]]
    );

    // delete: only existing ids count; the point is gone
    let del = ok(
        "POST",
        &format!("{api}/docs/points/delete"),
        Some(json!({"ids": [3, 999]})),
    );
    assert_eq!(del["deleted"], 1, "{del}");
    let (s, gone) = call("GET", &format!("{api}/docs/points/3"), None);
    assert_rest_error("deleted point", (s, &gone.to_string()), 404, "not_found");

    // node and cluster
    let me = ok("GET", &format!("{base}/api/node"), None);
    assert_eq!(
        [&me["role"], &me["http_addr"]],
        [&json!("leader"), &json!(base)]
    );
    assert_eq!(
        [&me["grpc_addr"], &me["last_lsn"]],
        [&json!(node.grpc()), &del["lsn"]]
    );
    assert_eq!(me["logical_clock"], del["logical_clock"]);
    assert!(
        me["node_id"].as_str().is_some_and(|id| id.len() == 36) && me["version"].is_string(),
        "{me}"
    );
    let cluster = ok("GET", &format!("{base}/api/cluster"), None);
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
    for key in ["node_id", "http_addr", "grpc_addr"] {
        assert_eq!(cluster["leader"][key], me[key], "leader.{key}: {cluster}");
    }
    assert_eq!(cluster["followers"], json!([]));

    // drop
    ok("DELETE", &format!("{api}/other"), None);
    let (s, gone) = call("GET", &format!("{api}/other"), None);
    assert_rest_error(
        "dropped collection",
        (s, &gone.to_string()),
        404,
        "not_found",
    );
    assert_eq!(
        ok("GET", &api, None)["collections"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
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

/// Asserts every u64 key outside a payload holds a decimal string; returns how many it saw.
fn u64s_are_strings(v: &Value, key: &str) -> usize {
    match v {
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| *k != "payload")
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

// Proves ?u64=string stringifies every u64 on every route, payloads untouched, ids > 2^53 exact.
#[test]
fn rest_u64_as_string_on_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(&dir.path().join("n"), &[]);
    let base = node.http();
    let api = format!("{base}/api/collections");
    create(&base, "c", 3, "l2");
    let payload =
        json!({"n": 1u64 << 53, "neg": -3, "f": 1.5, "s": u64::MAX.to_string(), "o": {"n": 7}});
    let points = json!([
        {"id": u64::MAX, "vector": [1.0, 2.0, 3.0], "payload": payload},
        {"id": BIG_ID.to_string(), "vector": [0.0, 0.0, 0.5]}]);
    let query = json!({"vector": [1.0, 2.0, 3.0], "top_k": 2});
    // (method, url, body, where the point with id u64::MAX is in the answer)
    let routes = [
        (
            "PUT",
            format!("{api}/c/points"),
            Some(json!({ "points": points })),
            None,
        ),
        ("GET", api.clone(), None, None),
        ("GET", format!("{api}/c"), None, None),
        ("GET", format!("{api}/c/digest"), None, None),
        (
            "GET",
            format!("{api}/c/points/{}", u64::MAX),
            None,
            Some(""),
        ),
        (
            "GET",
            format!("{api}/c/points?limit=2&after={BIG_ID}"),
            None,
            Some("/points/0"),
        ),
        (
            "POST",
            format!("{api}/c/search"),
            Some(query.clone()),
            Some("/results/0"),
        ),
        (
            "POST",
            format!("{api}/c/search/batch"),
            Some(json!({ "searches": [query] })),
            Some("/results/0/0"),
        ),
        ("GET", format!("{api}/c/buckets/255"), None, None),
        ("GET", format!("{base}/api/node"), None, None),
        ("GET", format!("{base}/api/cluster"), None, None),
        (
            "POST",
            format!("{api}/c/points/delete"),
            Some(json!({"ids": [BIG_ID.to_string()]})),
            None,
        ),
    ];
    for (method, url, body, point) in routes {
        let sep = if url.contains('?') { '&' } else { '?' };
        let answer = ok(method, &format!("{url}{sep}u64=string"), body);
        assert!(
            u64s_are_strings(&answer, "") > 0,
            "{method} {url}: no u64 in {answer}"
        );
        if let Some(point) = point.map(|at| answer.pointer(at).unwrap()) {
            assert_eq!(
                point["id"],
                json!(u64::MAX.to_string()),
                "{method} {url}: {answer}"
            );
            assert_eq!(point["payload"], payload, "payload rewritten: {answer}");
        }
    }
    // Without the flag the same values are exact JSON numbers.
    let p = ok("GET", &format!("{api}/c/points/{}", u64::MAX), None);
    assert_eq!(
        (p["id"].as_u64(), &p["payload"]),
        (Some(u64::MAX), &payload)
    );
    let d = ok("GET", &format!("{api}/c/digest"), None);
    assert_eq!(
        d["state_hash"].as_u64(),
        Some(recompute_digest(&base, "c").0)
    );
    assert_eq!(
        d["state_hash_hex"],
        json!(format!("{:016x}", d["state_hash"].as_u64().unwrap()))
    );
}

fn sdk_point(id: u64, vector: Vec<f32>, payload: Value) -> Point {
    Point {
        id,
        vector,
        payload: payload.as_object().unwrap().clone(),
    }
}

// Proves every gRPC operation round-trips via the SDK and GetDigest equals the REST digest.
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

    let points = vec![
        sdk_point(
            7,
            vec![0.1, -0.0, 1e-45],
            json!({"color": "red", "n": 1u64 << 53}),
        ),
        sdk_point(2, vec![1.0, 0.0, 0.0], json!({})),
        sdk_point(BIG_ID, vec![0.0, 0.0, 1.0], json!({"color": "red"})),
        sdk_point(u64::MAX, vec![-1.0, -1.0, -1.0], json!({"color": "blue"})),
    ];
    assert_eq!(client.upsert("g", points.clone()).await.unwrap().count, 4);
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
        after = next;
        if after.is_none() {
            break;
        }
    }
    assert_eq!(seen, vec![2, 7, BIG_ID, u64::MAX]);

    let query = |v: &[f32], top_k, filter: Value| Query {
        vector: v.to_vec(),
        top_k,
        filter: filter.as_object().cloned(),
        ef: None,
    };
    let hits = client
        .search("g", query(&[0.0, 0.0, 1.0], 10, json!({"color": "red"})))
        .await
        .unwrap();
    assert_eq!(sorted(hits.iter().map(|h| h.id).collect()), vec![7, BIG_ID]);
    assert!(hits.iter().all(|h| h.payload["color"] == "red"));
    assert_eq!(
        client
            .search("g", query(&[1.0, 0.0, 0.0], 10, Value::Null))
            .await
            .unwrap()
            .len(),
        4
    );
    let queries = [[-1.0, -1.0, -1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]];
    let batch = queries.iter().map(|v| query(v, 1, Value::Null)).collect();
    let batch = client.search_batch("g", batch).await.unwrap();
    assert_eq!(
        batch.iter().map(|r| r[0].id).collect::<Vec<_>>(),
        vec![u64::MAX, 2, BIG_ID]
    );

    // GetDigest equals REST, field by field; None reads `default`; buckets match the listing
    for (name, sdk_name) in [("g", Some("g".to_string())), ("default", None)] {
        let d = client.get_digest(sdk_name).await.unwrap();
        let (_, r) = rest("GET", format!("{api}/{name}/digest"), None).await;
        let grpc = json!([
            d.state_hash,
            d.buckets,
            d.bucket_counts,
            d.count,
            d.logical_clock
        ]);
        let keys = [
            "state_hash",
            "buckets",
            "bucket_counts",
            "count",
            "logical_clock",
        ];
        assert_eq!(
            grpc,
            Value::Array(keys.iter().map(|k| r[*k].clone()).collect()),
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
    let (_, r) = rest("GET", format!("{}/api/node", node.http()), None).await;
    assert_eq!(
        json!([me.node_id, me.role, me.last_lsn]),
        json!([r["node_id"], "leader", r["last_lsn"]])
    );
    assert_eq!((me.http_addr, me.grpc_addr), (node.http(), node.grpc()));

    assert_eq!(client.delete("g", vec![7, 12345]).await.unwrap().count, 1);
    assert_eq!(
        client.get("g", 7).await.unwrap_err().code(),
        Some("not_found")
    );
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
    let segments: Vec<&str> = path
        .split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect();
    segments.join("/")
}

// Proves /api/openapi.json is an OpenAPI document listing every REST route of §5.
#[test]
fn openapi_lists_every_rest_route() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(&dir.path().join("n"), &[]);
    let doc = ok("GET", &format!("{}/api/openapi.json", node.http()), None);
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

// Proves --api-key guards /api over REST and gRPC, both header forms work, probes stay open.
#[tokio::test]
async fn api_key_guards_both_transports() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n");
    let node = blocking(move || Node::start(&path, &["--api-key", "s3cret"])).await;
    let base = node.http();
    blocking(move || {
        let url = format!("{base}/api/collections");
        let x_api_key = |k| [("x-api-key", k)];
        let bearer = |k| [("authorization", k)];
        for headers in [
            &[][..],
            &x_api_key("nope"),
            &bearer("Bearer nope"),
            &bearer("s3cret"),
        ] {
            let (s, body) = send("GET", &url, None, headers);
            assert_rest_error(&format!("{headers:?}"), (s, &body), 401, "unauthenticated");
        }
        for headers in [x_api_key("s3cret"), bearer("Bearer s3cret")] {
            assert_eq!(send("GET", &url, None, &headers).0, 200, "{headers:?}");
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
        let Err(SdkError::Status(status)) = client.list_collections().await else {
            panic!("{key:?}")
        };
        assert_grpc_error(
            &format!("{key:?}"),
            &status,
            tonic::Code::Unauthenticated,
            "unauthenticated",
        );
    }
    let mut client = Client::connect(node.grpc(), Some("s3cret".into()))
        .await
        .unwrap();
    assert!(client.list_collections().await.unwrap().is_empty());
    let mut req = tonic::Request::new(hyperspace_proto::v1::ListCollectionsRequest {});
    req.metadata_mut()
        .insert("authorization", "Bearer s3cret".parse().unwrap());
    raw_client(node.grpc())
        .await
        .list_collections(req)
        .await
        .expect("Bearer key over gRPC");
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
        ("hyperspace_build_info", "gauge", "{version="),
        ("hyperspace_node_info", "gauge", "{"),
        (
            "hyperspace_collection_points",
            "gauge",
            "{collection=\"m\"} 1",
        ),
        (
            "hyperspace_collection_logical_clock",
            "gauge",
            "{collection=\"m\"} 2",
        ),
        (
            "hyperspace_collection_state_hash52",
            "gauge",
            "{collection=\"m\"}",
        ),
        ("hyperspace_wal_last_lsn", "gauge", " 2"),
        (
            "hyperspace_wal_fsync_duration_seconds",
            "histogram",
            "_bucket{le=",
        ),
        ("hyperspace_requests_total", "counter", "{"),
        (
            "hyperspace_request_duration_seconds",
            "histogram",
            "_bucket{",
        ),
    ];
    for (name, kind, sample) in series {
        let has = |prefix: String| text.lines().any(|l| l.starts_with(&prefix));
        assert!(
            has(format!("# HELP {name} ")),
            "no HELP for {name}:\n{text}"
        );
        assert!(
            has(format!("# TYPE {name} {kind}")),
            "no TYPE {kind} for {name}:\n{text}"
        );
        assert!(
            has(format!("{name}{sample}")),
            "no sample {name}{sample}:\n{text}"
        );
    }
}

// Proves a full scroll page ending at id u64::MAX answers next_after null (no overflow).
#[test]
fn rest_scroll_full_page_ending_at_u64_max() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(&dir.path().join("n"), &[]);
    let base = node.http();
    create(&base, "c", 1, "l2");
    upsert(
        &base,
        "c",
        json!([{"id": 1, "vector": [1.0]}, {"id": u64::MAX, "vector": [2.0]}]),
    );
    let page = ok(
        "GET",
        &format!("{base}/api/collections/c/points?limit=2"),
        None,
    );
    assert_eq!(
        (ids_of(&page["points"]), &page["next_after"]),
        (vec![1, u64::MAX], &Value::Null)
    );
}
