//! The leader's two anti-entropy tasks: the checkpointer (a checkpoint of every collection
//! each `--checkpoint-records` client writes or `--checkpoint-interval`, also when idle) and
//! the repair worker (decides on the followers' reports and writes repair records, one
//! chunk at a time, at most `--repair-points-per-second`). Both idle on a follower.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::coordinator::RepairTask;
use super::Mode;
use crate::engine::Engine;
use crate::error::Error;
use crate::limits::ANTIENTROPY_TICK_MS;
use crate::model::RoleState;
use crate::replication::follower::blocking;
use crate::replication::Replication;

/// Writes checkpoints while this node leads and its mode is not `off`.
pub async fn checkpointer(
    engine: Arc<Engine>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    if engine.anti_entropy() == Mode::Off {
        return;
    }
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = engine.checkpoint_due().notified() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if engine.role() != RoleState::Leader {
            continue;
        }
        let e = Arc::clone(&engine);
        match blocking(move || e.checkpoint_all()).await {
            Ok(taken) => tracing::debug!(?taken, "checkpoints written"),
            Err(Error::NotLeader { .. }) => {}
            Err(e) => tracing::warn!(error = %e, "writing checkpoints failed"),
        }
    }
}

/// Decides on the followers' reports and performs queued repairs while this node leads.
pub async fn repair_worker(
    engine: Arc<Engine>,
    replication: Arc<Replication>,
    points_per_second: u64,
    mut stop: watch::Receiver<bool>,
) {
    let coordinator = &replication.anti_entropy;
    loop {
        tokio::select! {
            _ = coordinator.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(ANTIENTROPY_TICK_MS)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if engine.role() != RoleState::Leader {
            continue;
        }
        coordinator.retain_collections(&engine.collection_names());
        if engine.anti_entropy() != Mode::Off {
            let connected: Vec<String> = replication
                .followers()
                .into_iter()
                .filter(|f| f.connected)
                .map(|f| f.node_id)
                .collect();
            coordinator.decide(&connected, engine.anti_entropy() == Mode::Repair);
        }
        // Repairs an operator asked for run in every mode.
        while let Some(task) = coordinator.next_task() {
            let outcome = tokio::select! {
                outcome = repair_bucket(&engine, &replication, &task, points_per_second) => outcome,
                _ = stop.wait_for(|s| *s) => return,
            };
            match &outcome {
                Ok(lsn) => tracing::info!(collection = %task.collection, bucket = task.bucket,
                    last_lsn = lsn, "bucket repair written"),
                Err(e) => tracing::warn!(collection = %task.collection, bucket = task.bucket,
                    error = %e, "bucket repair failed"),
            }
            coordinator.task_finished(&task, outcome);
        }
    }
}

/// Writes every chunk of one bucket; returns the LSN of the last.
async fn repair_bucket(
    engine: &Arc<Engine>,
    replication: &Replication,
    task: &RepairTask,
    points_per_second: u64,
) -> std::result::Result<u64, String> {
    let mut from = 0;
    loop {
        let e = Arc::clone(engine);
        let (collection, bucket) = (task.collection.clone(), task.bucket);
        let written = blocking(move || e.repair_chunk(&collection, bucket, from))
            .await
            .map_err(|e| e.to_string())?;
        replication
            .anti_entropy
            .chunk_written(task, written.points, written.lsn);
        let pause = written.points as f64 / points_per_second.max(1) as f64;
        tokio::time::sleep(Duration::from_secs_f64(pause)).await;
        match written.next_from {
            Some(next) => from = next,
            None => return Ok(written.lsn),
        }
    }
}
