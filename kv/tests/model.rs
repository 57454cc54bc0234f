//! Model-based property test: random sequences of operations against the store on a
//! simulated disk, checked against a `BTreeMap`.
//!
//! Crashes are power losses (`SimFs::crash` drops everything not fsynced, keeping torn
//! fragments of unsynced appends) and faults injected at a random later I/O operation,
//! after which every I/O fails until the crash. After every crash the store must open,
//! and what it holds must be one of the states the model allows:
//! - `always`: exactly the acknowledged writes, plus possibly the one write that failed;
//! - `never`: the state after some prefix of the writes, at least up to the last point
//!   known durable (a checkpoint, sync or clean close).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use bytedata_kv::fs::SimFs;
use bytedata_kv::{FsyncPolicy, Options, ReadView, Store, WriteBatch};
use proptest::prelude::*;

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

#[derive(Debug, Clone)]
enum Op {
    Write(Vec<(u8, Option<Vec<u8>>)>),
    Get(u8),
    Scan { from: u8, to: u8, reverse: bool },
    OpenView,
    CheckViews,
    Checkpoint,
    Sync,
    Reopen,
    Crash,
    Fault(u16),
}

fn key(k: u8) -> Vec<u8> {
    vec![b'k', k]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let value = prop_oneof![
        8 => proptest::collection::vec(any::<u8>(), 0..64),
        1 => proptest::collection::vec(any::<u8>(), 500..3000),
    ];
    let write = proptest::collection::vec((0u8..24, proptest::option::weighted(0.8, value)), 1..8);
    prop_oneof![
        40 => write.prop_map(Op::Write),
        8 => (0u8..24).prop_map(Op::Get),
        8 => (0u8..24, 0u8..24, any::<bool>()).prop_map(|(from, to, reverse)| Op::Scan { from, to, reverse }),
        3 => Just(Op::OpenView),
        3 => Just(Op::CheckViews),
        3 => Just(Op::Checkpoint),
        2 => Just(Op::Sync),
        2 => Just(Op::Reopen),
        3 => Just(Op::Crash),
        3 => (0u16..40).prop_map(Op::Fault),
    ]
}

struct Harness {
    fs: SimFs,
    options: Options,
    store: Option<Store>,
    model: Model,
    /// The states a crash may leave behind.
    candidates: Vec<Model>,
    views: Vec<(ReadView, Model)>,
}

fn contents(store: &Store) -> Model {
    store.read_view().scan(..).map(Result::unwrap).collect()
}

impl Harness {
    fn new(policy: FsyncPolicy, seed: u64) -> Self {
        let options = Options {
            fsync: policy,
            wal_segment_bytes: 4096,
            group_commit_bytes: 2048,
            snapshot_after_wal_bytes: u64::MAX,
            snapshot_interval: None,
            ..Options::disk("/db")
        };
        let fs = SimFs::new(seed);
        let store = Store::open_with_fs(options.clone(), Arc::new(fs.clone())).unwrap();
        Harness {
            fs,
            options,
            store: Some(store),
            model: Model::new(),
            candidates: vec![Model::new()],
            views: Vec::new(),
        }
    }

    fn store(&self) -> &Store {
        self.store.as_ref().unwrap()
    }

    fn durable_point(&mut self) {
        self.candidates = vec![self.model.clone()];
    }

    fn acknowledged(&mut self) {
        match self.options.fsync {
            FsyncPolicy::Always => self.durable_point(),
            _ => self.candidates.push(self.model.clone()),
        }
    }

    /// Power loss, reboot, reopen; the recovered state must be an allowed one.
    fn crash_and_recover(&mut self) {
        self.fs = self.fs.crash();
        self.store = None;
        let store = loop {
            match Store::open_with_fs(self.options.clone(), Arc::new(self.fs.clone())) {
                Ok(store) => break store,
                // Only an injected fault may stop recovery; it must then succeed later.
                Err(error) => {
                    assert!(
                        self.fs.is_stopped(),
                        "recovery failed without a fault: {error}"
                    );
                    self.fs = self.fs.crash();
                }
            }
        };
        let recovered = contents(&store);
        assert!(
            self.candidates.contains(&recovered),
            "recovered {} keys, not a state the model allows ({} candidates)",
            recovered.len(),
            self.candidates.len()
        );
        store.check_consistency().unwrap();
        self.model = recovered;
        self.durable_point();
        self.store = Some(store);
    }

