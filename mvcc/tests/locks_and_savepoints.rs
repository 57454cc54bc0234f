//! Savepoints, deadlock detection, lock timeouts and cancellation.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use bytedata_mvcc::{Engine, Error, IsolationLevel, LockWait, Transaction, TxnOptions};
use bytes::Bytes;

fn engine() -> Engine {
    Engine::open(bytedata_kv::Options::memory()).unwrap()
}

fn value(txn: &Transaction, key: &str) -> Option<Bytes> {
    txn.get(key.as_bytes()).unwrap()
}

#[test]
fn rollback_to_savepoint_undoes_only_later_writes_and_keeps_the_savepoint() {
    let engine = engine();
    let txn = engine.begin(TxnOptions::default());
    txn.put("a", "1").unwrap();
    txn.savepoint("s1").unwrap();
    txn.put("a", "2").unwrap();
    txn.put("b", "2").unwrap();
    txn.delete("a").unwrap();
    assert_eq!(value(&txn, "a"), None);
    txn.rollback_to_savepoint("s1").unwrap();
    assert_eq!(value(&txn, "a"), Some(Bytes::from("1")));
    assert_eq!(value(&txn, "b"), None);
    // The savepoint is still there: roll back to it again after more writes.
    txn.put("c", "3").unwrap();
    txn.rollback_to_savepoint("s1").unwrap();
    assert_eq!(value(&txn, "c"), None);
    txn.commit().unwrap();
    let check = engine.begin(TxnOptions::default());
    assert_eq!(value(&check, "a"), Some(Bytes::from("1")));
    assert_eq!((value(&check, "b"), value(&check, "c")), (None, None));
}

#[test]
fn nested_savepoints_release_and_unknown_names() {
    let engine = engine();
    let txn = engine.begin(TxnOptions::default());
    txn.savepoint("outer").unwrap();
    txn.put("x", "outer").unwrap();
    txn.savepoint("inner").unwrap();
    txn.put("x", "inner").unwrap();
    txn.savepoint("inner").unwrap(); // a second one with the same name hides the first
    txn.put("x", "innermost").unwrap();
    txn.rollback_to_savepoint("inner").unwrap();
    assert_eq!(value(&txn, "x"), Some(Bytes::from("inner")));
    txn.release_savepoint("inner").unwrap(); // releases the newest "inner" only
    txn.rollback_to_savepoint("inner").unwrap();
    assert_eq!(value(&txn, "x"), Some(Bytes::from("outer")));
    txn.release_savepoint("outer").unwrap();
    let error = txn.rollback_to_savepoint("inner").unwrap_err();
    assert!(matches!(error, Error::NoSuchSavepoint(ref name) if name == "inner"));
    assert_eq!(error.sqlstate(), "3B001");
    assert_eq!(error.to_string(), "savepoint \"inner\" does not exist");
    txn.commit().unwrap();
}

#[test]
fn rolling_back_to_a_savepoint_releases_the_locks_taken_after_it() {
    let engine = engine();
    let t1 = engine.begin(TxnOptions::default());
    let t2 = engine.begin(TxnOptions::default().lock_wait(LockWait::NoWait));
    t1.put("before", "1").unwrap();
    t1.savepoint("s").unwrap();
    t1.put("after", "1").unwrap();
    assert!(matches!(
        t2.put("after", "2"),
        Err(Error::LockNotAvailable { .. })
    ));
    t1.rollback_to_savepoint("s").unwrap();
    t2.put("after", "2").unwrap();
    assert!(matches!(
        t2.put("before", "2"),
        Err(Error::LockNotAvailable { .. })
    ));
    t1.commit().unwrap();
    t2.commit().unwrap();
}

/// Spins until `count` transactions wait for locks (observable state, not a timed sleep).
fn until_waiting(engine: &Engine, count: usize) {
    while engine.stats().lock_waits < count {
        std::thread::yield_now();
    }
}

