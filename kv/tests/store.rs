//! Behaviour of the store through its public API, one property per test.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use bytedata_kv::fs::SimFs;
use bytedata_kv::{Error, FsyncPolicy, Options, Store, WriteBatch};

fn pairs(scan: impl Iterator<Item = (Vec<u8>, Vec<u8>)>) -> Vec<(String, String)> {
    scan.map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
        .collect()
}

fn sim_store(fs: &SimFs, options: Options) -> Store {
    Store::open_with_fs(options, Arc::new(fs.clone())).unwrap()
}

fn sim_options() -> Options {
    Options::disk("/db")
}

#[test]
fn put_get_delete() {
    let store = Store::open(Options::memory()).unwrap();
    assert_eq!(store.get(b"a").unwrap(), None);
    let first = store.put(b"a".to_vec(), b"1".to_vec()).unwrap();
    let second = store.put(b"a".to_vec(), b"2".to_vec()).unwrap();
    assert_eq!(second.0, first.0 + 1, "LSNs are consecutive");
    assert_eq!(store.get(b"a").unwrap(), Some(b"2".to_vec()));
    store.delete(b"a".to_vec()).unwrap();
    assert_eq!(store.get(b"a").unwrap(), None);
    assert_eq!(store.stats().live_keys, 0);
}

#[test]
fn the_newest_value_is_read_without_a_view_and_old_views_keep_theirs() {
    let store = Store::open(Options::memory()).unwrap();
    let newest = |key: &[u8]| {
        store
            .newest_with(key, |value| value.map(<[u8]>::to_vec))
            .unwrap()
    };
    assert_eq!(newest(b"a"), None);
    store.put(b"a".to_vec(), b"1".to_vec()).unwrap();
    let old = store.read_view();
    store.put(b"a".to_vec(), b"2".to_vec()).unwrap();
    assert_eq!(newest(b"a"), Some(b"2".to_vec()));
    assert_eq!(old.get(b"a").unwrap(), Some(b"1".to_vec()));
    store.delete(b"a".to_vec()).unwrap();
    assert_eq!(newest(b"a"), None);
    drop(old);
    store.collect_garbage();
    assert_eq!(
        newest(b"a"),
        None,
        "nothing older comes back once collected"
    );
}

#[test]
fn a_large_range_is_cut_into_similar_pieces_inside_it_and_a_small_one_is_not() {
    let store = Store::open(Options::memory()).unwrap();
    let key = |i: u32| format!("k{i:06}").into_bytes();
    let keys = 50_000;
    let mut batch = WriteBatch::new();
    for i in 0..keys {
        batch.put(key(i), b"v".to_vec());
    }
    store.write(batch).unwrap();
    let view = store.read_view();

    let cuts = view.split_keys(.., 4);
    assert!((1..=3).contains(&cuts.len()), "{} cuts", cuts.len());
    assert!(cuts.windows(2).all(|pair| pair[0] < pair[1]));
    let mut lower = std::ops::Bound::Unbounded;
    let mut sizes = Vec::new();
    for cut in cuts.iter().map(Vec::as_slice) {
        let upper = std::ops::Bound::Excluded(cut);
        sizes.push(view.scan((lower, upper)).map(Result::unwrap).count());
        lower = std::ops::Bound::Included(cut);
    }
    sizes.push(
        view.scan((lower, std::ops::Bound::Unbounded))
            .map(Result::unwrap)
            .count(),
    );
    assert_eq!(sizes.iter().sum::<usize>(), keys as usize, "{sizes:?}");
    assert!(
        sizes.iter().all(|&size| size >= keys as usize / 10),
        "pieces of similar size: {sizes:?}"
    );

    let (start, end) = (key(10_000), key(40_000));
    let inner = view.split_keys(start.clone()..end.clone(), 2);
    assert_eq!(inner.len(), 1);
    assert!(
        inner[0] > start && inner[0] < end,
        "strictly inside the range"
    );
    assert!(
        view.split_keys(key(100)..key(200), 2).is_empty(),
        "too small to cut"
    );
    assert!(view.split_keys(.., 1).is_empty());
}

#[test]
fn a_batch_applies_in_order_and_as_one() {
    let store = Store::open(Options::memory()).unwrap();
    let mut batch = WriteBatch::new();
    batch.put(b"k".to_vec(), b"first".to_vec());
    batch.put(b"gone".to_vec(), b"x".to_vec());
    batch.put(b"k".to_vec(), b"second".to_vec());
    batch.delete(b"gone".to_vec());
    let lsn = store.write(batch).unwrap();
    assert_eq!(lsn.0, 1);
    assert_eq!(store.get(b"k").unwrap(), Some(b"second".to_vec()));
    assert_eq!(store.get(b"gone").unwrap(), None);
    assert_eq!(store.stats().live_keys, 1);
}

