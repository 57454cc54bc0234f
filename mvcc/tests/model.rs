//! Model-based test: random interleavings of transactions at every isolation level,
//! each call compared with a reference implementation of the semantics in
//! docs/transactions.md. Locks are taken with NOWAIT, so one thread drives everything and
//! a busy lock is an error the model predicts.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};

use bytedata_mvcc::{Engine, Error, IsolationLevel, LockWait, Transaction, TxnOptions, TxnScan};
use bytes::Bytes;
use proptest::prelude::*;

type State = BTreeMap<u8, u8>;

#[derive(Debug, Clone)]
enum Op {
    Begin {
        level: u8,
        read_only: bool,
    },
    Get {
        txn: u8,
        key: u8,
    },
    Scan {
        txn: u8,
        from: u8,
        to: u8,
        reverse: bool,
    },
    Put {
        txn: u8,
        key: u8,
        value: u8,
    },
    Delete {
        txn: u8,
        key: u8,
    },
    Lock {
        txn: u8,
        key: u8,
    },
    NewStatement {
        txn: u8,
    },
    Savepoint {
        txn: u8,
    },
    RollbackToSavepoint {
        txn: u8,
    },
    Commit {
        txn: u8,
    },
    Rollback {
        txn: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..8;
    prop_oneof![
        3 => (0u8..3, proptest::bool::weighted(0.15)).prop_map(|(level, read_only)| Op::Begin { level, read_only }),
        5 => (any::<u8>(), key.clone()).prop_map(|(txn, key)| Op::Get { txn, key }),
        2 => (any::<u8>(), key.clone(), key.clone(), any::<bool>()).prop_map(|(txn, from, to, reverse)| Op::Scan { txn, from, to, reverse }),
        5 => (any::<u8>(), key.clone(), any::<u8>()).prop_map(|(txn, key, value)| Op::Put { txn, key, value }),
        2 => (any::<u8>(), key.clone()).prop_map(|(txn, key)| Op::Delete { txn, key }),
        2 => (any::<u8>(), key.clone()).prop_map(|(txn, key)| Op::Lock { txn, key }),
        2 => any::<u8>().prop_map(|txn| Op::NewStatement { txn }),
        1 => any::<u8>().prop_map(|txn| Op::Savepoint { txn }),
        1 => any::<u8>().prop_map(|txn| Op::RollbackToSavepoint { txn }),
        3 => any::<u8>().prop_map(|txn| Op::Commit { txn }),
        1 => any::<u8>().prop_map(|txn| Op::Rollback { txn }),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Serialization,
    LockNotAvailable,
    ReadOnly,
}

fn outcome<T>(result: &Result<T, Error>) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(Error::Serialization { .. }) => Outcome::Serialization,
        Err(Error::LockNotAvailable { .. }) => Outcome::LockNotAvailable,
        Err(Error::ReadOnly { .. }) => Outcome::ReadOnly,
        Err(other) => panic!("unexpected error {other}"),
    }
}

/// The reference: what each transaction must see and whether each call succeeds.
struct ModelTxn {
    level: IsolationLevel,
    read_only: bool,
    snapshot_lsn: u64,
    /// What reads see (the statement's snapshot at READ COMMITTED).
    view: State,
    /// The transaction's first snapshot (what REPEATABLE READ checks writes against).
    start_view: State,
    writes: BTreeMap<u8, Option<u8>>,
    locks: Vec<u8>,
    read_keys: Vec<u8>,
    read_ranges: Vec<(u8, u8)>,
    savepoints: Vec<(BTreeMap<u8, Option<u8>>, usize)>,
}

impl ModelTxn {
    fn tracks_reads(&self) -> bool {
        self.level == IsolationLevel::Serializable && !self.read_only
    }

    fn sees(&self, key: u8) -> Option<u8> {
        match self.writes.get(&key) {
            Some(own) => *own,
            None => self.view.get(&key).copied(),
        }
    }
}

#[derive(Default)]
struct Model {
    committed: State,
    lsn: u64,
    /// Every commit's LSN and keys.
    history: Vec<(u64, Vec<u8>)>,
    last_write: HashMap<u8, u64>,
    owners: HashMap<u8, usize>,
}

struct Harness {
    engine: Engine,
    model: Model,
    /// Live transactions: reference and real, side by side, by slot.
    txns: Vec<(ModelTxn, Transaction)>,
    next_id: usize,
    ids: Vec<usize>,
}

