//! The console's verdict model: one poll round in, one view of the cluster out.
//!
//! The poller turns node answers into a [`Round`]; [`evaluate`] compares every node's digest of
//! every collection with the leader's digest from the same round (DESIGN.md §7); the pages,
//! `/api/status` and the console metrics all render the resulting [`RoundView`], so they can
//! never disagree. This module is pure: no I/O, no history, no points. It names the buckets that
//! differ; fetching their entries (drill-down) happens elsewhere.
//!
//! Decisions beyond §7, made once here:
//! - The leader is the one reachable node that says it is leader. With none, or with several,
//!   there is no reference digest: `leader` is `None`, `leader_problem` says why, reachable
//!   nodes get `verdict: None` (not judged), down nodes stay UNREACHABLE, and collections have
//!   no heatmap cells, because a colour against a guessed reference would be a false claim.
//! - A collection absent on a node is MISSING there, the leader included. A collection a node
//!   has but the leader lacks is DIVERGED on that node (it holds writes the leader does not),
//!   compared bucket by bucket with an empty digest.
//! - A bucket differs when its hash or its point count differs from the leader's.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// Buckets per digest (DESIGN.md §3: `bucket = id % 256`).
pub const BUCKETS: usize = 256;

/// A bucket without live points, as (hash, count).
const EMPTY_BUCKET: (u64, u64) = (0, 0);

/// `leader_problem` when no reachable node says it is leader.
pub const NO_LEADER_REACHABLE: &str = "no leader reachable";

/// One collection's digest as a node reported it (DESIGN.md §3 and §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestSample {
    pub logical_clock: u64,
    pub state_hash: u64,
    pub count: u64,
    pub buckets: Vec<u64>,
    pub bucket_counts: Vec<u64>,
}

impl DigestSample {
    /// Bucket `b` as (hash, count). The poller should refuse vectors that are not [`BUCKETS`]
    /// long; a short one still reads as empty buckets here rather than panicking the console.
    fn bucket(&self, b: usize) -> (u64, u64) {
        let hash = self.buckets.get(b).copied().unwrap_or(0);
        let count = self.bucket_counts.get(b).copied().unwrap_or(0);
        (hash, count)
    }
}

/// The role a node reports for itself ("leader" / "follower"); the console never infers roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    Leader,
    Follower,
}

/// A node's latest checkpoint verification of one collection (anti-entropy): at `lsn` it
/// compared its buckets with the leader's at the same log position, which is exact even
/// while it lags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckSample {
    pub lsn: u64,
    /// Buckets that differed from the leader's at that LSN.
    pub drifted: Vec<usize>,
}

/// What one reachable node answered in a round.
#[derive(Debug, Clone)]
pub struct NodeSample {
    pub node_id: String,
    pub addr: String,
    pub role: NodeRole,
    pub collections: BTreeMap<String, DigestSample>,
    /// Its latest checkpoint verification per collection (followers only).
    pub checks: BTreeMap<String, CheckSample>,
}

/// One node's answer in a round: its sample, or why it could not be read.
#[derive(Debug, Clone)]
pub enum NodePoll {
    Up(NodeSample),
    Down {
        addr: String,
        node_id: Option<String>,
        error: String,
    },
}

/// One poll round, in poll order (followers first, leader last).
#[derive(Debug, Clone)]
pub struct Round {
    pub nodes: Vec<NodePoll>,
}

/// A node's state for one collection against the leader (DESIGN.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    InSync,
    Lagging,
    Drift,
    Diverged,
    Missing,
    Unreachable,
}

impl Verdict {
    /// Every verdict, in the order the metrics and pages list them.
    pub const ALL: [Verdict; 6] = [
        Verdict::InSync,
        Verdict::Lagging,
        Verdict::Drift,
        Verdict::Diverged,
        Verdict::Missing,
        Verdict::Unreachable,
    ];

    /// The name on the wire (`/api/status`, the `verdict` label of the console's metrics).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::InSync => "IN_SYNC",
            Verdict::Lagging => "LAGGING",
            Verdict::Drift => "DRIFT",
            Verdict::Diverged => "DIVERGED",
            Verdict::Missing => "MISSING",
            Verdict::Unreachable => "UNREACHABLE",
        }
    }
}

/// One heatmap cell's colour, rendered as `data-state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CellState {
    Ok,
    Lag,
    Drift,
    Empty,
}

/// The node every digest of the round is compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaderRef {
    pub node_id: String,
    pub addr: String,
}

