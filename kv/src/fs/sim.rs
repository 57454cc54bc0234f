//! A simulated disk for crash-consistency tests.
//!
//! Every file has two contents: `data` (what reads see: written, maybe in the page cache)
//! and `durable` (what survives a crash: the state at the last `sync_data`). Every
//! directory has two name tables in the same way, made durable by `sync_dir`.
//!
//! `crash()` throws away everything that was not made durable, except that an
//! unsynced append may survive in part — a random prefix of it, sometimes with garbage
//! in its last part, the way a torn write leaves a real disk. Directories themselves are
//! durable as soon as they are created (the engine creates them once, at open).
//!
//! Fault injection: `fail_after(n)` lets `n` more mutating operations succeed; the next
//! one fails (a write may land in part first) and so does every operation after it, as if
//! the machine had stopped, until `crash()` "reboots" it. Handles opened before a crash
//! stay dead. `fail_next_sync()` makes one fdatasync fail with EIO.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use super::{DirLock, File, Fs};

#[derive(Clone)]
pub struct SimFs {
    state: Arc<Mutex<State>>,
    /// The crash generation this mount belongs to.
    generation: u64,
}

#[derive(Default)]
struct Dir {
    live: BTreeMap<String, u64>,
    durable: BTreeMap<String, u64>,
}

#[derive(Default)]
struct Inode {
    data: Vec<u8>,
    durable: Vec<u8>,
}

struct State {
    inodes: HashMap<u64, Inode>,
    next_inode: u64,
    dirs: BTreeMap<PathBuf, Dir>,
    /// Bumped by every crash; handles of an older generation fail.
    generation: u64,
    ops_until_failure: Option<u64>,
    dead: bool,
    fail_next_sync: bool,
    locks: HashSet<PathBuf>,
    syncs: u64,
    rng: fastrand::Rng,
}

fn eio(what: &str) -> io::Error {
    io::Error::other(format!("simulated I/O failure: {what}"))
}

fn split(path: &Path) -> io::Result<(PathBuf, String)> {
    let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    Ok((parent, name.to_owned()))
}

impl State {
    fn check_mount(&self, generation: u64) -> io::Result<()> {
        if generation != self.generation {
            return Err(eio("mount from before a crash"));
        }
        self.check_alive()
    }

    fn check_alive(&self) -> io::Result<()> {
        if self.dead {
            Err(eio("the simulated machine has stopped"))
        } else {
            Ok(())
        }
    }

    /// Counts one mutating operation; `Err` if this is the one that fails.
    fn mutate(&mut self) -> io::Result<()> {
        self.check_alive()?;
        if let Some(left) = self.ops_until_failure.as_mut() {
            if *left == 0 {
                self.dead = true;
                return Err(eio("injected fault"));
            }
            *left -= 1;
        }
        Ok(())
    }

    fn dir(&mut self, dir: &Path) -> io::Result<&mut Dir> {
        self.dirs
            .get_mut(dir)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such directory"))
    }

    fn lookup(&self, path: &Path) -> io::Result<u64> {
        let (parent, name) = split(path)?;
        self.dirs
            .get(&parent)
            .and_then(|dir| dir.live.get(&name))
            .copied()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }
}

struct SimFile {
    state: Arc<Mutex<State>>,
    inode: u64,
    generation: u64,
}

impl SimFile {
    fn with<T>(&self, f: impl FnOnce(&mut State, u64) -> io::Result<T>) -> io::Result<T> {
        let mut state = self.state.lock();
        if state.generation != self.generation {
            return Err(eio("file handle from before a crash"));
        }
        state.check_alive()?;
        f(&mut state, self.inode)
    }
}

fn inode(state: &mut State, inode: u64) -> io::Result<&mut Inode> {
    state
        .inodes
        .get_mut(&inode)
        .ok_or_else(|| eio("inode vanished"))
}

impl File for SimFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.with(|state, ino| {
            let data = &inode(state, ino)?.data;
            let start = (offset as usize).min(data.len());
            let n = buf.len().min(data.len() - start);
            buf[..n].copy_from_slice(&data[start..start + n]);
            Ok(n)
        })
    }

    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.with(|state, ino| {
            let failing = state.mutate().is_err();
            // A write interrupted by the fault lands in part, like a torn write.
            let len = if failing {
                state.rng.usize(0..=buf.len())
            } else {
                buf.len()
            };
            let data = &mut inode(state, ino)?.data;
            let end = offset as usize + len;
            if data.len() < end {
                data.resize(end, 0);
            }
            data[offset as usize..end].copy_from_slice(&buf[..len]);
            if failing {
                Err(eio("injected fault during write"))
            } else {
                Ok(())
            }
        })
    }

    fn sync_data(&self) -> io::Result<()> {
        self.with(|state, ino| {
            state.mutate()?;
            if std::mem::take(&mut state.fail_next_sync) {
                return Err(eio("injected fdatasync failure"));
            }
            state.syncs += 1;
            let file = inode(state, ino)?;
            file.durable = file.data.clone();
            Ok(())
        })
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.with(|state, ino| {
            state.mutate()?;
            inode(state, ino)?.data.resize(len as usize, 0);
            Ok(())
        })
    }

    fn size(&self) -> io::Result<u64> {
        self.with(|state, ino| Ok(inode(state, ino)?.data.len() as u64))
    }
}

