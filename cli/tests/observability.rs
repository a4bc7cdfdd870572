//! The shipped observability files (`grafana/`): promtool accepts the Prometheus config and
//! the alert rules and passes their unit tests; every alert is documented in the runbook and
//! unit-tested; the dashboards import cleanly (inputs, uids, ids, no hard-coded datasource)
//! and every PromQL expression parses. End to end with real processes (leader, follower
//! behind a cuttable proxy, console, Prometheus): every `hyperspace_*` metric the files name
//! is exported and passes `promtool check metrics`, every panel query returns series, a
//! lagging follower never raises `HyperspaceStateHashMismatch`, and a point corrupted at an
//! equal clock does. Tests that need promtool/prometheus skip loudly without them locally and
//! fail under `CI=true` (`.ci/run` installs the Debian `prometheus` package).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::console::Console;
use common::load::{create_default, Writer};
use common::prom::{self, Prometheus};
use common::proxy::Proxy;
use common::{call, wait_for, Node};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(60);
const MISMATCH: &str = "HyperspaceStateHashMismatch";

#[test]
fn shipped_config_and_rules_pass_promtool() {
    let Some(promtool) = prom::tool("promtool") else {
        return;
    };
    let dir = prom::grafana_dir().join("prometheus");
    let promtool = |args: &[&str]| {
        let mut command = Command::new(&promtool);
        command.current_dir(&dir).args(args);
        String::from_utf8(prom::run_ok(&mut command).stdout).unwrap()
    };
    promtool(&["check", "config", "prometheus.yml"]);
    assert!(promtool(&["check", "rules", "alerts.yml"]).contains("SUCCESS"));
    assert!(promtool(&["test", "rules", "alerts_test.yml"]).contains("SUCCESS"));
}

/// Every alert has severity, summary, description and a runbook entry that exists, and the
/// promtool tests make each one fire at least once (and the mismatch one stay silent too).
#[test]
fn every_alert_is_documented_and_unit_tested() {
    let rules_file = prom::alert_rules();
    let runbook = std::fs::read_to_string(prom::grafana_dir().join("RUNBOOK.md")).unwrap();
    let tests: serde_norway::Value = serde_norway::from_str(
        &std::fs::read_to_string(prom::grafana_dir().join("prometheus/alerts_test.yml")).unwrap(),
    )
    .unwrap();
    let checks: Vec<&serde_norway::Value> = tests["tests"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|t| t["alert_rule_test"].as_sequence().into_iter().flatten())
        .collect();
    let mut names = BTreeSet::new();
    for rule in prom::rules(&rules_file) {
        let name = rule["alert"]
            .as_str()
            .expect("only alerting rules")
            .to_string();
        let severity = rule["labels"]["severity"].as_str();
        assert!(
            matches!(severity, Some("critical" | "warning")),
            "{name}: {severity:?}"
        );
        for key in ["summary", "description", "runbook_url"] {
            let text = rule["annotations"][key].as_str().unwrap_or_default();
            assert!(!text.trim().is_empty(), "{name} has no {key}");
        }
        let url = rule["annotations"]["runbook_url"].as_str().unwrap();
        assert_eq!(
            url,
            format!("grafana/RUNBOOK.md#{}", name.to_lowercase()),
            "{name}"
        );
        assert!(
            runbook.lines().any(|l| l.trim() == format!("## {name}")),
            "RUNBOOK.md has no `## {name}` section"
        );
        let outcomes: Vec<bool> = checks
            .iter()
            .filter(|c| c["alertname"].as_str() == Some(&name))
            .map(|c| !c["exp_alerts"].as_sequence().unwrap().is_empty())
            .collect();
        assert!(
            outcomes.contains(&true),
            "no promtool test makes {name} fire"
        );
        assert!(
            outcomes.contains(&false),
            "no promtool test checks that {name} stays silent"
        );
        names.insert(name);
    }
    for required in [
        MISMATCH,
        "HyperspaceFollowerLagHigh",
        "HyperspaceFollowerDisconnected",
        "HyperspaceNodeDown",
        "HyperspaceClockAhead",
    ] {
        assert!(names.contains(required), "alerts.yml lacks {required}");
    }
    let silent = checks
        .iter()
        .filter(|c| c["alertname"].as_str() == Some(MISMATCH))
        .filter(|c| c["exp_alerts"].as_sequence().unwrap().is_empty())
        .count();
    assert!(silent >= 2, "the mismatch alert's silence is tested");
}

