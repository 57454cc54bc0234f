//! The write-ahead log: a directory of segment files, each a header followed by frames.
//!
//! Segment file `wal/<first_lsn, 20 digits>.wal`:
//!
//! ```text
//! offset size
//!      0    8  magic         "BYTEWAL\0"
//!      8    4  version       1
//!     12    4  flags         0, or 1: a sealed segment (every frame in it is sealed)
//!     16    8  first_lsn     LSN of the segment's first frame; equals the file name
//!     24    8  file_id       random, identifies this file (bound into sealed frames)
//!     32    4  ext_len       bytes of header extension that follow the fixed header
//!     36    4  crc32         CRC-32 of bytes 0..36 and the extension
//!     40    …  extension     ext_len bytes: none when plain; sealed, u32 data_key_id
//!      …    …  frames        see `frame`
//! ```
//!
//! The active segment is kept zero-filled ahead of its frames, `ZERO_AHEAD_BYTES` at a
//! time: an fdatasync after an append that grew the file must also write the inode's
//! new size, one more device write per commit; appends into zeros written earlier do
//! not. Recovery reads an all-zero tail as the end of the log (`frame::decode`).
//!
//! Invariants the recovery rules depend on:
//! - A segment's header is written and fsynced, and its directory fsynced, before any
//!   frame goes into it.
//! - A segment is fsynced before the next one is created, in every fsync policy, so only
//!   the last segment can end in a torn write.
//! - LSNs run without gaps through a segment and from one segment to the next (a segment
//!   started after a snapshot that is ahead of the log may start past a gap the snapshot
//!   covers).
//! - Segments are deleted only when every LSN in them is covered by the oldest snapshot
//!   kept, and never the segment being written.

pub(crate) mod frame;
pub(crate) mod replay;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::codec::{le_u32, le_u64, put_u32, put_u64};
use crate::crypto::FileCipher;
use crate::crypto::keyring::SharedKeyring;
use crate::error::{Error, Result};
use crate::fs::{File, Fs};

const MAGIC: &[u8; 8] = b"BYTEWAL\0";
const VERSION: u32 = 1;
pub(crate) const SEGMENT_HEADER_BYTES: usize = 40;
// magic, version, flags, first_lsn, file_id, extension length, crc32.
const _: () = assert!(SEGMENT_HEADER_BYTES == MAGIC.len() + 4 + 4 + 8 + 8 + 4 + 4);
const FLAG_SEALED: u32 = 1;
/// How far the active segment is zero-filled past its frames when they reach its end.
const ZERO_AHEAD_BYTES: u64 = 1 << 20;

pub(crate) fn segment_name(first_lsn: u64) -> String {
    crate::codec::lsn_file_name(first_lsn, "wal")
}

pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    crate::codec::parse_lsn_file_name(name, "wal")
}

fn encode_header(first_lsn: u64, file_id: u64, data_key_id: Option<u32>) -> Vec<u8> {
    let mut header = Vec::with_capacity(SEGMENT_HEADER_BYTES + 4);
    header.extend_from_slice(MAGIC);
    put_u32(&mut header, VERSION);
    put_u32(
        &mut header,
        if data_key_id.is_some() {
            FLAG_SEALED
        } else {
            0
        },
    );
    put_u64(&mut header, first_lsn);
    put_u64(&mut header, file_id);
    put_u32(&mut header, if data_key_id.is_some() { 4 } else { 0 });
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&header);
    let extension = data_key_id.map(u32::to_le_bytes);
    if let Some(extension) = &extension {
        hasher.update(extension);
    }
    put_u32(&mut header, hasher.finalize());
    debug_assert_eq!(header.len(), SEGMENT_HEADER_BYTES);
    header.extend_from_slice(extension.as_ref().map_or(&[][..], |e| &e[..]));
    header
}

pub(crate) struct SegmentHeader {
    pub first_lsn: u64,
    pub file_id: u64,
    /// The data key of a sealed segment.
    pub data_key_id: Option<u32>,
    pub len: usize,
}

