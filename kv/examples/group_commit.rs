//! Prints how many commits share one fdatasync as committers are added, in `always`
//! mode on the real disk: `cargo run --release -p bytedata-kv --example group_commit`.
//! `BYTEDATA_BENCH_DIR` chooses where the store goes (default: the system temp dir).
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use bytedata_kv::{Options, Store};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let base = std::env::var_os("BYTEDATA_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    println!("| committers | commits/s | fdatasyncs/s | commits per fdatasync |");
    println!("|---:|---:|---:|---:|");
    for threads in [1u64, 2, 4, 16, 64] {
        let dir = tempfile::tempdir_in(&base).unwrap();
        let store = Store::open(Options {
            snapshot_on_close: false,
            ..Options::disk(dir.path())
        })
        .unwrap();
        let run = Duration::from_secs(3);
        let syncs_before = store.stats().wal_syncs;
        let started = Instant::now();
        let commits: u64 = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let store = &store;
                    scope.spawn(move || {
                        let mut done = 0u64;
                        while started.elapsed() < run {
                            store
                                .put(format!("{t}/{done}").into_bytes(), vec![1u8; 100])
                                .unwrap();
                            done += 1;
                        }
                        done
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        let seconds = started.elapsed().as_secs_f64();
        let syncs = store.stats().wal_syncs - syncs_before;
        println!(
            "| {threads} | {:.0} | {:.0} | {:.1} |",
            commits as f64 / seconds,
            syncs as f64 / seconds,
            commits as f64 / syncs as f64
        );
    }
}