/// Every `datasource` reference anywhere in a dashboard, as text.
fn datasource_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "datasource" {
                    match inner {
                        Value::Object(ds) => out.push(ds["uid"].to_string()),
                        other => out.push(other.to_string()),
                    }
                } else {
                    datasource_refs(inner, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| datasource_refs(v, out)),
        _ => {}
    }
}

#[test]
fn dashboards_import_cleanly() {
    let mut uids = BTreeSet::new();
    for (file, dashboard) in prom::dashboards() {
        let input = dashboard["__inputs"]
            .as_array()
            .and_then(|inputs| inputs.iter().find(|i| i["name"] == "DS_PROMETHEUS"))
            .unwrap_or_else(|| panic!("{file}: no __inputs entry for DS_PROMETHEUS"));
        assert_eq!(input["type"], "datasource", "{file}");
        assert_eq!(input["pluginId"], "prometheus", "{file}");
        let uid = dashboard["uid"].as_str().unwrap_or_default();
        assert!(!uid.is_empty(), "{file}: no uid");
        assert!(uids.insert(uid.to_string()), "{file}: uid {uid} is reused");
        let schema = dashboard["schemaVersion"].as_u64().unwrap_or(0);
        assert!(schema >= 36, "{file}: schemaVersion {schema} is too old");

        let mut ids = BTreeSet::new();
        for panel in prom::panels(&dashboard) {
            let id = panel["id"].as_u64().expect("every panel has a numeric id");
            assert!(ids.insert(id), "{file}: panel id {id} is reused");
            if panel["type"] != "row" {
                let targets = panel["targets"].as_array().map_or(0, Vec::len);
                assert!(targets > 0, "{file}: panel {id} queries nothing");
            }
        }

        let mut refs = Vec::new();
        datasource_refs(&dashboard, &mut refs);
        assert!(!refs.is_empty(), "{file}: no datasource references");
        for r in refs {
            assert_eq!(r, "\"${DS_PROMETHEUS}\"", "{file}: a hard-coded datasource");
        }

        let variables: BTreeSet<String> = dashboard["templating"]["list"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["name"].as_str().map(String::from))
            .collect();
        for needed in ["DS_PROMETHEUS", "collection", "node"] {
            assert!(variables.contains(needed), "{file}: no ${needed} variable");
        }
        for (title, expr) in prom::panel_exprs(&dashboard) {
            assert!(
                !expr.trim().is_empty(),
                "{file}: {title} has an empty query"
            );
            for var in expr.split('$').skip(1) {
                let name: String = var
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    name == "__rate_interval" || variables.contains(&name),
                    "{file}: {title} uses the undefined variable ${name}"
                );
            }
        }
    }
}

/// Every PromQL expression of the dashboards (with the variables set to "all") parses:
/// they become recording rules of a temporary file that `promtool check rules` reads.
#[test]
fn every_dashboard_expression_parses() {
    let Some(promtool) = prom::tool("promtool") else {
        return;
    };
    let mut rules = Vec::new();
    for (file, dashboard) in prom::dashboards() {
        for (title, expr) in prom::panel_exprs(&dashboard) {
            rules.push(json!({
                "record": format!("dashboard:expr_{}", rules.len()),
                "expr": prom::instantiate(&expr),
                "labels": {"file": file, "panel": title},
            }));
        }
    }
    assert!(rules.len() >= 20, "only {} panel queries", rules.len());
    let file = json!({"groups": [{"name": "dashboards", "rules": rules}]});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dashboards.rules.yml");
    std::fs::write(&path, serde_norway::to_string(&file).unwrap()).unwrap();
    let mut command = Command::new(promtool);
    command.args(["check", "rules"]).arg(&path);
    let out = String::from_utf8(prom::run_ok(&mut command).stdout).unwrap();
    assert!(
        out.contains(&format!("{} rules found", rules.len())),
        "{out}"
    );
}

/// The `hyperspace_*` names one `/metrics` page exports (histograms also by base name).
fn exported_names(page: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in page.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            names.insert(rest.split(' ').next().unwrap().to_string());
        } else if !line.starts_with('#') && !line.is_empty() {
            let name = line.split(['{', ' ']).next().unwrap();
            names.insert(name.to_string());
        }
    }
    names
}