/// One node's verdict on one collection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NodeCollectionView {
    /// `None` only for a down node that has never answered.
    pub node_id: Option<String>,
    pub addr: String,
    /// `None` only when the round has no single leader and this node is reachable.
    pub verdict: Option<Verdict>,
    /// Leader clock − node clock; `None` unless both have the collection.
    pub clock_lag: Option<i64>,
    pub count: Option<u64>,
    /// Buckets that differ from the leader's, counted only for DRIFT and DIVERGED.
    pub drifted_buckets: u32,
    /// Every bucket that differs from the leader's, whatever the verdict (lag shows here).
    pub differing_buckets: Vec<usize>,
    /// The node's latest checkpoint verification ("verified at LSN X").
    pub verified: Option<CheckSample>,
}

/// One node's point count in one bucket; `None` when the node lacks the collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeBucketCount {
    pub node_id: String,
    pub count: Option<u64>,
}

/// One heatmap cell: a bucket, its colour, and the facts behind the colour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub bucket: usize,
    pub state: CellState,
    /// Every reachable node, in poll order.
    pub counts: Vec<NodeBucketCount>,
    /// Reachable nodes whose bucket differs from the leader's, in poll order.
    pub differs_on: Vec<String>,
    /// Nodes whose latest checkpoint found this bucket drifted (exact even while lagging).
    pub checkpoint_drift_on: Vec<String>,
}

/// One collection across the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollectionView {
    pub name: String,
    /// Every polled node, in poll order.
    pub nodes: Vec<NodeCollectionView>,
    /// [`BUCKETS`] cells in bucket order; empty when the round has no single leader.
    pub cells: Vec<Cell>,
}

/// Everything the console concludes from one round (node up/down comes from the [`Round`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoundView {
    pub leader: Option<LeaderRef>,
    /// Why there is no leader to compare with, e.g. [`NO_LEADER_REACHABLE`].
    pub leader_problem: Option<String>,
    /// Every collection seen on any reachable node, sorted.
    pub collection_names: Vec<String>,
    /// One view per entry of `collection_names`, in the same order.
    pub collections: Vec<CollectionView>,
}

impl RoundView {
    pub fn collection(&self, name: &str) -> Option<&CollectionView> {
        self.collections.iter().find(|view| view.name == name)
    }

    pub fn node_view(&self, collection: &str, node_id: &str) -> Option<&NodeCollectionView> {
        let nodes = &self.collection(collection)?.nodes;
        nodes
            .iter()
            .find(|view| view.node_id.as_deref() == Some(node_id))
    }

    pub fn verdict(&self, collection: &str, node_id: &str) -> Option<Verdict> {
        self.node_view(collection, node_id)?.verdict
    }

    /// `hyperspace_console_drift`: true only at equal clock with a different state_hash.
    pub fn drift(&self, collection: &str, node_id: &str) -> bool {
        self.verdict(collection, node_id) == Some(Verdict::Drift)
    }

    /// `hyperspace_console_clock_ahead`: true when the node is DIVERGED, which includes a
    /// collection that only the node has.
    pub fn clock_ahead(&self, collection: &str, node_id: &str) -> bool {
        self.verdict(collection, node_id) == Some(Verdict::Diverged)
    }
}

/// Judges one round; see the module doc for what happens without a single leader.
pub fn evaluate(round: &Round) -> RoundView {
    let (leader, leader_problem) = match find_leader(round) {
        Ok(leader) => (Some(leader), None),
        Err(problem) => (None, Some(problem)),
    };
    let collection_names = collection_names(round);
    let collections = collection_names
        .iter()
        .map(|name| collection_view(round, leader, name))
        .collect();
    RoundView {
        leader: leader.map(|leader| LeaderRef {
            node_id: leader.node_id.clone(),
            addr: leader.addr.clone(),
        }),
        leader_problem,
        collection_names,
        collections,
    }
}

fn up_nodes(round: &Round) -> impl Iterator<Item = &NodeSample> + '_ {
    round.nodes.iter().filter_map(|poll| match poll {
        NodePoll::Up(sample) => Some(sample),
        NodePoll::Down { .. } => None,
    })
}

fn find_leader(round: &Round) -> Result<&NodeSample, String> {
    let is_leader = |sample: &&NodeSample| sample.role == NodeRole::Leader;
    let claimants: Vec<&NodeSample> = up_nodes(round).filter(is_leader).collect();
    match claimants.as_slice() {
        [leader] => Ok(*leader),
        [] => Err(NO_LEADER_REACHABLE.to_string()),
        several => {
            let ids: Vec<&str> = several.iter().map(|node| node.node_id.as_str()).collect();
            let ids = ids.join(", ");
            Err(format!("{} nodes claim to be leader: {ids}", several.len()))
        }
    }
}

