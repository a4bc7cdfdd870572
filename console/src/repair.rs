//! The console's one write action: asking the leader to repair drifted buckets (gRPC
//! `Repair`), which replaces them on every follower with the leader's content through the
//! leader's log.
//!
//! A page that can change data needs more than a link: the action is a POST form carrying an
//! anti-forgery token (random per console process, compared in constant time), so another
//! site cannot make an operator's browser submit it. It is offered only when the console
//! has the nodes' API key (without it the leader would refuse anyway), and when the console
//! listens beyond loopback only with `--admin-token`, which the operator types into the form:
//! anyone who can reach a non-loopback console could otherwise repair.

use std::collections::{BTreeSet, VecDeque};
use std::time::SystemTime;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use hyperspace_sdk::Client;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::pages;
use crate::web::{call_timeout, App, ConsoleOptions};

/// Repair requests this console sent, newest first, kept for `/history`.
pub const ACTIONS_KEPT: usize = 100;

/// One repair an operator asked for through this console.
#[derive(Debug, Clone)]
pub struct RepairAction {
    pub at: SystemTime,
    pub collection: String,
    pub buckets: Vec<u32>,
    /// The leader's job id, or why the request failed.
    pub outcome: Result<u64, String>,
}

#[derive(Debug, Default)]
pub struct Actions(VecDeque<RepairAction>);

impl Actions {
    pub fn push(&mut self, action: RepairAction) {
        self.0.push_front(action);
        self.0.truncate(ACTIONS_KEPT);
    }

    pub fn iter(&self) -> impl Iterator<Item = &RepairAction> {
        self.0.iter()
    }
}

/// A fresh anti-forgery token (128 random bits, hex).
pub fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Whether this console offers Repair, and if not, why.
pub fn allowed(options: &ConsoleOptions) -> Result<(), &'static str> {
    if options.api_key.is_none() {
        return Err("Repair is off: the console has no --api-key for the nodes");
    }
    if !options.listen.ip().is_loopback() && options.admin_token.is_none() {
        return Err("Repair is off: the console listens beyond loopback without --admin-token");
    }
    Ok(())
}

/// What a page needs to render the Repair forms.
pub struct RepairForm {
    pub token: String,
    pub needs_admin_token: bool,
}

pub fn form(app: &App) -> Option<RepairForm> {
    allowed(&app.options).ok()?;
    Some(RepairForm {
        token: app.token.to_string(),
        needs_admin_token: app.options.admin_token.is_some(),
    })
}

#[derive(Debug, Deserialize)]
pub struct RepairFields {
    #[serde(default)]
    token: String,
    /// Comma-separated bucket numbers.
    #[serde(default)]
    buckets: String,
    #[serde(default)]
    admin_token: String,
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Html(pages::not_found(message))).into_response()
}

/// On loopback (where no admin token is asked) a POST must name the console by a loopback
/// host: a page on another site that rebinds its DNS name to 127.0.0.1 sends its own name.
fn host_allowed(options: &ConsoleOptions, host: Option<&str>) -> bool {
    if !options.listen.ip().is_loopback() {
        return true; // the admin token guards it
    }
    let port = options.listen.port();
    let Some(host) = host else {
        return false;
    };
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|name| host == format!("{name}:{port}"))
}

fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// `POST /collections/{name}/repair`: checks the form, asks the leader, and sends the
/// browser back to the collection page, where the repair's progress shows.
pub async fn submit(
    State(app): State<App>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<RepairFields>,
) -> Response {
    if let Err(why) = allowed(&app.options) {
        return refuse(StatusCode::FORBIDDEN, why);
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if !host_allowed(&app.options, host) {
        return refuse(
            StatusCode::FORBIDDEN,
            "unexpected Host header: open the console by its loopback address",
        );
    }
    if !same(&fields.token, &app.token) {
        return refuse(
            StatusCode::FORBIDDEN,
            "missing or wrong form token: submit the Repair form from the console's page",
        );
    }
    if let Some(admin) = &app.options.admin_token {
        if !same(&fields.admin_token, admin) {
            return refuse(StatusCode::FORBIDDEN, "wrong admin token");
        }
    }
    let buckets: Result<BTreeSet<u32>, _> = fields
        .buckets
        .split(',')
        .map(|b| b.trim().parse::<u32>().ok().filter(|b| *b < 256))
        .collect::<Option<_>>()
        .ok_or(());
    let buckets: Vec<u32> = match buckets {
        Ok(b) if !b.is_empty() => b.into_iter().collect(),
        _ => {
            let message = format!("buckets must be 0..=255, got {:?}", fields.buckets);
            return refuse(StatusCode::BAD_REQUEST, &message);
        }
    };
    let leader = {
        let state = app.state.read().await;
        let latest = state.latest.as_ref();
        latest.and_then(|l| l.view.leader.as_ref().map(|l| l.addr.clone()))
    };
    let Some(leader) = leader else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "no leader reachable: nothing was asked",
        );
    };
    let key = app.options.api_key.clone();
    let asked = tokio::time::timeout(call_timeout(app.options.interval), async {
        let mut client = Client::connect(leader, key).await?;
        client.repair(&name, buckets.clone()).await
    })
    .await;
    let outcome = match asked {
        Ok(Ok(job)) => Ok(job.id),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the leader did not answer in time".to_string()),
    };
    tracing::warn!(collection = %name, ?buckets, ?outcome, "repair asked from the console");
    app.state.write().await.actions.push(RepairAction {
        at: SystemTime::now(),
        collection: name.clone(),
        buckets,
        outcome: outcome.clone(),
    });
    match outcome {
        Ok(_) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, format!("/collections/{name}"))],
        )
            .into_response(),
        Err(e) => refuse(StatusCode::BAD_GATEWAY, &format!("the leader refused: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn options(listen: &str, api_key: Option<&str>, admin: Option<&str>) -> ConsoleOptions {
        ConsoleOptions {
            nodes: Vec::new(),
            listen: listen.parse().unwrap(),
            api_key: api_key.map(String::from),
            interval: Duration::from_secs(2),
            admin_token: admin.map(String::from),
        }
    }

    // Proves Repair is offered only with the nodes' API key, and beyond loopback only with
    // an admin token; and that tokens compare by value.
    #[test]
    fn repair_needs_the_key_and_beyond_loopback_an_admin_token() {
        assert!(allowed(&options("127.0.0.1:8080", None, None)).is_err());
        assert!(allowed(&options("127.0.0.1:8080", Some("k"), None)).is_ok());
        assert!(allowed(&options("0.0.0.0:8080", Some("k"), None)).is_err());
        assert!(allowed(&options("0.0.0.0:8080", Some("k"), Some("t"))).is_ok());
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("", "abc"));
        let local = options("127.0.0.1:8080", Some("k"), None);
        assert!(host_allowed(&local, Some("127.0.0.1:8080")));
        assert!(host_allowed(&local, Some("localhost:8080")));
        assert!(
            !host_allowed(&local, Some("evil.example:8080")),
            "DNS rebinding"
        );
        assert!(!host_allowed(&local, None));
        assert_ne!(new_token(), new_token());
    }
}