/// Checks one `/metrics` page with `promtool check metrics`; returns its names.
fn lint_metrics(promtool: &std::path::Path, url: &str) -> BTreeSet<String> {
    let page = common::http().get(url).send().unwrap().text().unwrap();
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics {url}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    exported_names(&page)
}

fn pending_or_firing(prometheus: &Prometheus, alert: &str) -> Vec<Value> {
    prometheus
        .alerts()
        .into_iter()
        .filter(|(name, _, _)| name == alert)
        .map(|(_, _, labels)| labels)
        .collect()
}

#[test]
fn dashboards_and_alerts_work_against_a_real_prometheus() {
    let (Some(promtool), Some(prometheus_bin)) = (prom::tool("promtool"), prom::tool("prometheus"))
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let fault = ["--enable-fault-injection"];
    let leader = Node::start(&dir.path().join("leader"), &fault);
    let proxy = Proxy::start(leader.grpc_port);
    let follower_args = [
        "--role",
        "follower",
        "--leader",
        &proxy.url(),
        "--enable-fault-injection",
    ];
    let follower = Node::start(&dir.path().join("follower"), &follower_args);
    create_default(&leader.http());
    let console = Console::start(&[&follower, &leader], &dir.path().join("console.log"));

    // Traffic of every kind the dashboards chart: writes, searches, a client error.
    let writer = Writer::start(leader.http(), 0);
    wait_for("some writes", WAIT, || writer.acked() >= 200);
    let search = json!({"vector": [0.1, 0.2, 0.3, 0.4], "top_k": 3});
    let url = format!("{}/api/collections/default/search", leader.http());
    assert_eq!(call("POST", &url, Some(&search)).0, 200);
    let missing = format!("{}/api/collections/absent", leader.http());
    assert_eq!(call("GET", &missing, None).0, 404);
    let acked = writer.finish();
    wait_for("the console IN_SYNC with the data", WAIT, || {
        let verdicts = console.verdicts();
        verdicts.len() == 2
            && verdicts.values().all(|v| v == "IN_SYNC")
            && console.counts().iter().all(|c| *c == acked.len() as u64)
    });

    // Every hyperspace_* metric a dashboard or rule names is exported by a live process,
    // and every /metrics page passes promtool's lint.
    let mut exported = BTreeSet::new();
    for url in [
        format!("{}/metrics", leader.http()),
        format!("{}/metrics", follower.http()),
        console.url("/metrics"),
    ] {
        exported.extend(lint_metrics(&promtool, &url));
    }
    let mut named: BTreeMap<String, String> = BTreeMap::new();
    for (file, dashboard) in prom::dashboards() {
        for (title, expr) in prom::panel_exprs(&dashboard) {
            for name in prom::metric_names(&expr) {
                named.insert(name, format!("{file}: {title}"));
            }
        }
        for variable in dashboard["templating"]["list"].as_array().unwrap() {
            let query = variable["query"].as_str().unwrap_or_default();
            for name in prom::metric_names(query) {
                named.insert(name, format!("{file}: variable {}", variable["name"]));
            }
        }
    }
    let rules_file = prom::alert_rules();
    for rule in prom::rules(&rules_file) {
        for name in prom::metric_names(rule["expr"].as_str().unwrap()) {
            named.insert(name, format!("alert {}", rule["alert"].as_str().unwrap()));
        }
    }
    let unexported: Vec<_> = named
        .iter()
        .filter(|(name, _)| !exported.contains(*name))
        .collect();
    assert!(
        unexported.is_empty(),
        "named but not exported: {unexported:?}"
    );

    // A real Prometheus on the shipped config (targets and intervals rewritten).
    let host = |url: String| url.trim_start_matches("http://").to_string();
    let nodes = [host(leader.http()), host(follower.http())];
    let prometheus = Prometheus::start(&prometheus_bin, &nodes, &host(console.url("")), "2s");
    wait_for("every target scraped and up", WAIT, || {
        let up = prometheus.query("up == 1");
        up.len() == 3
    });
    let writer = Writer::start(leader.http(), 1_000_000);

    // (a) Every panel query returns at least one series (rates need a few scrapes).
    for (file, dashboard) in prom::dashboards() {
        for (title, expr) in prom::panel_exprs(&dashboard) {
            let query = prom::instantiate(&expr);
            let deadline = Instant::now() + Duration::from_secs(30);
            while prometheus.query(&query).is_empty() {
                assert!(
                    Instant::now() < deadline,
                    "{file}: panel {title:?} returns no series: {query}\n{}",
                    prometheus.log()
                );
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        for variable in dashboard["templating"]["list"].as_array().unwrap() {
            let query = variable["query"].as_str().unwrap_or_default();
            if let Some(args) = query
                .strip_prefix("label_values(")
                .and_then(|q| q.strip_suffix(')'))
            {
                let (metric, label) = args.split_once(',').expect("label_values(metric, label)");
                let series = prometheus.series(metric.trim());
                assert!(
                    series.iter().any(|s| s[label.trim()].is_string()),
                    "{file}: variable {query} has no values"
                );
            }
        }
    }

    // (b) The follower cut off while writes go on: it lags (the console says LAGGING, the
    // leader's disconnected alert becomes pending, so rules are being evaluated), and the
    // mismatch alert is never pending nor firing.
    proxy.cut();
    let started = Instant::now();
    let mut lagging_seen = false;
    let mut disconnected_seen = false;
    while started.elapsed() < Duration::from_secs(40) {
        assert_eq!(
            pending_or_firing(&prometheus, MISMATCH),
            Vec::<Value>::new(),
            "lag raised {MISMATCH}"
        );
        lagging_seen |=
            console.verdicts().get(&follower.grpc()).map(String::as_str) == Some("LAGGING");
        disconnected_seen |=
            !pending_or_firing(&prometheus, "HyperspaceFollowerDisconnected").is_empty();
        if lagging_seen && disconnected_seen && started.elapsed() > Duration::from_secs(8) {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(lagging_seen, "the follower never looked LAGGING");
    assert!(
        disconnected_seen,
        "HyperspaceFollowerDisconnected never became pending: are rules evaluated?"
    );

    // (c) Caught up and quiet, then one point corrupted on the follower at an equal clock:
    // the mismatch alert becomes pending or firing for exactly that node and collection.
    proxy.restore();
    writer.finish();
    wait_for("the console IN_SYNC again", WAIT, || {
        let quiet = pending_or_firing(&prometheus, MISMATCH);
        assert!(quiet.is_empty(), "catching up raised {MISMATCH}: {quiet:?}");
        let verdicts = console.verdicts();
        verdicts.len() == 2 && verdicts.values().all(|v| v == "IN_SYNC")
    });
    let url = format!("{}/api/debug/collections/default/corrupt", follower.http());
    let (status, answer) = call("POST", &url, Some(&json!({"id": 1_000_003})));
    assert_eq!(status, 200, "{answer}");
    let follower_id = call("GET", &format!("{}/api/node", follower.http()), None).1["node_id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for(
        "the mismatch alert for the corrupted follower",
        WAIT,
        || {
            pending_or_firing(&prometheus, MISMATCH)
                .iter()
                .any(|labels| labels["node_id"] == follower_id && labels["collection"] == "default")
        },
    );
    let alerts = pending_or_firing(&prometheus, MISMATCH);
    assert!(
        alerts.iter().all(|labels| labels["node_id"] == follower_id),
        "only the corrupted follower: {alerts:?}"
    );
}

/// The provisioning files parse, name a Prometheus datasource and load the dashboards from a
/// path the README tells users to set.
#[test]
fn provisioning_files_are_complete() {
    let read = |path: &str| -> serde_norway::Value {
        let text = std::fs::read_to_string(prom::grafana_dir().join(path)).unwrap();
        serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let datasources = read("provisioning/datasources/hyperspace.yml");
    assert_eq!(datasources["apiVersion"].as_u64(), Some(1));
    let datasource = &datasources["datasources"][0];
    assert_eq!(datasource["type"].as_str(), Some("prometheus"));
    assert_eq!(datasource["isDefault"].as_bool(), Some(true));
    let providers = read("provisioning/dashboards/hyperspace.yml");
    assert_eq!(providers["apiVersion"].as_u64(), Some(1));
    let path = providers["providers"][0]["options"]["path"]
        .as_str()
        .unwrap();
    let readme = std::fs::read_to_string(prom::grafana_dir().join("../README.md")).unwrap();
    let variable = path.trim_start_matches("${").trim_end_matches('}');
    assert!(
        readme.contains(&format!("{variable}=")),
        "README.md does not say how to set {variable}"
    );
}
