//! Reading a value-log file from front to back, for compaction: every entry with its
//! pointer, key and LSN, so the index can be asked whether it still points there.
//!
//! A file may end in a torn or never-synced tail (the process died while appending).
//! Nothing points into such a tail, so the walk simply ends at the first entry that does
//! not verify; whether anything live was left behind is decided by asking the index, not
//! by trusting the walk.

use std::sync::atomic::Ordering;

use super::{ENTRY_HEADER_BYTES, HEADER_BYTES, ValueLog, ValuePointer, entry_checksum};
use crate::codec::{Reader, le_u32, le_u64};
use crate::error::{Error, Result};
use crate::fs::read_exact_at;
use crate::options::{FORMAT_MAX_KEY_BYTES, FORMAT_MAX_VALUE_BYTES};

/// One entry of a value-log file.
pub(crate) struct LoggedValue {
    pub pointer: ValuePointer,
    pub lsn: u64,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

/// Where a walk over a file stands.
pub(crate) enum EntryBatch {
    /// Entries read; the next walk starts at `next_offset`.
    More {
        entries: Vec<LoggedValue>,
        next_offset: u64,
    },
    /// The file has no more entries that verify.
    End { entries: Vec<LoggedValue> },
}

impl ValueLog {
    /// Reads entries of `file_no` from `offset` (the first is at `HEADER_BYTES`) until
    /// about `max_bytes` of them are read or the file ends.
    pub fn read_entries(&self, file_no: u64, offset: u64, max_bytes: usize) -> Result<EntryBatch> {
        let segment = self.segment(file_no)?;
        let file_bytes = HEADER_BYTES as u64 + segment.entry_bytes.load(Ordering::Relaxed);
        let mut offset = offset.max(HEADER_BYTES as u64);
        let mut entries = Vec::new();
        let mut read_bytes = 0usize;
        while read_bytes < max_bytes {
            if offset + ENTRY_HEADER_BYTES as u64 > file_bytes {
                return Ok(EntryBatch::End { entries });
            }
            let mut header = [0u8; ENTRY_HEADER_BYTES];
            read_exact_at(&*segment.file, &mut header, offset).map_err(|e| {
                Error::io(format!("reading value log {}", segment.path.display()), e)
            })?;
            let body_len = le_u32(&header, 0) as usize;
            let len = ENTRY_HEADER_BYTES + body_len;
            // A body can hold at most a maximal key and value plus framing.
            let plausible = body_len <= FORMAT_MAX_KEY_BYTES + FORMAT_MAX_VALUE_BYTES + 128;
            if !plausible || offset + len as u64 > file_bytes {
                return Ok(EntryBatch::End { entries });
            }
            let mut entry = vec![0u8; len];
            entry[..ENTRY_HEADER_BYTES].copy_from_slice(&header);
            read_exact_at(
                &*segment.file,
                &mut entry[ENTRY_HEADER_BYTES..],
                offset + 16,
            )
            .map_err(|e| Error::io(format!("reading value log {}", segment.path.display()), e))?;
            let crc = le_u32(&entry, 4);
            if entry_checksum(&entry) != crc {
                return Ok(EntryBatch::End { entries });
            }
            let pointer = ValuePointer {
                file_no,
                offset,
                len: len as u32,
                crc,
            };
            let lsn = le_u64(&entry, 8);
            let body: &[u8] = match &segment.cipher {
                None => &entry[ENTRY_HEADER_BYTES..],
                Some(cipher) => cipher
                    .open_in_place(&mut entry[ENTRY_HEADER_BYTES..], offset, &lsn.to_le_bytes())
                    .map_err(|_| Error::AuthenticationFailed {
                        file: segment.path.clone(),
                        offset,
                    })?,
            };
            let mut reader = Reader::new(body);
            let key_len = reader.varint().map_err(|_| {
                Error::corruption(&segment.path, offset, "value log entry does not parse")
            })? as usize;
            let key_at = reader.position();
            if key_len > FORMAT_MAX_KEY_BYTES || key_at + key_len > body.len() {
                return Err(Error::corruption(
                    &segment.path,
                    offset,
                    "value log entry does not parse",
                ));
            }
            entries.push(LoggedValue {
                pointer,
                lsn,
                key: body[key_at..key_at + key_len].to_vec(),
                value: body[key_at + key_len..].to_vec(),
            });
            read_bytes += len;
            offset += len as u64;
        }
        Ok(EntryBatch::More {
            entries,
            next_offset: offset,
        })
    }
}
