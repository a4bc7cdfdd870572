//! The node's one error enum. Every failure a client can see is a typed variant here; its
//! `code()` is the wire-neutral class of DESIGN.md §5, and each transport maps that class to
//! its own status in exactly one place (`api::http::status_of`, `api::grpc::status_of`).

use std::path::PathBuf;

use crate::storage::wal::WalError;

/// The error classes of DESIGN.md §5, named as on the wire (`code` in the JSON body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InvalidArgument,
    Unauthenticated,
    NotFound,
    MethodNotAllowed,
    AlreadyExists,
    NotLeader,
    Diverged,
    PayloadTooLarge,
    Unavailable,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 9] = [
        ErrorCode::InvalidArgument,
        ErrorCode::Unauthenticated,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::AlreadyExists,
        ErrorCode::NotLeader,
        ErrorCode::Diverged,
        ErrorCode::PayloadTooLarge,
        ErrorCode::Unavailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::AlreadyExists => "already_exists",
            ErrorCode::NotLeader => "not_leader",
            ErrorCode::Diverged => "diverged",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::Unavailable => "unavailable",
        }
    }
}

/// Where the leader can be reached; carried by `NotLeader` so clients can redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderAddress {
    pub node_id: String,
    pub http_addr: String,
    pub grpc_addr: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {message}")]
    InvalidArgument { field: String, message: String },
    #[error("{what} is {bytes} bytes, more than the limit of {max} bytes")]
    PayloadTooLarge {
        what: &'static str,
        bytes: usize,
        max: usize,
    },
    #[error("collection '{collection}' does not exist")]
    CollectionNotFound { collection: String },
    #[error("point {id} does not exist in collection '{collection}'")]
    PointNotFound { collection: String, id: u64 },
    #[error("collection '{collection}' already exists")]
    CollectionExists { collection: String },
    #[error("this node is a follower and refuses writes; send them to the leader")]
    NotLeader { leader: Option<LeaderAddress> },
    #[error(
        "diverged: {reason}; this node's log holds records the leader lacks, so it refuses \
         to mix the two histories (wipe its data directory to re-seed it from the leader)"
    )]
    Diverged { reason: String },
    #[error(
        "node id {node_id} already has a live replication stream (heard {heard_ms} ms ago); \
         two nodes share one identity — was a data directory copied?"
    )]
    DuplicateFollower { node_id: String, heard_ms: u64 },
    #[error("replication: {reason}")]
    Replication { reason: String },
    /// A peer refused a call; keeps the peer's error class.
    #[error("{message}")]
    Refused { code: ErrorCode, message: String },
    #[error("missing or wrong API key")]
    Unauthenticated,
    #[error("the node cannot write: {reason}")]
    Unavailable { reason: String },
    #[error(transparent)]
    Wal(#[from] WalError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("corrupt {what} in {file}: {reason}")]
    Corrupt {
        what: &'static str,
        file: PathBuf,
        reason: String,
    },
    #[error(
        "data directory {dir} is in use by another process (lock file {dir}/LOCK); \
         one process per data directory"
    )]
    DataDirLocked { dir: PathBuf },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for the most common client error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::InvalidArgument {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The wire class of this error. Storage failures are `Unavailable`: the node cannot
    /// write, which is never the client's fault.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            Error::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            Error::CollectionNotFound { .. } | Error::PointNotFound { .. } => ErrorCode::NotFound,
            Error::CollectionExists { .. } => ErrorCode::AlreadyExists,
            Error::NotLeader { .. } => ErrorCode::NotLeader,
            Error::Diverged { .. } => ErrorCode::Diverged,
            Error::Refused { code, .. } => *code,
            Error::DuplicateFollower { .. } => ErrorCode::AlreadyExists,
            Error::Unauthenticated => ErrorCode::Unauthenticated,
            Error::Unavailable { .. }
            | Error::Replication { .. }
            | Error::Wal(_)
            | Error::Io { .. }
            | Error::Corrupt { .. }
            | Error::DataDirLocked { .. } => ErrorCode::Unavailable,
        }
    }
}
