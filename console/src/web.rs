//! The console server: a poll loop that keeps the latest round and the history, and the
//! pages rendered on the server (askama templates in `templates/`, CSS embedded), so an
//! operator needs no JavaScript build and the page works without JavaScript at all (it
//! refreshes itself with a meta refresh). Every name shown is escaped by askama.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hyperspace_sdk::{Client, NodeInfo};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::RwLock;

use crate::history::History;
use crate::model::{evaluate, NodePoll, Round, RoundView};
use crate::pages::{self, BucketPage, CollectionPage, HistoryPage, OverviewPage};
use crate::poller::Poller;

const CSS: &str = include_str!("../../static/console.css");

#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    pub nodes: Vec<String>,
    pub listen: SocketAddr,
    pub api_key: Option<String>,
    pub interval: Duration,
    /// Required in the Repair form when listening beyond loopback (`--admin-token`).
    pub admin_token: Option<String>,
}

/// The latest round, evaluated.
pub struct Latest {
    pub at: SystemTime,
    pub took: Duration,
    pub round: Round,
    pub view: RoundView,
    pub infos: Vec<Option<NodeInfo>>,
}

pub struct Shared {
    pub latest: Option<Latest>,
    pub history: History,
    /// Repairs asked through this console, for `/history`.
    pub actions: crate::repair::Actions,
}

#[derive(Clone)]
pub struct App {
    pub state: Arc<RwLock<Shared>>,
    pub options: Arc<ConsoleOptions>,
    metrics: PrometheusHandle,
    /// The anti-forgery token of the Repair forms (crate::repair).
    pub token: Arc<str>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("serving: {0}")]
    Serve(std::io::Error),
}

/// Polls and serves until `shutdown` resolves.
pub async fn run(
    options: ConsoleOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ConsoleError> {
    let metrics = crate::metrics::install();
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| ConsoleError::Bind {
            addr: options.listen,
            source,
        })?;
    let app = App {
        state: Arc::new(RwLock::new(Shared {
            latest: None,
            history: History::default(),
            actions: Default::default(),
        })),
        options: Arc::new(options.clone()),
        metrics,
        token: crate::repair::new_token().into(),
    };
    match crate::repair::allowed(&options) {
        Ok(()) => tracing::info!("the Repair action is offered on drifted buckets"),
        Err(why) => tracing::info!("{why}"),
    }
    tokio::spawn(poll_loop(app.clone()));
    tracing::info!(listen = %options.listen, nodes = ?options.nodes, "console serving");
    axum::serve(listener, router(app))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(ConsoleError::Serve)
}

/// Timeout of each call to a node: a slow node cannot hold a round longer than this.
pub fn call_timeout(interval: Duration) -> Duration {
    interval.clamp(Duration::from_millis(200), Duration::from_secs(2))
}

async fn poll_loop(app: App) {
    let options = &app.options;
    let mut poller = Poller::new(
        options.nodes.clone(),
        options.api_key.clone(),
        call_timeout(options.interval),
    );
    let mut ticker = tokio::time::interval(options.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let started = Instant::now();
        let observed = poller.round().await;
        let took = started.elapsed();
        let view = evaluate(&observed.round);
        crate::metrics::record(&observed.round, &view, took);
        let at = SystemTime::now();
        let mut state = app.state.write().await;
        state.history.push(at, &view);
        state.latest = Some(Latest {
            at,
            took,
            round: observed.round,
            view,
            infos: observed.infos,
        });
    }
}

pub fn router(app: App) -> Router {
    Router::new()
        .route("/", get(overview))
        .route("/collections/{name}", get(collection))
        .route("/collections/{name}/buckets/{bucket}", get(bucket))
        .route("/collections/{name}/repair", post(crate::repair::submit))
        .route("/history", get(history))
        .route("/api/status", get(status))
        .route("/metrics", get(metrics))
        .route("/livez", get(|| async { "ok" }))
        .route(
            "/static/console.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css")], CSS) }),
        )
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                Html(pages::not_found("no such page")),
            )
        })
        .with_state(app)
}

fn render(page: impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("template: {e}")).into_response(),
    }
}

async fn overview(State(app): State<App>) -> Response {
    let state = app.state.read().await;
    render(OverviewPage::new(&app.options, state.latest.as_ref()))
}

async fn collection(State(app): State<App>, Path(name): Path<String>) -> Response {
    let state = app.state.read().await;
    let repair = crate::repair::form(&app);
    match CollectionPage::new(&app.options, state.latest.as_ref(), &name, repair) {
        Some(page) => render(page),
        None => (
            StatusCode::NOT_FOUND,
            Html(pages::not_found(&format!(
                "no collection {name:?} in the last round"
            ))),
        )
            .into_response(),
    }
}

async fn bucket(State(app): State<App>, Path((name, bucket)): Path<(String, String)>) -> Response {
    let Some(b) = bucket.parse::<u32>().ok().filter(|b| *b < 256) else {
        let message = format!("bucket must be 0..=255, got {bucket:?}");
        return (StatusCode::BAD_REQUEST, Html(pages::not_found(&message))).into_response();
    };
    // Who to ask: every node that answered the last round (the lock is not held meanwhile).
    let targets: Vec<(String, String)> = {
        let state = app.state.read().await;
        let nodes = state.latest.as_ref().map(|l| &l.round.nodes);
        nodes
            .into_iter()
            .flatten()
            .filter_map(|poll| match poll {
                NodePoll::Up(sample) => Some((sample.node_id.clone(), sample.addr.clone())),
                NodePoll::Down { .. } => None,
            })
            .collect()
    };
    let timeout = call_timeout(app.options.interval);
    let mut listings = Vec::new();
    for (node_id, addr) in targets {
        let key = app.options.api_key.clone();
        let listed = tokio::time::timeout(timeout, async {
            let mut client = Client::connect(addr.clone(), key).await?;
            client.list_bucket(&name, b).await
        })
        .await;
        let listed = match listed {
            Ok(Ok(entries)) => Ok(entries),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
        };
        listings.push((node_id, addr, listed));
    }
    let state = app.state.read().await;
    let leader = state
        .latest
        .as_ref()
        .and_then(|l| l.view.leader.as_ref())
        .map(|l| l.node_id.clone());
    let mut page = BucketPage::new(&name, b as usize, leader, listings);
    page.repair = crate::repair::form(&app);
    render(page)
}

async fn history(State(app): State<App>) -> Response {
    let state = app.state.read().await;
    let infos = state.latest.as_ref().map_or(&[][..], |l| &l.infos[..]);
    render(HistoryPage::new(&state.history, infos, &state.actions))
}

async fn status(State(app): State<App>) -> Response {
    let state = app.state.read().await;
    let Some(latest) = &state.latest else {
        return Json(serde_json::json!({"polled": false})).into_response();
    };
    let nodes: Vec<_> = latest.round.nodes.iter().map(pages::node_status).collect();
    Json(serde_json::json!({
        "polled": true,
        "polled_at_unix_ms": unix_ms(latest.at),
        "poll_ms": latest.took.as_millis() as u64,
        "nodes": nodes,
        "view": latest.view,
    }))
    .into_response()
}

async fn metrics(State(app): State<App>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
        .into_response()
}

pub fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
