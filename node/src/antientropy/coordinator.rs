//! The leader's side of anti-entropy: the followers' latest checkpoint results, the
//! decision to repair (or not, when the leader is outvoted), the repair queue and the jobs
//! an operator sees. Pure bookkeeping: no I/O; the tasks in `tasks.rs` do the work.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Instant, SystemTime};

use parking_lot::Mutex;

use super::{unix_ms, CheckResult};
use crate::limits::{ANTIENTROPY_DECISION_WAIT_MS, REPAIR_JOBS_KEPT};
use crate::metrics;

/// One repair: automatic (a checkpoint found drift) or asked by an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairJob {
    pub id: u64,
    pub collection: String,
    /// `checkpoint` or `operator`.
    pub reason: &'static str,
    pub buckets: Vec<u32>,
    pub buckets_done: u32,
    pub points_sent: u64,
    pub started_unix_ms: u64,
    /// 0 while running.
    pub finished_unix_ms: u64,
    pub error: Option<String>,
    /// LSN of the newest repair record written for it (0 before the first).
    pub last_lsn: u64,
}

/// The followers agree with each other at a checkpoint and differ from the leader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outvoted {
    pub collection: String,
    pub lsn: u64,
    pub followers_agreeing: u32,
    pub followers: u32,
    pub buckets: Vec<u32>,
}

/// What the API shows.
#[derive(Debug, Clone, Default)]
pub struct CoordinatorView {
    /// Latest result per follower id and collection.
    pub results: Vec<(String, CheckResult)>,
    /// Newest first.
    pub jobs: Vec<RepairJob>,
    pub outvoted: Vec<Outvoted>,
}

/// One bucket for the repair worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairTask {
    pub job: u64,
    pub collection: String,
    pub bucket: u32,
}

enum BucketState {
    Queued,
    /// Repaired; the newest record of that repair is at this LSN.
    Done(u64),
}

#[derive(Default)]
struct Inner {
    results: BTreeMap<(String, String), (CheckResult, bool)>,
    undecided: BTreeMap<(String, u64), Instant>,
    buckets: BTreeMap<(String, u32), BucketState>,
    queue: VecDeque<RepairTask>,
    jobs: VecDeque<RepairJob>,
    next_job: u64,
    outvoted: BTreeMap<String, Outvoted>,
}

#[derive(Default)]
pub struct Coordinator {
    inner: Mutex<Inner>,
    /// Wakes the repair worker: a report arrived or a repair was asked for.
    pub wake: tokio::sync::Notify,
}

impl Coordinator {
    /// A follower verified a checkpoint; `repair` asks for its drifted buckets to be repaired.
    pub fn report(&self, follower: &str, result: CheckResult, repair: bool) {
        let mut inner = self.inner.lock();
        let key = (result.collection.clone(), result.lsn);
        inner.undecided.entry(key).or_insert_with(Instant::now);
        let slot = (result.collection.clone(), follower.to_string());
        inner.results.insert(slot, (result, repair));
        drop(inner);
        self.wake.notify_one();
    }