struct SimLock {
    state: Arc<Mutex<State>>,
    path: PathBuf,
    generation: u64,
}

impl DirLock for SimLock {}

impl Drop for SimLock {
    fn drop(&mut self) {
        let mut state = self.state.lock();
        if state.generation == self.generation {
            state.locks.remove(&self.path);
        }
    }
}

impl Default for SimFs {
    fn default() -> Self {
        Self::new(0)
    }
}

impl SimFs {
    pub fn new(seed: u64) -> Self {
        SimFs {
            state: Arc::new(Mutex::new(State {
                inodes: HashMap::new(),
                next_inode: 1,
                dirs: BTreeMap::new(),
                generation: 0,
                ops_until_failure: None,
                dead: false,
                fail_next_sync: false,
                locks: HashSet::new(),
                syncs: 0,
                rng: fastrand::Rng::with_seed(seed),
            })),
            generation: 0,
        }
    }

    /// Lets `ops` more mutating operations succeed, then stops the machine.
    pub fn fail_after(&self, ops: u64) {
        self.state.lock().ops_until_failure = Some(ops);
    }

    pub fn fail_next_sync(&self) {
        self.state.lock().fail_next_sync = true;
    }

    /// Whether an injected fault has stopped the machine.
    pub fn is_stopped(&self) -> bool {
        self.state.lock().dead
    }

    /// Number of successful fdatasync calls so far.
    pub fn sync_count(&self) -> u64 {
        self.state.lock().syncs
    }

    /// Loses everything not made durable (keeping a random, possibly garbled, part of
    /// unsynced appends), then "reboots": faults are cleared, locks released, and this
    /// mount with its open files dies. Returns the mount to use from now on.
    #[must_use = "the old mount is dead after a crash; use the returned one"]
    pub fn crash(&self) -> SimFs {
        let mut state = self.state.lock();
        let state = &mut *state;
        let mut reachable = HashSet::new();
        for dir in state.dirs.values_mut() {
            dir.live = dir.durable.clone();
            reachable.extend(dir.live.values().copied());
        }
        state.inodes.retain(|ino, _| reachable.contains(ino));
        for file in state.inodes.values_mut() {
            let appended = file.data.len() > file.durable.len()
                && file.data[..file.durable.len()] == file.durable[..];
            if !appended {
                file.data = file.durable.clone();
                continue;
            }
            let extra = file.data.len() - file.durable.len();
            let keep = state.rng.usize(0..=extra);
            file.data.truncate(file.durable.len() + keep);
            if keep > 0 && state.rng.u8(0..4) == 0 {
                // Garbage in the torn part, as when a sector was only partly written.
                let at = file.durable.len() + state.rng.usize(0..keep);
                file.data[at] ^= state.rng.u8(1..=255);
            }
            file.durable = file.data.clone();
        }
        state.generation += 1;
        state.ops_until_failure = None;
        state.dead = false;
        state.fail_next_sync = false;
        state.locks.clear();
        SimFs {
            state: self.state.clone(),
            generation: state.generation,
        }
    }

    /// The current content of a file, for tests that inspect or damage it.
    pub fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let state = self.state.lock();
        let ino = state.lookup(path)?;
        Ok(state.inodes[&ino].data.clone())
    }

    /// Replaces the content of a file, durably (a test damaging the disk).
    pub fn overwrite(&self, path: &Path, content: Vec<u8>) -> io::Result<()> {
        let mut state = self.state.lock();
        let ino = state.lookup(path)?;
        let file = inode(&mut state, ino)?;
        file.durable = content.clone();
        file.data = content;
        Ok(())
    }
}

