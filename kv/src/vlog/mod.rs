//! The value log: where a hybrid store keeps the values too large to hold in memory. The
//! index keeps the key and a `ValuePointer` (file, offset, length, checksum); the value
//! is read back through a bounded cache (`cache`).
//!
//! File `vlog/<file_no, 20 digits>.vlog`:
//!
//! ```text
//! header (48 bytes)
//!      0    8  magic        "BYTEVLOG"
//!      8    4  version      1
//!     12    4  flags        0, or 1: sealed
//!     16    8  file_no      equals the name
//!     24    8  file_id      random (binds sealed entries to the file)
//!     32    4  data_key_id  sealed: the keyring entry the file key derives from
//!     36    8  reserved     zeros
//!     44    4  crc32        of bytes 0..44
//! entries, each
//!      0    4  body_len
//!      4    4  crc32        of bytes 0..4 and 8..16+body_len
//!      8    8  lsn          of the batch that wrote the value
//!     16    …  body         varint key_len | key | value
//!                           sealed: nonce | that, encrypted | tag (associated data:
//!                           file id, entry offset, lsn)
//! ```
//!
//! Durability does not rest on the value log. A value is logged in the WAL as ever; the
//! value log gets its copy when the batch is applied, written but not synced, so a crash
//! may cut its tail. A checkpoint syncs the value log before it writes a snapshot that
//! points into it, and only such a snapshot lets the WAL that also holds those values go.
//! Recovery replays the WAL above the snapshot and so writes those values again.
//!
//! Invariants:
//! - Every file is appended to by one process lifetime only: a store that opens starts a
//!   new file, so what a crash left at the end of an older file is never built upon (and
//!   no nonce is drawn twice for one offset under one file key).
//! - A pointer is handed out only after its entry was written to the file: a reader that
//!   finds the pointer in the index can read the entry.
//! - An entry is trusted only after its length, both checksums (the pointer's and the
//!   entry's) and, when sealed, its authentication tag check out.

mod accounting;
pub(crate) mod cache;

use accounting::Retired;
pub use accounting::ValueLogStats;
pub(crate) mod scan;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};

use crate::codec::{Reader, le_u32, le_u64, put_u32, put_u64, put_varint};
use crate::crypto::FileCipher;
use crate::crypto::keyring::SharedKeyring;
use crate::error::{Error, Result};
use crate::fs::{File, Fs, read_exact_at};
use crate::options::{FORMAT_MAX_KEY_BYTES, FORMAT_MAX_VALUE_BYTES};
pub(crate) use crate::pointer::{POINTER_BYTES, ValuePointer};

const MAGIC: &[u8; 8] = b"BYTEVLOG";
const VERSION: u32 = 1;
const FLAG_SEALED: u32 = 1;
pub(crate) const HEADER_BYTES: usize = 48;
pub(crate) const ENTRY_HEADER_BYTES: usize = 16;
// magic, version, flags, file_no, file_id, data_key_id, reserved, crc32.
const _: () = assert!(HEADER_BYTES == MAGIC.len() + 4 + 4 + 8 + 8 + 4 + 8 + 4);
// body_len, crc32, lsn.
const _: () = assert!(ENTRY_HEADER_BYTES == 4 + 4 + 8);

pub(crate) fn file_name(file_no: u64) -> String {
    crate::codec::lsn_file_name(file_no, "vlog")
}

pub(crate) fn parse_file_name(name: &str) -> Option<u64> {
    crate::codec::parse_lsn_file_name(name, "vlog")
}

fn entry_checksum(entry: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&entry[0..4]);
    hasher.update(&entry[8..]);
    hasher.finalize()
}

/// One value-log file, open for reading (and, for the newest, appending).
struct Segment {
    file: Arc<dyn File>,
    path: PathBuf,
    cipher: Option<FileCipher>,
    /// Bytes of entries in the file (its size but for the header).
    entry_bytes: AtomicU64,
    /// Bytes of entries no version points at any more (and of a torn tail).
    dead_bytes: AtomicU64,
    /// Deleted from disk; it leaves the map once no reader can hold one of its pointers.
    removed: AtomicBool,
}

impl Segment {
    fn new(file: Arc<dyn File>, path: PathBuf, cipher: Option<FileCipher>, size: u64) -> Self {
        Segment {
            file,
            path,
            cipher,
            entry_bytes: AtomicU64::new(size.saturating_sub(HEADER_BYTES as u64)),
            dead_bytes: AtomicU64::new(0),
            removed: AtomicBool::new(false),
        }
    }
}

