//! TLS on both listeners: a node started with `--tls-cert/--tls-key` serves REST over HTTPS
//! and gRPC over TLS, and a client that trusts the certificate reads the same digest on both.
mod common;

use std::time::Duration;

use common::*;
use hyperspace_proto::v1 as pb;
use hyperspace_proto::v1::hyperspace_client::HyperspaceClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

fn https_client(ca_pem: &str) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

// Proves REST (HTTPS) and gRPC (TLS) both serve with the configured certificate, plain HTTP
// is refused, and the digest agrees across the two.
#[test]
fn tls_on_both_listeners() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = cert.cert.pem();
    std::fs::write(dir.path().join("cert.pem"), &cert_pem).unwrap();
    std::fs::write(dir.path().join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
    let mut node = Node {
        child: None,
        data_dir: dir.path().join("data"),
        http_port: free_port(),
        grpc_port: free_port(),
        extra: vec![
            "--tls-cert".into(),
            dir.path().join("cert.pem").display().to_string(),
            "--tls-key".into(),
            dir.path().join("key.pem").display().to_string(),
        ],
        log: dir.path().join("node.log"),
    };
    node.spawn();
    let https = https_client(&cert_pem);
    let base = format!("https://localhost:{}", node.http_port);
    wait_for("HTTPS /readyz", Duration::from_secs(30), || {
        https
            .get(format!("{base}/readyz"))
            .send()
            .is_ok_and(|r| r.status() == 200)
    });
    let plain = http()
        .get(format!("http://127.0.0.1:{}/readyz", node.http_port))
        .send();
    assert!(
        plain.is_err() || plain.unwrap().status() != 200,
        "plain HTTP must not be served"
    );

    let create = serde_json::json!({"name": "default", "dimension": 2, "metric": "dot"});
    let response = https
        .post(format!("{base}/api/collections"))
        .json(&create)
        .send()
        .unwrap();
    assert_eq!(response.status(), 201);
    let digest: serde_json::Value = https
        .get(format!("{base}/api/collections/default/digest"))
        .send()
        .unwrap()
        .json()
        .unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let grpc_digest = runtime.block_on(async {
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&cert_pem))
            .domain_name("localhost");
        let channel = Channel::from_shared(format!("https://localhost:{}", node.grpc_port))
            .unwrap()
            .tls_config(tls)
            .unwrap()
            .connect()
            .await
            .unwrap();
        let request = pb::DigestRequest {
            collection: String::new(),
        };
        HyperspaceClient::new(channel)
            .get_digest(request)
            .await
            .unwrap()
            .into_inner()
    });
    assert_eq!(digest["logical_clock"], grpc_digest.logical_clock);
    assert_eq!(digest["state_hash"], grpc_digest.state_hash);
    assert_eq!(
        grpc_digest.logical_clock, 1,
        "the create is the first write"
    );
}