#[test]
fn a_deadlock_fails_the_transaction_that_closes_the_cycle_and_the_other_proceeds() {
    let engine = engine();
    let t1 = engine.begin(TxnOptions::default());
    let t2 = engine.begin(TxnOptions::default());
    t1.put("a", "t1").unwrap();
    t2.put("b", "t2").unwrap();
    std::thread::scope(|scope| {
        let waiter = scope.spawn(|| {
            t1.put("b", "t1")?; // waits for t2
            t1.commit()
        });
        until_waiting(&engine, 1);
        let error = t2.put("a", "t2").unwrap_err();
        assert!(matches!(error, Error::Deadlock { .. }), "{error}");
        assert_eq!(error.sqlstate(), "40P01");
        assert!(error.is_retryable());
        t2.rollback().unwrap();
        waiter.join().unwrap().unwrap();
    });
    let check = engine.begin(TxnOptions::default());
    assert_eq!(value(&check, "a"), Some(Bytes::from("t1")));
    assert_eq!(value(&check, "b"), Some(Bytes::from("t1")));
}

#[test]
fn a_three_way_deadlock_is_found_too() {
    let engine = engine();
    let txns: Vec<Transaction> = (0..3)
        .map(|_| engine.begin(TxnOptions::default()))
        .collect();
    for (i, txn) in txns.iter().enumerate() {
        txn.put(format!("k{i}"), "held").unwrap();
    }
    std::thread::scope(|scope| {
        // t0 waits for t1, t1 for t2; t2 asking for k0 closes the cycle.
        let w0 = scope.spawn(|| txns[0].put("k1", "t0"));
        until_waiting(&engine, 1);
        let w1 = scope.spawn(|| txns[1].put("k2", "t1"));
        until_waiting(&engine, 2);
        assert!(matches!(
            txns[2].put("k0", "t2"),
            Err(Error::Deadlock { .. })
        ));
        txns[2].rollback().unwrap();
        w1.join().unwrap().unwrap();
        txns[1].commit().unwrap();
        w0.join().unwrap().unwrap();
        txns[0].commit().unwrap();
    });
}

#[test]
fn a_lock_wait_ends_at_the_lock_timeout() {
    let engine = engine();
    let holder = engine.begin(TxnOptions::default());
    holder.put("k", "1").unwrap();
    let waiter =
        engine.begin(TxnOptions::default().lock_wait(LockWait::Timeout(Duration::from_millis(50))));
    let error = waiter.put("k", "2").unwrap_err();
    assert!(matches!(error, Error::LockNotAvailable { .. }), "{error}");
    assert_eq!(error.sqlstate(), "55P03");
    holder.commit().unwrap();
    waiter.put("k", "2").unwrap();
    waiter.commit().unwrap();
}

#[test]
fn a_lock_wait_can_be_canceled_from_another_thread() {
    let engine = engine();
    let holder = engine.begin(TxnOptions::default());
    holder.put("k", "1").unwrap();
    let waiter = engine.begin(TxnOptions::default());
    let cancel = waiter.cancel_handle();
    std::thread::scope(|scope| {
        let blocked = scope.spawn(|| waiter.put("k", "2"));
        cancel.cancel();
        let error = blocked.join().unwrap().unwrap_err();
        assert!(matches!(error, Error::Canceled));
        assert_eq!(error.sqlstate(), "57014");
    });
    cancel.reset();
    holder.rollback().unwrap();
    waiter.put("k", "2").unwrap();
    waiter.commit().unwrap();
}

#[test]
fn a_dropped_transaction_rolls_back_and_releases_its_locks() {
    let engine = engine();
    {
        let txn = engine.begin(TxnOptions::default());
        txn.put("k", "lost").unwrap();
    }
    assert_eq!(engine.stats().locks_held, 0);
    assert_eq!(engine.stats().active_transactions, 0);
    let txn = engine.begin(TxnOptions::default().lock_wait(LockWait::NoWait));
    assert_eq!(value(&txn, "k"), None);
    txn.put("k", "kept").unwrap();
    txn.commit().unwrap();
}

#[test]
fn a_finished_transaction_refuses_further_use() {
    let engine = engine();
    let txn = engine.begin(TxnOptions::isolation(IsolationLevel::RepeatableRead));
    txn.commit().unwrap();
    assert!(matches!(txn.put("k", "v"), Err(Error::NotActive)));
    assert!(matches!(txn.commit(), Err(Error::NotActive)));
}

