//! Helpers shared by `api.rs` and `bad_input.rs`: raw REST requests (any body, any path),
//! error-shape assertions for both transports, and async wrappers over the blocking harness.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;

use hyperspace_proto::v1 as pb;
use hyperspace_proto::v1::hyperspace_client::HyperspaceClient;
use serde_json::{json, Value};
use tonic::transport::Channel;

use crate::common::http;

/// Sends `body` as is and returns (status, body text). Never panics on a non-JSON answer.
pub fn send(
    method: &str,
    url: &str,
    body: Option<Vec<u8>>,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let mut req = http().request(method.parse().unwrap(), url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(body) = body {
        req = req.header("content-type", "application/json").body(body);
    }
    let resp = req.send().unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    (resp.status().as_u16(), resp.text().unwrap())
}

/// One HTTP/1.1 request over a bare socket, so paths such as `/api/collections/..` reach the
/// node unnormalized (URL libraries resolve dot segments). Returns (status, body text).
pub fn send_raw(port: u16, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12]
        .parse()
        .unwrap_or_else(|_| panic!("bad status line: {answer}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

/// Asserts a REST error: exact status, JSON `{"error":{"code","message"}}`, non-empty message.
pub fn assert_rest_error(what: &str, got: (u16, &str), status: u16, code: &str) {
    let (got_status, text) = got;
    assert!(got_status < 500, "{what}: 5xx {got_status}: {text}");
    let body: Value = serde_json::from_str(text)
        .unwrap_or_else(|_| panic!("{what}: non-JSON {got_status}: {text}"));
    assert_eq!(
        (got_status, body["error"]["code"].as_str()),
        (status, Some(code)),
        "{what}: {body}"
    );
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{what}: empty message: {body}");
}

/// Asserts a gRPC error made by the node: the code, the §5 code in `x-error-code`, and a
/// non-empty message.
pub fn assert_grpc_error(what: &str, got: &tonic::Status, code: tonic::Code, error_code: &str) {
    assert_eq!(got.code(), code, "{what}: {got:?}");
    assert!(!got.message().is_empty(), "{what}: empty message");
    let sent = got
        .metadata()
        .get("x-error-code")
        .and_then(|v| v.to_str().ok());
    assert_eq!(sent, Some(error_code), "{what}: {got:?}");
}

/// The blocking harness from async tests (reqwest's blocking client refuses to run on a
/// runtime thread).
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// `common::call` from an async test.
pub async fn rest(method: &'static str, url: String, body: Option<Value>) -> (u16, Value) {
    blocking(move || crate::common::call(method, &url, body.as_ref())).await
}

/// The generated client, for requests the SDK cannot express (raw payload text, no query).
pub async fn raw_client(url: String) -> HyperspaceClient<Channel> {
    HyperspaceClient::connect(url)
        .await
        .unwrap()
        .max_encoding_message_size(usize::MAX)
}

/// Creates a collection over REST and asserts 201.
pub fn create(base: &str, name: &str, dimension: usize, metric: &str) {
    let body = json!({"name": name, "dimension": dimension, "metric": metric});
    let (s, b) = crate::common::call("POST", &format!("{base}/api/collections"), Some(&body));
    assert_eq!(s, 201, "create {name}: {b}");
}

/// Upserts over REST and asserts 200; returns the answer.
pub fn upsert(base: &str, name: &str, points: Value) -> Value {
    let url = format!("{base}/api/collections/{name}/points");
    let (s, b) = crate::common::call("PUT", &url, Some(&json!({ "points": points })));
    assert_eq!(s, 200, "upsert into {name}: {b}");
    b
}

/// A gRPC point with a payload given as JSON text.
pub fn pb_point(id: u64, vector: Vec<f32>, payload_json: &str) -> pb::Point {
    pb::Point {
        id,
        vector,
        payload_json: payload_json.to_string(),
    }
}

/// A gRPC query without filter or ef.
pub fn pb_query(vector: Vec<f32>, top_k: u32) -> pb::SearchQuery {
    pb::SearchQuery {
        vector,
        top_k,
        filter_json: String::new(),
        ef: None,
    }
}

/// Bit patterns of a vector, for exact comparisons (`-0.0 != 0.0`, NaN-safe).
pub fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|c| c.to_bits()).collect()
}

/// A JSON vector read back as f32 bit patterns.
pub fn json_bits(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| (c.as_f64().unwrap() as f32).to_bits())
        .collect()
}

/// A REST call that must answer 200; returns the body.
pub fn ok(method: &str, url: &str, body: Option<Value>) -> Value {
    let (status, answer) = crate::common::call(method, url, body.as_ref());
    assert_eq!(status, 200, "{method} {url}: {answer}");
    answer
}

/// The `id`s of a JSON list of points or results, in order.
pub fn ids_of(list: &Value) -> Vec<u64> {
    let list = list
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"));
    list.iter().map(|p| p["id"].as_u64().unwrap()).collect()
}

pub fn sorted(mut ids: Vec<u64>) -> Vec<u64> {
    ids.sort_unstable();
    ids
}
