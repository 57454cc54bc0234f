//! A value the store cannot read back (a damaged value-log entry of a hybrid store)
//! reaches the transaction as an error with SQLSTATE XX001 — from a point read and from a
//! scan, after the entries before it — and never as a missing row.
#![allow(clippy::unwrap_used)]

use bytedata_mvcc::{Engine, TxnOptions};

fn key(i: u32) -> Vec<u8> {
    format!("row/{i:04}").into_bytes()
}

fn value(i: u32) -> Vec<u8> {
    format!("{i:04}").repeat(50).into_bytes()
}

#[test]
fn a_damaged_value_is_an_error_from_reads_and_scans_not_a_missing_row() {
    let dir = tempfile::tempdir().unwrap();
    let options = bytedata_kv::Options {
        value_threshold_bytes: 64,
        ..bytedata_kv::Options::hybrid(dir.path())
    };
    {
        let engine = Engine::open(options.clone()).unwrap();
        let txn = engine.begin(TxnOptions::default());
        for i in 0..100 {
            txn.put(key(i), value(i)).unwrap();
        }
        txn.commit().unwrap();
    }
    // Flip a byte in the middle of the value log's entries.
    let vlog = std::fs::read_dir(dir.path().join("vlog"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .max_by_key(|path| std::fs::metadata(path).unwrap().len())
        .unwrap();
    let mut data = std::fs::read(&vlog).unwrap();
    let middle = data.len() / 2;
    data[middle] ^= 0x40;
    std::fs::write(&vlog, data).unwrap();

    let engine = Engine::open(options).unwrap();
    let txn = engine.begin(TxnOptions::default().read_only());
    let mut damaged = None;
    for i in 0..100 {
        match txn.get(&key(i)) {
            Ok(found) => assert_eq!(found.as_deref(), Some(&value(i)[..])),
            Err(error) => {
                assert_eq!(error.sqlstate(), "XX001", "{error}");
                assert!(damaged.replace(i).is_none(), "one value is damaged");
            }
        }
    }
    let damaged = damaged.expect("the damaged value is reported");

    let mut scanned = 0;
    let mut failure = None;
    for entry in txn.scan(..).unwrap() {
        match entry {
            Ok((k, v)) => {
                assert_eq!((&k[..], &v[..]), (&key(scanned)[..], &value(scanned)[..]));
                scanned += 1;
            }
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    assert_eq!(
        scanned, damaged,
        "every entry before the damaged one comes first"
    );
    assert_eq!(failure.unwrap().sqlstate(), "XX001");
}
