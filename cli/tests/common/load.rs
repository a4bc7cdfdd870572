//! Write load for tests: a thread that upserts batches of new ids to a leader until stopped
//! and remembers every acknowledged id, and the point bodies it sends.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};

/// Creates the collection `default` (4 dimensions, l2: what [`points`] writes) on the node
/// at `base` (its REST URL); returns the answer (its `logical_clock` is the creation stamp).
pub fn create_default(base: &str) -> Value {
    let body = json!({"name": "default", "dimension": 4, "metric": "l2"});
    let (status, answer) = super::call("POST", &format!("{base}/api/collections"), Some(&body));
    assert_eq!(status, 201, "{answer}");
    answer
}

/// `{"points":[…]}` for `ids`: distinct 4-dimensional vectors with a payload.
pub fn points(ids: impl Iterator<Item = u64>) -> Value {
    let points: Vec<Value> = ids
        .map(|id| {
            let x = id as f32;
            json!({"id": id, "vector": [x, x * 0.5, -x, 1.0 / (1.0 + x)], "payload": {"n": id}})
        })
        .collect();
    json!({ "points": points })
}

/// Writes batches of 5 new ids to the leader until stopped; remembers every acknowledged id.
pub struct Writer {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<BTreeSet<u64>>>,
    handle: Option<JoinHandle<()>>,
}

impl Writer {
    pub fn start(leader_http: String, first_id: u64) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(BTreeSet::new()));
        let next = AtomicU64::new(first_id);
        let (s, a) = (Arc::clone(&stop), Arc::clone(&acked));
        let handle = std::thread::spawn(move || {
            let client = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            let url = format!("{leader_http}/api/collections/default/points");
            while !s.load(Ordering::SeqCst) {
                let from = next.fetch_add(5, Ordering::SeqCst);
                let body = points(from..from + 5).to_string();
                let sent = client
                    .put(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send();
                match sent {
                    Ok(r) if r.status() == 200 => a.lock().unwrap().extend(from..from + 5),
                    _ => std::thread::sleep(Duration::from_millis(20)),
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        Writer {
            stop,
            acked,
            handle: Some(handle),
        }
    }

    pub fn acked(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    /// Stops and returns every acknowledged id.
    pub fn finish(mut self) -> BTreeSet<u64> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.take().unwrap().join().unwrap();
        std::mem::take(&mut *self.acked.lock().unwrap())
    }
}