fn collection_names(round: &Round) -> Vec<String> {
    let names: BTreeSet<&String> = up_nodes(round)
        .flat_map(|node| node.collections.keys())
        .collect();
    names.into_iter().cloned().collect()
}

/// A reachable node's digest of the collection under evaluation, with its verdict
/// (`None` when the round has no single leader).
struct Reading<'a> {
    sample: &'a NodeSample,
    digest: Option<&'a DigestSample>,
    verdict: Option<Verdict>,
    check: Option<&'a CheckSample>,
}

fn collection_view(round: &Round, leader: Option<&NodeSample>, name: &str) -> CollectionView {
    let reference = leader.and_then(|leader| leader.collections.get(name));
    let mut nodes = Vec::with_capacity(round.nodes.len());
    let mut readings = Vec::with_capacity(round.nodes.len());
    for poll in &round.nodes {
        let sample = match poll {
            NodePoll::Up(sample) => sample,
            NodePoll::Down { addr, node_id, .. } => {
                nodes.push(unreachable_view(addr, node_id.as_ref()));
                continue;
            }
        };
        let digest = sample.collections.get(name);
        let verdict = leader.map(|_| verdict_of(reference, digest));
        let reading = Reading {
            sample,
            digest,
            verdict,
            check: sample.checks.get(name),
        };
        nodes.push(reachable_view(&reading, reference));
        readings.push(reading);
    }
    let cells = match leader {
        Some(_) => (0..BUCKETS)
            .map(|bucket| cell(bucket, reference, &readings))
            .collect(),
        None => Vec::new(),
    };
    CollectionView {
        name: name.to_string(),
        nodes,
        cells,
    }
}

/// §7: the clock decides first (equal clocks mean the same write prefix), then the hash.
fn verdict_of(reference: Option<&DigestSample>, digest: Option<&DigestSample>) -> Verdict {
    let (reference, digest) = match (reference, digest) {
        (_, None) => return Verdict::Missing,
        (None, Some(_)) => return Verdict::Diverged,
        (Some(reference), Some(digest)) => (reference, digest),
    };
    match digest.logical_clock.cmp(&reference.logical_clock) {
        Ordering::Less => Verdict::Lagging,
        Ordering::Greater => Verdict::Diverged,
        Ordering::Equal if digest.state_hash == reference.state_hash => Verdict::InSync,
        Ordering::Equal => Verdict::Drift,
    }
}

fn reachable_view(reading: &Reading<'_>, reference: Option<&DigestSample>) -> NodeCollectionView {
    let differing_buckets = match (reading.verdict, reading.digest) {
        (Some(_), Some(digest)) => differing_buckets(reference, digest),
        _ => Vec::new(),
    };
    // A lagging node's differences are writes still on their way, not drift.
    let drifted_buckets = match reading.verdict {
        Some(Verdict::Drift | Verdict::Diverged) => differing_buckets.len() as u32,
        _ => 0,
    };
    let clock_lag = reference
        .zip(reading.digest)
        .map(|(leader, node)| signed_clock_lag(leader.logical_clock, node.logical_clock));
    NodeCollectionView {
        node_id: Some(reading.sample.node_id.clone()),
        addr: reading.sample.addr.clone(),
        verdict: reading.verdict,
        clock_lag,
        count: reading.digest.map(|digest| digest.count),
        drifted_buckets,
        differing_buckets,
        verified: reading.check.cloned(),
    }
}

fn unreachable_view(addr: &str, node_id: Option<&String>) -> NodeCollectionView {
    NodeCollectionView {
        node_id: node_id.cloned(),
        addr: addr.to_string(),
        verdict: Some(Verdict::Unreachable),
        ..NodeCollectionView::default()
    }
}

/// Leader clock − node clock, saturated at the i64 range (real clocks never get near it).
fn signed_clock_lag(leader_clock: u64, node_clock: u64) -> i64 {
    let lag = i128::from(leader_clock) - i128::from(node_clock);
    i64::try_from(lag).unwrap_or(if lag < 0 { i64::MIN } else { i64::MAX })
}

/// Bucket `b` of the reference; a collection the leader lacks compares as empty.
fn reference_bucket(reference: Option<&DigestSample>, b: usize) -> (u64, u64) {
    reference.map_or(EMPTY_BUCKET, |digest| digest.bucket(b))
}

