//! Snapshots: the whole store at one LSN, in checksummed blocks.
//!
//! File `snapshots/<lsn, 20 digits>.snap`, written as `….snap.tmp`, fsynced, renamed,
//! and the directory fsynced — so a snapshot file under its final name is complete.
//!
//! ```text
//! header (48 bytes)
//!      0    8  magic           "BYTESNAP"
//!      8    4  version         1
//!     12    4  flags           0, or 1: sealed
//!     16    8  lsn             every batch up to this LSN is in the snapshot; equals the name
//!     24    8  created_unix_ms
//!     32    8  file_id         random (zero when not sealed)
//!     40    4  data_key_id     the keyring's data key the file key derives from (sealed)
//!     44    4  crc32           of bytes 0..44
//! blocks, each
//!      0    4  body_len        > 0
//!      4    4  crc32           of body_len, entry_count and body
//!      8    4  entry_count     > 0
//!     12    …  body            entry_count × ( varint key_len | key | u8 kind | varint value_len | value )
//! footer (40 bytes)
//!      0    4  zero            marks the end of the blocks
//!      4    4  crc32           of bytes 0..4 and 8..40
//!      8    8  entry_count     total over all blocks
//!     16    8  block_count
//!     24    8  lsn             repeated
//!     32    8  magic           "BYTESEND"
//! ```
//!
//! Keys are strictly ascending across the whole file; `kind` 0 is an inline value, 1 a
//! 24-byte pointer into the value log of a hybrid store (see `vlog`): a hybrid snapshot
//! holds the index, not the large values again.
//!
//! A sealed snapshot seals each block body (nonce | encrypted body | tag; associated data:
//! file id, block offset, LSN and entry count) and ends its blocks with a *seal block*:
//! entry_count 0 and an empty sealed body whose associated data holds the totals, so
//! dropping blocks from the end fails authentication too. Loading verifies every checksum, the order, the
//! counts and that the file ends right after the footer; any failure is corruption of
//! this snapshot, and the caller may fall back to an older one.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::codec::{Reader, le_u32, le_u64, put_u32, put_u64, put_varint};
use crate::crypto::keyring::Keyring;
use crate::crypto::{FileCipher, SEAL_OVERHEAD_BYTES};
use crate::error::{Error, Result};
use crate::fs::{File, FileReader, Fs};
use crate::index::Stored;
use crate::options::{FORMAT_MAX_KEY_BYTES, FORMAT_MAX_VALUE_BYTES};
use crate::vlog::ValuePointer;

const MAGIC: &[u8; 8] = b"BYTESNAP";
const END_MAGIC: &[u8; 8] = b"BYTESEND";
const VERSION: u32 = 1;
const HEADER_BYTES: usize = 48;
const BLOCK_HEADER_BYTES: usize = 12;
const FOOTER_BYTES: usize = 40;
// magic, version, flags, lsn, created_unix_ms, file_id, data_key_id, crc32.
const _: () = assert!(HEADER_BYTES == MAGIC.len() + 4 + 4 + 8 + 8 + 8 + 4 + 4);
// body_len, crc32, entry_count.
const _: () = assert!(BLOCK_HEADER_BYTES == 4 + 4 + 4);
// zero, crc32, entry_count, block_count, lsn, end magic.
const _: () = assert!(FOOTER_BYTES == 4 + 4 + 8 + 8 + 8 + END_MAGIC.len());
const KIND_INLINE: u8 = 0;
const KIND_POINTER: u8 = 1;
const FLAG_SEALED: u32 = 1;
/// A block is closed once its body reaches this size.
const BLOCK_TARGET_BYTES: usize = 64 << 10;
/// Blocks are written to the file in chunks of about this size.
const WRITE_CHUNK_BYTES: usize = 1 << 20;
/// A block holds one entry at most at the format limits, or many smaller ones.
const MAX_BLOCK_BYTES: usize =
    BLOCK_TARGET_BYTES + FORMAT_MAX_KEY_BYTES + FORMAT_MAX_VALUE_BYTES + 32 + SEAL_OVERHEAD_BYTES;