#[test]
fn lock_latest_sees_a_concurrent_commit_at_every_level() {
    for level in [
        IsolationLevel::ReadCommitted,
        IsolationLevel::RepeatableRead,
        IsolationLevel::Serializable,
    ] {
        let engine = engine();
        let first = engine.begin(TxnOptions::isolation(level));
        let second = engine.begin(TxnOptions::isolation(level));
        assert_eq!(first.lock_latest(b"name").unwrap(), None);
        first.put("name", "taken").unwrap();
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| second.lock_latest(b"name"));
            first.commit().unwrap();
            assert_eq!(
                waiter.join().unwrap().unwrap(),
                Some(Bytes::from("taken")),
                "{level:?}"
            );
        });
        second.rollback().unwrap();
    }
}

#[test]
fn insert_absent_writes_only_a_key_nobody_holds_a_value_for() {
    let engine = engine();
    let setup = engine.begin(TxnOptions::default());
    setup.put("committed", "old").unwrap();
    setup.commit().unwrap();
    for level in [
        IsolationLevel::ReadCommitted,
        IsolationLevel::RepeatableRead,
        IsolationLevel::Serializable,
    ] {
        let txn = engine.begin(TxnOptions::isolation(level));
        assert!(!txn.insert_absent("committed".into(), "new".into()).unwrap());
        assert!(txn.insert_absent("fresh".into(), "1".into()).unwrap());
        assert!(
            !txn.insert_absent("fresh".into(), "2".into()).unwrap(),
            "its own write counts"
        );
        txn.delete("committed").unwrap();
        assert!(
            txn.insert_absent("committed".into(), "again".into())
                .unwrap(),
            "its own delete frees the key"
        );
        assert_eq!(txn.get(b"fresh").unwrap(), Some(Bytes::from("1")));
        assert_eq!(txn.get(b"committed").unwrap(), Some(Bytes::from("again")));
        txn.rollback().unwrap();
    }

    // A second inserter of the same key waits for the first, then finds it taken.
    let first = engine.begin(TxnOptions::default());
    let second = engine.begin(TxnOptions::default());
    assert!(first.insert_absent("race".into(), "first".into()).unwrap());
    std::thread::scope(|scope| {
        let waiter = scope.spawn(|| second.insert_absent("race".into(), "second".into()));
        first.commit().unwrap();
        assert!(!waiter.join().unwrap().unwrap());
    });
    second.commit().unwrap();
    let reader = engine.begin(TxnOptions::default());
    assert_eq!(reader.get(b"race").unwrap(), Some(Bytes::from("first")));

    let read_only = engine.begin(TxnOptions {
        read_only: true,
        ..TxnOptions::default()
    });
    assert!(matches!(
        read_only.insert_absent("x".into(), "y".into()),
        Err(Error::ReadOnly { .. })
    ));
}

fn entries(pairs: &[(&str, &str)]) -> Vec<(Bytes, Bytes)> {
    pairs
        .iter()
        .map(|&(key, value)| (Bytes::from(key.to_owned()), Bytes::from(value.to_owned())))
        .collect()
}

#[test]
fn insert_absent_many_refuses_what_insert_absent_one_by_one_would() {
    let engine = engine();
    let setup = engine.begin(TxnOptions::default());
    setup.put("committed", "old").unwrap();
    setup.put("gone", "old").unwrap();
    setup.commit().unwrap();
    for level in [
        IsolationLevel::ReadCommitted,
        IsolationLevel::RepeatableRead,
        IsolationLevel::Serializable,
    ] {
        let txn = engine.begin(TxnOptions::isolation(level));
        txn.delete("gone").unwrap();
        txn.put("own", "mine").unwrap();
        let refused = txn
            .insert_absent_many(entries(&[
                ("fresh", "1"),
                ("committed", "new"),
                ("gone", "again"),
                ("fresh", "2"),
                ("own", "theirs"),
                ("other", "3"),
            ]))
            .unwrap();
        assert_eq!(refused, vec![1, 3, 4], "{level:?}");
        for (key, expected) in [
            ("fresh", "1"),
            ("committed", "old"),
            ("gone", "again"),
            ("own", "mine"),
            ("other", "3"),
        ] {
            assert_eq!(
                value(&txn, key),
                Some(Bytes::from(expected)),
                "{level:?} {key}"
            );
        }
        txn.rollback().unwrap();
        assert_eq!(engine.stats().locks_held, 0, "{level:?}");
    }

    let read_only = engine.begin(TxnOptions {
        read_only: true,
        ..TxnOptions::default()
    });
    assert!(matches!(
        read_only.insert_absent_many(entries(&[("x", "y")])),
        Err(Error::ReadOnly { .. })
    ));
}

