//! Criterion benchmarks of the kv engine. Run with `cargo bench -p bytedata-kv`; the
//! table in docs/benchmarks.md comes from this file.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytedata_kv::{FsyncPolicy, MasterKey, Options, Store, WriteBatch};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MILLION: u64 = 1_000_000;

fn key(i: u64) -> [u8; 8] {
    // A multiplicative permutation spreads sequential ids over the key space.
    i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes()
}

fn load(store: &Store, count: u64, value_bytes: usize) {
    let value = vec![7u8; value_bytes];
    for chunk in (0..count).collect::<Vec<_>>().chunks(10_000) {
        let mut batch = WriteBatch::with_capacity(chunk.len());
        for &i in chunk {
            batch.put(key(i).to_vec(), value.clone());
        }
        store.write(batch).unwrap();
    }
}

fn reads(c: &mut Criterion) {
    let store = Store::open(Options::memory()).unwrap();
    load(&store, MILLION, 100);
    let mut group = c.benchmark_group("read");
    group.throughput(Throughput::Elements(1));
    let view = store.read_view();
    let mut i = 0u64;
    group.bench_function("point get, 1M keys (view)", |b| {
        b.iter(|| {
            i = (i + 7919) % MILLION;
            view.get_with(&key(i), |value| black_box(value.map(<[u8]>::len)))
        })
    });
    group.bench_function("point get, 1M keys (new view per get)", |b| {
        b.iter(|| {
            i = (i + 7919) % MILLION;
            black_box(store.get(&key(i)))
        })
    });
    group.throughput(Throughput::Elements(1000));
    group.bench_function("scan 1000 keys (for_each, borrowed)", |b| {
        b.iter(|| {
            i = (i + 7919) % MILLION;
            let mut left = 1000;
            view.for_each(key(i).., false, |_, value| {
                black_box(value);
                left -= 1;
                if left == 0 {
                    std::ops::ControlFlow::Break(())
                } else {
                    std::ops::ControlFlow::Continue(())
                }
            })
        })
    });
    group.bench_function("scan 1000 keys (iterator, owned copies)", |b| {
        b.iter(|| {
            i = (i + 7919) % MILLION;
            let start = key(i);
            black_box(view.scan(start..).take(1000).count())
        })
    });
    group.finish();
}

fn puts(c: &mut Criterion) {
    let mut group = c.benchmark_group("write");
    group.throughput(Throughput::Elements(1));
    let store = Store::open(Options::memory()).unwrap();
    load(&store, MILLION, 100);
    let mut i = 0u64;
    let value = vec![1u8; 100];
    group.bench_function("put, memory mode, 1M keys", |b| {
        b.iter(|| {
            i = (i + 7919) % MILLION;
            store.put(key(i).to_vec(), value.clone()).unwrap()
        })
    });
    group.finish();
}

/// Commits per second with `threads` committers of one-key batches; criterion times
/// `iters` commits spread over the threads.
fn commits(c: &mut Criterion) {
    let mut group = c.benchmark_group("commit");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(1));
    let policies = [
        ("always", FsyncPolicy::Always),
        (
            "interval 10ms",
            FsyncPolicy::Interval(Duration::from_millis(10)),
        ),
        ("never", FsyncPolicy::Never),
    ];
    for (name, policy) in policies {
        for threads in [1u64, 16] {
            let dir = tempfile::tempdir_in(bench_dir()).unwrap();
            let store = Store::open(Options {
                snapshot_on_close: false,
                ..Options::disk(dir.path()).fsync(policy)
            })
            .unwrap();
            let value = vec![3u8; 100];
            group.bench_with_input(
                BenchmarkId::new(name, format!("{threads} committers")),
                &threads,
                |b, &threads| {
                    b.iter_custom(|iters| {
                        let per_thread = iters.div_ceil(threads);
                        let started = Instant::now();
                        std::thread::scope(|scope| {
                            for t in 0..threads {
                                let (store, value) = (&store, &value);
                                scope.spawn(move || {
                                    for i in 0..per_thread {
                                        let mut batch = WriteBatch::with_capacity(1);
                                        batch.put(key(t << 40 | i).to_vec(), value.clone());
                                        store.write(batch).unwrap();
                                    }
                                });
                            }
                        });
                        started
                            .elapsed()
                            .mul_f64(iters as f64 / (per_thread * threads) as f64)
                    })
                },
            );
        }
    }
    group.finish();
}

