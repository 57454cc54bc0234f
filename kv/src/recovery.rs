//! Opening a disk store: lock the directory, load the newest snapshot that verifies,
//! replay the log above it.
//!
//! Directory layout:
//!
//! ```text
//! <dir>/LOCK                      held (flock) while the store is open
//! <dir>/KEYRING                   data keys sealed under the master key (encrypted stores)
//! <dir>/wal/<lsn>.wal             log segments, see `wal`
//! <dir>/snapshots/<lsn>.snap      snapshots, see `snapshot`
//! <dir>/snapshots/<lsn>.snap.tmp  a snapshot being written (removed at open)
//! <dir>/snapshots/<lsn>.snap.corrupt  a snapshot that failed verification, kept aside
//! <dir>/vlog/<n>.vlog             value-log files of a hybrid store, see `vlog`
//! ```
//!
//! A snapshot is usable only if the log continues right after it (the log is kept back
//! to the oldest snapshot kept, so normally every snapshot is). If the newest fails to
//! verify, the next older usable one is loaded and more of the log replayed; if there is
//! none, opening fails with the snapshot's corruption error. Nothing is changed on disk
//! before recovery is known to succeed, except truncating a torn log tail.
//!
//! The key is checked before any data is read: an encrypted store opened without its
//! master key, or with another, and a plain store opened with one, fail at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossbeam_epoch as epoch;

use crate::crypto::keyring::{Keyring, SharedKeyring};
use crate::error::{Error, Result};
use crate::fs::{DirLock, Fs};
use crate::gc::Collector;
use crate::hybrid::HybridValues;
use crate::index::{BulkLoader, Index, KeyOp, Stored, last_op_per_key};
use crate::options::{Options, StorageMode};
use crate::snapshot::{self, SnapshotInfo, parse_snapshot_name};
use crate::vlog::ValueLog;
use crate::wal::Wal;
use crate::wal::replay::{list_segments, replay};

/// Replayed log operations held in memory before they are applied.
const REPLAY_BUDGET_BYTES: usize = 256 << 20;

pub(crate) struct Recovered {
    pub index: Index,
    pub collector: Collector,
    pub wal: Wal,
    pub last_lsn: u64,
    pub last_snapshot: Option<SnapshotInfo>,
    pub replayed_batches: u64,
    pub truncated_wal_bytes: u64,
    pub wal_bytes_since_snapshot: u64,
    pub snapshot_dir: PathBuf,
    pub dir_lock: Box<dyn DirLock>,
    pub keyring: Option<SharedKeyring>,
    /// The value log of a hybrid store.
    pub values: Option<HybridValues>,
}

/// The keyring of the store in `dir`, created for a new encrypted store; `None` for a
/// plain one. Refuses a key the store was not created with, and the lack of one.
fn open_keyring(
    fs: &dyn Fs,
    dir: &Path,
    options: &Options,
    has_data: bool,
) -> Result<Option<SharedKeyring>> {
    let exists = Keyring::exists(fs, dir)?;
    let keyring = match (&options.encryption, exists) {
        (None, false) => return Ok(None),
        (None, true) => {
            return Err(Error::Encryption(format!(
                "the store in {} is encrypted: a master key is needed to open it",
                dir.display()
            )));
        }
        (Some(_), false) if has_data => {
            return Err(Error::Encryption(format!(
                "the store in {} was created without encryption and cannot be opened with a master key",
                dir.display()
            )));
        }
        (Some(master), false) => {
            let keyring = Keyring::generate(master)?;
            keyring.write(fs, dir, master)?;
            tracing::info!(dir = %dir.display(), master_key_id = %master.id(), "created an encrypted store");
            keyring
        }
        (Some(master), true) => Keyring::load(fs, dir, master)?,
    };
    Ok(Some(std::sync::Arc::new(parking_lot::Mutex::new(keyring))))
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::io(context, e)
}

/// Snapshots in `dir`, newest first; removes leftovers of interrupted snapshot writes.
fn list_snapshots(fs: &dyn Fs, dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let names = fs
        .list(dir)
        .map_err(io(format!("listing snapshot directory {}", dir.display())))?;
    let mut snapshots = Vec::new();
    for name in names {
        if name.ends_with(".snap.tmp") {
            fs.remove_file(&dir.join(&name))
                .map_err(io(format!("removing {name}")))?;
        } else if let Some(lsn) = parse_snapshot_name(&name) {
            snapshots.push((lsn, dir.join(name)));
        }
    }
    snapshots.sort_unstable_by_key(|(lsn, _)| std::cmp::Reverse(*lsn));
    Ok(snapshots)
}

