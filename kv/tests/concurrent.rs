//! Many threads at once: readers never see part of a batch, views never go backwards,
//! and concurrent committers share fdatasyncs.
#![allow(clippy::unwrap_used)]

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytedata_kv::fs::{DirLock, File, Fs, RealFs};
use bytedata_kv::{Options, Store, WriteBatch};

const KEYS_PER_BATCH: u32 = 5;

fn key(writer: u32, i: u32) -> Vec<u8> {
    format!("w{writer}/{i}").into_bytes()
}

#[test]
fn readers_see_every_batch_whole_while_writers_run() {
    let store = Store::open(Options::memory()).unwrap();
    let writers = 4;
    let rounds = 400u64;
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for writer in 0..writers {
            let store = &store;
            handles.push(scope.spawn(move || {
                for round in 1..=rounds {
                    let mut batch = WriteBatch::new();
                    for i in 0..KEYS_PER_BATCH {
                        batch.put(key(writer, i), round.to_be_bytes().to_vec());
                    }
                    store.write(batch).unwrap();
                }
            }));
        }
        for _ in 0..2 {
            let (store, done) = (&store, &done);
            scope.spawn(move || {
                let mut last_seen = vec![0u64; writers as usize];
                let mut views = 0u64;
                while !done.load(Ordering::Acquire) || views < 10 {
                    let view = store.read_view();
                    for writer in 0..writers {
                        let values: Vec<u64> = (0..KEYS_PER_BATCH)
                            .map(|i| {
                                view.get(&key(writer, i))
                                    .map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap()))
                            })
                            .collect();
                        assert!(
                            values.windows(2).all(|w| w[0] == w[1]),
                            "part of a batch: {values:?}"
                        );
                        assert!(
                            values[0] >= last_seen[writer as usize],
                            "a later view went back in time"
                        );
                        last_seen[writer as usize] = values[0];
                    }
                    views += 1;
                }
            });
        }
        for handle in handles {
            handle.join().unwrap();
        }
        done.store(true, Ordering::Release);
    });
    let view = store.read_view();
    for writer in 0..writers {
        assert_eq!(
            view.get(&key(writer, 0)),
            Some(rounds.to_be_bytes().to_vec())
        );
    }
    assert_eq!(view.lsn().0, u64::from(writers) * rounds);
}

/// The real file system, counting fdatasyncs.
struct CountingFs {
    syncs: Arc<AtomicU64>,
}

struct CountingFile {
    file: Arc<dyn File>,
    syncs: Arc<AtomicU64>,
}

impl File for CountingFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.file.read_at(buf, offset)
    }
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.file.write_all_at(buf, offset)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.file.sync_data()
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }
    fn size(&self) -> io::Result<u64> {
        self.file.size()
    }
}

impl CountingFs {
    fn wrap(&self, file: Arc<dyn File>) -> Arc<dyn File> {
        Arc::new(CountingFile {
            file,
            syncs: self.syncs.clone(),
        })
    }
}

impl Fs for CountingFs {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        RealFs.create_dir_all(path)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        RealFs.list(dir)
    }
    fn create_new(&self, path: &Path) -> io::Result<Arc<dyn File>> {
        RealFs.create_new(path).map(|file| self.wrap(file))
    }
    fn open(&self, path: &Path) -> io::Result<Arc<dyn File>> {
        RealFs.open(path).map(|file| self.wrap(file))
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        RealFs.rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        RealFs.remove_file(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        RealFs.sync_dir(dir)
    }
    fn lock(&self, path: &Path) -> io::Result<Box<dyn DirLock>> {
        RealFs.lock(path)
    }
}

#[test]
fn concurrent_committers_share_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let syncs = Arc::new(AtomicU64::new(0));
    let fs = Arc::new(CountingFs {
        syncs: syncs.clone(),
    });
    let store = Store::open_with_fs(
        Options {
            snapshot_on_close: false,
            ..Options::disk(dir.path())
        },
        fs,
    )
    .unwrap();
    let before = syncs.load(Ordering::Relaxed);
    let (threads, commits) = (16u64, 40u64);
    std::thread::scope(|scope| {
        for thread in 0..threads {
            let store = &store;
            scope.spawn(move || {
                for i in 0..commits {
                    store
                        .put(format!("{thread}/{i}").into_bytes(), b"v".to_vec())
                        .unwrap();
                }
            });
        }
    });
    let used = syncs.load(Ordering::Relaxed) - before;
    assert_eq!(store.stats().live_keys, threads * commits);
    assert!(
        used < threads * commits,
        "{} commits took {used} fdatasyncs: group commit is not sharing them",
        threads * commits
    );
}
