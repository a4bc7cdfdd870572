//! What each page shows, computed from the latest round into plain strings and rows, so the
//! templates (`templates/*.html`) only lay them out. Colour is never the only signal: every
//! state also has a mark and a word.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use hyperspace_sdk::NodeInfo;
use serde_json::{json, Value};

use crate::antientropy::{clock_time, job_rows, outvoted_text, verified_text, JobRow};
use crate::history::History;
use crate::model::{CellState, NodePoll, Verdict};
use crate::repair::{Actions, RepairForm};
use crate::web::{unix_ms, ConsoleOptions, Latest};

pub fn short(node_id: &str) -> String {
    node_id.chars().take(8).collect()
}

fn verdict_text(verdict: Option<Verdict>, clock_lag: Option<i64>) -> (String, &'static str) {
    match verdict {
        Some(Verdict::InSync) => ("✓ IN_SYNC".into(), "ok"),
        Some(Verdict::Lagging) => (
            format!("⏳ LAGGING by {}", clock_lag.unwrap_or_default()),
            "lag",
        ),
        Some(Verdict::Drift) => ("✕ DRIFT".into(), "drift"),
        Some(Verdict::Diverged) => (
            format!("✕ DIVERGED (ahead by {})", -clock_lag.unwrap_or_default()),
            "drift",
        ),
        Some(Verdict::Missing) => ("∅ MISSING".into(), "missing"),
        Some(Verdict::Unreachable) => ("⚠ UNREACHABLE".into(), "down"),
        None => ("? not judged".into(), "missing"),
    }
}

fn state_word(state: CellState) -> (&'static str, &'static str) {
    match state {
        CellState::Ok => ("ok", "·"),
        CellState::Lag => ("lag", "~"),
        CellState::Drift => ("drift", "✕"),
        CellState::Empty => ("empty", ""),
    }
}

/// `/api/status` entry for one node.
pub fn node_status(poll: &NodePoll) -> Value {
    match poll {
        NodePoll::Up(sample) => json!({
            "addr": sample.addr, "node_id": sample.node_id, "up": true, "role": sample.role,
        }),
        NodePoll::Down {
            addr,
            node_id,
            error,
        } => json!({"addr": addr, "node_id": node_id, "up": false, "error": error}),
    }
}

pub struct TopologyRow {
    pub role: String,
    pub node: String,
    pub addr: String,
    pub state: String,
    pub class: &'static str,
}