/// Associated data of a sealed block besides file id and offset.
fn block_context(lsn: u64, entry_count: u32) -> [u8; 12] {
    let mut context = [0u8; 12];
    context[..8].copy_from_slice(&lsn.to_le_bytes());
    context[8..].copy_from_slice(&entry_count.to_le_bytes());
    context
}

/// Associated data of the seal block: the totals the footer will repeat.
fn seal_block_context(lsn: u64, entries: u64, blocks: u64) -> [u8; 27] {
    let mut context = [0u8; 27];
    context[..3].copy_from_slice(b"END");
    context[3..11].copy_from_slice(&lsn.to_le_bytes());
    context[11..19].copy_from_slice(&entries.to_le_bytes());
    context[19..].copy_from_slice(&blocks.to_le_bytes());
    context
}

pub(crate) fn snapshot_name(lsn: u64) -> String {
    crate::codec::lsn_file_name(lsn, "snap")
}

pub(crate) fn parse_snapshot_name(name: &str) -> Option<u64> {
    crate::codec::parse_lsn_file_name(name, "snap")
}

/// What a finished snapshot is; reported by `Store::checkpoint` and in stats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub lsn: u64,
    pub path: PathBuf,
    pub bytes: u64,
    pub entries: u64,
    pub created_unix_ms: u64,
    /// How long writing it took (zero for a snapshot found at open).
    pub duration: Duration,
}

fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

pub(crate) struct SnapshotWriter {
    fs: Arc<dyn Fs>,
    file: Arc<dyn File>,
    dir: PathBuf,
    tmp_path: PathBuf,
    cipher: Option<FileCipher>,
    sealed_body: Vec<u8>,
    lsn: u64,
    created_unix_ms: u64,
    offset: u64,
    out: Vec<u8>,
    block: Vec<u8>,
    block_entries: u32,
    entries: u64,
    blocks: u64,
    last_key: Option<Vec<u8>>,
    started: std::time::Instant,
}

impl SnapshotWriter {
    /// Starts a snapshot at `lsn`, sealed with the keyring's current data key if given.
    pub fn begin(fs: Arc<dyn Fs>, dir: &Path, lsn: u64, keyring: Option<&Keyring>) -> Result<Self> {
        let (data_key_id, cipher) = match keyring {
            Some(keyring) => {
                let (id, cipher) = keyring.new_file_cipher()?;
                (id, Some(cipher))
            }
            None => (0, None),
        };
        let tmp_path = dir.join(format!("{}.tmp", snapshot_name(lsn)));
        // A temporary file can only be left over from an interrupted attempt.
        let _ = fs.remove_file(&tmp_path);
        let file = fs
            .create_new(&tmp_path)
            .map_err(|e| Error::io(format!("creating snapshot {}", tmp_path.display()), e))?;
        let created_unix_ms = now_unix_ms();
        let mut out = Vec::with_capacity(WRITE_CHUNK_BYTES + BLOCK_TARGET_BYTES);
        out.extend_from_slice(MAGIC);
        put_u32(&mut out, VERSION);
        put_u32(&mut out, if cipher.is_some() { FLAG_SEALED } else { 0 });
        put_u64(&mut out, lsn);
        put_u64(&mut out, created_unix_ms);
        put_u64(&mut out, cipher.as_ref().map_or(0, FileCipher::file_id));
        put_u32(&mut out, data_key_id);
        let crc = crc32fast::hash(&out);
        put_u32(&mut out, crc);
        debug_assert_eq!(out.len(), HEADER_BYTES);
        Ok(SnapshotWriter {
            fs,
            file,
            dir: dir.to_path_buf(),
            tmp_path,
            cipher,
            sealed_body: Vec::new(),
            lsn,
            created_unix_ms,
            offset: 0,
            out,
            block: Vec::with_capacity(BLOCK_TARGET_BYTES + 1024),
            block_entries: 0,
            entries: 0,
            blocks: 0,
            last_key: None,
            started: std::time::Instant::now(),
        })
    }

