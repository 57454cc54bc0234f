//! Recovery of the log: read every segment in LSN order, apply the batches above the
//! snapshot's LSN, and decide what a damaged frame means.
//!
//! The rules:
//! - A frame that fails its checksum, or is cut short, is a *torn tail* — a write that
//!   never completed, whose batches were therefore never acknowledged in `always` mode —
//!   only when it is in the last segment and nothing after it proves it had been made
//!   durable. The segment is truncated there (and the truncation logged).
//! - Proof of durability is a valid frame further on whose `synced_lsn` reaches the
//!   damaged frame's LSN: that frame was written after an fsync covered the damaged one.
//!   Damage to durable data is corruption: the store refuses to open, naming the file and
//!   offset. So is damage in any segment but the last (it was fsynced before the next
//!   one was created), a frame whose checksum matches but whose content does not parse,
//!   and any gap or disorder in LSNs.
//! - A last segment whose header is incomplete was being created when the process
//!   stopped; it holds no frames and is removed.
//! - In an encrypted store every segment and frame must be sealed, and a sealed frame
//!   that passes its checksum but fails authentication was altered or put there: a hard
//!   error wherever it is, never a torn tail (a torn write fails the checksum first).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::frame::{self, FRAME_HEADER_BYTES, Parsed};
use super::{ClosedSegment, Wal, decode_header, parse_segment_name};
use crate::batch::WriteBatch;
use crate::codec::le_u64;
use crate::crypto::keyring::SharedKeyring;
use crate::error::{Error, Result};
use crate::fs::{Fs, read_all};

pub(crate) struct Replayed {
    pub wal: Wal,
    /// Highest LSN in the log, or the snapshot's if the log holds nothing above it.
    pub last_lsn: u64,
    pub batches_applied: u64,
    pub truncated_bytes: u64,
}

/// The segments in `dir`, ordered by first LSN.
pub(crate) fn list_segments(fs: &dyn Fs, dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let names = fs
        .list(dir)
        .map_err(|e| Error::io(format!("listing WAL directory {}", dir.display()), e))?;
    let mut segments: Vec<(u64, PathBuf)> = names
        .iter()
        .filter_map(|name| parse_segment_name(name).map(|lsn| (lsn, dir.join(name))))
        .collect();
    segments.sort_unstable_by_key(|(lsn, _)| *lsn);
    Ok(segments)
}

/// Looks past a damaged frame for a valid frame proving the damaged one was durable:
/// one with LSNs after `last_good` and a `synced_lsn` beyond it. Returns its offset
/// within `tail` and its first LSN.
fn durable_successor(tail: &[u8], last_good: u64) -> Option<(usize, u64)> {
    let mut offset = 0;
    while offset + FRAME_HEADER_BYTES <= tail.len() {
        let candidate = &tail[offset..];
        let first_lsn = le_u64(candidate, 8);
        let synced_lsn = le_u64(candidate, 16);
        // Cheap checks of the raw header first; the checksum only for candidates.
        if first_lsn > last_good
            && synced_lsn > last_good
            && let Parsed::Frame(frame) = frame::decode(candidate)
            && frame.synced_lsn > last_good
        {
            return Some((offset, frame.first_lsn));
        }
        offset += 1;
    }
    None
}

