//! `hyperspace backup` and `hyperspace restore`.
//!
//! A backup is taken through the node's API (`GET /api/admin/backup`), so it needs no access
//! to the node's disk and works against a live node under load: the node copies every
//! collection in one cut under its write lock and answers once that cut is durable. The file
//! is written next to its destination and renamed into place only after its checksum was
//! verified, so `--out` is either the previous file or a complete new one. A restore makes a
//! new data directory from the file through the node library's crash-safe install path;
//! the node started on it has the source's digests, clocks and LSN as of the backup.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use hyperspace_node::backup::{self, BackupSummary};
use indicatif::{ProgressBar, ProgressStyle};

pub const BACKUP_EXAMPLES: &str = "Examples:
  hyperspace backup --target http://127.0.0.1:50050 --out backup.hsbackup
  HYPERSPACE_API_KEY=s3cret hyperspace backup --target http://10.0.0.1:50050 --out /backups/db1.hsbackup
Restore it with `hyperspace restore --data-dir DIR FILE`, then `hyperspace node --data-dir DIR`.";

#[derive(Args)]
pub struct BackupArgs {
    /// REST URL of the node to back up (leader or follower), e.g. http://127.0.0.1:50050.
    #[arg(long, value_parser = parse_rest_url)]
    target: String,
    /// The backup file to write (replaced atomically if it exists).
    #[arg(long)]
    out: PathBuf,
    /// API key the node requires.
    #[arg(long, env = "HYPERSPACE_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
}

pub const RESTORE_EXAMPLES: &str = "Examples:
  hyperspace restore --data-dir ./restored backup.hsbackup
  hyperspace node --data-dir ./restored          # starts at the backup's LSN, as a leader
  hyperspace node --data-dir ./restored --role follower --leader http://127.0.0.1:50051";

#[derive(Args)]
pub struct RestoreArgs {
    /// The data directory to create (it must not exist or be empty).
    #[arg(long)]
    data_dir: PathBuf,
    /// A file written by `hyperspace backup`.
    file: PathBuf,
}

fn parse_rest_url(text: &str) -> Result<String, String> {
    match text.strip_prefix("http://") {
        Some(host) if !host.is_empty() && !host.trim_end_matches('/').contains('/') => {
            Ok(text.trim_end_matches('/').to_string())
        }
        _ => Err(format!(
            "expected the node's REST URL like http://127.0.0.1:50050 (plain http), got {text:?}"
        )),
    }
}

fn describe(summary: &BackupSummary) -> String {
    let points: u64 = summary.collections.iter().map(|(_, p, _)| p).sum();
    format!(
        "{} collection(s), {points} point(s), consistent at LSN {} (clock {})",
        summary.collections.len(),
        summary.lsn,
        summary.clock
    )
}

pub async fn run_backup(args: BackupArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let spinner = ProgressBar::new_spinner().with_message(format!(
        "asking {} for a consistent image of every collection",
        args.target
    ));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let client = reqwest::Client::new();
    let mut request = client.get(format!("{}/api/admin/backup", args.target));
    if let Some(key) = &args.api_key {
        request = request.header("x-api-key", key);
    }
    let mut response = request
        .send()
        .await
        .with_context(|| format!("connecting to {}", args.target))?;
    spinner.finish_and_clear();
    if !response.status().is_success() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        bail!("the node refused the backup ({status}): {body}");
    }
    let bar = ProgressBar::new(response.content_length().unwrap_or(0));
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} downloading [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.context("reading the backup")? {
        bytes.extend_from_slice(&chunk);
        bar.set_position(bytes.len() as u64);
    }
    bar.finish_and_clear();
    let image = backup::decode(&bytes, Path::new(&args.target))
        .context("the node sent a damaged backup (nothing was written)")?;
    let summary = BackupSummary::of(&image);
    write_atomically(&args.out, &bytes)?;
    println!(
        "backup: {} -> {} ({:.1} MiB in {:.1} s)",
        describe(&summary),
        args.out.display(),
        bytes.len() as f64 / (1 << 20) as f64,
        started.elapsed().as_secs_f64()
    );
    for (name, points, clock) in &summary.collections {
        println!("  {name}: {points} points, logical clock {clock}");
    }
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over `path` and
/// fsyncs the directory: a crash leaves the old file or the new one, never a torn one.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", tmp.path().display()))?;
    tmp.persist(path)
        .with_context(|| format!("renaming the backup to {}", path.display()))?;
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))?;
    Ok(())
}

pub fn run_restore(args: RestoreArgs) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let image = backup::decode(&bytes, &args.file)?;
    let summary = backup::restore(&args.data_dir, image)
        .with_context(|| format!("restoring into {}", args.data_dir.display()))?;
    println!(
        "restore: {} -> {}",
        describe(&summary),
        args.data_dir.display()
    );
    println!(
        "start it with: hyperspace node --data-dir {}",
        args.data_dir.display()
    );
    Ok(())
}
