//! Hybrid mode: large values live in the value log, the index holds pointers to them, and
//! compaction reclaims the space of dead values while readers go on.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use bytedata_kv::{Error, Options, Store, WriteBatch};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

const THRESHOLD_BYTES: usize = 100;

fn hybrid(dir: &Path) -> Options {
    Options {
        value_threshold_bytes: THRESHOLD_BYTES,
        value_log_file_bytes: 16 << 10,
        snapshot_interval: None,
        ..Options::hybrid(dir)
    }
}

fn key(i: u32) -> Vec<u8> {
    format!("key{i:06}").into_bytes()
}

/// A value of `len` bytes that differs per key and per round.
fn value(i: u32, round: u32, len: usize) -> Vec<u8> {
    let stamp = format!("{i}/{round}/");
    stamp.bytes().cycle().take(len).collect()
}

fn contents(store: &Store) -> Model {
    store
        .read_view()
        .scan(..)
        .collect::<bytedata_kv::Result<Model>>()
        .unwrap()
}

fn vlog_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("vlog"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Writes `count` keys in batches of 50: every third value small, the others large.
fn write_round(store: &Store, model: &mut Model, count: u32, round: u32) {
    for start in (0..count).step_by(50) {
        let mut batch = WriteBatch::new();
        for i in start..(start + 50).min(count) {
            let len = if i % 3 == 0 { 20 } else { 500 };
            batch.put(key(i), value(i, round, len));
            model.insert(key(i), value(i, round, len));
        }
        store.write(batch).unwrap();
    }
}

#[test]
fn large_values_live_in_the_value_log_and_every_read_path_returns_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(hybrid(dir.path())).unwrap();
    let mut model = Model::new();
    write_round(&store, &mut model, 600, 1);
    let large_bytes: u64 = model
        .values()
        .filter(|v| v.len() >= THRESHOLD_BYTES)
        .map(|v| v.len() as u64)
        .sum();

    let stats = store.stats();
    let log = stats.value_log.unwrap();
    assert!(log.bytes >= large_bytes, "{log:?}");
    assert!(
        stats.approx_memory_bytes < large_bytes / 2,
        "the index holds pointers, not the values: {} bytes for {large_bytes} bytes of values",
        stats.approx_memory_bytes
    );

    assert_eq!(contents(&store), model);
    let view = store.read_view();
    let reversed: Vec<(Vec<u8>, Vec<u8>)> = view.scan_rev(..).map(Result::unwrap).collect();
    assert!(
        reversed.iter().rev().eq(model
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>()
            .iter())
    );
    let mut visited = 0;
    view.for_each(.., false, |k, v| {
        assert_eq!(model.get(k).map(Vec::as_slice), Some(v));
        visited += 1;
        ControlFlow::<()>::Continue(())
    })
    .unwrap();
    assert_eq!(visited, model.len());
    assert_eq!(
        view.get_with(&key(5), |v| v.map(<[u8]>::len)).unwrap(),
        Some(500)
    );
    assert_eq!(
        store
            .newest_with(&key(5), |v| v.map(<[u8]>::to_vec))
            .unwrap(),
        Some(value(5, 1, 500))
    );

    // A view keeps seeing what it saw while the value is overwritten and deleted.
    store.put(key(5), value(5, 2, 700)).unwrap();
    store.delete(key(7)).unwrap();
    assert_eq!(view.get(&key(5)).unwrap(), Some(value(5, 1, 500)));
    assert_eq!(view.get(&key(7)).unwrap(), Some(value(7, 1, 500)));
    assert_eq!(store.get(&key(5)).unwrap(), Some(value(5, 2, 700)));
    assert_eq!(store.get(&key(7)).unwrap(), None);
    model.insert(key(5), value(5, 2, 700));
    model.remove(&key(7));
    drop(view);

    // The snapshot holds the pointers, not the values again.
    let snapshot = store.checkpoint().unwrap().unwrap();
    assert!(
        snapshot.bytes < large_bytes / 4,
        "a {} byte snapshot for {large_bytes} bytes of large values",
        snapshot.bytes
    );
    store.close().unwrap();
    let store = Store::open(hybrid(dir.path())).unwrap();
    assert_eq!(contents(&store), model);
}

#[test]
fn recovery_replays_the_log_into_the_value_log() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        snapshot_on_close: false,
        ..hybrid(dir.path())
    };
    let mut model = Model::new();
    {
        let store = Store::open(options.clone()).unwrap();
        write_round(&store, &mut model, 300, 1);
        store.checkpoint().unwrap();
        write_round(&store, &mut model, 200, 2);
    }
    let store = Store::open(options.clone()).unwrap();
    assert_eq!(contents(&store), model);
    // What replay wrote is found again after another restart without a snapshot.
    write_round(&store, &mut model, 100, 3);
    drop(store);
    let store = Store::open(options).unwrap();
    assert_eq!(contents(&store), model);
}