struct Appender {
    file_no: u64,
    len: u64,
    buf: Vec<u8>,
}

/// The value log of one store.
pub(crate) struct ValueLog {
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    segments: RwLock<BTreeMap<u64, Arc<Segment>>>,
    appender: Mutex<Appender>,
    segment_limit_bytes: u64,
    keyring: Option<SharedKeyring>,
    retired: Mutex<Vec<Retired>>,
    /// Files compaction could not empty (damaged entries): left alone.
    set_aside: Mutex<Vec<u64>>,
    files_compacted: AtomicU64,
    files_deleted: AtomicU64,
}

impl ValueLog {
    /// Opens the value log in `dir` (creating it), checking every file's header, and
    /// starts a new file to append to.
    pub fn open(
        fs: Arc<dyn Fs>,
        dir: &Path,
        keyring: Option<SharedKeyring>,
        segment_limit_bytes: u64,
    ) -> Result<ValueLog> {
        fs.create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating directory {}", dir.display()), e))?;
        let names = fs
            .list(dir)
            .map_err(|e| Error::io(format!("listing {}", dir.display()), e))?;
        let mut segments = BTreeMap::new();
        let mut numbered: Vec<(u64, &String)> = names
            .iter()
            .filter_map(|name| parse_file_name(name).map(|no| (no, name)))
            .collect();
        numbered.sort_unstable();
        let newest = numbered.last().map(|(file_no, _)| *file_no);
        for (file_no, name) in numbered {
            let path = dir.join(name);
            match open_segment(&*fs, &path, file_no, keyring.as_ref()) {
                Ok(segment) => {
                    segments.insert(file_no, Arc::new(segment));
                }
                // A file is synced with its header before anything is appended to it, so
                // a newest file holding no more than a damaged header is a crash while it
                // was being started: it holds nothing and goes.
                Err(Error::Corruption { .. })
                    if Some(file_no) == newest && header_only(&*fs, &path)? =>
                {
                    tracing::warn!(file = %path.display(), "removing a value log file cut short while it was created");
                    fs.remove_file(&path)
                        .map_err(|e| Error::io(format!("removing {}", path.display()), e))?;
                }
                Err(error) => return Err(error),
            }
        }
        let next = segments.keys().next_back().map_or(1, |last| last + 1);
        let log = ValueLog {
            fs,
            dir: dir.to_path_buf(),
            segments: RwLock::new(segments),
            appender: Mutex::new(Appender {
                file_no: 0,
                len: 0,
                buf: Vec::new(),
            }),
            segment_limit_bytes,
            keyring,
            retired: Mutex::new(Vec::new()),
            set_aside: Mutex::new(Vec::new()),
            files_compacted: AtomicU64::new(0),
            files_deleted: AtomicU64::new(0),
        };
        log.start_segment(&mut log.appender.lock(), next)?;
        Ok(log)
    }

    fn start_segment(&self, appender: &mut Appender, file_no: u64) -> Result<()> {
        let path = self.dir.join(file_name(file_no));
        let context = |what: &str| format!("{what} value log {}", path.display());
        let (data_key_id, cipher) = match &self.keyring {
            Some(keyring) => {
                let (id, cipher) = keyring.lock().new_file_cipher()?;
                (id, Some(cipher))
            }
            None => (0, None),
        };
        let mut header = Vec::with_capacity(HEADER_BYTES);
        header.extend_from_slice(MAGIC);
        put_u32(&mut header, VERSION);
        put_u32(&mut header, if cipher.is_some() { FLAG_SEALED } else { 0 });
        put_u64(&mut header, file_no);
        put_u64(
            &mut header,
            match &cipher {
                Some(cipher) => cipher.file_id(),
                None => crate::crypto::random_file_id()?,
            },
        );
        put_u32(&mut header, data_key_id);
        put_u64(&mut header, 0);
        let crc = crc32fast::hash(&header);
        put_u32(&mut header, crc);
        debug_assert_eq!(header.len(), HEADER_BYTES);
        let file = self
            .fs
            .create_new(&path)
            .map_err(|e| Error::io(context("creating"), e))?;
        file.write_all_at(&header, 0)
            .map_err(|e| Error::io(context("writing the header of"), e))?;
        file.sync_data()
            .map_err(|e| Error::io(context("syncing"), e))?;
        self.fs
            .sync_dir(&self.dir)
            .map_err(|e| Error::io(format!("syncing directory {}", self.dir.display()), e))?;
        self.segments.write().insert(
            file_no,
            Arc::new(Segment::new(file, path, cipher, HEADER_BYTES as u64)),
        );
        appender.file_no = file_no;
        appender.len = HEADER_BYTES as u64;
        Ok(())
    }