#[test]
fn insert_absent_many_waits_for_a_held_key_and_then_finds_it_taken() {
    let engine = engine();
    let first = engine.begin(TxnOptions::default());
    assert!(first.insert_absent("b".into(), "first".into()).unwrap());
    let second = engine.begin(TxnOptions::default());
    std::thread::scope(|scope| {
        let waiter = scope
            .spawn(|| second.insert_absent_many(entries(&[("a", "2"), ("b", "2"), ("c", "2")])));
        while engine.stats().lock_waits < 1 {
            std::thread::yield_now();
        }
        first.commit().unwrap();
        assert_eq!(waiter.join().unwrap().unwrap(), vec![1]);
    });
    second.commit().unwrap();
    let reader = engine.begin(TxnOptions::default());
    for (key, expected) in [("a", "2"), ("b", "first"), ("c", "2")] {
        assert_eq!(value(&reader, key), Some(Bytes::from(expected)), "{key}");
    }
    assert_eq!(engine.stats().locks_held, 0);
}

#[test]
fn locks_a_batch_takes_for_a_transaction_that_ended_meanwhile_are_released() {
    let engine = engine();
    let holder = engine.begin(TxnOptions::default());
    holder.put("b", "held").unwrap();
    let txn = engine.begin(TxnOptions::default());
    std::thread::scope(|scope| {
        let waiter =
            scope.spawn(|| txn.insert_absent_many(entries(&[("a", "2"), ("b", "2"), ("c", "2")])));
        while engine.stats().lock_waits < 1 {
            std::thread::yield_now();
        }
        // Rolled back through another handle while the batch waits for "b".
        txn.rollback().unwrap();
        holder.rollback().unwrap();
        assert!(matches!(waiter.join().unwrap(), Err(Error::NotActive)));
    });
    assert_eq!(
        engine.stats().locks_held,
        0,
        "no lock outlives its transaction"
    );
}

#[test]
fn a_batch_that_cannot_get_every_lock_writes_nothing_and_releases_what_it_took() {
    let engine = engine();
    let holder = engine.begin(TxnOptions::default());
    holder.put("held", "1").unwrap();
    let txn = engine.begin(TxnOptions {
        lock_wait: LockWait::NoWait,
        ..TxnOptions::default()
    });
    let batch = entries(&[("a", "1"), ("held", "2"), ("z", "3")]);
    assert!(matches!(
        txn.insert_absent_many(batch),
        Err(Error::LockNotAvailable { .. })
    ));
    assert_eq!((value(&txn, "a"), value(&txn, "z")), (None, None));
    assert!(!txn.has_writes());
    // The free keys' locks are the transaction's until it ends, and then nobody's.
    assert_eq!(engine.stats().locks_held, 3);
    txn.rollback().unwrap();
    assert_eq!(engine.stats().locks_held, 1);

    // Inside a no-wait scope the refusal is recorded, as for a single key.
    let scoped = engine.begin(TxnOptions::default());
    {
        let scope = scoped.no_wait_scope();
        let batch = entries(&[("a", "1"), ("held", "2")]);
        assert!(matches!(
            scoped.insert_absent_many(batch),
            Err(Error::LockNotAvailable { .. })
        ));
        assert!(scope.refused());
        assert!(!scope.wrote());
    }
    scoped.rollback().unwrap();
    holder.rollback().unwrap();
    assert_eq!(engine.stats().locks_held, 0);
}