pub(crate) fn replay(
    fs: Arc<dyn Fs>,
    dir: &Path,
    segments: Vec<(u64, PathBuf)>,
    snapshot_lsn: u64,
    segment_limit_bytes: u64,
    keyring: Option<SharedKeyring>,
    mut apply: impl FnMut(u64, WriteBatch),
) -> Result<Replayed> {
    let mut opened = Vec::new();
    let count = segments.len();
    let mut closed = Vec::new();
    let mut resume = None;
    let mut prev_last: Option<u64> = None;
    let mut batches_applied = 0;
    let mut truncated_bytes = 0;

    for (position, (name_lsn, path)) in segments.into_iter().enumerate() {
        let is_last = position + 1 == count;
        let file = fs
            .open(&path)
            .map_err(|e| Error::io(format!("opening WAL segment {}", path.display()), e))?;
        let data = read_all(&*file)
            .map_err(|e| Error::io(format!("reading WAL segment {}", path.display()), e))?;
        let header = match decode_header(&data) {
            Ok(header) => header,
            // Frames are written only after the header was synced, so a last segment no longer
            // than a header with a bad header was cut off while being created.
            Err(reason) if is_last && data.len() <= super::SEGMENT_HEADER_BYTES => {
                tracing::warn!(
                    segment = %path.display(),
                    reason,
                    "removing a WAL segment whose creation did not complete"
                );
                fs.remove_file(&path)
                    .map_err(|e| Error::io(format!("removing {}", path.display()), e))?;
                fs.sync_dir(dir)
                    .map_err(|e| Error::io(format!("syncing {}", dir.display()), e))?;
                break;
            }
            Err(reason) => return Err(Error::corruption(&path, 0, reason)),
        };
        if header.first_lsn != name_lsn {
            return Err(Error::corruption(
                &path,
                16,
                format!(
                    "header says first LSN {}, file name says {name_lsn}",
                    header.first_lsn
                ),
            ));
        }
        let cipher = match (header.data_key_id, &keyring) {
            (None, None) => None,
            (Some(data_key_id), Some(keyring)) => Some(
                keyring
                    .lock()
                    .file_cipher(data_key_id, header.file_id)
                    .ok_or_else(|| {
                        Error::corruption(
                            &path,
                            40,
                            format!("sealed under data key {data_key_id}, which the keyring does not hold"),
                        )
                    })?,
            ),
            (None, Some(_)) => {
                return Err(Error::corruption(
                    &path,
                    12,
                    "a plaintext segment in an encrypted store",
                ));
            }
            (Some(_), None) => {
                return Err(Error::Encryption(format!(
                    "{} is sealed but the store has no keyring; was its KEYRING file removed?",
                    path.display()
                )));
            }
        };
        match prev_last {
            None if header.first_lsn > snapshot_lsn + 1 => {
                return Err(Error::corruption(
                    &path,
                    0,
                    format!(
                        "the log starts at LSN {} but the snapshot covers only up to LSN {snapshot_lsn}: \
                         LSNs in between are missing",
                        header.first_lsn
                    ),
                ));
            }
            Some(prev) => {
                let continues = header.first_lsn == prev + 1;
                let restarts_after_snapshot =
                    prev < snapshot_lsn && header.first_lsn == snapshot_lsn + 1;
                if !continues && !restarts_after_snapshot {
                    return Err(Error::corruption(
                        &path,
                        0,
                        format!(
                            "segment starts at LSN {}, but the previous one ended at LSN {prev}",
                            header.first_lsn
                        ),
                    ));
                }
            }
            None => {}
        }

        let mut offset = header.len;
        let mut last = header.first_lsn - 1;
        loop {
            match frame::decode(&data[offset..]) {
                Parsed::Frame(frame) => {
                    assert!(
                        frame.len > FRAME_HEADER_BYTES && offset + frame.len <= data.len(),
                        "a decoded frame lies within its segment and is not empty"
                    );
                    if frame.first_lsn != last + 1 {
                        return Err(Error::corruption(
                            &path,
                            offset as u64,
                            format!("frame has LSN {}, expected {}", frame.first_lsn, last + 1),
                        ));
                    }
                    let frame_last_lsn = frame.last_lsn();
                    if frame.sealed != cipher.is_some() {
                        return Err(Error::corruption(
                            &path,
                            offset as u64,
                            "frame sealing does not match its segment's",
                        ));
                    }
                    let batches = match &cipher {
                        None => frame.batches,
                        Some(cipher) => {
                            opened.clear();
                            opened.extend_from_slice(frame.body);
                            let plain = cipher
                                .open_in_place(&mut opened, offset as u64, &frame.context)
                                .map_err(|_| Error::AuthenticationFailed {
                                    file: path.clone(),
                                    offset: offset as u64,
                                })?;
                            frame::split_batches(plain, frame.batch_count)
                                .map_err(|reason| Error::corruption(&path, offset as u64, reason))?
                        }
                    };
                    assert_eq!(
                        batches.len(),
                        frame.batch_count,
                        "a frame's batches are all read"
                    );
                    for (i, encoded) in batches.iter().enumerate() {
                        let lsn = frame.first_lsn + i as u64;
                        assert!(lsn > last, "batches replay in LSN order");
                        if lsn <= snapshot_lsn {
                            continue;
                        }
                        let batch = WriteBatch::decode(encoded).map_err(|e| {
                            Error::corruption(
                                &path,
                                offset as u64,
                                format!("batch {lsn} does not decode: {}", e.reason),
                            )
                        })?;
                        apply(lsn, batch);
                        batches_applied += 1;
                    }
                    last = frame_last_lsn;
                    offset += frame.len;
                }
                Parsed::End => break,
                Parsed::Invalid {
                    reason,
                    checksum_ok,
                } => {
                    if checksum_ok || !is_last {
                        return Err(Error::corruption(&path, offset as u64, reason));
                    }
                    if let Some((at, lsn)) = durable_successor(&data[offset + 1..], last) {
                        return Err(Error::corruption(
                            &path,
                            offset as u64,
                            format!(
                                "{reason}, yet the valid frame of LSN {lsn} at offset {} was written after \
                                 this one had been made durable",
                                offset + 1 + at
                            ),
                        ));
                    }
                    let dropped = data.len() - offset;
                    tracing::warn!(
                        segment = %path.display(),
                        offset,
                        dropped_bytes = dropped,
                        reason,
                        "truncating the torn tail of the WAL"
                    );
                    file.set_len(offset as u64)
                        .and_then(|()| file.sync_data())
                        .map_err(|e| Error::io(format!("truncating {}", path.display()), e))?;
                    truncated_bytes = dropped as u64;
                    break;
                }
            }
        }
        assert!(offset <= data.len() && last + 1 >= header.first_lsn);
        prev_last = Some(last);
        let segment = ClosedSegment {
            first_lsn: header.first_lsn,
            last_lsn: last,
            bytes: offset as u64,
            path,
        };
        if is_last {
            resume = Some((segment, file, cipher));
        } else {
            closed.push(segment);
        }
    }

    let log_last = prev_last.unwrap_or(0);
    let last_lsn = log_last.max(snapshot_lsn);
    assert!(
        batches_applied <= last_lsn - snapshot_lsn,
        "only batches above the snapshot are applied, each once"
    );
    assert!(
        closed
            .windows(2)
            .all(|pair| pair[0].last_lsn < pair[1].first_lsn),
        "closed segments follow each other in LSN order"
    );
    let wal = match resume {
        Some((segment, file, cipher)) if segment.last_lsn >= snapshot_lsn => {
            // What recovery read may still be only in the page cache.
            file.sync_data()
                .map_err(|e| Error::io(format!("syncing {}", segment.path.display()), e))?;
            let allocated = file
                .size()
                .map_err(|e| Error::io(format!("sizing {}", segment.path.display()), e))?;
            Wal::resume(
                fs,
                dir,
                segment,
                file,
                cipher,
                allocated,
                closed,
                segment_limit_bytes,
                keyring,
            )
        }
        resume => {
            closed.extend(resume.map(|(segment, _, _)| segment));
            Wal::create(fs, dir, last_lsn + 1, closed, segment_limit_bytes, keyring)?
        }
    };
    assert_eq!(
        wal.written_lsn(),
        last_lsn,
        "the log resumes right after what it holds"
    );
    Ok(Replayed {
        wal,
        last_lsn,
        batches_applied,
        truncated_bytes,
    })
}