/// Parses a segment header; `Err` says why it is not one.
pub(crate) fn decode_header(data: &[u8]) -> Result<SegmentHeader, &'static str> {
    if data.len() < SEGMENT_HEADER_BYTES {
        return Err("segment shorter than its header");
    }
    if &data[..8] != MAGIC {
        return Err("not a ByteData WAL segment (bad magic)");
    }
    let ext_len = le_u32(data, 32) as usize;
    if ext_len > 4096 || data.len() < SEGMENT_HEADER_BYTES + ext_len {
        return Err("segment header extension out of range");
    }
    let extension = &data[SEGMENT_HEADER_BYTES..SEGMENT_HEADER_BYTES + ext_len];
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&data[..36]);
    hasher.update(extension);
    if hasher.finalize() != le_u32(data, 36) {
        return Err("segment header checksum mismatch");
    }
    if le_u32(data, 8) != VERSION {
        return Err("unsupported WAL format version");
    }
    let data_key_id = match le_u32(data, 12) {
        0 if ext_len == 0 => None,
        FLAG_SEALED if ext_len == 4 => Some(le_u32(extension, 0)),
        _ => return Err("unsupported WAL segment flags"),
    };
    if le_u64(data, 16) == 0 {
        return Err("segment header gives first LSN 0 (LSNs start at 1)");
    }
    Ok(SegmentHeader {
        first_lsn: le_u64(data, 16),
        file_id: le_u64(data, 24),
        data_key_id,
        len: SEGMENT_HEADER_BYTES + ext_len,
    })
}

pub(crate) struct ClosedSegment {
    pub first_lsn: u64,
    /// LSN of the last frame's last batch; `first_lsn - 1` when empty.
    pub last_lsn: u64,
    pub bytes: u64,
    pub path: PathBuf,
}

struct ActiveSegment {
    file: Arc<dyn File>,
    /// Seals the frames of a segment of an encrypted store.
    cipher: Option<FileCipher>,
    first_lsn: u64,
    /// Bytes of header and frames.
    len: u64,
    /// The file's size: `len` and zeros after it.
    allocated: u64,
    path: PathBuf,
}

impl ActiveSegment {
    /// Zero-fills the file past `len + incoming` bytes, if it does not reach that far.
    fn reserve(&mut self, incoming: u64) -> Result<()> {
        let needed = self.len + incoming;
        if needed <= self.allocated {
            return Ok(());
        }
        let target = needed.div_ceil(ZERO_AHEAD_BYTES) * ZERO_AHEAD_BYTES;
        let zeros = vec![0u8; usize::try_from(target - self.allocated).unwrap_or(usize::MAX)];
        self.file
            .write_all_at(&zeros, self.allocated)
            .map_err(|e| {
                Error::io(
                    format!("zero-filling WAL segment {}", self.path.display()),
                    e,
                )
            })?;
        self.allocated = target;
        Ok(())
    }
}

/// The log writer. Only the group-commit leader appends; others lock it briefly to sync
/// or to drop old segments.
pub(crate) struct Wal {
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    closed: Vec<ClosedSegment>,
    active: ActiveSegment,
    segment_limit_bytes: u64,
    buf: Vec<u8>,
    /// Where new segments get their keys, in an encrypted store.
    keyring: Option<SharedKeyring>,
    written_lsn: u64,
    durable_lsn: u64,
    /// fdatasyncs of segments with frames in them, for monitoring group commit.
    syncs: u64,
    /// Time spent in those fdatasyncs.
    sync_nanos: u64,
    /// Calls of `append` (commit groups) and the batches they carried.
    appends: u64,
    appended_batches: u64,
}

/// What the log has done since open, for monitoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WalCounters {
    pub syncs: u64,
    pub sync_nanos: u64,
    pub groups: u64,
    pub batches: u64,
}

fn elapsed_nanos(started: std::time::Instant) -> u64 {
    u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// A batch handed to the log: its LSN and its encoding.
pub(crate) struct LogItem<'a> {
    pub lsn: u64,
    pub encoded: &'a [u8],
}

