//! In-process tests of the engine: recovery through snapshot + WAL replay reproduces the
//! exact state, and the flat → HNSW switch keeps search exact for stored vectors.

use std::path::Path;
use std::sync::Arc;

use hyperspace_node::index::Metric;
use hyperspace_node::model::{CollectionSpec, Point, SearchQuery};
use hyperspace_node::synth::Clustered;
use hyperspace_node::{Engine, EngineOptions, Error, FsyncPolicy};
use serde_json::json;

fn open(dir: &Path) -> Arc<Engine> {
    Engine::open(EngineOptions {
        data_dir: dir.to_path_buf(),
        fsync: FsyncPolicy::Always,
        snapshot_records: u64::MAX,
        role: hyperspace_node::RoleState::Leader,
        live_tail_bytes: hyperspace_node::limits::LIVE_TAIL_BYTES_MAX,
        anti_entropy: Default::default(),
        checkpoint_records: 0,
    })
    .expect("engine opens")
    .0
}

fn spec(name: &str, dimension: usize, metric: Metric) -> CollectionSpec {
    CollectionSpec {
        name: name.into(),
        dimension,
        metric,
    }
}

fn points(ids: std::ops::Range<u64>, data: &mut Clustered) -> Vec<Point> {
    ids.map(|id| Point {
        id,
        vector: data.point(),
        payload: json!({"n": id, "even": id % 2 == 0})
            .as_object()
            .unwrap()
            .clone(),
    })
    .collect()
}

/// Everything observable about a collection, for before/after comparisons.
fn state(engine: &Engine, name: &str) -> (u64, u64, u64, Vec<Point>) {
    let view = engine.digest(name).unwrap();
    let page = engine.scroll(name, None, Some(10_000)).unwrap();
    (
        view.logical_clock,
        view.digest.state_hash(),
        view.digest.count(),
        page.points,
    )
}

// Proves a reopened engine has the same points, digest, clocks and LSN as before, whether it
// recovers from the WAL alone or from a snapshot plus the WAL after it.
#[test]
fn recovery_reproduces_state_with_and_without_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = Clustered::new(3, 8, 4);
    let engine = open(dir.path());
    engine
        .create_collection(spec("a", 8, Metric::Cosine))
        .unwrap();
    engine
        .create_collection(spec("gone", 2, Metric::L2))
        .unwrap();
    engine.upsert("a", points(0..300, &mut data)).unwrap();
    engine.drop_collection("gone").unwrap();
    let snapshot_lsn = engine.snapshot().unwrap();
    engine.upsert("a", points(200..400, &mut data)).unwrap();
    engine.delete("a", vec![5, 6, 7, 10_000]).unwrap();
    let before = state(&engine, "a");
    let status = engine.status();
    drop(engine);

    let engine = open(dir.path());
    assert_eq!(state(&engine, "a"), before);
    assert_eq!(engine.status(), status);
    assert!(snapshot_lsn < status.last_lsn);
    assert!(matches!(
        engine.digest("gone"),
        Err(Error::CollectionNotFound { .. })
    ));
    let ack = engine.upsert("a", points(400..401, &mut data)).unwrap();
    assert_eq!(ack.lsn, status.last_lsn + 1, "LSNs continue after recovery");
    assert_eq!(
        ack.logical_clock,
        status.logical_clock + 1,
        "the clock continues"
    );
}

// Proves a refused write changes nothing: no LSN, no tick, same digest.
#[test]
fn refused_write_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    engine
        .create_collection(spec("c", 3, Metric::Poincare))
        .unwrap();
    let before = (engine.status(), state(&engine, "c"));
    let outside = Point {
        id: 1,
        vector: vec![0.9, 0.9, 0.0],
        payload: Default::default(),
    };
    assert!(matches!(
        engine.upsert("c", vec![outside]),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        engine.upsert("c", vec![]),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        engine.create_collection(spec("c", 3, Metric::L2)),
        Err(Error::CollectionExists { .. })
    ));
    assert_eq!((engine.status(), state(&engine, "c")), before);
}

