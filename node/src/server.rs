//! Runs one node: binds both listeners, recovers the engine, serves REST and gRPC, and
//! drains on shutdown. The HTTP listener serves `/livez` and `/readyz` from the first moment
//! (so an orchestrator can see a long recovery), while data routes answer `unavailable`
//! until recovery is done; `/readyz` turns 200 once both listeners serve a recovered engine.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

use crate::antientropy;
use crate::api::auth::ApiKey;
use crate::api::{grpc, http, Advertised, NodeContext};
use crate::engine::{Engine, EngineOptions};
use crate::error::{Error, Result};
use crate::limits::REQUESTS_IN_FLIGHT_MAX;
use crate::model::RoleState;
use crate::replication::{follower, Replication};
use crate::storage::wal::FsyncPolicy;

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone)]
pub struct NodeOptions {
    pub data_dir: PathBuf,
    pub http_addr: SocketAddr,
    pub grpc_addr: SocketAddr,
    pub advertise_http: Option<String>,
    pub advertise_grpc: Option<String>,
    pub api_key: Option<String>,
    pub fsync: FsyncPolicy,
    pub tls: Option<TlsFiles>,
    pub snapshot_records: u64,
    pub fault_injection: bool,
    /// Browser origins allowed to call the REST API (CORS); empty means same-origin only.
    pub cors_origins: Vec<String>,
    /// Leader, or follower of a leader's gRPC URL.
    pub role: RoleState,
    /// Bytes of newest records kept in memory for replication (tests shrink it to force
    /// followers onto the WAL-reading path).
    pub live_tail_bytes: usize,
    /// `--anti-entropy`, `--checkpoint-records`, `--checkpoint-interval`.
    pub anti_entropy: crate::antientropy::Mode,
    pub checkpoint_records: u64,
    pub checkpoint_interval: std::time::Duration,
    /// Points per second the leader writes into repair records.
    pub repair_points_per_second: u64,
}

/// Accepted gRPC connections with Nagle's algorithm off: replication and unary answers are
/// small frames that must not wait for the peer's delayed ACK (up to 40 ms).
fn no_delay(
    listener: TcpListener,
) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use futures::StreamExt;
    TcpListenerStream::new(listener).map(|accepted| {
        let stream = accepted?;
        stream.set_nodelay(true)?;
        Ok(stream)
    })
}

async fn bind(addr: SocketAddr, what: &str) -> Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| Error::io(format!("binding the {what} listener to {addr}"), e))
}

