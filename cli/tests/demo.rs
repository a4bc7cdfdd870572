//! `hyperspace demo` as a user runs it: it prints the console address, the console shows the
//! sample collection `default` on three nodes with its 256 heatmap cells, `--scenario drift`
//! makes a follower DRIFT, SIGINT stops everything with exit 0, and a SIGKILLed demo takes
//! its children with it. "Nothing left" is checked over the demo's process group, which the
//! test gives it (`process_group(0)`) and every child inherits.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::console::Console;
use common::{wait_for, BIN};

const START: Duration = Duration::from_secs(180);

struct Demo {
    child: Child,
    lines: mpsc::Receiver<String>,
    printed: Vec<String>,
}

impl Demo {
    /// Starts the demo; `dir` is its `--data-dir` (and where its stderr goes), or with
    /// `temporary` only the stderr's place (the demo makes its own temporary directory).
    fn start(args: &[&str], dir: &std::path::Path, temporary: bool) -> Demo {
        let mut command = Command::new(BIN);
        command.arg("demo").args(args);
        if !temporary {
            command.arg("--data-dir").arg(dir);
        }
        let mut child = command
            .env_remove("HYPERSPACE_API_KEY")
            .process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::File::create(dir.with_extension("err")).unwrap(),
            ))
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Demo {
            child,
            lines,
            printed: Vec::new(),
        }
    }

    /// Waits for a printed line containing `needle`; returns it.
    fn wait_line(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self.printed.iter().find(|l| l.contains(needle)) {
                return line.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.printed.push(line),
                Err(_) => panic!(
                    "the demo never printed {needle:?}; it printed {:?}",
                    self.printed
                ),
            }
        }
    }

    fn console(&mut self) -> Console {
        let line = self.wait_line("console: http://127.0.0.1:", START);
        let port = line
            .trim_start_matches("console: http://127.0.0.1:")
            .trim_end_matches('/')
            .parse()
            .unwrap_or_else(|_| panic!("not `console: http://127.0.0.1:PORT/`: {line:?}"));
        Console::attach(port)
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child, not yet reaped.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, signal) }, 0);
    }

    fn group(&self) -> i32 {
        self.child.id() as i32
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        // SAFETY: kill(2) on a process group this test created.
        unsafe { libc::kill(-self.group(), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// Live (not zombie) processes in process group `pgid`, read from /proc.
fn live_in_group(pgid: i32) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...: the fields after the last ')'.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" {
            out.push(stat[..stat.rfind(')').unwrap() + 1].to_string());
        }
    }
    out
}

#[test]
fn demo_shows_drift_on_the_console_and_stops_cleanly_on_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let mut demo = Demo::start(&["--scenario", "drift"], &dir.path().join("demo"), false);
    let console = demo.console();
    for needle in [
        "leader:",
        "follower-1:",
        "follower-2:",
        "digest:",
        "grpcurl",
        "dashboards:",
    ] {
        demo.wait_line(needle, START);
    }
    wait_for("the sample collection on three nodes", START, || {
        let counts = console.counts();
        counts.len() == 3 && counts.iter().all(|c| *c >= 10_000)
    });
    let cells = console.cells();
    assert_eq!(cells.len(), 256, "the heatmap of `default` has 256 cells");
    assert_eq!(
        cells.iter().map(|(b, _)| *b).collect::<Vec<_>>(),
        (0..256).collect::<Vec<_>>()
    );

    demo.wait_line("drift: corrupted point", START);
    wait_for("a DRIFT verdict on /api/status", START, || {
        console.verdicts().values().any(|v| v == "DRIFT")
    });
    // Under the demo's write load a round can find the follower a write behind (amber):
    // wait for one at an equal clock.
    wait_for("the drifted bucket red on the heatmap", START, || {
        console.cells().iter().any(|(_, state)| state == "drift")
    });
    assert!(
        live_in_group(demo.group()).len() >= 5,
        "the demo, three nodes and the console: {:?}",
        live_in_group(demo.group())
    );

    demo.stop_with(libc::SIGINT);
}

impl Demo {
    /// Sends `signal`; the demo must exit 0 within 30 s leaving no process in its group.
    fn stop_with(&mut self, signal: i32) {
        self.signal(signal);
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the demo did not stop on {signal}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "the demo exited with {status}");
        let left = live_in_group(self.group());
        assert!(left.is_empty(), "left behind after {signal}: {left:?}");
    }
}

#[test]
fn a_sigterm_while_loading_stops_the_demo_and_removes_its_temporary_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut demo = Demo::start(&["--points", "500000"], &dir.path().join("demo"), true);
    demo.console();
    let line = demo.wait_line("data:", START);
    let data = line
        .trim_start_matches("data:")
        .trim()
        .trim_end_matches(" (temporary: removed on exit)")
        .to_string();
    assert!(std::path::Path::new(&data).is_dir(), "{line}");
    // 500,000 points take a while to load: this lands during start-up.
    demo.stop_with(libc::SIGTERM);
    demo.wait_line("interrupted while starting", Duration::from_secs(5));
    assert!(
        !std::path::Path::new(&data).exists(),
        "{data} was left behind"
    );
}

#[test]
fn a_sigkilled_demo_takes_its_children_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut demo = Demo::start(&["--points", "1000"], &dir.path().join("demo"), false);
    demo.console();
    wait_for("the nodes and the console running", START, || {
        live_in_group(demo.group()).len() >= 5
    });
    demo.signal(libc::SIGKILL);
    let _ = demo.child.wait();
    wait_for(
        "no process left in the demo's group",
        Duration::from_secs(15),
        || live_in_group(demo.group()).is_empty(),
    );
}
