//! gRPC server reflection is on, so `grpcurl` can list and call the service without the
//! .proto file.
mod common;

use common::*;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;

// Proves the reflection service lists hyperspace.v1.Hyperspace.
#[tokio::test]
async fn reflection_lists_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let node = tokio::task::spawn_blocking(move || {
        let node = Node::start(&dir.path().join("n"), &[]);
        (node, dir)
    })
    .await
    .unwrap();
    let channel = tonic::transport::Channel::from_shared(node.0.grpc()).unwrap();
    let mut client = ServerReflectionClient::new(channel.connect().await.unwrap());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = stream.message().await.unwrap().expect("one response");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer: {response:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"hyperspace.v1.Hyperspace".to_string()),
        "{names:?}"
    );
}