impl Wal {
    /// Creates a new segment whose first frame will have `first_lsn`.
    fn create_segment(
        fs: &dyn Fs,
        dir: &Path,
        first_lsn: u64,
        keyring: Option<&SharedKeyring>,
    ) -> Result<ActiveSegment> {
        let path = dir.join(segment_name(first_lsn));
        let context = |what: &str| format!("{what} WAL segment {}", path.display());
        let (header, cipher) = match keyring {
            Some(keyring) => {
                let (data_key_id, cipher) = keyring.lock().new_file_cipher()?;
                let header = encode_header(first_lsn, cipher.file_id(), Some(data_key_id));
                (header, Some(cipher))
            }
            None => (
                encode_header(first_lsn, crate::crypto::random_file_id()?, None),
                None,
            ),
        };
        let file = fs
            .create_new(&path)
            .map_err(|e| Error::io(context("creating"), e))?;
        file.write_all_at(&header, 0)
            .map_err(|e| Error::io(context("writing the header of"), e))?;
        file.sync_data()
            .map_err(|e| Error::io(context("syncing"), e))?;
        fs.sync_dir(dir)
            .map_err(|e| Error::io(format!("syncing directory {}", dir.display()), e))?;
        Ok(ActiveSegment {
            file,
            cipher,
            first_lsn,
            len: header.len() as u64,
            allocated: header.len() as u64,
            path,
        })
    }

    /// A log with one new, empty segment starting at `first_lsn`.
    pub fn create(
        fs: Arc<dyn Fs>,
        dir: &Path,
        first_lsn: u64,
        closed: Vec<ClosedSegment>,
        segment_limit_bytes: u64,
        keyring: Option<SharedKeyring>,
    ) -> Result<Wal> {
        let active = Self::create_segment(&*fs, dir, first_lsn, keyring.as_ref())?;
        Ok(Wal {
            fs,
            dir: dir.to_path_buf(),
            closed,
            active,
            segment_limit_bytes,
            buf: Vec::new(),
            keyring,
            written_lsn: first_lsn - 1,
            durable_lsn: first_lsn - 1,
            syncs: 0,
            sync_nanos: 0,
            appends: 0,
            appended_batches: 0,
        })
    }

    /// Continues an existing segment, recovered up to `len` bytes and `last_lsn`, whose
    /// content is durable and whose file holds `allocated` bytes (zeros after `len`).
    /// `cipher` is the segment's, if it is sealed.
    #[allow(clippy::too_many_arguments)]
    pub fn resume(
        fs: Arc<dyn Fs>,
        dir: &Path,
        segment: ClosedSegment,
        file: Arc<dyn File>,
        cipher: Option<FileCipher>,
        allocated: u64,
        closed: Vec<ClosedSegment>,
        segment_limit_bytes: u64,
        keyring: Option<SharedKeyring>,
    ) -> Wal {
        assert_eq!(cipher.is_some(), keyring.is_some());
        assert!(
            allocated >= segment.bytes,
            "a segment's file holds its frames"
        );
        Wal {
            fs,
            dir: dir.to_path_buf(),
            closed,
            active: ActiveSegment {
                file,
                cipher,
                first_lsn: segment.first_lsn,
                len: segment.bytes,
                allocated,
                path: segment.path,
            },
            segment_limit_bytes,
            buf: Vec::new(),
            keyring,
            written_lsn: segment.last_lsn,
            durable_lsn: segment.last_lsn,
            syncs: 0,
            sync_nanos: 0,
            appends: 0,
            appended_batches: 0,
        }
    }

    pub fn written_lsn(&self) -> u64 {
        self.written_lsn
    }

    pub fn durable_lsn(&self) -> u64 {
        self.durable_lsn
    }

