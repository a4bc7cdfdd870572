//! Shared harness for tests that run the real `hyperspace` binary as child processes:
//! free ports, start and wait for `/readyz`, SIGKILL, restart on the same data directory.
#![allow(dead_code)]

pub mod cluster;
pub mod console;
pub mod load;
pub mod prom;
pub mod proxy;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_hyperspace");

/// A port that was free a moment ago (bind to port 0, read it, release it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `condition` until it is true or `timeout` passes; panics with `what` on timeout.
pub fn wait_for(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub struct Node {
    pub child: Option<Child>,
    pub data_dir: PathBuf,
    pub http_port: u16,
    pub grpc_port: u16,
    pub extra: Vec<String>,
    pub log: PathBuf,
}

impl Node {
    /// Starts a node on fresh ports and waits until it is ready.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Node {
        let mut node = Node {
            child: None,
            data_dir: data_dir.to_path_buf(),
            http_port: free_port(),
            grpc_port: free_port(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            log: data_dir.with_extension("log"),
        };
        node.spawn();
        node.wait_ready();
        node
    }

    /// Starts the process without waiting; returns it so a test can watch it fail.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("node")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--http-addr")
            .arg(format!("127.0.0.1:{}", self.http_port))
            .arg("--grpc-addr")
            .arg(format!("127.0.0.1:{}", self.grpc_port))
            .args(&self.extra)
            .env_remove("HYPERSPACE_API_KEY")
            // No timed checkpoint (an LSN) may land between two reads of a test that compares
            // LSNs; the anti-entropy tests pass their own `--checkpoint-interval`, which wins.
            .env("HYPERSPACE_CHECKPOINT_INTERVAL", "3600s")
            .env("RUST_LOG", "info");
        cmd
    }

    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = self
            .command()
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawning hyperspace node");
        self.child = Some(child);
    }

    pub fn wait_ready(&mut self) {
        let url = format!("{}/readyz", self.http());
        let client = http();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(&url).send() {
                if r.status() == 200 {
                    return;
                }
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!(
                    "node exited with {status} before ready; log:\n{}",
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "node not ready; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    pub fn grpc(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap(); // std sends SIGKILL on Unix
            child.wait().unwrap();
        }
    }

    /// SIGTERM and wait for a clean exit; returns the exit code.
    pub fn terminate(&mut self) -> i32 {
        let mut child = self.child.take().expect("node is running");
        let pid = child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        child.wait().unwrap().code().unwrap_or(-1)
    }

    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
        self.wait_ready();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Sends a JSON request and returns (status, body as JSON).
pub fn call(method: &str, url: &str, body: Option<&Value>) -> (u16, Value) {
    call_with(method, url, body, &[])
}

pub fn call_with(
    method: &str,
    url: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut req = http().request(method.parse().unwrap(), url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(body) = body {
        req = req
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let resp = req.send().expect("request sent");
    let status = resp.status().as_u16();
    let text = resp.text().unwrap();
    let json =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON answer {status}: {text}"));
    (status, json)
}

/// Recomputes a collection's digest (DESIGN.md §3) from its scrolled points over REST, with
/// ids read as strings so nothing is rounded.
pub fn recompute_digest(base: &str, collection: &str) -> (u64, [u64; 256], u64) {
    use xxhash_rust::xxh3::Xxh3;
    let mut buckets = [0u64; 256];
    let mut count = 0;
    let mut after: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/collections/{collection}/points?limit=1000&u64=string");
        if let Some(a) = &after {
            url.push_str(&format!("&after={a}"));
        }
        let (status, page) = call("GET", &url, None);
        assert_eq!(status, 200, "{page}");
        for p in page["points"].as_array().unwrap() {
            let id: u64 = p["id"].as_str().unwrap().parse().unwrap();
            let vector: Vec<f32> = p["vector"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_f64().unwrap() as f32)
                .collect();
            let mut h = Xxh3::with_seed(0);
            h.update(&id.to_le_bytes());
            h.update(&(vector.len() as u32).to_le_bytes());
            for c in &vector {
                h.update(&c.to_bits().to_le_bytes());
            }
            h.update(&serde_json_canonicalizer::to_vec(&p["payload"]).unwrap());
            buckets[(id % 256) as usize] ^= h.digest();
            count += 1;
        }
        match page["next_after"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    (buckets.iter().fold(0, |a, b| a ^ b), buckets, count)
}