fn differing_buckets(reference: Option<&DigestSample>, digest: &DigestSample) -> Vec<usize> {
    let differs = |b: &usize| digest.bucket(*b) != reference_bucket(reference, *b);
    (0..BUCKETS).filter(differs).collect()
}

/// §7 colour: red if a node at equal clock (or a DIVERGED one) differs, or if a node's latest
/// checkpoint found the bucket drifted (exact at its LSN, even while it lags); amber if only
/// lagging nodes differ, grey if all agree on an empty bucket, green otherwise. MISSING and down nodes
/// have no digest here, so they never colour a cell.
fn cell(bucket: usize, reference: Option<&DigestSample>, readings: &[Reading<'_>]) -> Cell {
    let expected = reference_bucket(reference, bucket);
    let differs = |reading: &&Reading<'_>| {
        reading
            .digest
            .is_some_and(|digest| digest.bucket(bucket) != expected)
    };
    let differing: Vec<&Reading<'_>> = readings.iter().filter(differs).collect();
    let lagging = |reading: &&Reading<'_>| reading.verdict == Some(Verdict::Lagging);
    let checkpoint_drift_on: Vec<String> = readings
        .iter()
        .filter(|r| r.check.is_some_and(|c| c.drifted.contains(&bucket)))
        .map(|r| r.sample.node_id.clone())
        .collect();
    let state = if !differing.iter().all(lagging) || !checkpoint_drift_on.is_empty() {
        CellState::Drift
    } else if !differing.is_empty() {
        CellState::Lag
    } else if expected == EMPTY_BUCKET {
        CellState::Empty
    } else {
        CellState::Ok
    };
    let counts = readings.iter().map(|reading| NodeBucketCount {
        node_id: reading.sample.node_id.clone(),
        count: reading.digest.map(|digest| digest.bucket(bucket).1),
    });
    let differs_on = differing
        .iter()
        .map(|reading| reading.sample.node_id.clone());
    Cell {
        bucket,
        state,
        counts: counts.collect(),
        differs_on: differs_on.collect(),
        checkpoint_drift_on,
    }
}

#[cfg(test)]
mod tests {
    use super::NodeRole::{Follower, Leader};
    use super::*;

    const COLLECTION: &str = "c";

    #[test]
    fn verdict_names_are_the_wire_names() {
        for verdict in Verdict::ALL {
            let wire = serde_json::to_value(verdict).unwrap();
            assert_eq!(wire, verdict.as_str(), "{verdict:?}");
        }
    }

    /// Three points as (bucket, entry hash), in buckets 1, 2 and 3.
    const BASE: [(usize, u64); 3] = [(1, 0xA1), (2, 0xB2), (3, 0xC3)];

    /// A self-consistent digest of (bucket, entry hash) entries: state_hash is the XOR of the
    /// buckets and count their sum, as DESIGN.md §3 defines them.
    fn digest(logical_clock: u64, entries: &[(usize, u64)]) -> DigestSample {
        let (mut buckets, mut bucket_counts) = (vec![0_u64; BUCKETS], vec![0_u64; BUCKETS]);
        for &(bucket, entry_hash) in entries {
            buckets[bucket] ^= entry_hash;
            bucket_counts[bucket] += 1;
        }
        let state_hash = buckets.iter().fold(0_u64, |acc, hash| acc ^ hash);
        let count: u64 = bucket_counts.iter().sum();
        DigestSample {
            logical_clock,
            state_hash,
            count,
            buckets,
            bucket_counts,
        }
    }

    /// BASE plus one more entry.
    fn base_with(logical_clock: u64, extra: (usize, u64)) -> DigestSample {
        digest(logical_clock, &[BASE[0], BASE[1], BASE[2], extra])
    }

    /// A reachable node holding COLLECTION as `sample` (`None`: without it).
    fn node(node_id: &str, role: NodeRole, sample: Option<DigestSample>) -> NodePoll {
        let collections = sample.map(|digest| (COLLECTION.to_string(), digest));
        let (node_id, addr) = (node_id.to_string(), format!("http://{node_id}:50051"));
        let collections = collections.into_iter().collect();
        NodePoll::Up(NodeSample {
            node_id,
            addr,
            role,
            collections,
            checks: BTreeMap::new(),
        })
    }