#[test]
fn scans_forward_backward_with_bounds_and_seek() {
    let store = Store::open(Options::memory()).unwrap();
    let mut batch = WriteBatch::new();
    for key in ["a", "b", "c", "d", "e"] {
        batch.put(key.as_bytes().to_vec(), key.to_uppercase().into_bytes());
    }
    store.write(batch).unwrap();
    store.delete(b"c".to_vec()).unwrap();
    let view = store.read_view();

    let all = pairs(view.scan(..).map(Result::unwrap));
    assert_eq!(
        all,
        [("a", "A"), ("b", "B"), ("d", "D"), ("e", "E")].map(|(k, v)| (k.into(), v.into()))
    );

    let keys = |scan: bytedata_kv::Scan| -> String {
        scan.map(|entry| String::from_utf8(entry.unwrap().0).unwrap())
            .collect()
    };
    assert_eq!(keys(view.scan(b"b"..b"e")), "bd");
    assert_eq!(keys(view.scan(b"b"..=b"e")), "bde");
    assert_eq!(keys(view.scan_rev(..)), "edba");
    assert_eq!(keys(view.scan_rev(b"a"..b"d")), "ba");
    assert_eq!(
        keys(view.scan((
            std::ops::Bound::Excluded(&b"a"[..]),
            std::ops::Bound::Unbounded
        ))),
        "bde"
    );

    let mut scan = view.scan(b"b"..);
    assert_eq!(scan.next().unwrap().unwrap().0, b"b");
    scan.seek(b"c");
    assert_eq!(
        keys(scan),
        "de",
        "seek lands on the first key at or after the target"
    );
    let mut scan = view.scan(b"b"..);
    scan.seek(b"a");
    assert_eq!(keys(scan), "bde", "seek never leaves the scan's range");
    let mut scan = view.scan_rev(..);
    scan.seek(b"c");
    assert_eq!(
        keys(scan),
        "ba",
        "a backward seek lands at or before the target"
    );
}

#[test]
fn a_scan_longer_than_one_chunk_sees_every_key_once() {
    let store = Store::open(Options::memory()).unwrap();
    let mut batch = WriteBatch::new();
    for i in 0..2000u32 {
        batch.put(i.to_be_bytes().to_vec(), i.to_le_bytes().to_vec());
    }
    store.write(batch).unwrap();
    let view = store.read_view();
    let forward: Vec<u32> = view
        .scan(..)
        .map(Result::unwrap)
        .map(|(k, _)| u32::from_be_bytes(k.try_into().unwrap()))
        .collect();
    assert_eq!(forward, (0..2000).collect::<Vec<_>>());
    let backward: Vec<u32> = view
        .scan_rev(..)
        .map(Result::unwrap)
        .map(|(k, _)| u32::from_be_bytes(k.try_into().unwrap()))
        .collect();
    assert_eq!(backward, (0..2000).rev().collect::<Vec<_>>());
}

#[test]
fn a_view_is_stable_while_writers_continue() {
    let store = Store::open(Options::memory()).unwrap();
    store.put(b"x".to_vec(), b"old".to_vec()).unwrap();
    store.put(b"y".to_vec(), b"old".to_vec()).unwrap();
    let view = store.read_view();
    store.put(b"x".to_vec(), b"new".to_vec()).unwrap();
    store.delete(b"y".to_vec()).unwrap();
    store.put(b"z".to_vec(), b"new".to_vec()).unwrap();
    store.collect_garbage();

    assert_eq!(view.get(b"x").unwrap(), Some(b"old".to_vec()));
    assert_eq!(view.get(b"y").unwrap(), Some(b"old".to_vec()));
    assert_eq!(view.get(b"z").unwrap(), None);
    assert_eq!(pairs(view.scan(..).map(Result::unwrap)).len(), 2);
    assert_eq!(store.get(b"x").unwrap(), Some(b"new".to_vec()));
    assert_eq!(store.get(b"y").unwrap(), None);
    assert_eq!(view.last_write(b"x"), Some(bytedata_kv::Lsn(1)));
    assert_eq!(view.last_write(b"y"), Some(bytedata_kv::Lsn(2)));
    assert_eq!(
        store.read_view().last_write(b"y"),
        Some(bytedata_kv::Lsn(4)),
        "the delete"
    );
}

