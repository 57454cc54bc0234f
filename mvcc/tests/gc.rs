//! Garbage collection: a million updates over a thousand keys leave a bounded number of
//! versions, while a reader that started before them keeps reading its snapshot.
//!
//! The bound: every key keeps its newest version, plus the newest version at or below
//! each live snapshot — here one reader, so at most 2 per key — plus what the collector
//! has not reached yet, which it keeps small by trimming about twice as many keys as each
//! commit writes.
#![allow(clippy::unwrap_used)]

use bytedata_mvcc::{Engine, IsolationLevel, TxnOptions};

const KEYS: u64 = 1_000;
const UPDATES: u64 = 1_000_000;
const PER_TXN: u64 = 100;
/// Versions the collector may lag behind by, between its passes.
const SLACK: u64 = 4 * PER_TXN;

fn key(i: u64) -> Vec<u8> {
    format!("key/{i:04}").into_bytes()
}

#[test]
fn a_million_updates_keep_versions_bounded_while_an_old_reader_reads_its_snapshot() {
    let engine = Engine::open(bytedata_kv::Options::memory()).unwrap();
    let setup = engine.begin(TxnOptions::default());
    for i in 0..KEYS {
        setup.put(key(i), 0u64.to_be_bytes().to_vec()).unwrap();
    }
    setup.commit().unwrap();

    let reader = engine.begin(TxnOptions::isolation(IsolationLevel::RepeatableRead).read_only());
    let before: Vec<(bytes::Bytes, bytes::Bytes)> =
        reader.scan(..).unwrap().map(Result::unwrap).collect();
    assert_eq!(before.len() as u64, KEYS);

    let mut round = 0u64;
    let mut max_versions = 0;
    for txn_number in 0..UPDATES / PER_TXN {
        let txn = engine.begin(TxnOptions::default());
        for n in 0..PER_TXN {
            let i = (txn_number * PER_TXN + n) % KEYS;
            round += 1;
            txn.put(key(i), round.to_be_bytes().to_vec()).unwrap();
        }
        txn.commit().unwrap();
        let versions = engine.store().stats().versions;
        max_versions = max_versions.max(versions);
        assert!(
            versions <= 2 * KEYS + SLACK,
            "after {} updates: {versions} versions stored",
            (txn_number + 1) * PER_TXN
        );
    }
    eprintln!("at most {max_versions} versions for {KEYS} keys");

    // The reader still sees exactly what it saw before the million updates.
    let after: Vec<_> = reader.scan(..).unwrap().map(Result::unwrap).collect();
    assert_eq!(after, before);
    engine.store().collect_garbage();
    assert_eq!(
        engine.store().stats().versions,
        2 * KEYS,
        "newest plus the reader's, per key"
    );

    reader.commit().unwrap();
    engine.store().collect_garbage();
    assert_eq!(
        engine.store().stats().versions,
        KEYS,
        "only the newest once the reader is gone"
    );
}