// Proves a collection moves from the flat index to HNSW past the threshold and still finds
// each stored vector as its own nearest neighbour, with filters applied.
#[test]
fn flat_to_hnsw_switch_keeps_search_exact_for_stored_points() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    engine.create_collection(spec("h", 16, Metric::L2)).unwrap();
    let mut data = Clustered::new(11, 16, 8);
    let all = points(0..3_000, &mut data);
    engine.upsert("h", all.clone()).unwrap();
    assert_eq!(engine.collection("h").unwrap().info().index, "hnsw");
    for point in all.iter().step_by(97) {
        let query = SearchQuery {
            vector: point.vector.clone(),
            top_k: 3,
            filter: None,
            ef: None,
        };
        let hits = engine.search("h", &query).unwrap();
        assert_eq!(hits[0].id, point.id);
        assert_eq!(hits[0].score, 0.0);
        let even = json!({"even": true}).as_object().unwrap().clone();
        let filtered = SearchQuery {
            filter: Some(even),
            ..query
        };
        let hits = engine.search("h", &filtered).unwrap();
        assert!(hits.iter().all(|h| h.id % 2 == 0), "{hits:?}");
        assert_eq!(hits.len(), 3);
    }
}

// Proves a follower's install of its leader's snapshot is crash safe at the one dangerous
// point: the snapshot is written but the old WAL is still there (marker left behind). The
// next start finishes the install — the leader's state, its clock, the WAL continuing right
// after the snapshot — and a marker without its snapshot keeps the previous state.
#[test]
fn interrupted_snapshot_install_is_finished_or_rolled_back_on_start() {
    use hyperspace_node::storage::{datadir::DataDir, snapshot};
    let mut data = Clustered::new(5, 4, 3);
    let leader_dir = tempfile::tempdir().unwrap();
    let leader = open(leader_dir.path());
    leader.create_collection(spec("c", 4, Metric::L2)).unwrap();
    leader.upsert("c", points(0..50, &mut data)).unwrap();
    leader.snapshot().unwrap();
    let image = leader.snapshot_for_follower().unwrap();
    let leader_state = state(&leader, "c");

    // The follower's own history: a different collection, and more records than the image
    // has, so replaying them on top of the image would fail (or mix two histories).
    let follower_dir = tempfile::tempdir().unwrap();
    {
        let follower = open(follower_dir.path());
        follower
            .create_collection(spec("old", 4, Metric::L2))
            .unwrap();
        for batch in 0..4 {
            let ids = batch * 3..batch * 3 + 3;
            follower.upsert("old", points(ids, &mut data)).unwrap();
        }
        assert!(follower.status().last_lsn > image.lsn);
        follower.close();
    }
    // A marker without a complete snapshot at its LSN: the previous state is kept.
    {
        let dir = DataDir::open(follower_dir.path()).unwrap();
        dir.set_install_marker(image.lsn + 100).unwrap();
    }
    let follower = open(follower_dir.path());
    assert_eq!(follower.digest("old").unwrap().digest.count(), 12);
    follower.close();
    drop(follower);

    // The crash point: marker and snapshot written, WAL not yet reset.
    {
        let dir = DataDir::open(follower_dir.path()).unwrap();
        dir.set_install_marker(image.lsn).unwrap();
        snapshot::write(&dir.snapshots_dir(), &image).unwrap();
        assert_eq!(dir.install_marker().unwrap(), Some(image.lsn));
    }
    let follower = open(follower_dir.path());
    assert_eq!(state(&follower, "c"), leader_state);
    assert!(follower.digest("old").is_err(), "the old history is gone");
    assert_eq!(follower.status().last_lsn, image.lsn);
    assert_eq!(
        follower.status().logical_clock,
        leader.status().logical_clock
    );
    assert_eq!(follower.last_record(), leader.last_record());
    follower.close();
    drop(follower);
    let dir = DataDir::open(follower_dir.path()).unwrap();
    assert_eq!(
        dir.install_marker().unwrap(),
        None,
        "the finished install clears its marker"
    );
}
