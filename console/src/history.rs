//! The last rounds in memory, bounded: what `/history` draws (clock lag and drifted buckets
//! per node over time). At the default 2 s interval, `HISTORY_ROUNDS_MAX` is 2 hours.

use std::collections::{BTreeMap, VecDeque};
use std::time::SystemTime;

use serde::Serialize;

use crate::model::{RoundView, Verdict};

/// Rounds kept; older ones are dropped first.
pub const HISTORY_ROUNDS_MAX: usize = 3_600;

/// One node's state on one collection in one round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Point {
    pub clock_lag: Option<i64>,
    pub drifted_buckets: u32,
    pub verdict: Option<Verdict>,
}

/// One round, reduced to what the charts need: `(collection, node id) → point`.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub at: SystemTime,
    pub points: BTreeMap<(String, String), Point>,
}

#[derive(Debug, Default)]
pub struct History {
    entries: VecDeque<Entry>,
}

impl History {
    pub fn push(&mut self, at: SystemTime, view: &RoundView) {
        let mut points = BTreeMap::new();
        for collection in &view.collections {
            for node in &collection.nodes {
                let Some(node_id) = &node.node_id else {
                    continue;
                };
                let point = Point {
                    clock_lag: node.clock_lag,
                    drifted_buckets: node.drifted_buckets,
                    verdict: node.verdict,
                };
                points.insert((collection.name.clone(), node_id.clone()), point);
            }
        }
        if self.entries.len() == HISTORY_ROUNDS_MAX {
            self.entries.pop_front();
        }
        self.entries.push_back(Entry { at, points });
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every `(collection, node id)` series seen in the kept rounds.
    pub fn series(&self) -> Vec<(String, String)> {
        let mut keys: Vec<_> = self
            .entries
            .iter()
            .flat_map(|e| e.points.keys().cloned())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}