    /// Writes the values (key, value, LSN of its batch) as entries, in one write, and
    /// returns their pointers. Written, not synced: see the module's notes on durability.
    pub fn append(&self, values: &[(&[u8], &[u8], u64)]) -> Result<Vec<ValuePointer>> {
        let mut appender = self.appender.lock();
        if appender.len >= self.segment_limit_bytes {
            self.sync_locked(&appender)?;
            let next = appender.file_no + 1;
            self.start_segment(&mut appender, next)?;
        }
        let segment = self.segment(appender.file_no)?;
        let Appender { file_no, len, buf } = &mut *appender;
        buf.clear();
        let mut pointers = Vec::with_capacity(values.len());
        let mut plain = Vec::new();
        for (key, value, lsn) in values {
            assert!(key.len() <= FORMAT_MAX_KEY_BYTES && value.len() <= FORMAT_MAX_VALUE_BYTES);
            let start = buf.len();
            let offset = *len + start as u64;
            plain.clear();
            put_varint(&mut plain, key.len() as u64);
            plain.extend_from_slice(key);
            plain.extend_from_slice(value);
            put_u32(buf, 0);
            put_u32(buf, 0);
            put_u64(buf, *lsn);
            match &segment.cipher {
                None => buf.extend_from_slice(&plain),
                Some(cipher) => cipher.seal_into(buf, offset, &lsn.to_le_bytes(), &plain)?,
            }
            let body_len = (buf.len() - start - ENTRY_HEADER_BYTES) as u32;
            buf[start..start + 4].copy_from_slice(&body_len.to_le_bytes());
            let crc = entry_checksum(&buf[start..]);
            buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
            pointers.push(ValuePointer {
                file_no: *file_no,
                offset,
                len: (buf.len() - start) as u32,
                crc,
            });
        }
        segment
            .file
            .write_all_at(buf, *len)
            .map_err(|e| Error::io(format!("writing value log {}", segment.path.display()), e))?;
        *len += buf.len() as u64;
        segment
            .entry_bytes
            .fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(pointers)
    }

    fn segment(&self, file_no: u64) -> Result<Arc<Segment>> {
        self.segments.read().get(&file_no).cloned().ok_or_else(|| {
            Error::corruption(
                self.dir.join(file_name(file_no)),
                0,
                "a value pointer names a value log file that does not exist",
            )
        })
    }

    fn sync_locked(&self, appender: &Appender) -> Result<()> {
        let segment = self.segment(appender.file_no)?;
        segment
            .file
            .sync_data()
            .map_err(|e| Error::io(format!("syncing value log {}", segment.path.display()), e))
    }

    /// Makes every entry written so far durable (older files were synced when the next
    /// one was started).
    pub fn sync(&self) -> Result<()> {
        self.sync_locked(&self.appender.lock())
    }

