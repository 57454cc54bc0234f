//! Property tests of the tree against a `BTreeMap`, with its structural invariants
//! checked after every step.

use std::collections::BTreeMap;
use std::ops::Bound;

use crossbeam_epoch as epoch;
use proptest::prelude::*;

use super::*;

/// The value of a version the tree holds itself (these tests store no pointers).
fn inline(stored: Stored<'_>) -> &[u8] {
    match stored {
        Stored::Inline(value) => value,
        Stored::Pointer(pointer) => panic!("unexpected pointer {pointer:?}"),
    }
}

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// `PROPTEST_CASES` overrides the number of cases for a longer run.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48)
}

/// Keys share an 8-byte prefix and many share their next bytes too, so searches must
/// break ties between equal heads.
fn key(k: u16) -> Vec<u8> {
    let mut key = b"tbl/idx/".to_vec();
    key.extend_from_slice(&(k / 3).to_be_bytes());
    key.extend(std::iter::repeat_n(0u8, usize::from(k % 4)));
    key.push((k % 3) as u8);
    key
}

/// Checks the tree's shape and counters (`check_consistency`); returns its keys in order.
fn check_invariants(index: &Index) -> Vec<Vec<u8>> {
    let guard = epoch::pin();
    let mut keys = Vec::new();
    if let Err(violation) = index.check_collecting(&guard, Some(&mut keys)) {
        panic!("{violation}");
    }
    keys
}

#[test]
fn the_consistency_check_catches_a_counter_off_by_one() {
    let index = Index::new();
    let guard = epoch::pin();
    index.apply_batch(
        vec![BatchOp::Put {
            key: b"k".to_vec().into(),
            value: b"v".to_vec().into(),
        }],
        1,
        &guard,
        &mut |_| {},
    );
    assert!(index.check_consistency(&guard).is_ok());
    index.versions.fetch_add(1, Ordering::Relaxed);
    let violation = index.check_consistency(&guard).unwrap_err();
    assert!(violation.contains("recount"), "{violation}");
}

fn scan(
    index: &Index,
    lsn: u64,
    start: Bound<&[u8]>,
    end: Bound<&[u8]>,
    reverse: bool,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut cursor = start.map(<[u8]>::to_vec);
    loop {
        let guard = epoch::pin();
        let step = index.walk(
            lsn,
            cursor.as_ref().map(Vec::as_slice),
            end,
            reverse,
            &guard,
            |k, v| {
                out.push((k.to_vec(), inline(v).to_vec()));
                true
            },
        );
        match step {
            Walk::Paused(last) => cursor = Bound::Excluded(last),
            Walk::Finished | Walk::Stopped => return out,
        }
    }
}

fn check_against(index: &Index, lsn: u64, model: &Model, probes: &[u16]) {
    let all: Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    assert_eq!(
        scan(index, lsn, Bound::Unbounded, Bound::Unbounded, false),
        all
    );
    let mut reversed = all.clone();
    reversed.reverse();
    assert_eq!(
        scan(index, lsn, Bound::Unbounded, Bound::Unbounded, true),
        reversed
    );
    let guard = epoch::pin();
    for &probe in probes {
        let k = key(probe);
        let got = index
            .read(&k, lsn, &guard)
            .and_then(Version::stored)
            .map(inline);
        assert_eq!(got, model.get(&k).map(Vec::as_slice));
        let (a, b) = (key(probe), key(probe.wrapping_mul(7) % 4000));
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        let expected: Vec<_> = model
            .range((Bound::Excluded(low.clone()), Bound::Included(high.clone())))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(
            scan(
                index,
                lsn,
                Bound::Excluded(&low),
                Bound::Included(&high),
                false
            ),
            expected
        );
        let mut expected_rev = expected;
        expected_rev.reverse();
        assert_eq!(
            scan(
                index,
                lsn,
                Bound::Included(&high),
                Bound::Excluded(&low),
                true
            ),
            expected_rev
        );
    }
}

