//! The bank: threads transfer money between accounts for a bounded time while readers
//! check in their snapshots that the total never changes; at the end it is exact.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytedata_mvcc::{Engine, Error, IsolationLevel, Transaction, TxnOptions};

const ACCOUNTS: u32 = 12;
const START_BALANCE: i64 = 1_000;
const WRITERS: usize = 4;
const READERS: usize = 2;
const RUN: Duration = Duration::from_millis(1500);

fn account(i: u32) -> Vec<u8> {
    format!("account/{i:03}").into_bytes()
}

fn balance(bytes: &[u8]) -> i64 {
    i64::from_be_bytes(bytes.try_into().unwrap())
}

/// How a transfer reads the balances it changes.
#[derive(Clone, Copy)]
enum Reading {
    /// From the snapshot: the write lock's check catches concurrent updates.
    Snapshot,
    /// With a locking read (`SELECT … FOR UPDATE`).
    ForUpdate,
}

fn transfer(
    txn: &Transaction,
    from: u32,
    to: u32,
    amount: i64,
    reading: Reading,
) -> Result<(), Error> {
    let read = |key: &[u8]| -> Result<i64, Error> {
        let value = match reading {
            Reading::Snapshot => txn.get(key)?,
            Reading::ForUpdate => txn.lock(key)?,
        };
        Ok(balance(&value.unwrap()))
    };
    let (from_key, to_key) = (account(from), account(to));
    let from_balance = read(&from_key)?;
    let to_balance = read(&to_key)?;
    txn.put(from_key, (from_balance - amount).to_be_bytes().to_vec())?;
    txn.put(to_key, (to_balance + amount).to_be_bytes().to_vec())?;
    txn.commit()?;
    Ok(())
}

fn total(engine: &Engine) -> i64 {
    let txn = engine.begin(TxnOptions::isolation(IsolationLevel::RepeatableRead).read_only());
    let sum = txn
        .scan(b"account/".as_slice()..b"account0".as_slice())
        .unwrap()
        .map(Result::unwrap)
        .map(|(_, v)| balance(&v))
        .sum();
    txn.commit().unwrap();
    sum
}

fn run_bank(level: IsolationLevel, reading: Reading) {
    let engine = Engine::open(bytedata_kv::Options::memory()).unwrap();
    let setup = engine.begin(TxnOptions::default());
    for i in 0..ACCOUNTS {
        setup
            .put(account(i), START_BALANCE.to_be_bytes().to_vec())
            .unwrap();
    }
    setup.commit().unwrap();
    let expected = START_BALANCE * i64::from(ACCOUNTS);

    let committed = AtomicU64::new(0);
    let retried = AtomicU64::new(0);
    let checks = AtomicU64::new(0);
    let writers_done = AtomicBool::new(false);
    let deadline = Instant::now() + RUN;
    std::thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (engine, committed, retried) = (&engine, &committed, &retried);
                scope.spawn(move || {
                    let mut rng = fastrand::Rng::with_seed(w as u64);
                    while Instant::now() < deadline {
                        let from = rng.u32(0..ACCOUNTS);
                        let to = (from + rng.u32(1..ACCOUNTS)) % ACCOUNTS;
                        let amount = rng.i64(1..100);
                        loop {
                            let txn = engine.begin(TxnOptions::isolation(level));
                            match transfer(&txn, from, to, amount, reading) {
                                Ok(()) => {
                                    committed.fetch_add(1, Ordering::Relaxed);
                                    break;
                                }
                                Err(error) if error.is_retryable() => {
                                    retried.fetch_add(1, Ordering::Relaxed);
                                }
                                Err(error) => panic!("transfer failed: {error}"),
                            }
                        }
                    }
                })
            })
            .collect();
        for _ in 0..READERS {
            let (engine, checks, writers_done) = (&engine, &checks, &writers_done);
            scope.spawn(move || {
                while !writers_done.load(Ordering::Acquire) {
                    assert_eq!(
                        total(engine),
                        expected,
                        "a reader saw money appear or vanish"
                    );
                    checks.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        for writer in writers {
            writer.join().unwrap();
        }
        writers_done.store(true, Ordering::Release);
    });
    assert_eq!(total(&engine), expected, "the final total is off");
    let (committed, retried) = (committed.into_inner(), retried.into_inner());
    assert!(
        committed > 100,
        "{level:?}: only {committed} transfers committed"
    );
    assert!(checks.into_inner() > 0);
    assert_eq!(engine.stats().locks_held, 0);
    eprintln!("{level:?}: {committed} transfers, {retried} retries");
}

#[test]
fn bank_at_repeatable_read() {
    run_bank(IsolationLevel::RepeatableRead, Reading::Snapshot);
}

#[test]
fn bank_at_serializable() {
    run_bank(IsolationLevel::Serializable, Reading::Snapshot);
}

#[test]
fn bank_at_read_committed_with_locking_reads() {
    run_bank(IsolationLevel::ReadCommitted, Reading::ForUpdate);
}
