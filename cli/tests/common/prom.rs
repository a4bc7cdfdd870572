//! The shipped observability files (`grafana/`) read as their users' tools read them, and a
//! real `prometheus` process to run them against: promtool discovery (skip loudly locally,
//! fail under `CI=true`, where `.ci/run` installs it), the PromQL of every dashboard panel
//! and alert rule, and a Prometheus whose config is generated from the shipped one.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use serde_norway::Value as Yaml;

use super::{free_port, wait_for};

/// `grafana/` in the repository.
pub fn grafana_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../grafana")
}

/// The path of an external tool, or `None` (with a loud message) when it is missing
/// locally. Under `CI=true` a missing tool fails the test: `.ci/run` installs it.
pub fn tool(name: &str) -> Option<PathBuf> {
    tool_from(name, "prometheus")
}

/// [`tool`] for a tool of another Debian package.
pub fn tool_from(name: &str, package: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        let message = format!(
            "`{name}` is not installed (Debian: apt-get install -y {package}); this test needs it"
        );
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("\n!!!!!!!! SKIPPED: {message} !!!!!!!!\n");
    }
    found
}

/// Runs a tool and fails the test with its output unless it exits 0.
pub fn run_ok(command: &mut Command) -> Output {
    let output = command.output().expect("the tool starts");
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Every dashboard file under `grafana/dashboards`, parsed.
pub fn dashboards() -> Vec<(String, Value)> {
    let dir = grafana_dir().join("dashboards");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            let json: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()));
            out.push((
                path.file_name().unwrap().to_string_lossy().to_string(),
                json,
            ));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 2, "the dashboards are missing from {dir:?}");
    out
}

/// Every panel of a dashboard, including panels nested in collapsed rows.
pub fn panels(dashboard: &Value) -> Vec<&Value> {
    fn walk<'a>(list: &'a Value, out: &mut Vec<&'a Value>) {
        for panel in list.as_array().into_iter().flatten() {
            out.push(panel);
            walk(&panel["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

/// `(panel title, expr)` of every panel target of a dashboard.
pub fn panel_exprs(dashboard: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for panel in panels(dashboard) {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap_or_default();
            let title = panel["title"].as_str().unwrap_or_default();
            out.push((title.to_string(), expr.to_string()));
        }
    }
    out
}

/// A dashboard expression as Prometheus would receive it with every template variable set
/// to "all" (Grafana sends `.*` for an all-value regex matcher).
pub fn instantiate(expr: &str) -> String {
    expr.replace("$__rate_interval", "30s")
        .replace("$collection", ".*")
        .replace("$node", ".*")
}

/// The shipped alert rules file, parsed.
pub fn alert_rules() -> Yaml {
    let path = grafana_dir().join("prometheus/alerts.yml");
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every alerting rule of a rules file (across its groups).
pub fn rules(file: &Yaml) -> Vec<&Yaml> {
    file["groups"]
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|group| group["rules"].as_sequence().into_iter().flatten())
        .collect()
}

/// The `hyperspace_*` metric names a PromQL expression reads.
pub fn metric_names(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("hyperspace_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        out.push(name);
    }
    out
}

/// A real Prometheus scraping the given targets every second and evaluating the shipped
/// alert rules every second, with every `for:` shortened to `alert_for`. Killed on drop.
pub struct Prometheus {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Prometheus {
    pub fn start(binary: &Path, nodes: &[String], console: &str, alert_for: &str) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let shipped = grafana_dir().join("prometheus/prometheus.yml");
        let mut config: Yaml =
            serde_norway::from_str(&std::fs::read_to_string(shipped).unwrap()).unwrap();
        config["global"]["scrape_interval"] = "1s".into();
        config["global"]["evaluation_interval"] = "1s".into();
        config["rule_files"] = vec![Yaml::from("alerts.yml")].into();
        for job in config["scrape_configs"].as_sequence_mut().unwrap() {
            let targets: Vec<Yaml> = match job["job_name"].as_str() {
                Some("hyperspace-nodes") => nodes.iter().map(|n| n.as_str().into()).collect(),
                Some("hyperspace-console") => vec![console.into()],
                other => panic!("unexpected job {other:?} in the shipped prometheus.yml"),
            };
            let mut static_config = serde_norway::Mapping::new();
            static_config.insert("targets".into(), targets.into());
            job["static_configs"] = vec![Yaml::Mapping(static_config)].into();
        }
        let mut alerts = alert_rules();
        for group in alerts["groups"].as_sequence_mut().unwrap() {
            for rule in group["rules"].as_sequence_mut().unwrap() {
                rule["for"] = alert_for.into();
            }
        }
        let write = |name: &str, value: &Yaml| {
            std::fs::write(
                dir.path().join(name),
                serde_norway::to_string(value).unwrap(),
            )
            .unwrap()
        };
        write("prometheus.yml", &config);
        write("alerts.yml", &alerts);
        let port = free_port();
        let child = Command::new(binary)
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("prometheus.log")).unwrap(),
            ))
            .spawn()
            .expect("prometheus starts");
        let prometheus = Prometheus { child, port, dir };
        wait_for("prometheus to be ready", Duration::from_secs(60), || {
            super::http()
                .get(prometheus.url("/-/ready"))
                .send()
                .is_ok_and(|r| r.status().is_success())
        });
        prometheus
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn api(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let response = super::http()
            .get(self.url(path))
            .query(query)
            .send()
            .unwrap();
        let body: Value = response.json().unwrap();
        assert_eq!(body["status"], "success", "{path} {query:?}: {body}");
        body["data"].clone()
    }

    /// The series an instant query returns now.
    pub fn query(&self, expr: &str) -> Vec<Value> {
        let data = self.api("/api/v1/query", &[("query", expr)]);
        data["result"].as_array().cloned().unwrap_or_default()
    }

    /// The series Prometheus holds for a selector.
    pub fn series(&self, selector: &str) -> Vec<Value> {
        let data = self.api("/api/v1/series", &[("match[]", selector)]);
        data.as_array().cloned().unwrap_or_default()
    }

    /// Alerts pending or firing now: `(alertname, state, labels)`.
    pub fn alerts(&self) -> Vec<(String, String, Value)> {
        let data = self.api("/api/v1/alerts", &[]);
        data["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|alert| {
                let labels = alert["labels"].clone();
                let name = labels["alertname"].as_str().unwrap_or_default().to_string();
                let state = alert["state"].as_str().unwrap_or_default().to_string();
                (name, state, labels)
            })
            .collect()
    }

    /// The log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