    /// Reads and verifies the entry `pointer` names; returns its value.
    pub fn read(&self, pointer: &ValuePointer) -> Result<Vec<u8>> {
        let segment = self.segment(pointer.file_no)?;
        let corrupt = |reason: &str| Error::corruption(&segment.path, pointer.offset, reason);
        let len = pointer.len as usize;
        if len < ENTRY_HEADER_BYTES || pointer.offset < HEADER_BYTES as u64 {
            return Err(corrupt("a value pointer out of range"));
        }
        let mut entry = vec![0u8; len];
        read_exact_at(&*segment.file, &mut entry, pointer.offset).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                corrupt("a value pointer past the end of its file")
            } else {
                Error::io(format!("reading value log {}", segment.path.display()), e)
            }
        })?;
        if le_u32(&entry, 0) as usize != len - ENTRY_HEADER_BYTES
            || le_u32(&entry, 4) != pointer.crc
            || entry_checksum(&entry) != pointer.crc
        {
            return Err(corrupt("value log entry checksum mismatch"));
        }
        let lsn = le_u64(&entry, 8);
        let body: &[u8] = match &segment.cipher {
            None => &entry[ENTRY_HEADER_BYTES..],
            Some(cipher) => cipher
                .open_in_place(
                    &mut entry[ENTRY_HEADER_BYTES..],
                    pointer.offset,
                    &lsn.to_le_bytes(),
                )
                .map_err(|_| Error::AuthenticationFailed {
                    file: segment.path.clone(),
                    offset: pointer.offset,
                })?,
        };
        let mut reader = Reader::new(body);
        let key_len = reader
            .varint()
            .map_err(|_| corrupt("value log entry does not parse"))?;
        let value_at = reader.position() + key_len as usize;
        if key_len > FORMAT_MAX_KEY_BYTES as u64 || value_at > body.len() {
            return Err(corrupt("value log entry does not parse"));
        }
        Ok(body[value_at..].to_vec())
    }

    /// Checks that `pointer` lies within a file of the log (loading a snapshot: a pointer
    /// past what a file holds would mean the file lost synced entries).
    pub fn check_pointer(&self, pointer: &ValuePointer) -> std::result::Result<(), String> {
        let segments = self.segments.read();
        let Some(segment) = segments.get(&pointer.file_no) else {
            return Err(format!(
                "a value pointer into value log file {}, which does not exist",
                pointer.file_no
            ));
        };
        let file_bytes = HEADER_BYTES as u64 + segment.entry_bytes.load(Ordering::Relaxed);
        if pointer.offset < HEADER_BYTES as u64
            || pointer.offset + u64::from(pointer.len) > file_bytes
            || (pointer.len as usize) < ENTRY_HEADER_BYTES
        {
            return Err(format!(
                "a value pointer outside value log file {} ({} bytes)",
                pointer.file_no, file_bytes
            ));
        }
        Ok(())
    }
}

/// Whether the file is no longer than a header.
fn header_only(fs: &dyn Fs, path: &Path) -> Result<bool> {
    let file = fs
        .open(path)
        .map_err(|e| Error::io(format!("opening value log {}", path.display()), e))?;
    let size = file
        .size()
        .map_err(|e| Error::io(format!("reading the size of {}", path.display()), e))?;
    Ok(size <= HEADER_BYTES as u64)
}

/// Opens an existing value-log file after checking its header.
fn open_segment(
    fs: &dyn Fs,
    path: &Path,
    file_no: u64,
    keyring: Option<&SharedKeyring>,
) -> Result<Segment> {
    let file = fs
        .open(path)
        .map_err(|e| Error::io(format!("opening value log {}", path.display()), e))?;
    let mut header = [0u8; HEADER_BYTES];
    let corrupt = |offset: u64, reason: &str| Error::corruption(path, offset, reason);
    read_exact_at(&*file, &mut header, 0).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            corrupt(0, "value log shorter than its header")
        } else {
            Error::io(format!("reading value log {}", path.display()), e)
        }
    })?;
    if &header[..8] != MAGIC || crc32fast::hash(&header[..44]) != le_u32(&header, 44) {
        return Err(corrupt(
            0,
            "not a ByteData value log, or its header is damaged",
        ));
    }
    let flags = le_u32(&header, 12);
    if le_u32(&header, 8) != VERSION || (flags != 0 && flags != FLAG_SEALED) {
        return Err(corrupt(8, "unsupported value log version or flags"));
    }
    if le_u64(&header, 16) != file_no {
        return Err(corrupt(16, "value log header and file name disagree"));
    }
    let cipher = match (flags == FLAG_SEALED, keyring) {
        (false, None) => None,
        (true, Some(keyring)) => {
            let data_key_id = le_u32(&header, 32);
            Some(
                keyring
                    .lock()
                    .file_cipher(data_key_id, le_u64(&header, 24))
                    .ok_or_else(|| {
                        corrupt(32, "sealed under a data key the keyring does not hold")
                    })?,
            )
        }
        (false, Some(_)) => return Err(corrupt(12, "a plaintext value log in an encrypted store")),
        (true, None) => {
            return Err(Error::Encryption(format!(
                "{} is sealed but the store has no keyring",
                path.display()
            )));
        }
    };
    let size = file
        .size()
        .map_err(|e| Error::io(format!("reading the size of {}", path.display()), e))?;
    Ok(Segment::new(file, path.to_path_buf(), cipher, size))
}

#[cfg(test)]
mod tests;
