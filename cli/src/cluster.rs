//! Child processes of this binary, for `cluster-test`, the benches and the demo: free ports,
//! spawn, wait until ready, SIGTERM or SIGKILL, restart on the same data directory. A child
//! is killed when its handle drops, so an early return or a panic leaves no process behind,
//! and it gets SIGKILL from the kernel when this process dies (even by SIGKILL): no
//! orphans.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
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
        Self::spawn_on(name, data_dir, extra, None)
    }

    /// [`NodeProcess::spawn`] on the given `(http, grpc)` ports (free ones when `None`).
    pub fn spawn_on(
        name: &str,
        data_dir: &Path,
        extra: &[String],
        ports: Option<(u16, u16)>,
    ) -> anyhow::Result<NodeProcess> {
        let (http_port, grpc_port) = match ports {
            Some(ports) => ports,
            None => (free_port()?, free_port()?),
        };
        let mut node = NodeProcess {
            name: name.to_string(),
            data_dir: data_dir.to_path_buf(),
            http_port,
            grpc_port,
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
        let child = child_command()?
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

    /// SIGTERM (the node drains and exits), SIGKILL if it is still running after `grace`.
    pub fn terminate(&mut self, grace: Duration) {
        if let Some(child) = self.child.take() {
            terminate(child, grace);
        }
    }
}

/// A command that runs this binary as a child which the kernel SIGKILLs when this process
/// dies (Linux `PR_SET_PDEATHSIG`; the children are spawned from the main thread, whose
/// exit is the process's).
pub fn child_command() -> anyhow::Result<Command> {
    // SAFETY: gettid(2) has no preconditions.
    let main_thread = unsafe { libc::gettid() } == std::process::id() as libc::pid_t;
    anyhow::ensure!(
        main_thread,
        "child processes must be spawned from the main thread: their parent-death signal \
         follows the spawning thread"
    );
    let exe = std::env::current_exe().context("locating this binary")?;
    let mut command = Command::new(exe);
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the forked child before exec and only makes two
    // async-signal-safe calls (prctl, getppid) and `_exit`.
    unsafe {
        command.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            // The parent may have died before prctl: then nobody would kill this child.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    Ok(command)
}

/// SIGTERM, then SIGKILL after `grace`; always reaps the child.
pub fn terminate(mut child: Child, grace: Duration) {
    // SAFETY: kill(2) on the pid of a child we have not reaped yet (so not reused).
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}