    /// Adds the next entry; keys must come in strictly ascending order.
    pub fn add(&mut self, key: &[u8], value: Stored<'_>) -> Result<()> {
        if let Some(last) = &self.last_key {
            assert!(
                last.as_slice() < key,
                "snapshot keys must be strictly ascending"
            );
        }
        self.last_key = Some(key.to_vec());
        put_varint(&mut self.block, key.len() as u64);
        self.block.extend_from_slice(key);
        let encoded_pointer;
        let (kind, bytes) = match value {
            Stored::Inline(value) => (KIND_INLINE, value),
            Stored::Pointer(pointer) => {
                encoded_pointer = pointer.encode();
                (KIND_POINTER, &encoded_pointer[..])
            }
        };
        self.block.push(kind);
        put_varint(&mut self.block, bytes.len() as u64);
        self.block.extend_from_slice(bytes);
        self.block_entries += 1;
        self.entries += 1;
        if self.block.len() >= BLOCK_TARGET_BYTES {
            self.close_block()?;
        }
        Ok(())
    }

    fn close_block(&mut self) -> Result<()> {
        if self.block_entries == 0 {
            return Ok(());
        }
        let body = match &self.cipher {
            None => &self.block,
            Some(cipher) => {
                let block_offset = self.offset + self.out.len() as u64;
                self.sealed_body.clear();
                cipher.seal_into(
                    &mut self.sealed_body,
                    block_offset,
                    &block_context(self.lsn, self.block_entries),
                    &self.block,
                )?;
                &self.sealed_body
            }
        };
        put_block(&mut self.out, self.block_entries, body);
        self.block.clear();
        self.block_entries = 0;
        self.blocks += 1;
        if self.out.len() >= WRITE_CHUNK_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.file
            .write_all_at(&self.out, self.offset)
            .map_err(|e| Error::io(format!("writing snapshot {}", self.tmp_path.display()), e))?;
        self.offset += self.out.len() as u64;
        self.out.clear();
        Ok(())
    }

    /// Writes the footer and makes the snapshot durable under its final name.
    pub fn finish(mut self) -> Result<SnapshotInfo> {
        self.close_block()?;
        if let Some(cipher) = &self.cipher {
            let block_offset = self.offset + self.out.len() as u64;
            let mut seal = Vec::with_capacity(SEAL_OVERHEAD_BYTES);
            let context = seal_block_context(self.lsn, self.entries, self.blocks);
            cipher.seal_into(&mut seal, block_offset, &context, &[])?;
            put_block(&mut self.out, 0, &seal);
        }
        let start = self.out.len();
        put_u32(&mut self.out, 0);
        put_u32(&mut self.out, 0);
        put_u64(&mut self.out, self.entries);
        put_u64(&mut self.out, self.blocks);
        put_u64(&mut self.out, self.lsn);
        self.out.extend_from_slice(END_MAGIC);
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&self.out[start..start + 4]);
        hasher.update(&self.out[start + 8..]);
        let crc = hasher.finalize();
        self.out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
        self.flush()?;
        let context = |what: &str| format!("{what} snapshot {}", self.tmp_path.display());
        self.file
            .sync_data()
            .map_err(|e| Error::io(context("syncing"), e))?;
        let path = self.dir.join(snapshot_name(self.lsn));
        self.fs
            .rename(&self.tmp_path, &path)
            .map_err(|e| Error::io(context("renaming"), e))?;
        self.fs
            .sync_dir(&self.dir)
            .map_err(|e| Error::io(format!("syncing directory {}", self.dir.display()), e))?;
        Ok(SnapshotInfo {
            lsn: self.lsn,
            path,
            bytes: self.offset,
            entries: self.entries,
            created_unix_ms: self.created_unix_ms,
            duration: self.started.elapsed(),
        })
    }

    /// Gives up on this snapshot, removing the temporary file.
    pub fn abandon(self) {
        let _ = self.fs.remove_file(&self.tmp_path);
    }
}