    /// Decides every checkpoint whose reports are in (from each of the `connected`
    /// followers, or after `ANTIENTROPY_DECISION_WAIT_MS`). With `auto_repair`, queues the
    /// drifted buckets unless the leader is outvoted or a repair after that checkpoint
    /// already covers them. Returns the jobs it started.
    pub fn decide(&self, connected: &[String], auto_repair: bool) -> Vec<RepairJob> {
        let mut inner = self.inner.lock();
        let wait = std::time::Duration::from_millis(ANTIENTROPY_DECISION_WAIT_MS);
        let due: Vec<(String, u64)> = inner
            .undecided
            .iter()
            .filter(|((collection, lsn), since)| {
                let heard = connected
                    .iter()
                    .filter(|f| {
                        let key = (collection.clone(), f.to_string());
                        inner.results.get(&key).is_some_and(|(r, _)| r.lsn >= *lsn)
                    })
                    .count();
                heard >= connected.len() || since.elapsed() >= wait
            })
            .map(|(key, _)| key.clone())
            .collect();
        let mut started = Vec::new();
        for (collection, lsn) in due {
            inner.undecided.remove(&(collection.clone(), lsn));
            let reports: Vec<(CheckResult, bool)> = connected
                .iter()
                .filter_map(|f| inner.results.get(&(collection.clone(), f.clone())))
                .filter(|(r, _)| r.lsn == lsn)
                .cloned()
                .collect();
            let drifted: Vec<&(CheckResult, bool)> =
                reports.iter().filter(|(r, _)| !r.is_ok()).collect();
            let agree = drifted.len() >= 2
                && drifted.len() == reports.len()
                && drifted
                    .iter()
                    .all(|(r, _)| r.drifted == drifted[0].0.drifted);
            if agree {
                let outvoted = Outvoted {
                    collection: collection.clone(),
                    lsn,
                    followers_agreeing: drifted.len() as u32,
                    followers: connected.len() as u32,
                    buckets: drifted[0].0.drifted.iter().map(|(b, _)| *b).collect(),
                };
                tracing::error!(
                    collection = %collection,
                    lsn,
                    followers = drifted.len(),
                    buckets = ?outvoted.buckets,
                    "the followers agree with each other and differ from the leader at this \
                     checkpoint: nothing is repaired automatically; an operator must decide"
                );
                metrics::leader_outvoted(&collection, drifted.len() as u64);
                inner.outvoted.insert(collection.clone(), outvoted);
                continue;
            }
            if inner.outvoted.get(&collection).is_some_and(|o| o.lsn < lsn) {
                inner.outvoted.remove(&collection);
                metrics::leader_outvoted(&collection, 0);
            }
            if !auto_repair {
                continue;
            }
            let wanted: BTreeSet<u32> = drifted
                .iter()
                .filter(|(_, repair)| *repair)
                .flat_map(|(r, _)| r.drifted.iter().map(|(b, _)| *b))
                .filter(|b| match inner.buckets.get(&(collection.clone(), *b)) {
                    Some(BucketState::Queued) => false,
                    Some(BucketState::Done(repaired)) => *repaired < lsn,
                    None => true,
                })
                .collect();
            if !wanted.is_empty() {
                tracing::warn!(collection = %collection, lsn, buckets = ?wanted,
                    "a follower found drifted buckets at a checkpoint; repairing them");
                started.push(inner.start(&collection, wanted, "checkpoint"));
            }
        }
        started
    }

    /// Queues a repair of `buckets` asked by an operator (buckets already queued are left in
    /// their job).
    pub fn request(&self, collection: &str, buckets: BTreeSet<u32>) -> RepairJob {
        let mut inner = self.inner.lock();
        let queued: BTreeSet<u32> = buckets
            .into_iter()
            .filter(|b| {
                !matches!(
                    inner.buckets.get(&(collection.to_string(), *b)),
                    Some(BucketState::Queued)
                )
            })
            .collect();
        let job = inner.start(collection, queued, "operator");
        drop(inner);
        self.wake.notify_one();
        job
    }

    /// The next bucket to repair, if any.
    pub fn next_task(&self) -> Option<RepairTask> {
        self.inner.lock().queue.front().cloned()
    }

    /// A chunk of `task` was written at `lsn` with `points` points.
    pub fn chunk_written(&self, task: &RepairTask, points: u64, lsn: u64) {
        let mut inner = self.inner.lock();
        if let Some(job) = inner.job_mut(task.job) {
            job.points_sent += points;
            job.last_lsn = lsn;
        }
        metrics::repair_points_sent(&task.collection, points);
    }

    /// `task` is finished: its last record is at `last_lsn`, or it failed with `error`.
    pub fn task_finished(&self, task: &RepairTask, outcome: Result<u64, String>) {
        let mut inner = self.inner.lock();
        if inner.queue.front() == Some(task) {
            inner.queue.pop_front();
        }
        let key = (task.collection.clone(), task.bucket);
        match &outcome {
            Ok(lsn) => inner.buckets.insert(key, BucketState::Done(*lsn)),
            Err(_) => inner.buckets.remove(&key),
        };
        let pending = inner
            .queue
            .iter()
            .filter(|t| t.collection == task.collection)
            .count();
        metrics::repair_buckets_pending(&task.collection, pending as u64);
        if let Some(job) = inner.job_mut(task.job) {
            job.buckets_done += 1;
            if let Err(e) = outcome {
                job.error.get_or_insert(e);
            }
            if job.buckets_done as usize == job.buckets.len() {
                job.finished_unix_ms = unix_ms(SystemTime::now());
            }
        }
    }