    fn down(node_id: &str) -> NodePoll {
        let (addr, error) = (format!("http://{node_id}:50051"), "refused".to_string());
        let node_id = Some(node_id.to_string());
        NodePoll::Down {
            addr,
            node_id,
            error,
        }
    }

    fn view_of(nodes: Vec<NodePoll>) -> RoundView {
        evaluate(&Round { nodes })
    }

    fn cells(view: &RoundView) -> &[Cell] {
        &view
            .collection(COLLECTION)
            .expect("collection listed")
            .cells
    }

    /// The buckets of COLLECTION's heatmap in `state`.
    fn buckets_in(view: &RoundView, state: CellState) -> Vec<usize> {
        let in_state = cells(view).iter().filter(|cell| cell.state == state);
        in_state.map(|cell| cell.bucket).collect()
    }

    /// What follower "f", polled before leader "l" (clock 5, BASE), must show.
    struct Case {
        name: &'static str,
        follower: NodePoll,
        verdict: Verdict,
        clock_lag: Option<i64>,
        drifted: u32,
        drift: &'static [usize],
        lag: &'static [usize],
    }

    // Proves a bucket a checkpoint found drifted is red even while its node lags (where the
    // live digests alone only show amber), and the node's view says where it was verified.
    #[test]
    fn checkpoint_drift_is_red_on_a_lagging_node() {
        let mut lagging = node("f", Follower, Some(digest(3, &BASE[..2])));
        if let NodePoll::Up(sample) = &mut lagging {
            let check = CheckSample {
                lsn: 40,
                drifted: vec![9],
            };
            sample.checks.insert(COLLECTION.to_string(), check);
        }
        let view = view_of(vec![lagging, node("l", Leader, Some(digest(5, &BASE)))]);
        assert_eq!(buckets_in(&view, CellState::Drift), vec![9]);
        assert_eq!(buckets_in(&view, CellState::Lag), vec![3]);
        let f = view.node_view(COLLECTION, "f").unwrap();
        assert_eq!(f.verdict, Some(Verdict::Lagging));
        assert_eq!(f.verified.as_ref().map(|c| c.lsn), Some(40));
        assert_eq!(cells(&view)[9].checkpoint_drift_on, vec!["f".to_string()]);
    }

    #[test]
    fn verdict_and_heatmap_follow_clock_then_hash() {
        // Proves each §7 verdict of a follower, its lag and drift count, and what it colours.
        let f = |sample| node("f", Follower, sample);
        #[rustfmt::skip]
        let cases = [
            Case { name: "in sync", follower: f(Some(digest(5, &BASE))), verdict: Verdict::InSync,
                   clock_lag: Some(0), drifted: 0, drift: &[], lag: &[] },
            Case { name: "behind", follower: f(Some(digest(3, &BASE[..2]))),
                   verdict: Verdict::Lagging, clock_lag: Some(2), drifted: 0, drift: &[],
                   lag: &[3] },
            Case { name: "bucket 3 differs", follower: f(Some(base_with(5, (3, 0xD4)))),
                   verdict: Verdict::Drift, clock_lag: Some(0), drifted: 1, drift: &[3], lag: &[] },
            Case { name: "ahead", follower: f(Some(base_with(6, (4, 0xE5)))),
                   verdict: Verdict::Diverged, clock_lag: Some(-1), drifted: 1, drift: &[4],
                   lag: &[] },
            Case { name: "missing", follower: f(None), verdict: Verdict::Missing,
                   clock_lag: None, drifted: 0, drift: &[], lag: &[] },
            Case { name: "unreachable", follower: down("f"), verdict: Verdict::Unreachable,
                   clock_lag: None, drifted: 0, drift: &[], lag: &[] },
        ];
        for case in cases {
            let (name, leader) = (case.name, node("l", Leader, Some(digest(5, &BASE))));
            let view = view_of(vec![case.follower, leader]);
            let seen = view.node_view(COLLECTION, "f").expect(name);
            assert_eq!(seen.verdict, Some(case.verdict), "{name}");
            assert_eq!(seen.clock_lag, case.clock_lag, "{name}");
            assert_eq!(seen.drifted_buckets, case.drifted, "{name}");
            let differing = [case.drift, case.lag].concat();
            assert_eq!(seen.differing_buckets, differing, "{name}");
            assert_eq!(buckets_in(&view, CellState::Drift), case.drift, "{name}");
            assert_eq!(buckets_in(&view, CellState::Lag), case.lag, "{name}");
            let ok: Vec<usize> = [1, 2, 3]
                .into_iter()
                .filter(|b| !differing.contains(b))
                .collect();
            assert_eq!(buckets_in(&view, CellState::Ok), ok, "{name}");
            let empty = BUCKETS - ok.len() - differing.len();
            assert_eq!(buckets_in(&view, CellState::Empty).len(), empty, "{name}");
            let reachable = if case.verdict == Verdict::Unreachable {
                1
            } else {
                2
            };
            for cell in cells(&view) {
                let on = differing.contains(&cell.bucket).then_some("f");
                assert_eq!(cell.differs_on, on.as_slice(), "{name}");
                assert_eq!(
                    cell.counts.len(),
                    reachable,
                    "{name}: down nodes have no count"
                );
            }
            assert_eq!(view.drift(COLLECTION, "f"), case.verdict == Verdict::Drift);
            assert_eq!(
                view.clock_ahead(COLLECTION, "f"),
                case.verdict == Verdict::Diverged
            );
            assert_eq!(
                view.verdict(COLLECTION, "l"),
                Some(Verdict::InSync),
                "{name}"
            );
        }
    }