impl Fs for SimFs {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut state = self.state.lock();
        state.check_mount(self.generation)?;
        for ancestor in path.ancestors() {
            state.dirs.entry(ancestor.to_path_buf()).or_default();
        }
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut state = self.state.lock();
        state.check_mount(self.generation)?;
        Ok(state.dir(dir)?.live.keys().cloned().collect())
    }

    fn create_new(&self, path: &Path) -> io::Result<Arc<dyn File>> {
        let (parent, name) = split(path)?;
        let mut state = self.state.lock();
        state.check_mount(self.generation)?;
        state.mutate()?;
        let ino = state.next_inode;
        let dir = state.dir(&parent)?;
        if dir.live.contains_key(&name) {
            return Err(io::ErrorKind::AlreadyExists.into());
        }
        dir.live.insert(name, ino);
        state.next_inode += 1;
        state.inodes.insert(ino, Inode::default());
        Ok(Arc::new(SimFile {
            state: self.state.clone(),
            inode: ino,
            generation: state.generation,
        }))
    }

    fn open(&self, path: &Path) -> io::Result<Arc<dyn File>> {
        let state = self.state.lock();
        state.check_mount(self.generation)?;
        let ino = state.lookup(path)?;
        Ok(Arc::new(SimFile {
            state: self.state.clone(),
            inode: ino,
            generation: state.generation,
        }))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let (from_dir, from_name) = split(from)?;
        let (to_dir, to_name) = split(to)?;
        let mut state = self.state.lock();
        state.check_mount(self.generation)?;
        state.mutate()?;
        let ino = state
            .dir(&from_dir)?
            .live
            .remove(&from_name)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))?;
        state.dir(&to_dir)?.live.insert(to_name, ino);
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let (parent, name) = split(path)?;
        let mut state = self.state.lock();
        state.check_mount(self.generation)?;
        state.mutate()?;
        state
            .dir(&parent)?
            .live
            .remove(&name)
            .map(|_| ())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut state = self.state.lock();
        state.check_mount(self.generation)?;
        state.mutate()?;
        let dir = state.dir(dir)?;
        dir.durable = dir.live.clone();
        Ok(())
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn DirLock>> {
        let mut state = self.state.lock();
        state.check_mount(self.generation)?;
        if !state.locks.insert(path.to_path_buf()) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(Box::new(SimLock {
            state: self.state.clone(),
            path: path.to_path_buf(),
            generation: state.generation,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsynced_data_and_names_do_not_survive_a_crash() {
        let fs = SimFs::new(7);
        let dir = Path::new("/d");
        fs.create_dir_all(dir).unwrap();
        let synced = fs.create_new(&dir.join("synced")).unwrap();
        synced.write_all_at(b"durable", 0).unwrap();
        synced.sync_data().unwrap();
        fs.sync_dir(dir).unwrap();
        synced.set_len(3).unwrap();
        let unsynced_name = fs.create_new(&dir.join("unsynced")).unwrap();
        unsynced_name.write_all_at(b"x", 0).unwrap();
        unsynced_name.sync_data().unwrap();

        let fs = fs.crash();
        assert_eq!(fs.read(&dir.join("synced")).unwrap(), b"durable");
        assert!(fs.read(&dir.join("unsynced")).is_err());
        assert!(
            synced.size().is_err(),
            "handles from before the crash are dead"
        );
    }

    #[test]
    fn an_unsynced_append_survives_only_as_a_prefix() {
        for seed in 0..50 {
            let fs = SimFs::new(seed);
            let dir = Path::new("/d");
            fs.create_dir_all(dir).unwrap();
            let file = fs.create_new(&dir.join("f")).unwrap();
            fs.sync_dir(dir).unwrap();
            file.write_all_at(b"abc", 0).unwrap();
            file.sync_data().unwrap();
            file.write_all_at(b"defgh", 3).unwrap();
            let fs = fs.crash();
            let data = fs.read(&dir.join("f")).unwrap();
            assert!(data.len() >= 3 && data.len() <= 8);
            assert_eq!(&data[..3], b"abc");
        }
    }

    #[test]
    fn injected_fault_stops_everything_until_the_crash() {
        let fs = SimFs::new(1);
        let dir = Path::new("/d");
        fs.create_dir_all(dir).unwrap();
        let file = fs.create_new(&dir.join("f")).unwrap();
        fs.fail_after(1);
        file.write_all_at(b"one", 0).unwrap();
        assert!(file.sync_data().is_err());
        assert!(fs.is_stopped());
        assert!(file.read_at(&mut [0u8; 3], 0).is_err());
        let stale = fs.clone();
        let fs = fs.crash();
        assert!(!fs.is_stopped());
        assert!(
            stale.list(dir).is_err(),
            "the mount from before the crash is dead"
        );
        assert!(
            fs.list(dir).unwrap().is_empty(),
            "the name was never made durable"
        );
    }
}