/// Runs the node until `shutdown` resolves, then drains both listeners.
pub async fn run(
    options: NodeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let metrics_handle = crate::metrics::install();
    if let Some(tls) = &options.tls {
        let _ = rustls::crypto::ring::default_provider().install_default();
        tracing::info!(cert = %tls.cert.display(), "TLS on both listeners");
    }
    let http_listener = bind(options.http_addr, "HTTP").await?;
    let grpc_listener = bind(options.grpc_addr, "gRPC").await?;
    let scheme = if options.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let local = |l: &TcpListener| {
        l.local_addr()
            .map(|a| format!("{scheme}://{a}"))
            .unwrap_or_default()
    };
    let advertise = Advertised {
        http_addr: options
            .advertise_http
            .clone()
            .unwrap_or_else(|| local(&http_listener)),
        grpc_addr: options
            .advertise_grpc
            .clone()
            .unwrap_or_else(|| local(&grpc_listener)),
    };
    let auth = ApiKey::new(options.api_key.as_deref());
    if !auth.is_required() {
        tracing::warn!("no API key configured: every client can read and write (set --api-key)");
    }
    if options.fault_injection {
        tracing::warn!(
            "FAULT INJECTION IS ENABLED: debug routes can corrupt data and fail the WAL"
        );
    }
    let replication = Arc::new(Replication::new(options.api_key.clone()));
    let ctx = NodeContext::new(
        auth,
        advertise.clone(),
        options.fault_injection,
        Arc::clone(&replication),
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopping = Arc::clone(&replication);
    tokio::spawn(async move {
        shutdown.await;
        stopping.stop();
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };

    let router = http::router(ctx.clone(), metrics_handle, &options.cors_origins);
    let http_task = match &options.tls {
        None => {
            let serve =
                axum::serve(http_listener, router).with_graceful_shutdown(stopped(stop_rx.clone()));
            tokio::spawn(async move { serve.await.map_err(|e| Error::io("serving HTTP", e)) })
        }
        Some(tls) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                .await
                .map_err(|e| Error::io("loading the TLS certificate and key", e))?;
            let handle = axum_server::Handle::new();
            let std_listener = http_listener
                .into_std()
                .map_err(|e| Error::io("preparing the HTTPS listener", e))?;
            let server = axum_server::from_tcp_rustls(std_listener, config)
                .map_err(|e| Error::io("preparing the HTTPS listener", e))?
                .handle(handle.clone());
            let rx = stop_rx.clone();
            tokio::spawn(async move {
                stopped(rx).await;
                handle.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            tokio::spawn(async move {
                server
                    .serve(router.into_make_service())
                    .await
                    .map_err(|e| Error::io("serving HTTPS", e))
            })
        }
    };

    let engine_options = EngineOptions {
        data_dir: options.data_dir.clone(),
        fsync: options.fsync,
        snapshot_records: options.snapshot_records,
        role: options.role.clone(),
        live_tail_bytes: options.live_tail_bytes,
        anti_entropy: options.anti_entropy,
        checkpoint_records: options.checkpoint_records,
    };
    let (engine, report) = tokio::task::spawn_blocking(move || Engine::open(engine_options))
        .await
        .expect("recovery does not panic")?;
    if let Some(tail) = &report.truncated_tail {
        tracing::warn!(%tail, "truncated a torn WAL tail left by a crash");
    }
    tracing::info!(
        node_id = %engine.node_id(),
        snapshot_lsn = ?report.snapshot_lsn,
        replayed = report.replayed_records,
        last_lsn = report.last_lsn,
        clock = report.clock,
        "recovered"
    );
    crate::metrics::node_info(&engine.node_id().to_string(), engine.role().role().as_str());
    ctx.set_engine(Arc::clone(&engine));
    tokio::spawn(follower::run(
        Arc::clone(&engine),
        Arc::clone(&replication),
        ctx.me(),
        stop_rx.clone(),
    ));
    tokio::spawn(antientropy::tasks::checkpointer(
        Arc::clone(&engine),
        options.checkpoint_interval,
        stop_rx.clone(),
    ));
    tokio::spawn(antientropy::tasks::repair_worker(
        Arc::clone(&engine),
        replication,
        options.repair_points_per_second,
        stop_rx.clone(),
    ));

    let grpc_task = {
        // Reflection (v1, and v1alpha for older grpcurl) serves the schema only, no data,
        // so it stays open like /livez; every Hyperspace call goes through the API key check.
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(hyperspace_proto::FILE_DESCRIPTOR_SET)
        };
        let reflection_v1 = reflection()
            .build_v1()
            .expect("the embedded descriptor set is valid");
        let reflection_v1alpha = reflection()
            .build_v1alpha()
            .expect("the embedded descriptor set is valid");
        // HTTP/2 keepalive: a replication stream to a vanished peer is noticed by the
        // transport too, not only by the application heartbeat.
        let mut builder = tonic::transport::Server::builder()
            .http2_keepalive_interval(Some(std::time::Duration::from_secs(10)))
            .http2_keepalive_timeout(Some(std::time::Duration::from_secs(20)))
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                REQUESTS_IN_FLIGHT_MAX,
            ));
        if let Some(tls) = &options.tls {
            let read = |p: &PathBuf| {
                std::fs::read(p).map_err(|e| Error::io(format!("reading {}", p.display()), e))
            };
            let identity = tonic::transport::Identity::from_pem(read(&tls.cert)?, read(&tls.key)?);
            builder = builder
                .tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))
                .map_err(|e| Error::io("configuring gRPC TLS", std::io::Error::other(e)))?;
        }
        let serve = builder
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(grpc::service(ctx.clone()))
            .serve_with_incoming_shutdown(no_delay(grpc_listener), stopped(stop_rx.clone()));
        tokio::spawn(async move {
            serve
                .await
                .map_err(|e| Error::io("serving gRPC", std::io::Error::other(e)))
        })
    };
    ctx.set_ready();
    tracing::info!(http = %advertise.http_addr, grpc = %advertise.grpc_addr, "serving");

    let (http_result, grpc_result) = tokio::join!(http_task, grpc_task);
    engine.close();
    http_result.expect("HTTP task does not panic")?;
    grpc_result.expect("gRPC task does not panic")?;
    tracing::info!("drained; bye");
    Ok(())
}
