//! Unit tests of the WAL: reopen, rotation, torn tails at every offset, garbage tails,
//! flipped bits, gaps, poisoning and group commit.

use super::format::*;
use super::*;

/// The one helper: opens the WAL in `dir` with `segment_bytes_max` and `FsyncPolicy::Always`.
fn open(dir: &Path, segment_bytes_max: u64) -> Result<(Wal, WalRecovery), WalError> {
    Wal::open(WalOptions {
        dir: dir.to_path_buf(),
        segment_bytes_max,
        fsync: FsyncPolicy::Always,
    })
}

fn body(i: u64) -> Vec<u8> {
    (0..i % 37 + 3).map(|j| (i * 31 + j) as u8).collect()
}

fn fill(wal: &Wal, lsns: std::ops::RangeInclusive<u64>) {
    lsns.for_each(|i| assert_eq!(wal.append(&body(i)).unwrap(), i));
}

fn records(wal: &Wal, from: u64) -> Vec<(u64, Vec<u8>)> {
    wal.read_from(from)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn expected(lsns: std::ops::RangeInclusive<u64>) -> Vec<(u64, Vec<u8>)> {
    lsns.map(|i| (i, body(i))).collect()
}

fn seg_file(dir: &Path) -> PathBuf {
    segment_path(dir, 1)
}

/// Writes 5 records to a fresh WAL; returns (file bytes, offset of each frame).
fn five_records(dir: &Path) -> (Vec<u8>, Vec<usize>) {
    let (wal, _) = open(dir, SEGMENT_BYTES_MAX_DEFAULT).unwrap();
    let mut starts = Vec::new();
    for i in 1..=5 {
        starts.push(fs::metadata(seg_file(dir)).unwrap().len() as usize);
        assert_eq!(wal.append(&body(i)).unwrap(), i);
    }
    wal.sync_until(5).unwrap();
    (fs::read(seg_file(dir)).unwrap(), starts)
}

#[test]
fn append_and_reopen_returns_same_records() {
    // Records appended and synced come back unchanged, with last_lsn, after a reopen.
    let dir = tempfile::tempdir().unwrap();
    let (wal, rec) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
    assert_eq!((rec.last_lsn, rec.first_lsn, wal.first_lsn()), (0, 0, 0));
    for i in 1..=20 {
        assert_eq!(wal.append(&body(i)).unwrap(), i);
    }
    wal.sync_until(20).unwrap();
    assert_eq!(
        (wal.durable_lsn(), records(&wal, 0)),
        (20, expected(1..=20))
    );
    drop(wal);
    let (wal, rec) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
    assert!(rec.truncated.is_none());
    assert_eq!((rec.last_lsn, rec.first_lsn, wal.last_lsn()), (20, 1, 20));
    assert_eq!(records(&wal, 1), expected(1..=20));
    assert_eq!(wal.append(b"x").unwrap(), 21);
}

#[test]
fn rotate_on_demand_lets_covered_segments_go() {
    // rotate() starts a segment only after a frame; then removal frees all before it.
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
    fill(&wal, 1..=5);
    wal.rotate().unwrap();
    wal.rotate().unwrap();
    assert_eq!(wal.durable_lsn(), 5, "rotation fsyncs the old segment");
    let names: Vec<u64> = list_segments(dir.path())
        .unwrap()
        .iter()
        .map(|s| s.0)
        .collect();
    assert_eq!(names, vec![1, 6]);
    assert_eq!(wal.remove_segments_through(5).unwrap(), 1);
    drop(wal);
    let (wal, rec) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
    assert_eq!((rec.last_lsn, rec.first_lsn), (5, 0));
    assert_eq!(wal.append(&body(6)).unwrap(), 6);
    assert_eq!(records(&wal, 6), expected(6..=6));
}

#[test]
fn rotation_read_from_middle_and_segment_removal() {
    // Tiny segments rotate; read_from works mid-WAL; removal keeps later records readable.
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open(dir.path(), 150).unwrap();
    for i in 1..=50 {
        wal.append(&body(i)).unwrap();
    }
    let segs = list_segments(dir.path()).unwrap();
    assert!(segs.len() > 5, "only {} segments", segs.len());
    assert!(
        wal.durable_lsn() >= segs.last().unwrap().0 - 1,
        "rotation fsyncs the old segment"
    );
    assert_eq!(records(&wal, 23), expected(23..=50));
    assert_eq!(records(&wal, 51), vec![]);
    drop(wal);
    let (wal, rec) = open(dir.path(), 150).unwrap();
    assert_eq!((rec.last_lsn, rec.first_lsn), (50, 1));
    assert_eq!(records(&wal, 1), expected(1..=50));
    let removed = wal.remove_segments_through(20).unwrap();
    let first = wal.first_lsn();
    assert!(
        removed > 0 && first > 1 && first <= 21,
        "removed {removed}, first {first}"
    );
    assert_eq!(
        list_segments(dir.path()).unwrap().len(),
        segs.len() - removed
    );
    assert_eq!(records(&wal, 21), expected(21..=50));
    assert!(matches!(
        wal.read_from(1),
        Err(WalError::NotRetained { from: 1, .. })
    ));
    assert!(wal.remove_segments_through(u64::MAX).unwrap() > 0);
    assert_eq!(
        list_segments(dir.path()).unwrap().len(),
        1,
        "the active segment stays"
    );
    drop(wal);
    let (wal, rec) = open(dir.path(), 150).unwrap();
    assert_eq!(rec.last_lsn, 50);
    assert_eq!(wal.append(&body(51)).unwrap(), 51);
    assert_eq!(
        records(&wal, wal.first_lsn()).last().unwrap(),
        &(51, body(51))
    );
}

#[test]
fn torn_tail_at_every_offset_is_truncated() {
    // A crash at any byte inside the last frame loses only that record, is reported, and LSNs continue.
    let src = tempfile::tempdir().unwrap();
    let (full, starts) = five_records(src.path());
    let last_start = starts[4];
    for cut in last_start..full.len() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(seg_file(dir.path()), &full[..cut]).unwrap();
        let (wal, rec) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
        assert_eq!(rec.last_lsn, 4, "cut at {cut}");
        match &rec.truncated {
            None => assert_eq!(cut, last_start),
            Some(t) => assert_eq!(
                (t.offset, t.bytes_removed),
                (last_start as u64, (cut - last_start) as u64)
            ),
        }
        assert_eq!(
            fs::metadata(seg_file(dir.path())).unwrap().len(),
            last_start as u64
        );
        assert_eq!(records(&wal, 1), expected(1..=4));
        assert_eq!(wal.append(&body(5)).unwrap(), 5);
        wal.sync_until(5).unwrap();
        drop(wal);
        let (wal, rec) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
        assert!(rec.truncated.is_none());
        assert_eq!(records(&wal, 1), expected(1..=5));
    }
}