/// Reads a scan to its end both ways it can be read: `visit`s of `chunk` entries, with a
/// `next` between them.
fn drain(mut scan: TxnScan, chunk: usize) -> Vec<(u8, u8)> {
    let mut got = Vec::new();
    loop {
        let visited = scan
            .visit(chunk, |k, v| {
                got.push((k[1], v[0]));
                Ok::<(), bytedata_mvcc::Error>(())
            })
            .unwrap();
        if visited < chunk {
            return got;
        }
        match scan.next() {
            Some(entry) => {
                let (k, v) = entry.unwrap();
                got.push((k[1], v[0]));
            }
            None => return got,
        }
    }
}

fn key(k: u8) -> Bytes {
    Bytes::from(vec![b'k', k])
}

fn levels(level: u8) -> IsolationLevel {
    [
        IsolationLevel::ReadCommitted,
        IsolationLevel::RepeatableRead,
        IsolationLevel::Serializable,
    ][usize::from(level % 3)]
}

impl Harness {
    fn new() -> Self {
        Harness {
            engine: Engine::open(bytedata_kv::Options::memory()).unwrap(),
            model: Model::default(),
            txns: Vec::new(),
            next_id: 0,
            ids: Vec::new(),
        }
    }

    fn slot(&self, txn: u8) -> Option<usize> {
        (!self.txns.is_empty()).then(|| usize::from(txn) % self.txns.len())
    }

    fn end(&mut self, slot: usize) {
        let id = self.ids.remove(slot);
        self.txns.remove(slot);
        self.model.owners.retain(|_, owner| *owner != id);
    }

    /// Takes the lock on `k` for the transaction in `slot` in the model.
    fn model_lock(&mut self, slot: usize, k: u8) -> Outcome {
        let id = self.ids[slot];
        let (txn, _) = &mut self.txns[slot];
        if txn.read_only {
            return Outcome::ReadOnly;
        }
        match self.model.owners.get(&k) {
            Some(&owner) if owner != id => return Outcome::LockNotAvailable,
            Some(_) => return Outcome::Ok,
            None => {}
        }
        self.model.owners.insert(k, id);
        txn.locks.push(k);
        if txn.level != IsolationLevel::ReadCommitted {
            let changed = self
                .model
                .last_write
                .get(&k)
                .is_some_and(|&lsn| lsn > txn.snapshot_lsn);
            let live = self.model.committed.contains_key(&k) || txn.start_view.contains_key(&k);
            if changed && live {
                return Outcome::Serialization;
            }
        }
        Outcome::Ok
    }

    fn fail(&mut self, slot: usize, expected: Outcome, got: Outcome) {
        assert_eq!(got, expected, "transaction in slot {slot}");
        if got == Outcome::Serialization {
            // A failed transaction is rolled back, as the SQL layer will do.
            self.txns[slot].1.rollback().unwrap();
            self.end(slot);
        }
    }

