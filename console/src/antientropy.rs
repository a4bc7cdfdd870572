//! What the pages show of anti-entropy, read from the nodes' info: a node's last checkpoint
//! verification ("verified at LSN X"), the leader's repair jobs (progress on the collection
//! page, history on `/history`) and a leader outvoted by its followers.

use std::time::{Duration, UNIX_EPOCH};

use hyperspace_sdk::NodeInfo;

use crate::model::CheckSample;

/// One repair job as a table row.
pub struct JobRow {
    pub id: u64,
    pub collection: String,
    pub reason: String,
    pub started: String,
    pub progress: String,
    pub state: String,
    pub class: &'static str,
}

/// "verified at LSN X: ok" or "… 2 buckets drifted (3, 9)"; "not verified yet" otherwise.
pub fn verified_text(check: Option<&CheckSample>) -> (String, &'static str) {
    match check {
        None => ("– not verified yet".into(), "missing"),
        Some(c) if c.drifted.is_empty() => (format!("✓ verified at LSN {}", c.lsn), "ok"),
        Some(c) => {
            let list: Vec<String> = c.drifted.iter().take(8).map(|b| b.to_string()).collect();
            let more = if c.drifted.len() > 8 { ", …" } else { "" };
            let text = format!(
                "✕ at LSN {}: {} bucket(s) drifted ({}{more})",
                c.lsn,
                c.drifted.len(),
                list.join(", ")
            );
            (text, "drift")
        }
    }
}

fn leader(infos: &[Option<NodeInfo>]) -> Option<&NodeInfo> {
    infos.iter().flatten().find(|info| info.role == "leader")
}

/// The leader's repair jobs (newest first), of one collection or all.
pub fn job_rows(infos: &[Option<NodeInfo>], collection: Option<&str>) -> Vec<JobRow> {
    let Some(leader) = leader(infos) else {
        return Vec::new();
    };
    leader
        .repairs
        .iter()
        .filter(|job| collection.is_none_or(|c| c == job.collection))
        .map(|job| {
            let (state, class) = match (job.finished_unix_ms, job.error.as_str()) {
                (0, _) => ("⏳ running".to_string(), "lag"),
                (_, "") => ("✓ done".to_string(), "ok"),
                (_, error) => (format!("✕ failed: {error}"), "drift"),
            };
            JobRow {
                id: job.id,
                collection: job.collection.clone(),
                reason: job.reason.clone(),
                started: clock_time(job.started_unix_ms),
                progress: format!(
                    "{} / {} buckets, {} points sent (buckets {})",
                    job.buckets_done,
                    job.buckets.len(),
                    job.points_sent,
                    bucket_list(&job.buckets)
                ),
                state,
                class,
            }
        })
        .collect()
}

/// "leader disagrees with N of N followers …" when the followers outvote the leader.
pub fn outvoted_text(infos: &[Option<NodeInfo>], collection: &str) -> Option<String> {
    let o = leader(infos)?
        .outvoted
        .iter()
        .find(|o| o.collection == collection)?;
    Some(format!(
        "leader disagrees with {} of {} followers at LSN {} (buckets {}): the followers agree \
         with each other, so nothing is repaired automatically — the leader's copy may be the \
         wrong one. Decide: fail over to a follower, or repair from the leader below.",
        o.followers_agreeing,
        o.followers,
        o.lsn,
        bucket_list(&o.buckets)
    ))
}

fn bucket_list(buckets: &[u32]) -> String {
    let list: Vec<String> = buckets.iter().take(12).map(|b| b.to_string()).collect();
    let more = if buckets.len() > 12 { ", …" } else { "" };
    format!("{}{more}", list.join(", "))
}

/// UTC wall-clock time of day, e.g. "14:03:07 UTC".
pub fn clock_time(unix_ms: u64) -> String {
    let secs = (UNIX_EPOCH + Duration::from_millis(unix_ms))
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let day = secs % 86_400;
    format!(
        "{:02}:{:02}:{:02} UTC",
        day / 3600,
        day % 3600 / 60,
        day % 60
    )
}