#[test]
fn garbage_is_bounded_and_views_keep_only_what_they_see() {
    let store = Store::open(Options::memory()).unwrap();
    let keys = 100u32;
    let write_round = |round: u32| {
        let mut batch = WriteBatch::new();
        for key in 0..keys {
            batch.put(key.to_be_bytes().to_vec(), round.to_be_bytes().to_vec());
        }
        store.write(batch).unwrap();
    };
    write_round(0);
    let early = store.read_view();
    for round in 1..200 {
        write_round(round);
    }
    store.collect_garbage();
    // The early view pins one old version per key; nothing in between survives.
    let bytes_with_view = store.stats().approx_memory_bytes;
    assert_eq!(store.stats().versions, 2 * u64::from(keys));
    for key in 0..keys {
        assert_eq!(
            early.get(&key.to_be_bytes()).unwrap(),
            Some(0u32.to_be_bytes().to_vec())
        );
    }
    drop(early);
    store.collect_garbage();
    let bytes_without_view = store.stats().approx_memory_bytes;
    assert!(bytes_without_view < bytes_with_view);

    let fresh = Store::open(Options::memory()).unwrap();
    let mut batch = WriteBatch::new();
    for key in 0..keys {
        batch.put(key.to_be_bytes().to_vec(), 199u32.to_be_bytes().to_vec());
    }
    fresh.write(batch).unwrap();
    assert_eq!(
        bytes_without_view,
        fresh.stats().approx_memory_bytes,
        "after collection, 200 rounds of updates take what one round takes"
    );

    for key in 0..keys {
        store.delete(key.to_be_bytes().to_vec()).unwrap();
    }
    store.collect_garbage();
    let stats = store.stats();
    assert_eq!(
        (
            stats.live_keys,
            stats.index_entries,
            stats.approx_memory_bytes
        ),
        (0, 0, 0)
    );
}

#[test]
fn limits_fail_cleanly_and_write_nothing() {
    let options = Options {
        max_key_bytes: 8,
        max_value_bytes: 16,
        max_batch_bytes: 1024,
        ..Options::memory()
    };
    let store = Store::open(options).unwrap();
    let mut batch = WriteBatch::new();
    batch.put(b"ok".to_vec(), b"fine".to_vec());
    batch.put(b"too long a key".to_vec(), b"v".to_vec());
    let error = store.write(batch).unwrap_err();
    assert_eq!(
        error.to_string(),
        "key of 14 bytes exceeds the limit of 8 bytes"
    );
    assert!(matches!(
        store.put(b"k".to_vec(), vec![0; 17]),
        Err(Error::ValueTooLarge { len: 17, max: 16 })
    ));
    assert_eq!(
        store.get(b"ok").unwrap(),
        None,
        "a rejected batch leaves no trace"
    );
    assert_eq!(store.visible_lsn().0, 0);
    store.put(b"ok".to_vec(), b"fine".to_vec()).unwrap();
}

/// Puts 1 KB values under ascending keys until the store refuses one; returns how many
/// went in and the refusal.
fn fill(store: &Store) -> (u32, Error) {
    let mut written = 0u32;
    loop {
        match store.put(written.to_be_bytes().to_vec(), vec![7; 1000]) {
            Ok(_) => written += 1,
            Err(error) => return (written, error),
        }
        assert!(written < 100_000, "the budget never refused a write");
    }
}

#[test]
fn a_store_at_its_memory_limit_refuses_writes_but_serves_reads_and_deletes() {
    const LIMIT_BYTES: u64 = 1 << 20;
    let store = Store::open(Options::memory().memory_limit(LIMIT_BYTES)).unwrap();
    let (written, refused) = fill(&store);
    assert!(
        matches!(
            refused,
            Error::MemoryLimit {
                limit_bytes: LIMIT_BYTES,
                ..
            }
        ),
        "{refused}"
    );
    assert!(
        refused.to_string().starts_with("out of memory"),
        "{refused}"
    );
    let stats = store.stats();
    assert_eq!(stats.memory_limit_bytes, Some(LIMIT_BYTES));
    assert!(stats.approx_memory_bytes <= LIMIT_BYTES, "{stats:?}");
    assert!(
        stats.approx_memory_bytes > LIMIT_BYTES * 9 / 10,
        "refused well before the limit: {stats:?}"
    );
    assert_eq!(stats.live_keys, u64::from(written));
    assert_eq!(
        store.get(&written.to_be_bytes()).unwrap(),
        None,
        "the refused put left nothing"
    );
    assert_eq!(store.get(&0u32.to_be_bytes()).unwrap(), Some(vec![7; 1000]));

    // Deletes go through at the limit; once collected, they make room again.
    let mut deletes = WriteBatch::new();
    for key in 0..written / 2 {
        deletes.delete(key.to_be_bytes().to_vec());
    }
    store.write(deletes).unwrap();
    store.collect_garbage();
    assert!(store.stats().approx_memory_bytes < LIMIT_BYTES * 6 / 10);
    store
        .put(written.to_be_bytes().to_vec(), vec![7; 1000])
        .unwrap();
}

