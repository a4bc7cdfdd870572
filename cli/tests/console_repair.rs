//! The console's Repair action end to end in a real browser (headless Chromium driven by
//! playwright-core, `console/tests/browser/repair.mjs`): a bucket corrupted on a follower in
//! `detect` mode (so nothing repairs it automatically) turns red, the operator presses
//! Repair, the cell turns green and the repair shows with its progress and on `/history`.
//! A POST without the form's anti-forgery token, or with a wrong one, is refused.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::cluster::{start_follower, CONVERGE};
use common::console::Console;
use common::prom::tool_from;
use common::{call_with, wait_for, Node};
use serde_json::json;

const KEY: &str = "console-repair-key";

/// `node` and playwright-core (`npm ci` in console/tests/browser), or `None` with a loud
/// message locally; under `CI=true` their absence fails (`.ci/run` installs them).
fn browser_driver() -> Option<(PathBuf, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../console/tests/browser");
    let chromium = tool_from("chromium", "chromium")?;
    tool_from("node", "nodejs")?;
    if !dir.join("node_modules/playwright-core").is_dir() {
        let message = "playwright-core is not installed (run `npm ci` in console/tests/browser)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("\n!!!!!!!! SKIPPED: {message} !!!!!!!!\n");
        return None;
    }
    Some((dir.join("repair.mjs"), chromium))
}

fn post_form(console: &Console, body: &str) -> u16 {
    common::http()
        .post(console.url("/collections/default/repair"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .unwrap()
        .status()
        .as_u16()
}

// Proves the Repair button repairs a drifted bucket end to end and forged POSTs are refused.
#[test]
fn console_repair_action_works_in_a_browser_and_needs_the_form_token() {
    let Some((script, chromium)) = browser_driver() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key_flags = ["--api-key", KEY];
    let mut leader_flags = key_flags.to_vec();
    leader_flags.extend(["--checkpoint-interval", "300ms"]);
    let leader = Node::start(&dir.path().join("leader"), &leader_flags);
    let mut flags = key_flags.to_vec();
    flags.extend(["--enable-fault-injection", "--anti-entropy", "detect"]);
    let follower = start_follower(&dir.path().join("f"), &leader.grpc(), &flags);
    let auth = [("x-api-key", KEY)];
    let (status, body) = call_with(
        "POST",
        &format!("{}/api/collections", leader.http()),
        Some(&json!({"name": "default", "dimension": 4, "metric": "l2"})),
        &auth,
    );
    assert_eq!(status, 201, "{body}");
    let put = format!("{}/api/collections/default/points", leader.http());
    let (status, _) = call_with("PUT", &put, Some(&common::load::points(0..300)), &auth);
    assert_eq!(status, 200);
    wait_for("the follower caught up", CONVERGE, || {
        let url = format!("{}/api/collections/default/points/299", follower.http());
        call_with("GET", &url, None, &auth).0 == 200
    });
    let corrupt = format!("{}/api/debug/collections/default/corrupt", follower.http());
    let (status, body) = call_with("POST", &corrupt, Some(&json!({"id": 42})), &auth);
    assert_eq!(status, 200, "{body}");
    let console = Console::start_with(
        &[&follower, &leader],
        &dir.path().join("console.log"),
        &["--api-key", KEY],
    );
    // Forged submissions: no token, a wrong token. Nothing may be asked of the leader.
    assert_eq!(post_form(&console, "buckets=42"), 403);
    assert_eq!(post_form(&console, "token=00000000&buckets=42"), 403);

    let output = Command::new("node")
        .arg(&script)
        .arg(console.url(""))
        .arg("42")
        .env("CHROMIUM", &chromium)
        .output()
        .expect("node runs");
    let log = std::fs::read_to_string(dir.path().join("console.log")).unwrap_or_default();
    assert!(
        output.status.success(),
        "browser run failed:\n{}\n{}\nconsole log:\n{log}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let url = format!("{}/api/collections/default/points/42", follower.http());
    let (_, point) = call_with("GET", &url, None, &auth);
    assert_eq!(
        point["payload"],
        json!({"n": 42}),
        "the follower holds the true point"
    );
    let history = console.page("/history");
    assert!(
        history.contains("leader job #"),
        "the console's own record of the request"
    );
}