#[test]
fn random_garbage_tail_is_truncated() {
    // Garbage after the last valid record is cut off and every valid record is kept.
    let src = tempfile::tempdir().unwrap();
    let (full, _) = five_records(src.path());
    for seed in 1..=10u64 {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let n = (next() % 300 + 1) as usize;
        let mut bytes = full.clone();
        bytes.extend((0..n).map(|_| next() as u8));
        let dir = tempfile::tempdir().unwrap();
        fs::write(seg_file(dir.path()), &bytes).unwrap();
        let (wal, rec) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
        let t = rec.truncated.expect("garbage reported");
        assert_eq!(
            (t.offset, t.bytes_removed, rec.last_lsn),
            (full.len() as u64, n as u64, 5),
            "seed {seed}"
        );
        assert_eq!(records(&wal, 1), expected(1..=5));
    }
}

#[test]
fn flipped_bit_in_a_middle_record_is_corrupt() {
    // A damaged record with a valid one after it (or in a non-last segment) is an error naming file and offset.
    let src = tempfile::tempdir().unwrap();
    let (full, starts) = five_records(src.path());
    let mid = starts[2];
    for (what, at) in [("body", mid + 17), ("length", mid), ("crc", mid + 5)] {
        let mut bytes = full.clone();
        bytes[at] ^= 0x01;
        let dir = tempfile::tempdir().unwrap();
        fs::write(seg_file(dir.path()), &bytes).unwrap();
        let err = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).expect_err(what);
        let msg = err.to_string();
        assert!(
            msg.contains(&seg_file(dir.path()).display().to_string())
                && msg.contains(&format!("byte {mid}")),
            "{what}: {msg}"
        );
        assert!(
            matches!(err, WalError::Corrupt { offset, .. } if offset == mid as u64),
            "{what}: {msg}"
        );
    }
    // The last record of a segment that is not the last one.
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open(dir.path(), 150).unwrap();
    fill(&wal, 1..=20);
    drop(wal);
    let first_seg = &list_segments(dir.path()).unwrap()[0].1;
    let mut bytes = fs::read(first_seg).unwrap();
    let len = bytes.len();
    bytes[len - 1] ^= 0x80;
    fs::write(first_seg, &bytes).unwrap();
    assert!(
        matches!(open(dir.path(), 150), Err(WalError::Corrupt { file, .. }) if &file == first_seg)
    );
}