#[test]
fn a_store_opened_with_a_limit_below_its_data_recovers_all_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Options::disk(dir.path()).memory_limit(2 << 20)).unwrap();
    let (written, _) = fill(&store);
    store.close().unwrap();
    drop(store);

    let store = Store::open(Options::disk(dir.path()).memory_limit(1 << 20)).unwrap();
    assert_eq!(
        store.stats().live_keys,
        u64::from(written),
        "nothing acknowledged is lost"
    );
    assert_eq!(
        store.get(&(written - 1).to_be_bytes()).unwrap(),
        Some(vec![7; 1000])
    );
    assert!(matches!(
        store.put(b"more".to_vec(), b"x".to_vec()),
        Err(Error::MemoryLimit { .. })
    ));
    store.delete(0u32.to_be_bytes().to_vec()).unwrap();
}

#[test]
fn invalid_options_are_rejected_at_open() {
    let error = Store::open(Options {
        snapshots_kept: 1,
        ..Options::memory()
    })
    .err()
    .unwrap();
    assert!(matches!(error, Error::Config(_)), "{error}");
    let error =
        Store::open(Options::memory().fsync(FsyncPolicy::Interval(std::time::Duration::ZERO)))
            .err()
            .unwrap();
    assert!(matches!(error, Error::Config(_)), "{error}");
    let error = Store::open(Options::memory().memory_limit(4096))
        .err()
        .unwrap();
    assert!(matches!(error, Error::Config(_)), "{error}");
}

#[test]
fn memory_mode_touches_no_files() {
    let dir = tempfile::tempdir().unwrap();
    let before = std::fs::read_dir(dir.path()).unwrap().count();
    let store = Store::open(Options::memory()).unwrap();
    store.put(b"k".to_vec(), b"v".to_vec()).unwrap();
    assert_eq!(store.checkpoint().unwrap(), None);
    store.close().unwrap();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), before);
}

#[test]
fn data_survives_close_and_reopen_on_the_real_file_system() {
    for policy in [
        FsyncPolicy::Always,
        FsyncPolicy::Never,
        FsyncPolicy::Interval(std::time::Duration::from_millis(5)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let options = Options {
            snapshot_on_close: false,
            ..Options::disk(dir.path()).fsync(policy)
        };
        let store = Store::open(options.clone()).unwrap();
        for i in 0..100u32 {
            store
                .put(i.to_be_bytes().to_vec(), vec![i as u8; 50])
                .unwrap();
        }
        store.delete(7u32.to_be_bytes().to_vec()).unwrap();
        store.close().unwrap();
        assert!(matches!(
            store.put(b"late".to_vec(), b"x".to_vec()),
            Err(Error::Closed)
        ));

        let reopened = Store::open(options).unwrap();
        let stats = reopened.stats();
        assert_eq!(stats.live_keys, 99, "{policy:?}");
        assert_eq!(stats.visible_lsn, 101);
        assert_eq!(reopened.get(&7u32.to_be_bytes()).unwrap(), None);
        assert_eq!(
            reopened.get(&8u32.to_be_bytes()).unwrap(),
            Some(vec![8; 50])
        );
        assert!(stats.last_snapshot.is_none());
    }
}

#[test]
fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Options::disk(dir.path())).unwrap();
    let error = Store::open(Options::disk(dir.path())).err().unwrap();
    assert!(matches!(error, Error::Locked(_)), "{error}");
    store.close().unwrap();
    Store::open(Options::disk(dir.path())).unwrap();
}

