//! Transactions of thousands of keys commit or vanish as a whole, across crashes: on the
//! simulated disk, failing at every I/O operation in turn; and as a real process killed
//! with SIGKILL.
//!
//! Transaction `n` puts `keys/n/i` for every `i`, deletes the keys of transaction `n - 2`
//! and sets `last = n`. After recovery with `last = L`, exactly the keys of transactions
//! `L - 1` and `L` must exist, whole, and `L` must reach every acknowledged transaction.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use bytedata_kv::fs::SimFs;
use bytedata_mvcc::{Engine, TxnOptions};

const KEYS: u32 = 2_000;

fn run_transaction(engine: &Engine, n: u64) -> Result<(), bytedata_mvcc::Error> {
    let txn = engine.begin(TxnOptions::default());
    for i in 0..KEYS {
        txn.put(format!("keys/{n:08}/{i:05}"), n.to_be_bytes().to_vec())?;
        if n > 2 {
            txn.delete(format!("keys/{:08}/{i:05}", n - 2))?;
        }
    }
    txn.put("last", n.to_be_bytes().to_vec())?;
    txn.commit()?;
    Ok(())
}

/// Checks the recovered state; returns `last`.
fn verify(engine: &Engine, acknowledged: u64) -> u64 {
    let txn = engine.begin(TxnOptions::default().read_only());
    let last = txn.get(b"last").unwrap().map_or(0, |bytes| {
        u64::from_be_bytes(bytes.as_ref().try_into().unwrap())
    });
    assert!(
        last >= acknowledged,
        "transaction {acknowledged} was acknowledged, only {last} recovered"
    );
    let mut per_transaction = std::collections::BTreeMap::<u64, u32>::new();
    for (key, value) in txn
        .scan(b"keys/".as_slice()..b"keys0".as_slice())
        .unwrap()
        .map(Result::unwrap)
    {
        let n: u64 = std::str::from_utf8(&key[5..13]).unwrap().parse().unwrap();
        assert_eq!(u64::from_be_bytes(value.as_ref().try_into().unwrap()), n);
        *per_transaction.entry(n).or_default() += 1;
    }
    let expected: std::collections::BTreeMap<u64, u32> = (last.saturating_sub(1).max(1)..=last)
        .filter(|&n| n > 0)
        .map(|n| (n, KEYS))
        .collect();
    assert_eq!(
        per_transaction, expected,
        "a transaction is there in part, or one too many"
    );
    last
}

#[test]
fn large_transactions_survive_a_crash_at_every_io_operation_whole_or_not_at_all() {
    let options = || bytedata_kv::Options {
        wal_segment_bytes: 64 << 10,
        snapshot_after_wal_bytes: u64::MAX,
        snapshot_interval: None,
        ..bytedata_kv::Options::disk("/db")
    };
    let open = |fs: &SimFs| {
        bytedata_kv::Store::open_with_fs(options(), Arc::new(fs.clone())).map(Engine::new)
    };
    let mut crash_point = 0;
    loop {
        let fs = SimFs::new(crash_point);
        let engine = open(&fs).unwrap();
        fs.fail_after(crash_point);
        let mut acknowledged = 0;
        let mut finished = true;
        for n in 1..=6 {
            if run_transaction(&engine, n).is_err() {
                finished = false;
                break;
            }
            if n == 3 && engine.store().checkpoint().is_err() {
                finished = false;
                break;
            }
            acknowledged = n;
        }
        let fs = fs.crash();
        drop(engine);
        let engine = open(&fs).unwrap();
        verify(&engine, acknowledged);
        if finished {
            assert!(
                crash_point > 20,
                "the workload should take more than 20 I/O operations"
            );
            break;
        }
        crash_point += 1;
    }
}

#[test]
fn sigkill_of_a_process_committing_large_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let cycles: u32 = std::env::var("BYTEDATA_CRASH_CYCLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(8);
    let mut acknowledged = 0;
    for _ in 0..cycles {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bytedata-mvcc-crash-child"))
            .args([dir.path().to_str().unwrap(), &KEYS.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = lines.next().unwrap().unwrap();
        assert_eq!(
            ready,
            format!("ready {acknowledged}"),
            "the child resumes where recovery left it"
        );
        for _ in 0..fastrand::usize(1..6) {
            let line = lines.next().expect("the child stopped by itself").unwrap();
            acknowledged = line.strip_prefix("ack ").unwrap().parse().unwrap();
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let engine = Engine::open(bytedata_kv::Options::disk(dir.path())).unwrap();
        acknowledged = verify(&engine, acknowledged);
        engine.store().close().unwrap();
    }
}