pub(crate) fn recover(fs: Arc<dyn Fs>, dir: &Path, options: &Options) -> Result<Recovered> {
    let wal_dir = dir.join("wal");
    let snapshot_dir = dir.join("snapshots");
    for path in [dir, &wal_dir, &snapshot_dir] {
        fs.create_dir_all(path)
            .map_err(io(format!("creating directory {}", path.display())))?;
    }
    let dir_lock = fs.lock(&dir.join("LOCK")).map_err(|e| {
        if e.kind() == std::io::ErrorKind::WouldBlock {
            Error::Locked(dir.to_path_buf())
        } else {
            Error::io(format!("locking {}", dir.display()), e)
        }
    })?;

    let segments = list_segments(&*fs, &wal_dir)?;
    let snapshots = list_snapshots(&*fs, &snapshot_dir)?;
    let has_data = !segments.is_empty() || !snapshots.is_empty();
    let keyring = open_keyring(&*fs, dir, options, has_data)?;
    let vlog_dir = dir.join("vlog");
    // A store that was hybrid keeps its value log even when opened in disk mode: its
    // snapshots point into it.
    let has_value_log = fs.list(&vlog_dir).is_ok_and(|names| {
        names
            .iter()
            .any(|name| crate::vlog::parse_file_name(name).is_some())
    });
    let values = if matches!(options.mode, StorageMode::Hybrid { .. }) || has_value_log {
        let log = ValueLog::open(
            fs.clone(),
            &vlog_dir,
            keyring.clone(),
            options.value_log_file_bytes,
        )?;
        let threshold = match options.mode {
            StorageMode::Hybrid { .. } => options.value_threshold_bytes,
            _ => usize::MAX,
        };
        Some(HybridValues::new(
            Arc::new(log),
            options.value_cache_bytes,
            threshold,
        ))
    } else {
        None
    };
    let log_start = segments.first().map(|(lsn, _)| *lsn);
    let mut chosen = None;
    let mut rejected = Vec::new();
    let mut first_error = None;
    for (lsn, path) in snapshots {
        if log_start.is_some_and(|start| start > lsn + 1) {
            // The log no longer reaches back to this snapshot, nor to any older one.
            break;
        }
        let mut loader = BulkLoader::new(lsn);
        let unsealing = keyring.as_ref().map(|keyring| keyring.lock());
        let loaded = snapshot::load(&*fs, &path, unsealing.as_deref(), |key, value| {
            if let Stored::Pointer(pointer) = &value {
                match &values {
                    Some(values) => values.log.check_pointer(pointer)?,
                    None => return Err("a value pointer, but the store has no value log".into()),
                }
            }
            loader.push(key, value);
            Ok(())
        });
        drop(unsealing);
        match loaded {
            Ok(info) if info.lsn == lsn => {
                let index = loader.finish();
                assert_eq!(
                    index.entries(),
                    info.entries,
                    "every entry of the snapshot is loaded"
                );
                chosen = Some((index, info));
                break;
            }
            Ok(info) => {
                let error = Error::corruption(
                    &path,
                    16,
                    format!("snapshot says LSN {}, its name says {lsn}", info.lsn),
                );
                tracing::warn!(%error, "skipping snapshot");
                first_error.get_or_insert(error);
                rejected.push(path);
            }
            Err(error @ Error::Corruption { .. }) => {
                tracing::warn!(%error, "skipping a snapshot that fails verification");
                first_error.get_or_insert(error);
                rejected.push(path);
            }
            Err(error) => return Err(error),
        }
    }
    if chosen.is_none()
        && let Some(error) = first_error
        && log_start.is_some_and(|start| start > 1)
    {
        // No snapshot verifies and the log alone does not go back to the beginning.
        return Err(error);
    }
    let (index, snapshot_lsn, last_snapshot) = match chosen {
        Some((index, info)) => (index, info.lsn, Some(info)),
        None => (Index::new(), 0, None),
    };

    // No view survives a restart, so of all the writes to a key only the last matters:
    // replayed operations are gathered, sorted and applied in one pass over the tree (one
    // copy per leaf rather than one per insert), a memory budget at a time.
    let mut collector = Collector::default();
    let mut gathered: Vec<KeyOp> = Vec::new();
    let mut gathered_bytes = 0usize;
    let apply_gathered = |gathered: &mut Vec<KeyOp>, collector: &mut Collector| {
        let mut ops = std::mem::take(gathered);
        if let Some(values) = &values {
            // Only the last write of a key survives; only it need reach the value log.
            last_op_per_key(&mut ops);
            values.externalize(&mut ops);
        }
        let guard = epoch::pin();
        index.apply(ops, &guard, &mut |key| collector.enqueue(key));
    };
    let replayed = replay(
        fs.clone(),
        &wal_dir,
        segments,
        snapshot_lsn,
        options.wal_segment_bytes,
        keyring.clone(),
        |lsn, batch| {
            for op in batch.into_ops() {
                let op = KeyOp::from_batch(op, lsn);
                gathered_bytes += op.size();
                gathered.push(op);
            }
            if gathered_bytes >= REPLAY_BUDGET_BYTES {
                apply_gathered(&mut gathered, &mut collector);
                gathered_bytes = 0;
            }
        },
    )?;
    apply_gathered(&mut gathered, &mut collector);
    assert!(
        replayed.last_lsn >= snapshot_lsn,
        "recovery never goes back past its snapshot"
    );
    index.debug_check(true, &epoch::pin());

    for path in rejected {
        let mut aside = path.clone().into_os_string();
        aside.push(".corrupt");
        fs.rename(&path, Path::new(&aside))
            .map_err(io(format!("moving aside {}", path.display())))?;
    }
    let wal_bytes_since_snapshot = if replayed.batches_applied > 0 {
        replayed.wal.size().1
    } else {
        0
    };
    Ok(Recovered {
        index,
        collector,
        last_lsn: replayed.last_lsn,
        wal: replayed.wal,
        last_snapshot,
        replayed_batches: replayed.batches_applied,
        truncated_wal_bytes: replayed.truncated_bytes,
        wal_bytes_since_snapshot,
        snapshot_dir,
        dir_lock,
        keyring,
        values,
    })
}