#[test]
fn checkpoints_replace_the_log_and_keep_two_snapshots() {
    let fs = SimFs::new(1);
    let options = Options {
        wal_segment_bytes: 4096,
        snapshot_on_close: false,
        ..sim_options()
    };
    let store = sim_store(&fs, options.clone());
    let mut lsns = Vec::new();
    for round in 0..3u32 {
        for i in 0..200u32 {
            store
                .put(i.to_be_bytes().to_vec(), vec![round as u8; 40])
                .unwrap();
        }
        lsns.push(store.checkpoint().unwrap().unwrap().lsn);
    }
    let snapshots = bytedata_kv::fs::Fs::list(&fs, Path::new("/db/snapshots")).unwrap();
    let mut snapshots: Vec<String> = snapshots;
    snapshots.sort();
    assert_eq!(
        snapshots,
        [
            format!("{:020}.snap", lsns[1]),
            format!("{:020}.snap", lsns[2])
        ]
    );
    // The log is kept back to the older kept snapshot, and no further.
    let mut segments: Vec<u64> = bytedata_kv::fs::Fs::list(&fs, Path::new("/db/wal"))
        .unwrap()
        .iter()
        .map(|name| name.trim_end_matches(".wal").parse().unwrap())
        .collect();
    segments.sort();
    assert!(
        segments[0] > 1 && segments[0] <= lsns[1] + 1,
        "{segments:?}"
    );
    assert_eq!(store.stats().wal_bytes_since_snapshot, 0);
    assert_eq!(store.stats().snapshots_written, 3);
    assert_eq!(
        store.checkpoint().unwrap().unwrap().lsn,
        lsns[2],
        "nothing new, no new snapshot"
    );
    assert_eq!(store.stats().snapshots_written, 3, "none was written");
    drop(store);

    let reopened = sim_store(&fs, options);
    assert_eq!(reopened.stats().live_keys, 200);
    assert_eq!(
        reopened.get(&5u32.to_be_bytes()).unwrap(),
        Some(vec![2; 40])
    );
    assert_eq!(reopened.stats().last_snapshot.unwrap().lsn, lsns[2]);
}

#[test]
fn the_log_size_triggers_a_background_snapshot() {
    let fs = SimFs::new(2);
    let options = Options {
        snapshot_after_wal_bytes: 16 << 10,
        wal_segment_bytes: 8 << 10,
        ..sim_options()
    };
    let store = sim_store(&fs, options);
    let mut i = 0u32;
    // Writes continue until the maintenance thread has taken its snapshot; each write
    // only adds to the log, so the loop ends as soon as it does.
    while store.stats().last_snapshot.is_none() {
        store.put(i.to_be_bytes().to_vec(), vec![1; 100]).unwrap();
        i += 1;
        assert!(i < 1_000_000, "no snapshot was triggered");
    }
    let snapshot = store.stats().last_snapshot.unwrap();
    assert!(snapshot.entries > 0 && snapshot.lsn > 0);
}

#[test]
fn the_closing_snapshot_makes_the_next_open_replay_nothing() {
    let fs = SimFs::new(3);
    let store = sim_store(&fs, sim_options());
    for i in 0..50u32 {
        store.put(i.to_be_bytes().to_vec(), b"v".to_vec()).unwrap();
    }
    store.close().unwrap();
    let reopened = sim_store(&fs, sim_options());
    let stats = reopened.stats();
    assert_eq!(stats.last_snapshot.as_ref().map(|s| s.lsn), Some(50));
    assert_eq!(stats.wal_bytes_since_snapshot, 0);
    assert_eq!(stats.live_keys, 50);
}

#[test]
fn always_mode_syncs_before_acknowledging() {
    let fs = SimFs::new(4);
    let store = sim_store(&fs, sim_options());
    for i in 0..10u32 {
        let before = fs.sync_count();
        store.put(i.to_be_bytes().to_vec(), b"v".to_vec()).unwrap();
        assert!(
            fs.sync_count() > before,
            "write {i} returned without an fdatasync"
        );
    }
    // Power goes out: everything acknowledged is there.
    let fs = fs.crash();
    drop(store);
    let reopened = sim_store(&fs, sim_options());
    assert_eq!(reopened.stats().live_keys, 10);
}

#[test]
fn an_fsync_failure_stops_writes_until_reopen() {
    let fs = SimFs::new(5);
    let store = sim_store(&fs, sim_options());
    store.put(b"before".to_vec(), b"1".to_vec()).unwrap();
    fs.fail_next_sync();
    let error = store.put(b"lost".to_vec(), b"2".to_vec()).unwrap_err();
    assert!(matches!(error, Error::Failed(_)), "{error}");
    assert!(error.to_string().contains("fdatasync"), "{error}");
    assert_eq!(
        store.get(b"lost").unwrap(),
        None,
        "a write whose fsync failed is not made visible"
    );
    let again = store.put(b"after".to_vec(), b"3".to_vec()).unwrap_err();
    assert!(
        matches!(again, Error::Failed(_)),
        "no retry after a failed fsync"
    );
    assert_eq!(
        store.get(b"before").unwrap(),
        Some(b"1".to_vec()),
        "reads keep working"
    );
    let fs = fs.crash();
    drop(store);
    let reopened = sim_store(&fs, sim_options());
    assert_eq!(reopened.get(b"before").unwrap(), Some(b"1".to_vec()));
    reopened.put(b"after".to_vec(), b"3".to_vec()).unwrap();
}