pub struct VerdictRow {
    pub collection: String,
    pub cells: Vec<(String, &'static str)>,
}

#[derive(Template)]
#[template(path = "overview.html")]
pub struct OverviewPage {
    pub refresh_secs: u64,
    pub polled: bool,
    pub polled_at_unix_ms: u64,
    /// How long ago the last round finished, e.g. "0.4 s ago".
    pub polled_ago: String,
    pub poll_ms: u64,
    pub leader_problem: Option<String>,
    pub topology: Vec<TopologyRow>,
    pub node_headers: Vec<String>,
    pub rows: Vec<VerdictRow>,
    pub errors: Vec<(String, String)>,
}

impl OverviewPage {
    pub fn new(options: &ConsoleOptions, latest: Option<&Latest>) -> OverviewPage {
        let refresh_secs = options.interval.as_secs().clamp(2, 30);
        let Some(latest) = latest else {
            return OverviewPage {
                refresh_secs,
                polled: false,
                polled_at_unix_ms: 0,
                polled_ago: String::new(),
                poll_ms: 0,
                leader_problem: None,
                topology: Vec::new(),
                node_headers: Vec::new(),
                rows: Vec::new(),
                errors: Vec::new(),
            };
        };
        let followers = leader_followers(&latest.infos);
        let mut topology = Vec::new();
        let mut errors = Vec::new();
        for poll in &latest.round.nodes {
            match poll {
                NodePoll::Up(sample) => {
                    let role = format!("{:?}", sample.role).to_lowercase();
                    let (state, class) = match followers.get(&sample.node_id) {
                        Some(f) => (
                            format!(
                                "{}, applied LSN {}, lag {} records",
                                if f.connected {
                                    "streaming"
                                } else {
                                    "disconnected"
                                },
                                f.applied_lsn,
                                f.lag_records
                            ),
                            if f.connected { "ok" } else { "lag" },
                        ),
                        None => ("up".to_string(), "ok"),
                    };
                    topology.push(TopologyRow {
                        role,
                        node: short(&sample.node_id),
                        addr: sample.addr.clone(),
                        state,
                        class,
                    });
                }
                NodePoll::Down {
                    addr,
                    node_id,
                    error,
                } => {
                    topology.push(TopologyRow {
                        role: "?".into(),
                        node: node_id.as_deref().map(short).unwrap_or_default(),
                        addr: addr.clone(),
                        state: format!("⚠ unreachable: {error}"),
                        class: "down",
                    });
                    errors.push((addr.clone(), error.clone()));
                }
            }
        }
        // Leader first, then followers, as the topology reads top-down.
        topology.sort_by_key(|row| row.role != "leader");
        let node_headers = latest
            .round
            .nodes
            .iter()
            .map(|poll| match poll {
                NodePoll::Up(s) => format!("{} {}", short(&s.node_id), s.addr),
                NodePoll::Down { addr, .. } => addr.clone(),
            })
            .collect();
        let rows = latest
            .view
            .collections
            .iter()
            .map(|c| VerdictRow {
                collection: c.name.clone(),
                cells: c
                    .nodes
                    .iter()
                    .map(|n| verdict_text(n.verdict, n.clock_lag))
                    .collect(),
            })
            .collect();
        OverviewPage {
            refresh_secs,
            polled: true,
            polled_at_unix_ms: unix_ms(latest.at),
            polled_ago: format!(
                "{:.1} s ago",
                latest.at.elapsed().unwrap_or_default().as_secs_f64()
            ),
            poll_ms: latest.took.as_millis() as u64,
            leader_problem: latest.view.leader_problem.clone(),
            topology,
            node_headers,
            rows,
            errors,
        }
    }
}

/// The leader's view of its followers, by node id.
fn leader_followers(infos: &[Option<NodeInfo>]) -> BTreeMap<String, hyperspace_sdk::FollowerInfo> {
    infos
        .iter()
        .flatten()
        .filter(|info| info.role == "leader")
        .flat_map(|info| info.followers.clone())
        .map(|f| (f.node_id.clone(), f))
        .collect()
}

pub struct CellView {
    pub bucket: usize,
    pub state: &'static str,
    pub mark: &'static str,
    pub title: String,
}

pub struct NodeRow {
    pub node: String,
    pub verdict: String,
    pub class: &'static str,
    pub clock_lag: String,
    pub count: String,
    pub drifted: u32,
    pub verified: String,
    pub verified_class: &'static str,
}

#[derive(Template)]
#[template(path = "collection.html")]
pub struct CollectionPage {
    /// 0: no automatic refresh (a Repair form waits for a typed admin token).
    pub refresh_secs: u64,
    pub name: String,
    pub leader_problem: Option<String>,
    pub cells: Vec<CellView>,
    pub nodes: Vec<NodeRow>,
    /// Buckets shown red, as the Repair forms name them ("3,9").
    pub drifted: Vec<usize>,
    pub drifted_csv: String,
    pub repair: Option<RepairForm>,
    pub repair_off: Option<&'static str>,
    pub outvoted: Option<String>,
    pub jobs: Vec<JobRow>,
}

impl CollectionPage {
    pub fn new(
        options: &ConsoleOptions,
        latest: Option<&Latest>,
        name: &str,
        repair: Option<RepairForm>,
    ) -> Option<Self> {
        let latest = latest?;
        let view = latest.view.collection(name)?;
        let cells = view
            .cells
            .iter()
            .map(|cell| {
                let (state, mark) = state_word(cell.state);
                let counts: Vec<String> = cell
                    .counts
                    .iter()
                    .map(|c| {
                        let count = c.count.map_or("–".into(), |n| n.to_string());
                        format!("{} {count}", short(&c.node_id))
                    })
                    .collect();
                let on = |nodes: &[String]| -> String {
                    nodes
                        .iter()
                        .map(|n| short(n))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let mut differs = match cell.differs_on.is_empty() {
                    true => "all agree".to_string(),
                    false => format!("differs on {}", on(&cell.differs_on)),
                };
                if !cell.checkpoint_drift_on.is_empty() {
                    let drift = on(&cell.checkpoint_drift_on);
                    differs.push_str(&format!("; drifted at a checkpoint on {drift}"));
                }
                CellView {
                    bucket: cell.bucket,
                    state,
                    mark,
                    title: format!(
                        "bucket {} ({state}): points {}; {differs}",
                        cell.bucket,
                        counts.join(", ")
                    ),
                }
            })
            .collect();
        let nodes = view
            .nodes
            .iter()
            .map(|n| {
                let (verdict, class) = verdict_text(n.verdict, n.clock_lag);
                let (verified, verified_class) = verified_text(n.verified.as_ref());
                NodeRow {
                    verified,
                    verified_class,
                    node: format!(
                        "{} {}",
                        n.node_id.as_deref().map(short).unwrap_or_default(),
                        n.addr
                    ),
                    verdict,
                    class,
                    clock_lag: n.clock_lag.map_or("–".into(), |l| l.to_string()),
                    count: n.count.map_or("–".into(), |c| c.to_string()),
                    drifted: n.drifted_buckets,
                }
            })
            .collect();
        let drifted: Vec<usize> = view
            .cells
            .iter()
            .filter(|c| c.state == CellState::Drift)
            .map(|c| c.bucket)
            .collect();
        let drifted_csv = drifted
            .iter()
            .map(|b| b.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let typing = !drifted.is_empty() && repair.as_ref().is_some_and(|f| f.needs_admin_token);
        Some(CollectionPage {
            refresh_secs: if typing {
                0
            } else {
                options.interval.as_secs().clamp(2, 30)
            },
            name: name.to_string(),
            leader_problem: latest.view.leader_problem.clone(),
            cells,
            nodes,
            drifted,
            drifted_csv,
            repair_off: crate::repair::allowed(options).err(),
            repair,
            outvoted: outvoted_text(&latest.infos, name),
            jobs: job_rows(&latest.infos, Some(name)),
        })
    }
}

pub struct BucketRow {
    pub id: u64,
    pub hashes: Vec<String>,
    pub note: String,
    pub class: &'static str,
}

#[derive(Template)]
#[template(path = "bucket.html")]
pub struct BucketPage {
    pub name: String,
    pub bucket: usize,
    pub nodes: Vec<String>,
    pub rows: Vec<BucketRow>,
    pub errors: Vec<(String, String)>,
    /// Set by the caller when the console offers Repair.
    pub repair: Option<RepairForm>,
}

type Listing = (String, String, Result<Vec<(u64, u64)>, String>);

impl BucketPage {
    /// Which ids are missing or differ on which node, against the leader's listing.
    pub fn new(name: &str, bucket: usize, leader: Option<String>, listings: Vec<Listing>) -> Self {
        let mut errors = Vec::new();
        let mut nodes = Vec::new();
        let mut maps: Vec<(String, BTreeMap<u64, u64>)> = Vec::new();
        for (node_id, addr, listed) in listings {
            match listed {
                Ok(entries) => {
                    nodes.push(format!("{} {addr}", short(&node_id)));
                    maps.push((node_id, entries.into_iter().collect()));
                }
                Err(e) => errors.push((addr, e)),
            }
        }
        let reference = leader
            .as_ref()
            .and_then(|l| maps.iter().find(|(id, _)| id == l))
            .map(|(_, m)| m.clone());
        let ids: BTreeSet<u64> = maps.iter().flat_map(|(_, m)| m.keys().copied()).collect();
        let rows = ids
            .into_iter()
            .map(|id| {
                let want = reference.as_ref().and_then(|r| r.get(&id));
                let mut missing = Vec::new();
                let mut differ = Vec::new();
                let hashes = maps
                    .iter()
                    .map(|(node_id, m)| match m.get(&id) {
                        Some(hash) => {
                            if reference.is_some() && want != Some(hash) {
                                differ.push(short(node_id));
                            }
                            format!("{hash:016x}")
                        }
                        None => {
                            missing.push(short(node_id));
                            "missing".to_string()
                        }
                    })
                    .collect();
                let mut notes = Vec::new();
                if !missing.is_empty() {
                    notes.push(format!("missing on {}", missing.join(", ")));
                }
                if !differ.is_empty() {
                    notes.push(format!("differs from the leader on {}", differ.join(", ")));
                }
                let class = if notes.is_empty() { "ok" } else { "drift" };
                let note = if notes.is_empty() {
                    "✓ same everywhere".into()
                } else {
                    format!("✕ {}", notes.join("; "))
                };
                BucketRow {
                    id,
                    hashes,
                    note,
                    class,
                }
            })
            .collect();
        BucketPage {
            name: name.to_string(),
            bucket,
            nodes,
            rows,
            errors,
            repair: None,
        }
    }
}

pub struct Series {
    pub label: String,
    pub points: String,
    pub colour: &'static str,
}

pub struct Chart {
    pub title: String,
    pub max: f64,
    pub series: Vec<Series>,
}

#[derive(Template)]
#[template(path = "history.html")]
pub struct HistoryPage {
    pub rounds: usize,
    pub charts: Vec<Chart>,
    /// The leader's repair jobs, newest first (automatic and asked).
    pub jobs: Vec<JobRow>,
    /// Repairs asked through this console: (time, collection, buckets, outcome).
    pub actions: Vec<(String, String, String, String)>,
}

const CHART_WIDTH: f64 = 600.0;
const CHART_HEIGHT: f64 = 160.0;
const PALETTE: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

impl HistoryPage {
    pub fn new(history: &History, infos: &[Option<NodeInfo>], asked: &Actions) -> HistoryPage {
        let series = history.series();
        let lag = chart(
            history,
            &series,
            "clock lag (leader − node, ticks)",
            |p| p.clock_lag.map(|l| l as f64),
        );
        let drift = chart(history, &series, "drifted buckets", |p| {
            Some(p.drifted_buckets as f64)
        });
        let actions = asked
            .iter()
            .map(|a| {
                let buckets: Vec<String> = a.buckets.iter().map(|b| b.to_string()).collect();
                let outcome = match &a.outcome {
                    Ok(job) => format!("✓ leader job #{job}"),
                    Err(e) => format!("✕ {e}"),
                };
                let at = clock_time(unix_ms(a.at));
                (at, a.collection.clone(), buckets.join(", "), outcome)
            })
            .collect();
        HistoryPage {
            rounds: history.len(),
            charts: vec![lag, drift],
            jobs: job_rows(infos, None),
            actions,
        }
    }
}

fn chart(
    history: &History,
    keys: &[(String, String)],
    title: &str,
    value: impl Fn(&crate::history::Point) -> Option<f64>,
) -> Chart {
    let n = history.len().max(2) as f64;
    let values: Vec<Vec<(usize, f64)>> = keys
        .iter()
        .map(|key| {
            history
                .entries()
                .enumerate()
                .filter_map(|(i, e)| Some((i, value(e.points.get(key)?)?)))
                .collect()
        })
        .collect();
    let max = values
        .iter()
        .flatten()
        .map(|(_, v)| *v)
        .fold(1.0_f64, f64::max);
    let series = keys
        .iter()
        .zip(values)
        .enumerate()
        .map(|(i, ((collection, node), points))| Series {
            label: format!("{collection} @ {}", short(node)),
            points: points
                .iter()
                .map(|(x, v)| {
                    let x = *x as f64 / (n - 1.0) * CHART_WIDTH;
                    let y = CHART_HEIGHT - v / max * CHART_HEIGHT;
                    format!("{x:.1},{y:.1}")
                })
                .collect::<Vec<_>>()
                .join(" "),
            colour: PALETTE[i % PALETTE.len()],
        })
        .collect();
    Chart {
        title: title.to_string(),
        max,
        series,
    }
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage<'a> {
    message: &'a str,
}

pub fn not_found(message: &str) -> String {
    NotFoundPage { message }
        .render()
        .unwrap_or_else(|_| "not found".into())
}
