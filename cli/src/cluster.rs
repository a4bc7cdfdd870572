//! Child node processes of this binary, for `cluster-test` (and the demo): free ports,
//! spawn, wait until ready, SIGKILL, restart on the same data directory. A child is killed
//! when its handle drops, so an early return or a panic leaves no process behind.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hyperspace_sdk::Client;

/// A port that was free a moment ago.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

pub struct NodeProcess {
    pub name: String,
    pub data_dir: PathBuf,
    pub http_port: u16,
    pub grpc_port: u16,
    extra: Vec<String>,
    log: PathBuf,
    child: Option<Child>,
}

impl NodeProcess {
    /// Starts `hyperspace node` on free ports with data in `data_dir`; logs go to
    /// `data_dir.log`. Does not wait: see [`NodeProcess::wait_ready`].
    pub fn spawn(name: &str, data_dir: &Path, extra: &[String]) -> anyhow::Result<NodeProcess> {
        let mut node = NodeProcess {
            name: name.to_string(),
            data_dir: data_dir.to_path_buf(),
            http_port: free_port()?,
            grpc_port: free_port()?,
            extra: extra.to_vec(),
            log: data_dir.with_extension("log"),
            child: None,
        };
        node.start()?;
        Ok(node)
    }

    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    pub fn grpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    /// (Re)starts the process on the same ports and data directory.
    pub fn start(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("opening {}", self.log.display()))?;
        let exe = std::env::current_exe().context("locating this binary")?;
        let child = Command::new(exe)
            .arg("node")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--http-addr")
            .arg(format!("127.0.0.1:{}", self.http_port))
            .arg("--grpc-addr")
            .arg(format!("127.0.0.1:{}", self.grpc_port))
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("starting node {}", self.name))?;
        self.child = Some(child);
        Ok(())
    }

    /// Waits until the node answers gRPC node info; returns a connected client.
    pub async fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<Client> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    bail!(
                        "node {} exited with {status}; see {}",
                        self.name,
                        self.log.display()
                    );
                }
            }
            if let Ok(mut client) = Client::connect(self.grpc_url(), None).await {
                if client.node_info().await.is_ok() {
                    return Ok(client);
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "node {} not ready after {timeout:?}; see {}",
                    self.name,
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill(); // SIGKILL on Unix
            let _ = child.wait();
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}