#[test]
fn compaction_moves_live_values_and_files_go_only_after_enough_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    // The test counts the compactions it runs: none may run behind its back.
    let options = Options {
        background_maintenance: false,
        ..hybrid(dir.path())
    };
    let store = Store::open(options.clone()).unwrap();
    let mut model = Model::new();
    write_round(&store, &mut model, 300, 1);
    write_round(&store, &mut model, 300, 2);
    let old_view = store.read_view();
    let old_model = model.clone();
    write_round(&store, &mut model, 300, 3);
    store.checkpoint().unwrap();
    store.collect_garbage();

    let before = store.stats().value_log.unwrap();
    assert!(before.files > 4, "{before:?}");
    assert!(
        before.garbage_ratio() > 0.2 && before.garbage_ratio() < 1.0,
        "{before:?}"
    );
    let compacted = store.compact_value_log().unwrap();
    assert!(compacted > 0, "round 1 is dead: its files are due");
    let after = store.stats().value_log.unwrap();
    assert_eq!(after.files_compacted, compacted as u64);
    assert_eq!(after.retired_files, compacted, "{after:?}");
    assert_eq!(after.files_deleted, 0, "kept snapshots may point into them");
    // Readers see the same values: the newest ones, and the ones an old view needs.
    assert_eq!(contents(&store), model);
    let seen: Model = old_view.scan(..).map(Result::unwrap).collect();
    assert_eq!(seen, old_model);
    drop(old_view);

    // A file goes once every kept snapshot was written after its values moved.
    let files_before = vlog_files(dir.path()).len();
    for round in 4..=(3 + options.snapshots_kept as u32) {
        store.put(key(0), value(0, round, 20)).unwrap();
        model.insert(key(0), value(0, round, 20));
        store.checkpoint().unwrap();
    }
    let deleted = store.stats().value_log.unwrap();
    assert_eq!(deleted.files_deleted, compacted as u64, "{deleted:?}");
    assert!(vlog_files(dir.path()).len() <= files_before - compacted);
    assert!(deleted.bytes < before.bytes, "{before:?} {deleted:?}");
    assert_eq!(contents(&store), model);
    store.check_consistency().unwrap();
    store.close().unwrap();
    let store = Store::open(options).unwrap();
    assert_eq!(contents(&store), model);
    store.check_consistency().unwrap();
}

#[test]
fn a_value_overwritten_in_its_own_batch_is_never_counted_live() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(hybrid(dir.path())).unwrap();
    let mut batch = WriteBatch::new();
    batch.put(key(1), value(1, 1, 500));
    batch.put(key(1), value(1, 2, 500));
    batch.put(key(2), value(2, 1, 500));
    store.write(batch).unwrap();
    assert_eq!(store.get(&key(1)).unwrap(), Some(value(1, 2, 500)));
    // Every byte of the value log is live, dead or waiting to be noted dead: a value the
    // batch itself replaced is not written at all.
    store.check_consistency().unwrap();
    let stats = store.stats().value_log.unwrap();
    assert_eq!(stats.dead_bytes, 0, "{stats:?}");
    store.checkpoint().unwrap();
    store.check_consistency().unwrap();
}

#[test]
fn a_dataset_many_times_the_memory_limit_loads_in_hybrid_mode_only() {
    const LIMIT_BYTES: u64 = 2 << 20;
    let load = |options: Options| -> Result<Model, Error> {
        let store = Store::open(Options {
            memory_limit_bytes: Some(LIMIT_BYTES),
            value_cache_bytes: 1 << 20,
            ..options
        })?;
        let mut model = Model::new();
        // 5,000 values of 4 KiB: 20 MiB, ten times the budget.
        for start in (0..5000u32).step_by(100) {
            let mut batch = WriteBatch::new();
            for i in start..start + 100 {
                batch.put(key(i), value(i, 1, 4096));
                model.insert(key(i), value(i, 1, 4096));
            }
            store.write(batch)?;
        }
        let stats = store.stats();
        assert!(stats.approx_memory_bytes <= LIMIT_BYTES, "{stats:?}");
        assert_eq!(contents(&store), model);
        Ok(model)
    };
    let dir = tempfile::tempdir().unwrap();
    let model = load(hybrid(dir.path())).unwrap();
    assert_eq!(model.len(), 5000);
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        load(Options::disk(dir.path())),
        Err(Error::MemoryLimit { .. })
    ));
}

#[test]
fn a_damaged_value_is_an_error_naming_its_file_and_the_rest_reads_on() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        value_log_file_bytes: 1 << 20,
        ..hybrid(dir.path())
    };
    let store = Store::open(options.clone()).unwrap();
    let mut model = Model::new();
    write_round(&store, &mut model, 90, 1);
    store.close().unwrap();

    // Alter one byte in the middle of the first file's entries.
    let file = vlog_files(dir.path())
        .into_iter()
        .max_by_key(|path| std::fs::metadata(path).unwrap().len())
        .unwrap();
    let mut data = std::fs::read(&file).unwrap();
    let middle = data.len() / 2;
    data[middle] ^= 0x55;
    std::fs::write(&file, data).unwrap();

    let store = Store::open(options).unwrap();
    let mut damaged = Vec::new();
    for (k, v) in &model {
        match store.get(k) {
            Ok(found) => assert_eq!(found.as_ref(), Some(v)),
            Err(Error::Corruption { file: path, .. }) => {
                assert_eq!(path, file);
                damaged.push(k.clone());
            }
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    assert_eq!(damaged.len(), 1, "exactly one value is damaged");
    // A scan reaching it reports the damage instead of skipping the entry.
    let scanned: Result<Vec<_>, _> = store.read_view().scan(..).collect();
    assert!(matches!(scanned, Err(Error::Corruption { .. })));
}

#[test]
fn a_hybrid_store_opened_in_disk_mode_still_reads_its_value_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = Model::new();
    {
        let store = Store::open(hybrid(dir.path())).unwrap();
        write_round(&store, &mut model, 120, 1);
    }
    let store = Store::open(Options::disk(dir.path())).unwrap();
    assert_eq!(contents(&store), model);
    store.put(key(1), value(1, 2, 900)).unwrap();
    model.insert(key(1), value(1, 2, 900));
    drop(store);
    let store = Store::open(hybrid(dir.path())).unwrap();
    assert_eq!(contents(&store), model);
}