    fn run(&mut self, op: Op) {
        match op {
            Op::Write(ops) => {
                let mut batch = WriteBatch::new();
                let mut after = self.model.clone();
                for (k, value) in ops {
                    match value {
                        Some(value) => {
                            batch.put(key(k), value.clone());
                            after.insert(key(k), value);
                        }
                        None => {
                            batch.delete(key(k));
                            after.remove(&key(k));
                        }
                    }
                }
                match self.store().write(batch) {
                    Ok(_) => {
                        self.model = after;
                        self.acknowledged();
                    }
                    Err(_) => {
                        // The failed write may or may not have reached the log.
                        self.candidates.push(after);
                        self.crash_and_recover();
                    }
                }
            }
            Op::Get(k) => assert_eq!(
                self.store().get(&key(k)).unwrap(),
                self.model.get(&key(k)).cloned()
            ),
            Op::Scan { from, to, reverse } => {
                let (from, to) = (key(from.min(to)), key(from.max(to)));
                let view = self.store().read_view();
                let expected: Vec<_> = self
                    .model
                    .range(from.clone()..to.clone())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if reverse {
                    let got: Vec<_> = view.scan_rev(from..to).map(Result::unwrap).collect();
                    assert_eq!(got, expected.into_iter().rev().collect::<Vec<_>>());
                } else {
                    assert_eq!(
                        view.scan(from..to).map(Result::unwrap).collect::<Vec<_>>(),
                        expected
                    );
                }
            }
            Op::OpenView => {
                if self.views.len() == 4 {
                    self.views.remove(0);
                }
                self.views
                    .push((self.store().read_view(), self.model.clone()));
            }
            Op::CheckViews => {
                self.store().check_consistency().unwrap();
                for (view, seen) in &self.views {
                    assert_eq!(
                        &view.scan(..).map(Result::unwrap).collect::<Model>(),
                        seen,
                        "a view changed under writers"
                    );
                }
            }
            Op::Checkpoint => match self.store().checkpoint() {
                Ok(_) => self.durable_point(),
                Err(_) => self.crash_and_recover(),
            },
            Op::Sync => match self.store().sync() {
                Ok(()) => self.durable_point(),
                Err(_) => self.crash_and_recover(),
            },
            Op::Reopen => {
                let store = self.store.take().unwrap();
                if store.close().is_err() {
                    self.store = Some(store);
                    return self.crash_and_recover();
                }
                self.durable_point();
                drop(store);
                match Store::open_with_fs(self.options.clone(), Arc::new(self.fs.clone())) {
                    Ok(store) => {
                        assert_eq!(
                            contents(&store),
                            self.model,
                            "a clean reopen lost or invented data"
                        );
                        self.store = Some(store);
                    }
                    Err(_) => self.crash_and_recover(),
                }
            }
            Op::Crash => self.crash_and_recover(),
            Op::Fault(after_ops) => self.fs.fail_after(u64::from(after_ops)),
        }
    }
}

/// `PROPTEST_CASES` overrides the number of cases for a longer run.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(96)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn always_mode_matches_the_model(seed: u64, ops in proptest::collection::vec(op_strategy(), 1..120)) {
        let mut harness = Harness::new(FsyncPolicy::Always, seed);
        for op in ops {
            harness.run(op);
        }
        harness.crash_and_recover();
    }

    #[test]
    fn never_mode_recovers_a_prefix(seed: u64, ops in proptest::collection::vec(op_strategy(), 1..120)) {
        let mut harness = Harness::new(FsyncPolicy::Never, seed);
        for op in ops {
            harness.run(op);
        }
        harness.crash_and_recover();
    }
}