/// Appends a block: header, then `body` as it goes to disk (sealed or not).
fn put_block(out: &mut Vec<u8>, entry_count: u32, body: &[u8]) {
    let start = out.len();
    put_u32(out, body.len() as u32);
    put_u32(out, 0);
    put_u32(out, entry_count);
    out.extend_from_slice(body);
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&out[start..start + 4]);
    hasher.update(&out[start + 8..]);
    let crc = hasher.finalize();
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// Reads a snapshot, verifying it whole, and hands every entry to `load` in key order.
/// `load` may be called for part of the entries before corruption is found; what it
/// refuses (a pointer to no value) is corruption of the snapshot. An encrypted store
/// passes its keyring: every snapshot of it must be sealed.
pub(crate) fn load(
    fs: &dyn Fs,
    path: &Path,
    keyring: Option<&Keyring>,
    mut load: impl FnMut(&[u8], Stored<'_>) -> std::result::Result<(), String>,
) -> Result<SnapshotInfo> {
    let corrupt = |offset: u64, reason: String| Error::corruption(path, offset, reason);
    let file = fs
        .open(path)
        .map_err(|e| Error::io(format!("opening snapshot {}", path.display()), e))?;
    let file_len = file
        .size()
        .map_err(|e| Error::io(format!("reading snapshot {}", path.display()), e))?;
    let mut input = BufReader::with_capacity(WRITE_CHUNK_BYTES, FileReader::new(&*file));
    let mut offset = 0u64;
    let mut read = |buf: &mut [u8], offset: &mut u64| -> Result<()> {
        input.read_exact(buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                corrupt(*offset, "snapshot is truncated".into())
            } else {
                Error::io(format!("reading snapshot {}", path.display()), e)
            }
        })?;
        *offset += buf.len() as u64;
        Ok(())
    };

    let mut header = [0u8; HEADER_BYTES];
    read(&mut header, &mut offset)?;
    if &header[..8] != MAGIC {
        return Err(corrupt(0, "not a ByteData snapshot (bad magic)".into()));
    }
    if crc32fast::hash(&header[..44]) != le_u32(&header, 44) {
        return Err(corrupt(0, "snapshot header checksum mismatch".into()));
    }
    let flags = le_u32(&header, 12);
    if le_u32(&header, 8) != VERSION || (flags != 0 && flags != FLAG_SEALED) {
        return Err(corrupt(
            8,
            "unsupported snapshot format version or flags".into(),
        ));
    }
    let lsn = le_u64(&header, 16);
    let created_unix_ms = le_u64(&header, 24);
    let cipher = match (flags == FLAG_SEALED, keyring) {
        (false, None) => None,
        (true, Some(keyring)) => {
            let data_key_id = le_u32(&header, 40);
            Some(
                keyring
                    .file_cipher(data_key_id, le_u64(&header, 32))
                    .ok_or_else(|| {
                        corrupt(
                            40,
                            format!("sealed under data key {data_key_id}, which the keyring does not hold"),
                        )
                    })?,
            )
        }
        (false, Some(_)) => {
            return Err(corrupt(
                12,
                "a plaintext snapshot in an encrypted store".into(),
            ));
        }
        (true, None) => {
            return Err(Error::Encryption(format!(
                "{} is sealed but the store has no keyring; was its KEYRING file removed?",
                path.display()
            )));
        }
    };
    let mut sealed_up = cipher.is_none();

    let mut entries = 0u64;
    let mut blocks = 0u64;
    let mut last_key: Vec<u8> = Vec::new();
    let mut body = Vec::new();
    let mut footer = [0u8; FOOTER_BYTES];
    let footer_offset = loop {
        let block_offset = offset;
        // Eight bytes are common to a block header and the footer: length (zero for
        // the footer) and checksum.
        let mut block_header = [0u8; BLOCK_HEADER_BYTES];
        read(&mut block_header[..8], &mut offset)?;
        let body_len = le_u32(&block_header, 0) as usize;
        if body_len == 0 {
            if !sealed_up {
                return Err(Error::AuthenticationFailed {
                    file: path.to_path_buf(),
                    offset: block_offset,
                });
            }
            footer[..8].copy_from_slice(&block_header[..8]);
            read(&mut footer[8..], &mut offset)?;
            break block_offset;
        }
        if body_len > MAX_BLOCK_BYTES || offset + body_len as u64 > file_len {
            return Err(corrupt(block_offset, "block length out of range".into()));
        }
        read(&mut block_header[8..], &mut offset)?;
        body.resize(body_len, 0);
        read(&mut body, &mut offset)?;
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&block_header[..4]);
        hasher.update(&block_header[8..]);
        hasher.update(&body);
        if hasher.finalize() != le_u32(&block_header, 4) {
            return Err(corrupt(block_offset, "block checksum mismatch".into()));
        }
        let count = le_u32(&block_header, 8);
        if sealed_up && cipher.is_some() {
            return Err(corrupt(block_offset, "a block after the seal block".into()));
        }
        let authentication_failed = || Error::AuthenticationFailed {
            file: path.to_path_buf(),
            offset: block_offset,
        };
        let plain: &[u8] = match &cipher {
            None => &body,
            Some(cipher) if count == 0 => {
                let context = seal_block_context(lsn, entries, blocks);
                let rest = cipher
                    .open_in_place(&mut body, block_offset, &context)
                    .map_err(|_| authentication_failed())?;
                if !rest.is_empty() {
                    return Err(corrupt(block_offset, "seal block with content".into()));
                }
                sealed_up = true;
                continue;
            }
            Some(cipher) => cipher
                .open_in_place(&mut body, block_offset, &block_context(lsn, count))
                .map_err(|_| authentication_failed())?,
        };
        let mut reader = Reader::new(plain);
        let malformed = |e: crate::codec::DecodeError| {
            corrupt(block_offset, format!("block does not parse: {}", e.reason))
        };
        for _ in 0..count {
            let key = reader
                .length_prefixed(FORMAT_MAX_KEY_BYTES)
                .map_err(malformed)?;
            let kind = reader.u8().map_err(malformed)?;
            let value = reader
                .length_prefixed(FORMAT_MAX_VALUE_BYTES)
                .map_err(malformed)?;
            let value = match kind {
                KIND_INLINE => Stored::Inline(value),
                KIND_POINTER => Stored::Pointer(ValuePointer::decode(value).ok_or_else(|| {
                    corrupt(block_offset, "a value pointer of the wrong size".into())
                })?),
                _ => return Err(corrupt(block_offset, format!("unknown value kind {kind}"))),
            };
            if entries > 0 && key <= last_key.as_slice() {
                return Err(corrupt(block_offset, "keys out of order".into()));
            }
            last_key.clear();
            last_key.extend_from_slice(key);
            load(key, value).map_err(|reason| corrupt(block_offset, reason))?;
            entries += 1;
        }
        if count == 0 || !reader.is_empty() {
            return Err(corrupt(
                block_offset,
                "block entry count does not match its body".into(),
            ));
        }
        blocks += 1;
    };

    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&footer[..4]);
    hasher.update(&footer[8..]);
    if hasher.finalize() != le_u32(&footer, 4) {
        return Err(corrupt(footer_offset, "footer checksum mismatch".into()));
    }
    if &footer[32..40] != END_MAGIC
        || le_u64(&footer, 8) != entries
        || le_u64(&footer, 16) != blocks
        || le_u64(&footer, 24) != lsn
    {
        return Err(corrupt(
            footer_offset,
            "footer does not match the snapshot's content".into(),
        ));
    }
    if offset != file_len {
        return Err(corrupt(offset, "data after the footer".into()));
    }
    Ok(SnapshotInfo {
        lsn,
        path: path.to_path_buf(),
        bytes: file_len,
        entries,
        created_unix_ms,
        duration: Duration::ZERO,
    })
}