/// Where on-disk benchmarks put their files: `BYTEDATA_BENCH_DIR`, or the system's
/// temporary directory.
fn bench_dir() -> std::path::PathBuf {
    std::env::var_os("BYTEDATA_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into)
}

fn recovery(c: &mut Criterion) {
    let mut group = c.benchmark_group("recovery");
    group.sample_size(10);
    group.throughput(Throughput::Elements(MILLION));
    for from_snapshot in [true, false] {
        let dir = tempfile::tempdir_in(bench_dir()).unwrap();
        let options = Options {
            snapshot_on_close: from_snapshot,
            snapshot_after_wal_bytes: u64::MAX,
            snapshot_interval: None,
            ..Options::disk(dir.path()).fsync(FsyncPolicy::Never)
        };
        let store = Store::open(options.clone()).unwrap();
        load(&store, MILLION, 100);
        store.close().unwrap();
        drop(store);
        let name = if from_snapshot {
            "open 1M keys x 100 B from a snapshot"
        } else {
            "open 1M keys x 100 B from the log"
        };
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut opening = Duration::ZERO;
                for _ in 0..iters {
                    let started = Instant::now();
                    let store = Store::open(Options {
                        snapshot_on_close: false,
                        ..options.clone()
                    })
                    .unwrap();
                    opening += started.elapsed();
                    assert_eq!(store.stats().live_keys, MILLION);
                    // Closed outside the measurement: the next open needs the directory.
                    drop(store);
                }
                opening
            })
        });
    }
    group.finish();
}

/// The cost of encryption at rest: the same commits and the same recoveries, plain and
/// sealed, side by side in one run.
fn encryption(c: &mut Criterion) {
    let master = MasterKey::from_hex(&MasterKey::generate_hex().unwrap()).unwrap();
    let variants = [("plain", None), ("sealed", Some(master))];
    let mut group = c.benchmark_group("encryption");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    for (policy_name, policy) in [
        ("never", FsyncPolicy::Never),
        ("always", FsyncPolicy::Always),
    ] {
        for (variant, master) in &variants {
            let dir = tempfile::tempdir_in(bench_dir()).unwrap();
            let mut options = Options {
                snapshot_on_close: false,
                ..Options::disk(dir.path()).fsync(policy)
            };
            options.encryption = master.clone();
            let store = Store::open(options).unwrap();
            let value = vec![3u8; 100];
            let mut i = 0u64;
            group.throughput(Throughput::Elements(1));
            group.bench_function(
                BenchmarkId::new(format!("commit 1 x 100 B, {policy_name}"), variant),
                |b| {
                    b.iter(|| {
                        i += 1;
                        let mut batch = WriteBatch::with_capacity(1);
                        batch.put(key(i).to_vec(), value.clone());
                        store.write(batch).unwrap()
                    })
                },
            );
        }
    }
    group.throughput(Throughput::Elements(MILLION));
    for from_snapshot in [true, false] {
        for (variant, master) in &variants {
            let dir = tempfile::tempdir_in(bench_dir()).unwrap();
            let mut options = Options {
                snapshot_on_close: from_snapshot,
                snapshot_after_wal_bytes: u64::MAX,
                snapshot_interval: None,
                ..Options::disk(dir.path()).fsync(FsyncPolicy::Never)
            };
            options.encryption = master.clone();
            let store = Store::open(options.clone()).unwrap();
            load(&store, MILLION, 100);
            store.close().unwrap();
            drop(store);
            let source = if from_snapshot {
                "a snapshot"
            } else {
                "the log"
            };
            group.bench_function(
                BenchmarkId::new(format!("open 1M keys x 100 B from {source}"), variant),
                |b| {
                    b.iter_custom(|iters| {
                        let mut opening = Duration::ZERO;
                        for _ in 0..iters {
                            let started = Instant::now();
                            let store = Store::open(Options {
                                snapshot_on_close: false,
                                ..options.clone()
                            })
                            .unwrap();
                            opening += started.elapsed();
                            assert_eq!(store.stats().live_keys, MILLION);
                            drop(store);
                        }
                        opening
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, reads, puts, commits, recovery, encryption);
criterion_main!(benches);
