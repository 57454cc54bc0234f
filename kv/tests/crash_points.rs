//! Crash at every point: a fixed workload runs once per I/O operation it performs, with
//! the machine stopping at that operation (a write may land in part). After the crash the
//! store must open and hold every acknowledged batch, plus at most the one in flight —
//! never part of a batch. Recovery itself is then interrupted at a point that varies with
//! the run, and must still end in the same state.
//!
//! The encrypted run also rotates the master key midway: at every crash point, the store
//! must open under the old key or the new one, and hold the same data either way. The
//! hybrid run keeps most values in small value-log files and compacts them midway, so
//! crashes also land in appends, file rotations, compactions and file deletions.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use bytedata_kv::fs::SimFs;
use bytedata_kv::{Error, MasterKey, Options, Store, WriteBatch};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn options(key: Option<&MasterKey>, hybrid: bool) -> Options {
    let options = Options {
        wal_segment_bytes: 4096,
        snapshot_after_wal_bytes: u64::MAX,
        snapshot_interval: None,
        value_threshold_bytes: 24,
        value_log_file_bytes: 4096,
        value_log_gc_percent: 30,
        ..if hybrid {
            Options::hybrid("/db")
        } else {
            Options::disk("/db")
        }
    };
    match key {
        Some(key) => options.encrypted(key.clone()),
        None => options,
    }
}

/// The master key a store starts with and the one it is rotated to.
struct Keys {
    old: MasterKey,
    new: MasterKey,
}

fn batch(i: u32) -> (WriteBatch, impl Fn(&mut Model)) {
    let put_a = vec![b'a', (i % 7) as u8];
    let put_b = vec![b'b', (i % 11) as u8];
    let gone = vec![b'a', ((i * 3) % 7) as u8];
    let value = format!("value {i} {}", "x".repeat((i % 5) as usize * 40)).into_bytes();
    let mut batch = WriteBatch::new();
    batch.put(put_a.clone(), value.clone());
    batch.put(put_b.clone(), value.clone());
    batch.delete(gone.clone());
    let apply = move |model: &mut Model| {
        model.insert(put_a.clone(), value.clone());
        model.insert(put_b.clone(), value.clone());
        model.remove(&gone);
    };
    (batch, apply)
}

/// Runs the workload until it finishes or a write fails. Returns the model after every
/// acknowledged batch and the model the failing batch would have produced.
fn workload(store: &Store, keys: Option<&Keys>) -> (Model, Option<Model>, bool) {
    let hybrid = store.stats().value_log.is_some();
    let mut model = Model::new();
    for i in 0..40 {
        if i == 15
            && let Some(keys) = keys
            && store.rotate_master_key(&keys.new).is_err()
        {
            return (model, None, false);
        }
        let (batch, apply) = batch(i);
        let mut next = model.clone();
        apply(&mut next);
        if store.write(batch).is_err() {
            return (model, Some(next), false);
        }
        model = next;
        if i % 10 == 9 && store.checkpoint().is_err() {
            return (model, None, false);
        }
        if hybrid && i % 10 == 4 && store.compact_value_log().is_err() {
            return (model, None, false);
        }
    }
    if let Some(log) = store.stats().value_log {
        // Undisturbed, the hybrid workload compacts files and deletes some.
        assert!(log.files_compacted > 0 && log.files_deleted > 0, "{log:?}");
    }
    let closed = store.close().is_ok();
    (model, None, closed)
}

/// Opens the store under the new key, or the old one if the rotation did not complete.
fn open(fs: &SimFs, keys: Option<&Keys>, hybrid: bool) -> bytedata_kv::Result<Store> {
    let open_with = |key| Store::open_with_fs(options(key, hybrid), Arc::new(fs.clone()));
    match keys {
        None => open_with(None),
        Some(keys) => match open_with(Some(&keys.new)) {
            Err(Error::Encryption(_)) => open_with(Some(&keys.old)),
            opened => opened,
        },
    }
}

fn contents(store: &Store) -> Model {
    store.read_view().scan(..).map(Result::unwrap).collect()
}

fn every_crash_point_recovers_acknowledged_batches_whole(keys: Option<&Keys>, hybrid: bool) {
    let mut crash_point = 0u64;
    loop {
        let fs = SimFs::new(crash_point);
        let store = open(
            &fs,
            keys.map(|keys| Keys {
                old: keys.old.clone(),
                new: keys.old.clone(),
            })
            .as_ref(),
            hybrid,
        )
        .unwrap();
        fs.fail_after(crash_point);
        let (acknowledged, in_flight, finished) = workload(&store, keys);
        let fs = fs.crash();
        drop(store);

        // Interrupt recovery too, at a point that varies from run to run.
        fs.fail_after(crash_point % 13);
        let fs = match open(&fs, keys, hybrid) {
            Ok(store) => {
                drop(store);
                fs.crash()
            }
            Err(_) => fs.crash(),
        };

        let store = open(&fs, keys, hybrid).unwrap();
        let recovered = contents(&store);
        assert!(
            recovered == acknowledged || Some(&recovered) == in_flight.as_ref(),
            "crash at I/O operation {crash_point}: recovered state is neither the acknowledged one \
             nor the one with the in-flight batch"
        );
        // The recovered store takes writes, and they survive another crash.
        store.put(b"after".to_vec(), b"crash".to_vec()).unwrap();
        let fs = fs.crash();
        drop(store);
        let store = open(&fs, keys, hybrid).unwrap();
        assert_eq!(store.get(b"after").unwrap(), Some(b"crash".to_vec()));

        if finished {
            assert!(
                crash_point > 100,
                "the workload should take well over 100 I/O operations"
            );
            break;
        }
        crash_point += 1;
    }
}

#[test]
fn every_crash_point_of_a_plain_store_recovers_acknowledged_batches_whole() {
    every_crash_point_recovers_acknowledged_batches_whole(None, false);
}

#[test]
fn every_crash_point_of_a_hybrid_store_and_its_compactions_recovers_acknowledged_batches_whole() {
    every_crash_point_recovers_acknowledged_batches_whole(None, true);
}

#[test]
fn every_crash_point_of_an_encrypted_store_and_its_key_rotation_recovers_acknowledged_batches_whole()
 {
    let key = || MasterKey::from_hex(&MasterKey::generate_hex().unwrap()).unwrap();
    let keys = Keys {
        old: key(),
        new: key(),
    };
    every_crash_point_recovers_acknowledged_batches_whole(Some(&keys), false);
}
