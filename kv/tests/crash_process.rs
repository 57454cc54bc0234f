//! A real process, killed with SIGKILL at random moments while its threads commit.
//!
//! The child (`bytedata-kv crash-child`) commits batches in `always` mode from several
//! threads and prints `ack <thread> <seq>` after each acknowledged one. Thread `t`'s
//! batch `s` puts `d/t/s/i` for every `i`, deletes the keys of its batch `s - 3`, and sets
//! `p/t = s`. The parent kills the child after a random number of acknowledgements
//! (other batches are in flight at that moment), reopens the store, and checks:
//! - every acknowledged batch is there: `p/t` is at least the highest acknowledged `s`;
//! - no batch is there in part: the data keys of thread `t` are exactly those of its
//!   batches `p - 2 ..= p`, with their values.
//!
//! Snapshots and segment rotation happen in the child as it runs, so kills also land in
//! the middle of those; in hybrid mode, so do value-log appends, rotations and
//! compactions (every data value goes to the value log there). Set
//! `BYTEDATA_CRASH_CYCLES` for a longer run.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use bytedata_kv::{Options, Store};

const THREADS: u32 = 4;
const KEYS_PER_BATCH: u32 = 10;

fn cycles() -> u32 {
    std::env::var("BYTEDATA_CRASH_CYCLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30)
}

/// Checks the recovered store against the acknowledgements; returns each thread's progress.
fn verify(
    dir: &std::path::Path,
    mode: &str,
    acknowledged: &BTreeMap<u32, u64>,
) -> BTreeMap<u32, u64> {
    let options = match mode {
        "hybrid" => Options::hybrid(dir),
        _ => Options::disk(dir),
    };
    let store = Store::open(options).unwrap();
    let view = store.read_view();
    let mut progress = BTreeMap::new();
    for thread in 0..THREADS {
        let seq = view
            .get(format!("p/{thread:02}").as_bytes())
            .unwrap()
            .map_or(0, |bytes| u64::from_be_bytes(bytes.try_into().unwrap()));
        let acked = acknowledged.get(&thread).copied().unwrap_or(0);
        assert!(
            seq >= acked,
            "thread {thread}: batch {acked} was acknowledged, only {seq} recovered"
        );

        let prefix = format!("d/{thread:02}/");
        let found: Vec<(Vec<u8>, Vec<u8>)> = view
            .scan(prefix.as_bytes()..)
            .map(Result::unwrap)
            .take_while(|(key, _)| key.starts_with(prefix.as_bytes()))
            .collect();
        let mut expected = Vec::new();
        for s in seq.saturating_sub(2).max(1)..=seq {
            for i in 0..KEYS_PER_BATCH {
                expected.push((
                    format!("d/{thread:02}/{s:010}/{i:03}").into_bytes(),
                    format!("{thread}:{s}:{i}:{}", "v".repeat(24)).into_bytes(),
                ));
            }
        }
        assert!(
            found == expected,
            "thread {thread}: data keys do not match batch {seq} applied whole"
        );
        progress.insert(thread, seq);
    }
    drop(view);
    if mode == "hybrid" {
        let log = store.stats().value_log.unwrap();
        assert!(
            log.bytes > 0,
            "the data values are in the value log: {log:?}"
        );
    }
    store.close().unwrap();
    progress
}

#[test]
fn sigkill_never_loses_an_acknowledged_batch_nor_leaves_half_of_one() {
    crash_repeatedly("disk");
}

#[test]
fn sigkill_in_hybrid_mode_loses_no_value_and_leaves_no_dangling_pointer() {
    crash_repeatedly("hybrid");
}

fn crash_repeatedly(mode: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut acknowledged: BTreeMap<u32, u64> = BTreeMap::new();
    for _ in 0..cycles() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bytedata-kv"))
            .args(["--dir", dir.path().to_str().unwrap(), "--mode", mode])
            .arg("crash-child")
            .args(["--threads", &THREADS.to_string()])
            .args(["--keys-per-batch", &KEYS_PER_BATCH.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "ready");
        let kill_after = fastrand::usize(1..300);
        for _ in 0..kill_after {
            let line = lines.next().expect("the child stopped by itself").unwrap();
            let mut words = line.split(' ');
            assert_eq!(words.next(), Some("ack"));
            let thread: u32 = words.next().unwrap().parse().unwrap();
            let seq: u64 = words.next().unwrap().parse().unwrap();
            let entry = acknowledged.entry(thread).or_default();
            *entry = (*entry).max(seq);
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // What recovery found is the base the next child continues from.
        acknowledged = verify(dir.path(), mode, &acknowledged);
    }
    assert!(acknowledged.values().all(|&seq| seq > 0));
}