#[test]
fn a_no_wait_scope_refuses_a_held_lock_at_once_and_says_whether_it_wrote() {
    let engine = engine();
    let holder = engine.begin(TxnOptions::default());
    holder.put("held", "1").unwrap();
    let txn = engine.begin(TxnOptions::default());
    {
        let scope = txn.no_wait_scope();
        txn.put("free", "1").unwrap();
        assert!(scope.wrote());
        assert!(!scope.refused());
    }
    {
        let scope = txn.no_wait_scope();
        let error = txn.put("held", "2").unwrap_err();
        assert!(matches!(error, Error::LockNotAvailable { .. }), "{error:?}");
        assert!(scope.refused());
        assert!(!scope.wrote());
        assert!(matches!(
            txn.lock(b"held"),
            Err(Error::LockNotAvailable { .. })
        ));
    }
    // Outside the scope the transaction waits again: once the holder ends, it goes on.
    let waiter = {
        let txn = txn.clone();
        std::thread::spawn(move || txn.put("held", "2"))
    };
    until_waiting(&engine, 1);
    holder.rollback().unwrap();
    waiter.join().unwrap().unwrap();
    txn.commit().unwrap();
    let check = engine.begin(TxnOptions::default());
    assert_eq!(value(&check, "held"), Some(Bytes::from("2")));
    assert_eq!(value(&check, "free"), Some(Bytes::from("1")));
}

#[test]
fn a_bulk_write_releases_every_lock_at_the_end_and_at_a_savepoint() {
    let engine = engine();
    let keys: Vec<String> = (0..2000).map(|i| format!("k{i}")).collect();
    let first = engine.begin(TxnOptions::default());
    first.savepoint("s").unwrap();
    for key in &keys {
        first.put(key.clone(), "1").unwrap();
    }
    first.rollback_to_savepoint("s").unwrap();
    for key in &keys[..1000] {
        first.put(key.clone(), "1").unwrap();
    }
    // The half released at the savepoint is free; the other half is held.
    let second = engine.begin(TxnOptions::default());
    {
        let scope = second.no_wait_scope();
        for key in &keys[1000..] {
            second.put(key.clone(), "2").unwrap();
        }
        assert!(second.put(keys[0].clone(), "2").is_err());
        assert!(scope.refused());
    }
    first.commit().unwrap();
    let _scope = second.no_wait_scope();
    for key in &keys[..1000] {
        second.put(key.clone(), "2").unwrap();
    }
}

#[test]
fn delete_many_deletes_and_conflicts_as_delete_one_by_one_does() {
    let engine = engine();
    let setup = engine.begin(TxnOptions::default());
    for key in ["a", "b", "c", "d"] {
        setup.put(key, "1").unwrap();
    }
    setup.commit().unwrap();

    let txn = engine.begin(TxnOptions::default());
    let keys = |names: &[&str]| -> Vec<Bytes> {
        names.iter().map(|n| Bytes::from(n.to_string())).collect()
    };
    txn.delete_many(keys(&["a", "b", "absent"])).unwrap();
    assert_eq!(value(&txn, "a"), None, "its own deletes are visible to it");
    assert_eq!(engine.stats().locks_held, 3);
    txn.commit().unwrap();
    let reader = engine.begin(TxnOptions::default().read_only());
    assert_eq!((value(&reader, "a"), value(&reader, "b")), (None, None));
    assert_eq!(value(&reader, "c"), Some(Bytes::from("1")));
    assert_eq!(engine.stats().locks_held, 0);

    // A key changed by a commit after the snapshot cannot be deleted at REPEATABLE READ
    // and above; at READ COMMITTED it can.
    for (isolation, conflicts) in [
        (IsolationLevel::ReadCommitted, false),
        (IsolationLevel::RepeatableRead, true),
        (IsolationLevel::Serializable, true),
    ] {
        let late = engine.begin(TxnOptions::isolation(isolation));
        late.get(b"c").unwrap(); // takes the snapshot
        let writer = engine.begin(TxnOptions::default());
        writer.put("c", "2").unwrap();
        writer.commit().unwrap();
        let outcome = late.delete_many(keys(&["d", "c"]));
        assert_eq!(
            matches!(outcome, Err(Error::Serialization { .. })),
            conflicts,
            "{isolation:?}: {outcome:?}"
        );
        late.rollback().unwrap();
    }
    assert_eq!(engine.stats().locks_held, 0);

    // A key another transaction holds is waited for (here: refused without waiting).
    let holder = engine.begin(TxnOptions::default());
    holder.put("d", "held").unwrap();
    let waiter = engine.begin(TxnOptions::default().lock_wait(LockWait::NoWait));
    assert!(matches!(
        waiter.delete_many(keys(&["c", "d"])),
        Err(Error::LockNotAvailable { .. })
    ));
    waiter.rollback().unwrap();
    holder.rollback().unwrap();
    assert_eq!(engine.stats().locks_held, 0);
}