    /// Writes the items (consecutive LSNs) as frames of at most `group_limit_bytes`
    /// each (a larger batch gets a frame of its own), in one write. Returns the bytes
    /// written. Not durable until `sync`.
    pub fn append(&mut self, items: &[LogItem<'_>], group_limit_bytes: usize) -> Result<u64> {
        assert!(!items.is_empty());
        assert_eq!(
            items[0].lsn,
            self.written_lsn + 1,
            "WAL LSNs must be consecutive"
        );
        self.appends += 1;
        self.appended_batches += items.len() as u64;
        self.buf.clear();
        let mut start = 0;
        while start < items.len() {
            let mut end = start + 1;
            let mut bytes = items[start].encoded.len();
            while end < items.len() && bytes + items[end].encoded.len() <= group_limit_bytes {
                bytes += items[end].encoded.len();
                end += 1;
            }
            let batches: Vec<&[u8]> = items[start..end].iter().map(|item| item.encoded).collect();
            let sealing = self.active.cipher.as_ref().map(|cipher| frame::Sealing {
                cipher,
                file_offset: self.active.len + self.buf.len() as u64,
            });
            frame::encode(
                &mut self.buf,
                items[start].lsn,
                self.durable_lsn,
                &batches,
                sealing,
            )?;
            start = end;
        }
        let last_lsn = items[items.len() - 1].lsn;
        assert_eq!(last_lsn, self.written_lsn + items.len() as u64);
        self.active.reserve(self.buf.len() as u64)?;
        self.active
            .file
            .write_all_at(&self.buf, self.active.len)
            .map_err(|e| {
                Error::io(
                    format!("writing WAL segment {}", self.active.path.display()),
                    e,
                )
            })?;
        let written = self.buf.len() as u64;
        self.active.len += written;
        self.written_lsn = last_lsn;
        if self.active.len >= self.segment_limit_bytes {
            self.rotate()?;
        }
        Ok(written)
    }

    /// Makes everything written so far durable.
    pub fn sync(&mut self) -> Result<()> {
        if self.durable_lsn == self.written_lsn {
            return Ok(());
        }
        let started = std::time::Instant::now();
        self.active.file.sync_data().map_err(|e| {
            Error::io(
                format!("fdatasync of WAL segment {}", self.active.path.display()),
                e,
            )
        })?;
        self.durable_lsn = self.written_lsn;
        self.syncs += 1;
        self.sync_nanos += elapsed_nanos(started);
        Ok(())
    }

    pub fn counters(&self) -> WalCounters {
        WalCounters {
            syncs: self.syncs,
            sync_nanos: self.sync_nanos,
            groups: self.appends,
            batches: self.appended_batches,
        }
    }

    /// What a background sync needs: the file, and the LSN its sync will cover.
    pub fn sync_target(&self) -> (Arc<dyn File>, u64, PathBuf) {
        (
            self.active.file.clone(),
            self.written_lsn,
            self.active.path.clone(),
        )
    }

    /// Records that a background sync, which took `sync_nanos`, made everything up to
    /// `lsn` durable.
    pub fn synced_through(&mut self, lsn: u64, sync_nanos: u64) {
        assert!(lsn <= self.written_lsn);
        self.durable_lsn = self.durable_lsn.max(lsn);
        self.syncs += 1;
        self.sync_nanos += sync_nanos;
    }

    fn rotate(&mut self) -> Result<()> {
        self.sync()?;
        let next = Self::create_segment(
            &*self.fs,
            &self.dir,
            self.written_lsn + 1,
            self.keyring.as_ref(),
        )?;
        let old = std::mem::replace(&mut self.active, next);
        self.closed.push(ClosedSegment {
            first_lsn: old.first_lsn,
            last_lsn: self.written_lsn,
            bytes: old.len,
            path: old.path,
        });
        Ok(())
    }

    /// Deletes closed segments whose every LSN is at or below `lsn`.
    pub fn remove_through(&mut self, lsn: u64) -> Result<usize> {
        let keep_from = self
            .closed
            .iter()
            .position(|segment| segment.last_lsn > lsn)
            .unwrap_or(self.closed.len());
        let mut removed = 0;
        for segment in self.closed.drain(..keep_from) {
            self.fs.remove_file(&segment.path).map_err(|e| {
                Error::io(
                    format!("removing WAL segment {}", segment.path.display()),
                    e,
                )
            })?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Segment count and total bytes, the active segment included.
    pub fn size(&self) -> (usize, u64) {
        let closed: u64 = self.closed.iter().map(|segment| segment.bytes).sum();
        (self.closed.len() + 1, closed + self.active.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_claiming_lsn_zero_is_not_a_segment() {
        let header = encode_header(0, 7, None);
        assert!(decode_header(&header).is_err());
        let header = encode_header(1, 7, None);
        assert_eq!(decode_header(&header).map(|h| h.first_lsn), Ok(1));
    }
}
