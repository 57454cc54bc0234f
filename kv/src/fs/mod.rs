//! The file-system seam. Everything the engine does to disk goes through `Fs` and `File`,
//! so the same code runs on the real file system (`RealFs`) and on `SimFs`, a simulated
//! disk that keeps what was *written* apart from what is *durable* and can crash at any
//! point — the basis of the crash-consistency tests.
//!
//! The operations are the few the engine needs and their durability contract is the
//! POSIX one the engine relies on:
//! - data written to a file is durable only after `File::sync_data`;
//! - a created, renamed or removed directory entry is durable only after `Fs::sync_dir`
//!   of its directory.

mod real;
mod sim;

use std::any::Any;
use std::io;
use std::path::Path;
use std::sync::Arc;

pub use real::RealFs;
pub use sim::SimFs;

pub trait File: Send + Sync {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;
    /// fdatasync: the file's data and size reach stable storage.
    fn sync_data(&self) -> io::Result<()>;
    fn set_len(&self, len: u64) -> io::Result<()>;
    fn size(&self) -> io::Result<u64>;
}

/// Held for as long as the store has its directory open.
pub trait DirLock: Any + Send + Sync {}

pub trait Fs: Send + Sync + 'static {
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    /// File names in a directory, in no particular order.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Creates an empty file for reading and writing; fails if it exists.
    fn create_new(&self, path: &Path) -> io::Result<Arc<dyn File>>;
    /// Opens an existing file for reading and writing.
    fn open(&self, path: &Path) -> io::Result<Arc<dyn File>>;
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// An exclusive lock on `path` (created if missing); `WouldBlock` if already held.
    fn lock(&self, path: &Path) -> io::Result<Box<dyn DirLock>>;
}

/// Reads exactly `buf.len()` bytes at `offset`.
pub fn read_exact_at(file: &dyn File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match file.read_at(buf, offset)? {
            0 => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// Reads a whole file into memory.
pub fn read_all(file: &dyn File) -> io::Result<Vec<u8>> {
    let len = usize::try_from(file.size()?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "file too large to read"))?;
    let mut buf = vec![0u8; len];
    read_exact_at(file, &mut buf, 0)?;
    Ok(buf)
}

/// A sequential reader over a `File`, reading in large chunks.
pub struct FileReader<'a> {
    file: &'a dyn File,
    offset: u64,
}

impl<'a> FileReader<'a> {
    pub fn new(file: &'a dyn File) -> Self {
        FileReader { file, offset: 0 }
    }
}

impl io::Read for FileReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}
