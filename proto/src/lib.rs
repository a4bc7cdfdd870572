//! The HyperspaceDB wire protocol (`hyperspace.v1`): messages and the tonic client and server
//! generated from `proto/hyperspace.proto` at build time.
//!
//! This crate holds no logic. The node maps these messages to its own domain types at the
//! edge (`node::api::grpc`), and the SDK wraps the client; neither leaks prost types inward.

/// Generated messages, client and server of package `hyperspace.v1`.
pub mod v1 {
    tonic::include_proto!("hyperspace.v1");
}

/// Encoded `FileDescriptorSet` of the protocol, served by gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/hyperspace_descriptor.bin"));