#[test]
fn missing_segment_is_a_gap() {
    // A deleted middle segment makes open fail with Gap naming the neighbouring files.
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open(dir.path(), 150).unwrap();
    fill(&wal, 1..=30);
    drop(wal);
    let segs = list_segments(dir.path()).unwrap();
    fs::remove_file(&segs[1].1).unwrap();
    match open(dir.path(), 150) {
        Err(WalError::Gap {
            prev_file,
            next_file,
            ..
        }) => assert_eq!(
            (prev_file, next_file),
            (segs[0].1.clone(), segs[2].1.clone())
        ),
        other => panic!("expected Gap, got {:?}", other.err()),
    }
}

#[test]
fn torn_header_of_last_segment_is_removed() {
    // A last segment shorter than its header is removed and the WAL continues from the previous one.
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
    fill(&wal, 1..=3);
    drop(wal);
    fs::write(segment_path(dir.path(), 4), &SEGMENT_MAGIC[..5]).unwrap();
    fs::write(
        segment_path(dir.path(), 4).with_extension("wal.tmp"),
        b"junk",
    )
    .unwrap();
    let (wal, rec) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
    assert_eq!((rec.last_lsn, rec.truncated.unwrap().bytes_removed), (3, 5));
    assert_eq!(list_segments(dir.path()).unwrap().len(), 1);
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "tmp file removed"
    );
    assert_eq!(wal.append(&body(4)).unwrap(), 4);
    assert_eq!(records(&wal, 1), expected(1..=4));
}

#[test]
fn explicit_poison_stops_writes_and_keeps_reads() {
    // A caller that lost step with the log (a failed apply) can stop every later write.
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
    fill(&wal, 1..=2);
    wal.poison("test");
    assert!(matches!(wal.append(b"x"), Err(WalError::Poisoned)));
    assert!(matches!(wal.sync_until(2), Err(WalError::Poisoned)));
    assert_eq!(records(&wal, 1)[..], expected(1..=2)[..]);
}

#[test]
fn injected_failure_poisons_but_reads_still_work() {
    // A failed write or fsync returns the I/O error once, then Poisoned; earlier records stay readable.
    for fail_in_sync in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let (wal, _) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
        fill(&wal, 1..=3);
        wal.sync_until(3).unwrap();
        if fail_in_sync {
            wal.append(&body(4)).unwrap();
            wal.inject_failure();
            assert!(matches!(wal.sync_until(4), Err(WalError::Io { .. })));
        } else {
            wal.inject_failure();
            assert!(matches!(wal.append(&body(4)), Err(WalError::Io { .. })));
        }
        assert!(wal.is_poisoned());
        assert!(matches!(wal.append(b"x"), Err(WalError::Poisoned)));
        assert!(matches!(
            wal.append_at(wal.last_lsn() + 1, b"x"),
            Err(WalError::Poisoned)
        ));
        assert!(matches!(wal.sync_until(3), Err(WalError::Poisoned)));
        assert_eq!(wal.durable_lsn(), 3);
        assert_eq!(records(&wal, 1)[..3], expected(1..=3)[..]);
        drop(wal);
        let (wal, rec) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
        assert!(!wal.is_poisoned() && rec.last_lsn >= 3);
    }
}

