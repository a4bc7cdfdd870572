//! A real `hyperspace console` process over real nodes, read the way an operator reads it:
//! verdicts from `/api/status`, heatmap cells from the page's `data-bucket` elements.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::{call, free_port, wait_for, Node, BIN};

const WAIT: Duration = Duration::from_secs(30);

pub struct Console {
    /// `None` for a console some other process started (the demo's).
    child: Option<Child>,
    pub port: u16,
}

impl Console {
    pub fn start(nodes: &[&Node], log: &std::path::Path) -> Console {
        Console::start_with(nodes, log, &[])
    }

    /// [`Console::start`] with more flags (e.g. `--api-key`).
    pub fn start_with(nodes: &[&Node], log: &std::path::Path, extra: &[&str]) -> Console {
        let port = free_port();
        let mut cmd = Command::new(BIN);
        cmd.arg("console")
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--interval", "200ms"])
            .args(extra);
        for node in nodes {
            cmd.args(["--node", &node.grpc()]);
        }
        let child = cmd
            .env_remove("HYPERSPACE_API_KEY")
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(log).unwrap()))
            .spawn()
            .unwrap();
        let console = Console {
            child: Some(child),
            port,
        };
        wait_for("the console to answer", WAIT, || {
            super::http().get(console.url("/livez")).send().is_ok()
        });
        console
    }

    /// A console already listening on `port`.
    pub fn attach(port: u16) -> Console {
        Console { child: None, port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn page(&self, path: &str) -> String {
        let response = super::http().get(self.url(path)).send().unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.text().unwrap()
    }

    /// Verdict per node address for `default` in the latest round.
    pub fn verdicts(&self) -> BTreeMap<String, String> {
        let status: Value = call("GET", &self.url("/api/status"), None).1;
        let mut out = BTreeMap::new();
        for collection in status["view"]["collections"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if collection["name"] != "default" {
                continue;
            }
            for node in collection["nodes"].as_array().unwrap() {
                let verdict = node["verdict"].as_str().unwrap_or("none").to_string();
                out.insert(node["addr"].as_str().unwrap().to_string(), verdict);
            }
        }
        out
    }

    /// Point count of `default` per node in the latest round (0 when unknown).
    pub fn counts(&self) -> Vec<u64> {
        let status: Value = call("GET", &self.url("/api/status"), None).1;
        let collections = status["view"]["collections"].as_array().cloned();
        let default = collections
            .into_iter()
            .flatten()
            .find(|c| c["name"] == "default");
        let nodes = default.map(|c| c["nodes"].as_array().cloned().unwrap_or_default());
        nodes
            .unwrap_or_default()
            .iter()
            .map(|n| n["count"].as_u64().unwrap_or(0))
            .collect()
    }

    /// `(bucket, state)` of every element carrying `data-bucket` on the heatmap page.
    pub fn cells(&self) -> Vec<(usize, String)> {
        let page = self.page("/collections/default");
        let mut cells = Vec::new();
        for part in page.split("data-bucket=\"").skip(1) {
            let bucket = part[..part.find('"').unwrap()].parse().unwrap();
            let state = part
                .split("data-state=\"")
                .nth(1)
                .map(|s| s[..s.find('"').unwrap()].to_string())
                .expect("every data-bucket element has a data-state");
            cells.push((bucket, state));
        }
        cells
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
