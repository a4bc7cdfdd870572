//! The leader's side of anti-entropy: the followers' latest checkpoint results, the
//! decision to repair (or not, when the leader is outvoted), the repair queue and the jobs
//! an operator sees. Pure bookkeeping: no I/O; the tasks in `tasks.rs` do the work.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use parking_lot::Mutex;

use super::{unix_ms, CheckResult};
use crate::limits::{
    ANTIENTROPY_DECISION_WAIT_MS, REPAIR_JOBS_KEPT, REPAIR_RETRY_MS, UNDECIDED_MAX,
};
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
    /// Repaired; the newest record of that repair is at `lsn`, written at `at`.
    Done {
        lsn: u64,
        at: Instant,
    },
}

/// The reports of one checkpoint, kept until it is decided.
struct Pending {
    since: Instant,
    /// Follower id → (result, repair asked).
    reports: BTreeMap<String, (CheckResult, bool)>,
}

#[derive(Default)]
struct Inner {
    /// Latest result per (collection, follower id), for the API.
    results: BTreeMap<(String, String), (CheckResult, bool)>,
    undecided: BTreeMap<(String, u64), Pending>,
    /// Followers that said they verify no checkpoint (`--anti-entropy off`).
    non_voters: BTreeSet<String>,
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
        let pending = inner.undecided.entry(key).or_insert_with(|| Pending {
            since: Instant::now(),
            reports: BTreeMap::new(),
        });
        pending
            .reports
            .insert(follower.to_string(), (result.clone(), repair));
        if inner.undecided.len() > UNDECIDED_MAX {
            let oldest = inner
                .undecided
                .iter()
                .min_by_key(|(_, p)| p.since)
                .map(|(key, _)| key.clone());
            if let Some(key) = oldest {
                inner.undecided.remove(&key);
            }
        }
        let slot = (result.collection.clone(), follower.to_string());
        inner.results.insert(slot, (result, repair));
        drop(inner);
        self.wake.notify_one();
    }

    /// Decides every checkpoint whose reports are in: from each connected follower that
    /// verifies checkpoints (the *voters*: not in `off` mode), or `ANTIENTROPY_DECISION_WAIT_MS` after the
    /// first. With two or more voters a decision needs every voter's report of that very
    /// checkpoint: a partial set is dropped undecided (the next checkpoint tries again), so
    /// a lagging follower can never let the leader's data overwrite a majority. With
    /// `auto_repair`, queues the drifted buckets unless the leader is outvoted or a repair
    /// after that checkpoint (or one within `REPAIR_RETRY_MS`) already covers them. Returns
    /// the jobs it started.
    pub fn decide(&self, connected: &[String], auto_repair: bool) -> Vec<RepairJob> {
        let mut inner = self.inner.lock();
        let wait = Duration::from_millis(ANTIENTROPY_DECISION_WAIT_MS);
        let voters = inner.voters(connected);
        let heard_all = |p: &Pending| voters.iter().all(|f| p.reports.contains_key(f));
        let due: Vec<(String, u64)> = inner
            .undecided
            .iter()
            .filter(|(_, pending)| heard_all(pending) || pending.since.elapsed() >= wait)
            .map(|(key, _)| key.clone())
            .collect();
        let mut started = Vec::new();
        for (collection, lsn) in due {
            let Some(pending) = inner.undecided.remove(&(collection.clone(), lsn)) else {
                continue;
            };
            if voters.len() >= 2 && !heard_all(&pending) {
                tracing::info!(collection = %collection, lsn, heard = pending.reports.len(),
                    voters = voters.len(), "checkpoint undecided: not every follower reported it");
                continue;
            }
            let reports: Vec<(CheckResult, bool)> = pending.reports.into_values().collect();
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
            let retry = Duration::from_millis(REPAIR_RETRY_MS);
            let wanted: BTreeSet<u32> = drifted
                .iter()
                .filter(|(_, repair)| *repair)
                .flat_map(|(r, _)| r.drifted.iter().map(|(b, _)| *b))
                .filter(|b| match inner.buckets.get(&(collection.clone(), *b)) {
                    Some(BucketState::Queued) => false,
                    Some(BucketState::Done { lsn: repaired, at }) => {
                        *repaired < lsn && at.elapsed() >= retry
                    }
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

    /// Notes whether a follower verifies checkpoints (from its hello): only those vote.
    pub fn set_voter(&self, follower: &str, verifies: bool) {
        let mut inner = self.inner.lock();
        match verifies {
            true => inner.non_voters.remove(follower),
            false => inner.non_voters.insert(follower.to_string()),
        };
    }

    /// Forgets everything about collections that no longer exist.
    pub fn retain_collections(&self, live: &BTreeSet<String>) {
        let mut inner = self.inner.lock();
        inner.results.retain(|(c, _), _| live.contains(c));
        inner.undecided.retain(|(c, _), _| live.contains(c));
        inner.buckets.retain(|(c, _), _| live.contains(c));
        let gone: Vec<String> = inner
            .outvoted
            .keys()
            .filter(|c| !live.contains(*c))
            .cloned()
            .collect();
        for collection in gone {
            inner.outvoted.remove(&collection);
            metrics::leader_outvoted(&collection, 0);
        }
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
            Ok(lsn) => inner.buckets.insert(
                key,
                BucketState::Done {
                    lsn: *lsn,
                    at: Instant::now(),
                },
            ),
            Err(_) => inner.buckets.remove(&key),
        };
        inner.publish_pending(&task.collection);
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
    /// The connected followers that verify checkpoints.
    fn voters(&self, connected: &[String]) -> Vec<String> {
        connected
            .iter()
            .filter(|f| !self.non_voters.contains(*f))
            .cloned()
            .collect()
    }

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
        self.publish_pending(collection);
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

    /// Exports how many buckets of `collection` wait in the queue.
    fn publish_pending(&self, collection: &str) {
        let pending = self
            .queue
            .iter()
            .filter(|t| t.collection == collection)
            .count();
        metrics::repair_buckets_pending(collection, pending as u64);
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

    // Proves one drifted follower gets its buckets repaired once, and neither a report from
    // before the repair finished nor one right after it (within REPAIR_RETRY_MS) queues it
    // again: a drift that outlasts its repair is left to the alert and an operator.
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
        let again = c.decide(&followers(&["f1"]), true);
        assert!(again.is_empty(), "within the retry window");
        c.report("f1", result("c", 26, &[(4, 7)]), true);
        assert_eq!(
            c.decide(&followers(&["f1"]), true).len(),
            1,
            "another bucket"
        );
    }

    // Proves two followers agreeing against the leader block automatic repair and are
    // reported, one drifted follower of two is repaired, and detect reports repair nothing.
    #[test]
    fn outvoted_leader_is_not_repaired_automatically() {
        let c = Coordinator::default();
        let both = followers(&["f1", "f2"]);
        c.report("f1", result("c", 5, &[]), true);
        c.report("f2", result("c", 5, &[]), true);
        assert!(c.decide(&both, true).is_empty());
        c.report("f1", result("c", 10, &[(3, 7)]), true);
        assert!(c.decide(&both, true).is_empty(), "waits for f2's report");
        // A lagging f2: f1 moves on to the next checkpoint first; 10 still waits for f2.
        c.report("f1", result("c", 12, &[(3, 7)]), true);
        assert!(c.decide(&both, true).is_empty(), "10 and 12 wait for f2");
        c.report("f2", result("c", 10, &[(3, 7)]), true);
        assert!(c.decide(&both, true).is_empty());
        c.report("f2", result("c", 12, &[(3, 7)]), true);
        assert!(c.decide(&both, true).is_empty(), "still outvoted at 12");
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
        // The first report of all already waits for the other voter.
        let e = Coordinator::default();
        e.report("f1", result("c", 10, &[(3, 7)]), true);
        assert!(e.decide(&both, true).is_empty(), "f2 votes too");
        // A follower in off mode does not vote: the one verifying follower decides.
        e.set_voter("f2", false);
        assert_eq!(e.decide(&both, true).len(), 1);
        let d = Coordinator::default();
        d.report("f1", result("c", 10, &[(3, 7)]), false);
        assert!(
            d.decide(&followers(&["f1"]), true).is_empty(),
            "detect asks nothing"
        );
    }

    // Proves the undecided checkpoints are bounded and the oldest report goes first, not the
    // lowest collection name.
    #[test]
    fn undecided_checkpoints_are_bounded_oldest_first() {
        let c = Coordinator::default();
        c.report("f1", result("z", 1, &[]), true);
        for pending in c.inner.lock().undecided.values_mut() {
            pending.since = Instant::now().checked_sub(Duration::from_secs(1)).unwrap();
        }
        for lsn in 2..=UNDECIDED_MAX as u64 + 1 {
            c.report("f1", result("a", lsn, &[]), true);
        }
        let inner = c.inner.lock();
        assert_eq!(inner.undecided.len(), UNDECIDED_MAX);
        assert!(
            !inner.undecided.contains_key(&("z".into(), 1)),
            "oldest dropped"
        );
        assert!(inner.undecided.contains_key(&("a".into(), 2)));
    }

    // Proves that once the wait is over a partial set of voters is dropped undecided, also
    // when the report of a follower that is gone makes up the number of voters.
    #[test]
    fn partial_set_after_the_wait_is_dropped_undecided() {
        let c = Coordinator::default();
        let both = followers(&["f1", "f2"]);
        c.report("f1", result("c", 10, &[(3, 7)]), true);
        c.report("gone", result("c", 10, &[(3, 7)]), true);
        assert!(c.decide(&both, true).is_empty(), "waits for f2");
        let wait = Duration::from_millis(ANTIENTROPY_DECISION_WAIT_MS + 1);
        for pending in c.inner.lock().undecided.values_mut() {
            pending.since = Instant::now().checked_sub(wait).unwrap();
        }
        assert!(c.decide(&both, true).is_empty(), "f2 never reported");
        assert!(c.inner.lock().undecided.is_empty(), "dropped");
        assert!(
            c.view().outvoted.is_empty(),
            "no verdict from a partial set"
        );
    }
}
