//! Throughput of small read-modify-write transactions (a transfer: read two accounts,
//! write both) by isolation level, thread count and contention; prints a Markdown table.
//! REPEATABLE READ and SERIALIZABLE read at their snapshot; READ COMMITTED reads with
//! locking reads (`SELECT … FOR UPDATE`, as `UPDATE … SET x = x + 1` does).
//!
//! `cargo bench -p bytedata-mvcc --bench transactions` (add `-- --quick` for shorter cells).
//! `BYTEDATA_BENCH_DIR` chooses where the durable store goes (default: the temp dir).
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytedata_mvcc::{Engine, IsolationLevel, TxnOptions};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn account(i: u32) -> Vec<u8> {
    format!("account/{i:06}").into_bytes()
}

struct Cell {
    commits_per_second: f64,
    retries_per_commit: f64,
}

fn run(
    engine: &Engine,
    level: IsolationLevel,
    threads: u32,
    accounts: u32,
    duration: Duration,
) -> Cell {
    let commits = AtomicU64::new(0);
    let retries = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (commits, retries) = (&commits, &retries);
            scope.spawn(move || {
                let mut rng = fastrand::Rng::with_seed(u64::from(t));
                while started.elapsed() < duration {
                    // Accounts are read and written in key order, as careful applications
                    // do (and pgbench's script does), so transactions do not deadlock.
                    let one = rng.u32(0..accounts);
                    let other = (one + rng.u32(1..accounts)) % accounts;
                    let (from, to) = (one.min(other), one.max(other));
                    loop {
                        let txn = engine.begin(TxnOptions::isolation(level));
                        let attempt = (|| -> Result<(), bytedata_mvcc::Error> {
                            let read = |key: &[u8]| {
                                if level == IsolationLevel::ReadCommitted {
                                    txn.lock(key)
                                } else {
                                    txn.get(key)
                                }
                            };
                            let a = read(&account(from))?.unwrap();
                            let b = read(&account(to))?.unwrap();
                            let a = i64::from_be_bytes(a.as_ref().try_into().unwrap());
                            let b = i64::from_be_bytes(b.as_ref().try_into().unwrap());
                            txn.put(account(from), (a - 1).to_be_bytes().to_vec())?;
                            txn.put(account(to), (b + 1).to_be_bytes().to_vec())?;
                            txn.commit()?;
                            Ok(())
                        })();
                        match attempt {
                            Ok(()) => {
                                commits.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            Err(error) if error.is_retryable() => {
                                retries.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(error) => panic!("{error}"),
                        }
                    }
                }
            });
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    let commits = commits.into_inner() as f64;
    Cell {
        commits_per_second: commits / seconds,
        retries_per_commit: retries.into_inner() as f64 / commits,
    }
}

/// The median of the cells' values.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    // Levels alternate within each configuration, several rounds, and the medians are
    // reported: the machines are shared and noisy.
    let (rounds, duration) = if quick {
        (1, Duration::from_millis(300))
    } else {
        (3, Duration::from_millis(1000))
    };
    let base = std::env::var_os("BYTEDATA_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let levels = [
        IsolationLevel::ReadCommitted,
        IsolationLevel::RepeatableRead,
        IsolationLevel::Serializable,
    ];
    println!(
        "| store | accounts | threads | READ COMMITTED commits/s | retries/commit | REPEATABLE READ commits/s | retries/commit | SERIALIZABLE commits/s | retries/commit | SER/RR |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for durable in [false, true] {
        for accounts in [10_000u32, 10] {
            for threads in [1u32, 4, 16] {
                let mut results: Vec<Vec<Cell>> = levels.iter().map(|_| Vec::new()).collect();
                for _ in 0..rounds {
                    for (i, &level) in levels.iter().enumerate() {
                        let dir = tempfile::tempdir_in(&base).unwrap();
                        let options = if durable {
                            bytedata_kv::Options {
                                snapshot_on_close: false,
                                ..bytedata_kv::Options::disk(dir.path())
                            }
                        } else {
                            bytedata_kv::Options::memory()
                        };
                        let engine = Engine::open(options).unwrap();
                        let setup = engine.begin(TxnOptions::default());
                        for n in 0..accounts {
                            setup
                                .put(account(n), 1000i64.to_be_bytes().to_vec())
                                .unwrap();
                        }
                        setup.commit().unwrap();
                        results[i].push(run(&engine, level, threads, accounts, duration));
                    }
                }
                let rate =
                    |i: usize| median(results[i].iter().map(|c| c.commits_per_second).collect());
                let retries =
                    |i: usize| median(results[i].iter().map(|c| c.retries_per_commit).collect());
                let store = if durable {
                    "disk, fsync always"
                } else {
                    "memory"
                };
                println!(
                    "| {store} | {accounts} | {threads} | {:.0} | {:.3} | {:.0} | {:.3} | {:.0} | {:.3} | {:.2} |",
                    rate(0),
                    retries(0),
                    rate(1),
                    retries(1),
                    rate(2),
                    retries(2),
                    rate(2) / rate(1),
                );
            }
        }
    }
}
