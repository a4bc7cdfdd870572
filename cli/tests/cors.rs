//! CORS is off by default and, with `--cors-origin`, lets that browser origin call the API
//! (preflight answered before auth) while other origins get no CORS headers.
mod common;

use common::*;

fn preflight(base: &str, origin: &str) -> reqwest::blocking::Response {
    http()
        .request(reqwest::Method::OPTIONS, format!("{base}/api/collections"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "x-api-key,content-type")
        .send()
        .unwrap()
}

fn allowed_origin(response: &reqwest::blocking::Response) -> Option<String> {
    let value = response.headers().get("access-control-allow-origin")?;
    Some(value.to_str().unwrap().to_string())
}

// Proves the allowed origin passes preflight and reads, other origins and the default get
// no CORS headers, and the API key is still required for the real request.
#[test]
fn cors_only_for_configured_origins() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(
        &dir.path().join("n"),
        &["--cors-origin", "http://app.test", "--api-key", "k"],
    );
    let base = node.http();
    let ok = preflight(&base, "http://app.test");
    assert_eq!(ok.status(), 200);
    assert_eq!(allowed_origin(&ok).as_deref(), Some("http://app.test"));
    let allowed_headers = ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(allowed_headers.contains("x-api-key"), "{allowed_headers}");
    assert_eq!(allowed_origin(&preflight(&base, "http://evil.test")), None);

    let read = |key: Option<&str>| {
        let mut req = http()
            .get(format!("{base}/api/collections"))
            .header("origin", "http://app.test");
        if let Some(key) = key {
            req = req.header("x-api-key", key);
        }
        req.send().unwrap()
    };
    let denied = read(None);
    assert_eq!(denied.status(), 401, "CORS does not bypass the key");
    let granted = read(Some("k"));
    assert_eq!(granted.status(), 200);
    assert_eq!(allowed_origin(&granted).as_deref(), Some("http://app.test"));

    let plain_dir = tempfile::tempdir().unwrap();
    let plain = Node::start(&plain_dir.path().join("n"), &[]);
    let response = preflight(&plain.http(), "http://app.test");
    assert_eq!(allowed_origin(&response), None);
    assert_eq!(
        response.status(),
        405,
        "without --cors-origin OPTIONS is just a wrong method"
    );
}