    fn run(&mut self, op: Op) {
        match op {
            Op::Begin { level, read_only } => {
                let level = levels(level);
                let mut options = TxnOptions::isolation(level).lock_wait(LockWait::NoWait);
                options.read_only = read_only;
                let real = self.engine.begin(options);
                assert_eq!(real.snapshot_lsn().0, self.model.lsn);
                let model = ModelTxn {
                    level,
                    read_only,
                    snapshot_lsn: self.model.lsn,
                    view: self.model.committed.clone(),
                    start_view: self.model.committed.clone(),
                    writes: BTreeMap::new(),
                    locks: Vec::new(),
                    read_keys: Vec::new(),
                    read_ranges: Vec::new(),
                    savepoints: Vec::new(),
                };
                self.txns.push((model, real));
                self.ids.push(self.next_id);
                self.next_id += 1;
            }
            Op::Get { txn, key: k } => {
                let Some(slot) = self.slot(txn) else { return };
                let (model, real) = &mut self.txns[slot];
                let expected = model.sees(k);
                if model.tracks_reads() {
                    model.read_keys.push(k);
                }
                let got = real.get(&key(k)).unwrap().map(|v| v[0]);
                assert_eq!(got, expected, "get of key {k}");
            }
            Op::Scan {
                txn,
                from,
                to,
                reverse,
            } => {
                let Some(slot) = self.slot(txn) else { return };
                let (low, high) = (from.min(to), from.max(to));
                let (model, real) = &mut self.txns[slot];
                let mut expected: Vec<(u8, u8)> = (low..high)
                    .filter_map(|k| model.sees(k).map(|v| (k, v)))
                    .collect();
                if model.tracks_reads() {
                    model.read_ranges.push((low, high));
                }
                let scan = if reverse {
                    expected.reverse();
                    real.scan_rev(key(low)..key(high))
                } else {
                    real.scan(key(low)..key(high))
                };
                let got = drain(scan.unwrap(), 1 + usize::from(from % 4));
                assert_eq!(got, expected, "scan of {low}..{high}");
            }
            Op::Put { txn, key: k, value } => self.write(txn, k, Some(value)),
            Op::Delete { txn, key: k } => self.write(txn, k, None),
            Op::Lock { txn, key: k } => {
                let Some(slot) = self.slot(txn) else { return };
                let expected = self.model_lock(slot, k);
                let result = self.txns[slot].1.lock(&key(k));
                let got = outcome(&result);
                if got != Outcome::Ok || expected != Outcome::Ok {
                    return self.fail(slot, expected, got);
                }
                let model = &self.txns[slot].0;
                let for_update = match model.writes.get(&k) {
                    Some(own) => *own,
                    None if model.level == IsolationLevel::ReadCommitted => {
                        self.model.committed.get(&k).copied()
                    }
                    None => model.view.get(&k).copied(),
                };
                assert_eq!(
                    result.unwrap().map(|v| v[0]),
                    for_update,
                    "value for update of {k}"
                );
            }
            Op::NewStatement { txn } => {
                let Some(slot) = self.slot(txn) else { return };
                self.txns[slot].1.new_statement().unwrap();
                let model = &mut self.txns[slot].0;
                if model.level == IsolationLevel::ReadCommitted {
                    model.view = self.model.committed.clone();
                }
            }
            Op::Savepoint { txn } => {
                let Some(slot) = self.slot(txn) else { return };
                let (model, real) = &mut self.txns[slot];
                real.savepoint("s").unwrap();
                model
                    .savepoints
                    .push((model.writes.clone(), model.locks.len()));
            }
            Op::RollbackToSavepoint { txn } => {
                let Some(slot) = self.slot(txn) else { return };
                let id = self.ids[slot];
                let (model, real) = &mut self.txns[slot];
                let Some((writes, locks)) = model.savepoints.last().cloned() else {
                    return;
                };
                real.rollback_to_savepoint("s").unwrap();
                model.writes = writes;
                for k in model.locks.split_off(locks) {
                    if self.model.owners.get(&k) == Some(&id) {
                        self.model.owners.remove(&k);
                    }
                }
            }
            Op::Commit { txn } => {
                let Some(slot) = self.slot(txn) else { return };
                let result = self.txns[slot].1.commit();
                let model = &self.txns[slot].0;
                let conflict = model.tracks_reads()
                    && !model.writes.is_empty()
                    && self.model.history.iter().any(|(lsn, keys)| {
                        *lsn > model.snapshot_lsn
                            && keys.iter().any(|k| {
                                model.read_keys.contains(k)
                                    || model
                                        .read_ranges
                                        .iter()
                                        .any(|&(low, high)| (low..high).contains(k))
                            })
                    });
                if conflict {
                    assert_eq!(
                        outcome(&result),
                        Outcome::Serialization,
                        "commit should fail validation"
                    );
                } else {
                    assert_eq!(outcome(&result), Outcome::Ok, "commit should succeed");
                    if !model.writes.is_empty() {
                        self.model.lsn += 1;
                        assert_eq!(result.unwrap().0, self.model.lsn, "commit LSN");
                        let mut keys = Vec::new();
                        for (&k, &value) in &model.writes {
                            match value {
                                Some(v) => self.model.committed.insert(k, v),
                                None => self.model.committed.remove(&k),
                            };
                            self.model.last_write.insert(k, self.model.lsn);
                            keys.push(k);
                        }
                        self.model.history.push((self.model.lsn, keys));
                    }
                }
                self.end(slot);
            }
            Op::Rollback { txn } => {
                let Some(slot) = self.slot(txn) else { return };
                self.txns[slot].1.rollback().unwrap();
                self.end(slot);
            }
        }
    }

    fn write(&mut self, txn: u8, k: u8, value: Option<u8>) {
        let Some(slot) = self.slot(txn) else { return };
        let expected = self.model_lock(slot, k);
        let real = &self.txns[slot].1;
        let result = match value {
            Some(v) => real.put(key(k), Bytes::from(vec![v])),
            None => real.delete(key(k)),
        };
        let got = outcome(&result);
        if got != Outcome::Ok || expected != Outcome::Ok {
            return self.fail(slot, expected, got);
        }
        self.txns[slot].0.writes.insert(k, value);
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn transactions_match_the_reference_semantics(ops in proptest::collection::vec(op(), 1..80)) {
        let mut harness = Harness::new();
        for op in ops {
            harness.run(op);
        }
        // Everything still open rolls back; what is committed is exactly the model's.
        harness.txns.clear();
        let check = harness.engine.begin(TxnOptions::default().read_only());
        let stored: State = check.scan(..).unwrap().map(Result::unwrap).map(|(k, v)| (k[1], v[0])).collect();
        prop_assert_eq!(stored, harness.model.committed);
        prop_assert_eq!(harness.engine.stats().locks_held, 0);
    }
}