    pub fn view(&self) -> CoordinatorView {
        let inner = self.inner.lock();
        CoordinatorView {
            results: inner
                .results
                .iter()
                .map(|((_, follower), (r, _))| (follower.clone(), r.clone()))
                .collect(),
            jobs: inner.jobs.iter().cloned().collect(),
            outvoted: inner.outvoted.values().cloned().collect(),
        }
    }
}

impl Inner {
    fn start(
        &mut self,
        collection: &str,
        buckets: BTreeSet<u32>,
        reason: &'static str,
    ) -> RepairJob {
        self.next_job += 1;
        let id = self.next_job;
        for bucket in &buckets {
            self.buckets
                .insert((collection.to_string(), *bucket), BucketState::Queued);
            self.queue.push_back(RepairTask {
                job: id,
                collection: collection.to_string(),
                bucket: *bucket,
            });
        }
        let pending = self
            .queue
            .iter()
            .filter(|t| t.collection == collection)
            .count();
        metrics::repair_buckets_pending(collection, pending as u64);
        let now = unix_ms(SystemTime::now());
        let job = RepairJob {
            id,
            collection: collection.to_string(),
            reason,
            finished_unix_ms: if buckets.is_empty() { now } else { 0 },
            buckets: buckets.into_iter().collect(),
            buckets_done: 0,
            points_sent: 0,
            started_unix_ms: now,
            error: None,
            last_lsn: 0,
        };
        self.jobs.push_front(job.clone());
        self.jobs.truncate(REPAIR_JOBS_KEPT);
        job
    }

    fn job_mut(&mut self, id: u64) -> Option<&mut RepairJob> {
        self.jobs.iter_mut().find(|j| j.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(collection: &str, lsn: u64, drifted: &[(u32, u64)]) -> CheckResult {
        CheckResult {
            collection: collection.into(),
            lsn,
            drifted: drifted.to_vec(),
            verified_unix_ms: 0,
        }
    }

    fn followers(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    // Proves one drifted follower gets its buckets repaired once, and a report from before
    // the repair finished does not queue it again while a later one does.
    #[test]
    fn one_follower_is_repaired_once_per_checkpoint_after_the_repair() {
        let c = Coordinator::default();
        c.report("f1", result("c", 10, &[(3, 7)]), true);
        let jobs = c.decide(&followers(&["f1"]), true);
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].buckets, vec![3]);
        let task = c.next_task().unwrap();
        c.report("f1", result("c", 12, &[(3, 7)]), true);
        assert!(
            c.decide(&followers(&["f1"]), true).is_empty(),
            "still queued"
        );
        c.chunk_written(&task, 5, 20);
        c.task_finished(&task, Ok(20));
        assert!(c.next_task().is_none());
        let view = c.view();
        assert_eq!(view.jobs[0].points_sent, 5);
        assert_ne!(view.jobs[0].finished_unix_ms, 0);
        c.report("f1", result("c", 15, &[(3, 7)]), true);
        assert!(
            c.decide(&followers(&["f1"]), true).is_empty(),
            "older than the repair"
        );
        c.report("f1", result("c", 25, &[(3, 7)]), true);
        assert_eq!(
            c.decide(&followers(&["f1"]), true).len(),
            1,
            "drift after the repair"
        );
    }

    // Proves two followers agreeing against the leader block automatic repair and are
    // reported, one drifted follower of two is repaired, and detect reports repair nothing.
    #[test]
    fn outvoted_leader_is_not_repaired_automatically() {
        let c = Coordinator::default();
        let both = followers(&["f1", "f2"]);
        c.report("f1", result("c", 10, &[(3, 7)]), true);
        assert!(c.decide(&both, true).is_empty(), "waits for f2's report");
        c.report("f2", result("c", 10, &[(3, 7)]), true);
        assert!(c.decide(&both, true).is_empty());
        let outvoted = &c.view().outvoted[0];
        assert_eq!((outvoted.followers_agreeing, outvoted.followers), (2, 2));
        assert_eq!(outvoted.buckets, vec![3]);
        c.report("f1", result("c", 20, &[(3, 7)]), true);
        c.report("f2", result("c", 20, &[]), true);
        assert_eq!(
            c.decide(&both, true).len(),
            1,
            "the leader has the majority"
        );
        assert!(c.view().outvoted.is_empty());
        let d = Coordinator::default();
        d.report("f1", result("c", 10, &[(3, 7)]), false);
        assert!(
            d.decide(&followers(&["f1"]), true).is_empty(),
            "detect asks nothing"
        );
    }
}
