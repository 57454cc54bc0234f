//! Crash at every point: a fixed workload runs once per I/O operation it performs, with
//! the machine stopping at that operation (a write may land in part). After the crash the
//! store must open and hold every acknowledged batch, plus at most the one in flight —
//! never part of a batch. Recovery itself is then interrupted at a point that varies with
//! the run, and must still end in the same state.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use bytedata_kv::fs::SimFs;
use bytedata_kv::{Options, Store, WriteBatch};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn options() -> Options {
    Options {
        wal_segment_bytes: 4096,
        snapshot_after_wal_bytes: u64::MAX,
        snapshot_interval: None,
        ..Options::disk("/db")
    }
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
fn workload(store: &Store) -> (Model, Option<Model>, bool) {
    let mut model = Model::new();
    for i in 0..40 {
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
    }
    let closed = store.close().is_ok();
    (model, None, closed)
}

fn open(fs: &SimFs) -> bytedata_kv::Result<Store> {
    Store::open_with_fs(options(), Arc::new(fs.clone()))
}

fn contents(store: &Store) -> Model {
    store.read_view().scan(..).collect()
}

#[test]
fn every_crash_point_recovers_acknowledged_batches_whole() {
    let mut crash_point = 0u64;
    loop {
        let fs = SimFs::new(crash_point);
        let store = open(&fs).unwrap();
        fs.fail_after(crash_point);
        let (acknowledged, in_flight, finished) = workload(&store);
        let fs = fs.crash();
        drop(store);

        // Interrupt recovery too, at a point that varies from run to run.
        fs.fail_after(crash_point % 13);
        let fs = match open(&fs) {
            Ok(store) => {
                drop(store);
                fs.crash()
            }
            Err(_) => fs.crash(),
        };

        let store = open(&fs).unwrap();
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
        let store = open(&fs).unwrap();
        assert_eq!(store.get(b"after"), Some(b"crash".to_vec()));

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
