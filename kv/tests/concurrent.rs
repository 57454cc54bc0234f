//! Many threads at once: readers never see part of a batch, views never go backwards,
//! and concurrent committers share fdatasyncs.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, Ordering};

use bytedata_kv::{Options, Store, WriteBatch};

const KEYS_PER_BATCH: u32 = 5;

fn key(writer: u32, i: u32) -> Vec<u8> {
    format!("w{writer}/{i}").into_bytes()
}

#[test]
fn readers_see_every_batch_whole_while_writers_run() {
    let store = Store::open(Options::memory()).unwrap();
    let writers = 4;
    let rounds = 400u64;
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for writer in 0..writers {
            let store = &store;
            handles.push(scope.spawn(move || {
                for round in 1..=rounds {
                    let mut batch = WriteBatch::new();
                    for i in 0..KEYS_PER_BATCH {
                        batch.put(key(writer, i), round.to_be_bytes().to_vec());
                    }
                    store.write(batch).unwrap();
                }
            }));
        }
        for _ in 0..2 {
            let (store, done) = (&store, &done);
            scope.spawn(move || {
                let mut last_seen = vec![0u64; writers as usize];
                let mut views = 0u64;
                while !done.load(Ordering::Acquire) || views < 10 {
                    let view = store.read_view();
                    for writer in 0..writers {
                        let values: Vec<u64> = (0..KEYS_PER_BATCH)
                            .map(|i| {
                                view.get(&key(writer, i))
                                    .unwrap()
                                    .map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap()))
                            })
                            .collect();
                        assert!(
                            values.windows(2).all(|w| w[0] == w[1]),
                            "part of a batch: {values:?}"
                        );
                        assert!(
                            values[0] >= last_seen[writer as usize],
                            "a later view went back in time"
                        );
                        last_seen[writer as usize] = values[0];
                    }
                    views += 1;
                }
            });
        }
        for handle in handles {
            handle.join().unwrap();
        }
        done.store(true, Ordering::Release);
    });
    let view = store.read_view();
    for writer in 0..writers {
        assert_eq!(
            view.get(&key(writer, 0)).unwrap(),
            Some(rounds.to_be_bytes().to_vec())
        );
    }
    assert_eq!(view.lsn().0, u64::from(writers) * rounds);
}

#[test]
fn concurrent_committers_share_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Options {
        snapshot_on_close: false,
        ..Options::disk(dir.path())
    })
    .unwrap();
    let before = store.stats().wal_syncs;
    let (threads, commits) = (16u64, 40u64);
    std::thread::scope(|scope| {
        for thread in 0..threads {
            let store = &store;
            scope.spawn(move || {
                for i in 0..commits {
                    store
                        .put(format!("{thread}/{i}").into_bytes(), b"v".to_vec())
                        .unwrap();
                }
            });
        }
    });
    let stats = store.stats();
    let used = stats.wal_syncs - before;
    assert_eq!(stats.live_keys, threads * commits);
    // Every commit was in exactly one group, and the groups are what was synced.
    assert_eq!(stats.committed_batches, threads * commits);
    assert!(stats.commit_groups <= stats.committed_batches);
    assert!(
        stats.commit_groups >= used,
        "each sync follows at least one group"
    );
    assert!(stats.wal_sync_seconds > 0.0, "fdatasyncs take time");
    assert!(used > 0, "always mode must fdatasync");
    assert!(
        used < threads * commits,
        "{} commits took {used} fdatasyncs: group commit is not sharing them",
        threads * commits
    );
}

#[test]
fn one_committer_gets_one_fsync_per_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Options::disk(dir.path())).unwrap();
    let before = store.stats().wal_syncs;
    for i in 0..20u32 {
        store.put(i.to_be_bytes().to_vec(), b"v".to_vec()).unwrap();
    }
    let stats = store.stats();
    assert_eq!(stats.wal_syncs - before, 20);
    assert_eq!(
        stats.commit_groups, stats.committed_batches,
        "groups of one"
    );
}