#[test]
fn append_at_refuses_wrong_lsn_and_oversized_body() {
    // append_at only accepts last_lsn()+1; bodies over the maximum are refused without poisoning.
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open(dir.path(), SEGMENT_BYTES_MAX_DEFAULT).unwrap();
    assert!(matches!(
        wal.append_at(2, b"a"),
        Err(WalError::LsnOutOfOrder {
            expected: 1,
            got: 2
        })
    ));
    wal.append_at(1, b"a").unwrap();
    assert!(matches!(
        wal.append_at(1, b"b"),
        Err(WalError::LsnOutOfOrder {
            expected: 2,
            got: 1
        })
    ));
    assert!(matches!(
        wal.append_at(3, b"b"),
        Err(WalError::LsnOutOfOrder {
            expected: 2,
            got: 3
        })
    ));
    assert!(matches!(
        wal.sync_until(2),
        Err(WalError::NotWritten {
            lsn: 2,
            last_lsn: 1
        })
    ));
    let big = vec![0u8; FRAME_BODY_BYTES_MAX + 1];
    assert!(matches!(wal.append(&big), Err(WalError::TooLarge { .. })));
    assert!(!wal.is_poisoned());
    assert_eq!(records(&wal, 1), vec![(1, b"a".to_vec())]);
}

#[test]
fn group_commit_under_concurrent_appends() {
    // Threads appending and syncing concurrently (across rotations) end fully durable with gapless LSNs.
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Wal>();
    let dir = tempfile::tempdir().unwrap();
    let wal = Arc::new(open(dir.path(), 4096).unwrap().0);
    let threads: Vec<_> = (0..4u8)
        .map(|t| {
            let wal = Arc::clone(&wal);
            std::thread::spawn(move || {
                for i in 0..150u8 {
                    let lsn = wal.append(&[t, i]).unwrap();
                    wal.sync_until(lsn).unwrap();
                    assert!(wal.durable_lsn() >= lsn);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!((wal.last_lsn(), wal.durable_lsn()), (600, 600));
    let all = records(&wal, 1);
    assert!(all
        .iter()
        .enumerate()
        .all(|(i, (lsn, _))| *lsn == i as u64 + 1));
    for t in 0..4u8 {
        let mine: Vec<u8> = all
            .iter()
            .filter(|(_, b)| b[0] == t)
            .map(|(_, b)| b[1])
            .collect();
        assert_eq!(
            mine,
            (0..150).collect::<Vec<u8>>(),
            "thread {t} records in order"
        );
    }
    drop(wal);
    assert_eq!(open(dir.path(), 4096).unwrap().1.last_lsn, 600);
}

#[test]
fn interval_policy_syncs_in_background() {
    // Under IntervalMs, sync_until returns at once and the background thread makes records durable.
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions {
        fsync: FsyncPolicy::IntervalMs(5),
        ..WalOptions::new(dir.path())
    };
    let (wal, _) = Wal::open(opts).unwrap();
    let lsn = wal.append(b"a").unwrap();
    wal.sync_until(lsn).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while wal.durable_lsn() < lsn && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(wal.durable_lsn(), lsn);
    drop(wal); // joins the fsync thread
    let zero = WalOptions {
        fsync: FsyncPolicy::IntervalMs(0),
        ..WalOptions::new(dir.path())
    };
    assert!(matches!(Wal::open(zero), Err(WalError::InvalidOptions(_))));
}