#[derive(Debug, Clone)]
enum Step {
    Batch(Vec<(u16, Option<u8>)>),
    /// A range of keys written in one batch, in order (a bulk load).
    Sequential {
        from: u16,
        count: u16,
        value: u8,
    },
    DeleteRange {
        from: u16,
        count: u16,
    },
    Collect,
    Keep,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        10 => proptest::collection::vec((0u16..4000, proptest::option::weighted(0.7, any::<u8>())), 1..200).prop_map(Step::Batch),
        2 => (0u16..4000, 1u16..1500, any::<u8>()).prop_map(|(from, count, value)| Step::Sequential { from, count, value }),
        2 => (0u16..4000, 1u16..2000).prop_map(|(from, count)| Step::DeleteRange { from, count }),
        3 => Just(Step::Collect),
        1 => Just(Step::Keep),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn the_tree_matches_the_model_at_every_lsn_it_keeps(steps in proptest::collection::vec(step(), 1..40), probes in proptest::collection::vec(0u16..4000, 8)) {
        let index = Index::new();
        let mut model = Model::new();
        let mut kept: Vec<(u64, Model)> = Vec::new();
        let mut queued: Vec<Vec<u8>> = Vec::new();
        let mut lsn = 0;
        for step in steps {
            let mut ops = Vec::new();
            match step {
                Step::Batch(writes) => {
                    for (k, value) in writes {
                        match value {
                            Some(v) => ops.push(BatchOp::Put { key: key(k).into(), value: vec![v; usize::from(v % 40)].into() }),
                            None => ops.push(BatchOp::Delete { key: key(k).into() }),
                        }
                    }
                }
                Step::Sequential { from, count, value } => {
                    for k in from..from.saturating_add(count).min(4000) {
                        ops.push(BatchOp::Put { key: key(k).into(), value: vec![value; 3].into() });
                    }
                }
                Step::DeleteRange { from, count } => {
                    for k in from..from.saturating_add(count).min(4000) {
                        ops.push(BatchOp::Delete { key: key(k).into() });
                    }
                }
                Step::Collect => {
                    let guard = epoch::pin();
                    let views: Vec<u64> = kept.iter().map(|(lsn, _)| *lsn).collect();
                    for k in std::mem::take(&mut queued) {
                        if let Trim::Pinned(_) = index.collect(&k, &views, lsn, &guard) {
                            queued.push(k);
                        }
                    }
                }
                Step::Keep => kept.push((lsn, model.clone())),
            }
            if !ops.is_empty() {
                lsn += 1;
                for op in &ops {
                    match op {
                        BatchOp::Put { key, value } => { model.insert(key.to_vec(), value.to_vec()); }
                        BatchOp::Delete { key } => { model.remove(&key.to_vec()); }
                    }
                }
                let guard = epoch::pin();
                index.apply_batch(ops, lsn, &guard, &mut |k| queued.push(k.to_vec()));
            }
            let keys = check_invariants(&index);
            prop_assert!(model.keys().all(|k| keys.binary_search(k).is_ok()), "a live key is missing from the tree");
            check_against(&index, lsn, &model, &probes);
            prop_assert_eq!(index.live_keys(), model.len() as u64);
        }
        for (at, seen) in &kept {
            check_against(&index, *at, seen, &probes);
        }
        // With no views left, collection leaves exactly the live keys.
        let guard = epoch::pin();
        for k in queued {
            index.collect(&k, &[], lsn, &guard);
        }
        drop(guard);
        let keys = check_invariants(&index);
        prop_assert_eq!(keys, model.keys().cloned().collect::<Vec<_>>());
        prop_assert_eq!(index.versions(), model.len() as u64, "one version per live key");
    }
}

#[test]
fn a_bulk_loaded_tree_is_balanced_and_complete() {
    for count in [0u16, 1, 63, 64, 65, 4095, 4096, 4097] {
        let mut loader = BulkLoader::new(9);
        let mut model = Model::new();
        let mut keys: Vec<Vec<u8>> = (0..count).map(key).collect();
        keys.sort();
        for k in &keys {
            loader.push(k, Stored::Inline(b"value"));
            model.insert(k.clone(), b"value".to_vec());
        }
        let index = loader.finish();
        assert_eq!(check_invariants(&index), keys);
        check_against(&index, 9, &model, &[0, 1, 100, 3999]);
        assert_eq!(index.live_keys(), u64::from(count));
    }
}

#[test]
fn an_abandoned_bulk_load_frees_what_it_built() {
    let mut loader = BulkLoader::new(1);
    for k in 0..1000u16 {
        loader.push(&k.to_be_bytes(), Stored::Inline(b"v"));
    }
    drop(loader);
}
