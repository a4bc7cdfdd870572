//! Background HNSW indexing (the other half of `collection`'s deferred inserts): one thread
//! per core (at most 8) takes chunks of pending points from any collection that has some and inserts
//! them into its graph. Writes only mark points pending and wake the threads, so ingest is
//! bounded by the WAL rather than by graph construction; the `unindexed` count (collection
//! info, `hyperspace_collection_unindexed_points`) says how far behind the graphs are.
//! The threads hold the engine only weakly and stop on [`Engine::close`].

use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::Engine;
use crate::metrics;

/// Points one thread inserts per claim: small enough that a settle (under the collection's
/// write lock) is short and a drop or snapshot install is not held up, large enough that
/// claiming costs little next to ~100 µs per insert.
const INDEX_CHUNK: usize = 64;
/// Idle threads look again this often even without a wake-up (belt and braces).
const IDLE_POLL: Duration = Duration::from_millis(200);

/// Wakes the indexer threads and tells them to stop.
#[derive(Default)]
pub(super) struct Indexer {
    state: Mutex<Signal>,
    wake: Condvar,
}

#[derive(Default)]
struct Signal {
    /// Bumped by every notification, so a wake-up between a scan and a wait is not lost.
    generation: u64,
    stopped: bool,
}

impl Indexer {
    /// New pending points somewhere.
    pub(super) fn notify(&self) {
        self.state.lock().generation += 1;
        self.wake.notify_all();
    }

    pub(super) fn stop(&self) {
        self.state.lock().stopped = true;
        self.wake.notify_all();
    }

    fn generation(&self) -> Option<u64> {
        let state = self.state.lock();
        (!state.stopped).then_some(state.generation)
    }

    /// Sleeps until a notification newer than `seen` (or the idle poll); false once stopped.
    fn wait(&self, seen: u64) -> bool {
        let mut state = self.state.lock();
        if !state.stopped && state.generation == seen {
            self.wake.wait_for(&mut state, IDLE_POLL);
        }
        !state.stopped
    }
}

impl Engine {
    pub(super) fn start_indexers(self: &Arc<Self>) {
        for n in 0..crate::index::indexer_threads() {
            let engine = Arc::downgrade(self);
            let signal = Arc::clone(&self.indexer);
            std::thread::Builder::new()
                .name(format!("indexer-{n}"))
                .spawn(move || run(engine, signal))
                .expect("spawning an indexer thread");
        }
    }
}

fn run(engine: Weak<Engine>, signal: Arc<Indexer>) {
    while let Some(seen) = signal.generation() {
        let Some(collections) = engine.upgrade().map(|e| e.collections.read().clone()) else {
            return;
        };
        let mut inserted = 0;
        for (name, collection) in &collections {
            let n = collection.index_pending(INDEX_CHUNK);
            if n == 0 {
                continue;
            }
            inserted += n;
            // Not for a collection dropped or replaced meanwhile: its gauges are gone.
            let current = engine.upgrade().is_some_and(|e| {
                e.collections
                    .read()
                    .get(name)
                    .is_some_and(|c| Arc::ptr_eq(c, collection))
            });
            if current {
                metrics::collection_changed(collection);
            }
        }
        if inserted == 0 && !signal.wait(seen) {
            return;
        }
    }
}