    #[test]
    fn drift_outranks_lag_in_a_shared_bucket() {
        // Proves a bucket differing on a lagging node and on an equal-clock node is red.
        let view = view_of(vec![
            node("behind", Follower, Some(digest(3, &BASE[..2]))),
            node("drifted", Follower, Some(base_with(5, (3, 0xD4)))),
            node("l", Leader, Some(digest(5, &BASE))),
        ]);
        let cell = &cells(&view)[3];
        assert_eq!(cell.state, CellState::Drift);
        assert_eq!(cell.differs_on, ["behind", "drifted"]);
        let counts: Vec<Option<u64>> = cell.counts.iter().map(|count| count.count).collect();
        assert_eq!(counts, [Some(0), Some(2), Some(1)]);
    }

    #[test]
    fn buckets_empty_on_every_node_are_grey() {
        // Proves buckets without points anywhere are `empty`, even beside a lagging follower.
        let follower = node("f", Follower, Some(digest(1, &[])));
        let view = view_of(vec![follower, node("l", Leader, Some(digest(2, &[])))]);
        assert_eq!(buckets_in(&view, CellState::Empty).len(), BUCKETS);
        assert_eq!(view.verdict(COLLECTION, "f"), Some(Verdict::Lagging));
    }

    #[test]
    fn collection_only_a_follower_has_is_diverged_there_and_missing_on_the_leader() {
        // Proves the documented choice for a collection the leader lacks.
        let follower = node("f", Follower, Some(digest(5, &BASE)));
        let view = view_of(vec![follower, node("l", Leader, None)]);
        assert_eq!(view.collection_names, [COLLECTION]);
        assert_eq!(view.verdict(COLLECTION, "l"), Some(Verdict::Missing));
        let seen = view.node_view(COLLECTION, "f").expect("follower listed");
        assert_eq!(seen.verdict, Some(Verdict::Diverged));
        assert_eq!((seen.clock_lag, seen.drifted_buckets), (None, 3));
        assert_eq!(buckets_in(&view, CellState::Drift), [1, 2, 3]);
        assert!(view.clock_ahead(COLLECTION, "f"));
    }

    #[test]
    fn without_exactly_one_leader_nothing_is_judged() {
        // Proves no leader and two leaders both name the problem and judge no reachable node.
        let up = |node_id, role| node(node_id, role, Some(digest(5, &BASE)));
        #[rustfmt::skip]
        let cases = [
            (vec![up("f", Follower), down("l")], NO_LEADER_REACHABLE, Some(Verdict::Unreachable)),
            (vec![up("f", Leader), up("l", Leader)], "2 nodes claim to be leader: f, l", None),
        ];
        for (nodes, problem, verdict_of_l) in cases {
            let view = view_of(nodes);
            assert_eq!(view.leader, None, "{problem}");
            assert_eq!(view.leader_problem.as_deref(), Some(problem));
            assert_eq!(view.collection_names, [COLLECTION], "{problem}");
            let seen = view.node_view(COLLECTION, "f").expect(problem);
            assert_eq!((seen.verdict, seen.count), (None, Some(3)), "{problem}");
            assert_eq!(view.verdict(COLLECTION, "l"), verdict_of_l, "{problem}");
            assert!(
                cells(&view).is_empty(),
                "{problem}: no reference, no colours"
            );
            assert!(!view.drift(COLLECTION, "f") && !view.clock_ahead(COLLECTION, "f"));
        }
    }
}
