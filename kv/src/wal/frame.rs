//! WAL frames: the unit of writing, checksumming and atomicity of the log.
//!
//! A frame carries the batches of one group commit, with consecutive LSNs:
//!
//! ```text
//! offset size
//!      0    4  body_len      bytes of body (> 0)
//!      4    4  crc32         CRC-32 (IEEE) of bytes 0..4 and 8..32+body_len
//!      8    8  first_lsn     LSN of the first batch; batch i has LSN first_lsn + i
//!     16    8  synced_lsn    highest LSN known durable when this frame was written
//!     24    4  batch_count   (> 0)
//!     28    4  flags         0, or FLAG_SEALED
//!     32    …  body          batch_count × ( u32 batch_len | batch bytes )
//!                            sealed: nonce | that, encrypted | tag (see `crypto`)
//! ```
//!
//! A sealed frame's associated data is its file id, its offset in the segment and header
//! bytes 8..32, so neither its LSNs nor its place can change unnoticed. The checksum
//! covers the sealed bytes: a torn sealed frame fails the checksum like a plain one, and
//! authentication is asked only of frames that were written whole.
//!
//! All integers are little-endian. A frame is valid only if its checksum matches and its
//! body parses to exactly `batch_count` batches filling `body_len` bytes; recovery applies
//! a frame whole or not at all. `synced_lsn` lets recovery tell a torn, never-synced tail
//! from damage to data that had been made durable (see `replay`). An all-zero header is
//! the end of the log, so segments may be preallocated with zeros.

use crate::codec::{le_u32, le_u64, put_u32, put_u64};
use crate::crypto::{FileCipher, SEAL_OVERHEAD_BYTES};
use crate::error::Result;
use crate::options::FORMAT_MAX_BATCH_BYTES;

pub(crate) const FRAME_HEADER_BYTES: usize = 32;
// body_len, crc32, first_lsn, synced_lsn, batch_count, flags.
const _: () = assert!(FRAME_HEADER_BYTES == 4 + 4 + 8 + 8 + 4 + 4);
// The associated data of a sealed frame is header bytes 8..32.
const _: () = assert!(FRAME_HEADER_BYTES - 8 == 24);
/// No frame body is larger: one batch at the format limit plus its length prefix, or a
/// group of smaller batches, sealed.
pub(crate) const MAX_FRAME_BODY_BYTES: usize = FORMAT_MAX_BATCH_BYTES + 4096;
pub(crate) const FLAG_SEALED: u32 = 1;

/// How a frame is sealed: the segment's cipher and the frame's offset in the segment.
pub(crate) struct Sealing<'a> {
    pub cipher: &'a FileCipher,
    pub file_offset: u64,
}

/// Appends one frame holding `batches` (already encoded) to `buf`.
pub(crate) fn encode(
    buf: &mut Vec<u8>,
    first_lsn: u64,
    synced_lsn: u64,
    batches: &[&[u8]],
    sealing: Option<Sealing<'_>>,
) -> Result<()> {
    assert!(!batches.is_empty(), "a frame holds at least one batch");
    assert!(first_lsn > 0, "LSNs start at 1");
    assert!(
        first_lsn.checked_add(batches.len() as u64).is_some(),
        "LSNs run out"
    );
    let start = buf.len();
    let plain_len: usize = batches.iter().map(|batch| 4 + batch.len()).sum();
    let body_len = plain_len
        + if sealing.is_some() {
            SEAL_OVERHEAD_BYTES
        } else {
            0
        };
    assert!(
        body_len <= MAX_FRAME_BODY_BYTES,
        "frame body over the format limit"
    );
    buf.reserve(FRAME_HEADER_BYTES + body_len);
    put_u32(buf, body_len as u32);
    put_u32(buf, 0); // checksum, filled in below
    put_u64(buf, first_lsn);
    put_u64(buf, synced_lsn);
    put_u32(buf, batches.len() as u32);
    put_u32(buf, if sealing.is_some() { FLAG_SEALED } else { 0 });
    match sealing {
        None => put_batches(buf, batches),
        Some(Sealing {
            cipher,
            file_offset,
        }) => {
            let mut plain = Vec::with_capacity(plain_len);
            put_batches(&mut plain, batches);
            let context: [u8; 24] = buf[start + 8..start + FRAME_HEADER_BYTES]
                .try_into()
                .expect("a frame header is 32 bytes");
            if let Err(error) = cipher.seal_into(buf, file_offset, &context, &plain) {
                buf.truncate(start);
                return Err(error);
            }
        }
    }
    assert_eq!(buf.len() - start, FRAME_HEADER_BYTES + body_len);
    let crc = checksum(&buf[start..]);
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    debug_assert!(matches!(decode(&buf[start..]), Parsed::Frame(_)));
    Ok(())
}

fn put_batches(buf: &mut Vec<u8>, batches: &[&[u8]]) {
    for batch in batches {
        put_u32(buf, batch.len() as u32);
        buf.extend_from_slice(batch);
    }
}

fn checksum(frame: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&frame[0..4]);
    hasher.update(&frame[8..]);
    hasher.finalize()
}

pub(crate) struct Frame<'a> {
    pub first_lsn: u64,
    pub synced_lsn: u64,
    pub batch_count: usize,
    pub sealed: bool,
    /// The batches of a plain frame; empty for a sealed one until opened (`open`).
    pub batches: Vec<&'a [u8]>,
    /// Header bytes 8..32, part of a sealed frame's associated data.
    pub context: [u8; 24],
    /// The body as written (sealed or not).
    pub body: &'a [u8],
    /// Header plus body.
    pub len: usize,
}

impl Frame<'_> {
    pub fn last_lsn(&self) -> u64 {
        self.first_lsn + self.batch_count as u64 - 1
    }
}

/// The batches of a frame body: exactly `count` length-prefixed batches filling it.
pub(crate) fn split_batches(body: &[u8], count: usize) -> Result<Vec<&[u8]>, &'static str> {
    if count > body.len() / 4 {
        return Err("frame batch count exceeds its body");
    }
    let mut batches = Vec::with_capacity(count);
    let mut offset = 0;
    for _ in 0..count {
        if offset + 4 > body.len() {
            return Err("frame body shorter than its batches");
        }
        let len = le_u32(body, offset) as usize;
        offset += 4;
        let Some(batch) = body.get(offset..offset + len) else {
            return Err("batch runs past the end of its frame");
        };
        batches.push(batch);
        offset += len;
    }
    if offset != body.len() {
        return Err("frame body longer than its batches");
    }
    Ok(batches)
}

pub(crate) enum Parsed<'a> {
    Frame(Frame<'a>),
    /// No more frames: nothing left, or an all-zero header.
    End,
    /// Not a valid frame. `checksum_ok` is true when the checksum matched but the content
    /// does not parse — never a torn write, always a bug or deliberate damage.
    Invalid {
        reason: &'static str,
        checksum_ok: bool,
    },
}

/// Parses the frame at the start of `data` (which runs to the end of the segment).
pub(crate) fn decode(data: &[u8]) -> Parsed<'_> {
    let invalid = |reason| Parsed::Invalid {
        reason,
        checksum_ok: false,
    };
    if data.is_empty() {
        return Parsed::End;
    }
    let header_len = data.len().min(FRAME_HEADER_BYTES);
    if data[..header_len].iter().all(|&b| b == 0) {
        return if data.iter().all(|&b| b == 0) {
            Parsed::End
        } else {
            invalid("zeroed frame header followed by data")
        };
    }
    if data.len() < FRAME_HEADER_BYTES {
        return invalid("incomplete frame header");
    }
    let body_len = le_u32(data, 0) as usize;
    if body_len == 0 || body_len > MAX_FRAME_BODY_BYTES {
        return invalid("frame length out of range");
    }
    let Some(frame) = data.get(..FRAME_HEADER_BYTES + body_len) else {
        return invalid("frame runs past the end of the segment");
    };
    if checksum(frame) != le_u32(frame, 4) {
        return invalid("frame checksum mismatch");
    }
    let malformed = |reason| Parsed::Invalid {
        reason,
        checksum_ok: true,
    };
    let first_lsn = le_u64(frame, 8);
    let synced_lsn = le_u64(frame, 16);
    let batch_count = le_u32(frame, 24) as usize;
    let flags = le_u32(frame, 28);
    if first_lsn == 0 || batch_count == 0 || (flags != 0 && flags != FLAG_SEALED) {
        return malformed("frame header fields out of range");
    }
    if first_lsn.checked_add(batch_count as u64).is_none() {
        return malformed("frame LSNs run past the largest LSN");
    }
    let sealed = flags == FLAG_SEALED;
    let body = &frame[FRAME_HEADER_BYTES..];
    let batches = if sealed {
        if body.len() < SEAL_OVERHEAD_BYTES {
            return malformed("sealed frame shorter than its seal");
        }
        Vec::new()
    } else {
        match split_batches(body, batch_count) {
            Ok(batches) => batches,
            Err(reason) => return malformed(reason),
        }
    };
    Parsed::Frame(Frame {
        first_lsn,
        synced_lsn,
        batch_count,
        sealed,
        batches,
        context: frame[8..FRAME_HEADER_BYTES]
            .try_into()
            .expect("a frame header is 32 bytes"),
        body,
        len: frame.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(first_lsn: u64, batches: &[&[u8]]) -> Vec<u8> {
        let mut buf = Vec::new();
        encode(&mut buf, first_lsn, first_lsn - 1, batches, None).unwrap();
        buf
    }

    #[test]
    fn roundtrip() {
        let buf = frame(7, &[b"one", b"", b"three"]);
        let Parsed::Frame(parsed) = decode(&buf) else {
            panic!("valid frame rejected")
        };
        assert_eq!(parsed.first_lsn, 7);
        assert_eq!(parsed.synced_lsn, 6);
        assert_eq!(parsed.last_lsn(), 9);
        assert_eq!(parsed.batches, vec![&b"one"[..], b"", b"three"]);
        assert_eq!(parsed.len, buf.len());
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let buf = frame(3, &[b"payload", b"more payload"]);
        for bit in 0..buf.len() * 8 {
            let mut damaged = buf.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            assert!(
                !matches!(decode(&damaged), Parsed::Frame(_)),
                "flip of bit {bit} went unnoticed"
            );
        }
    }

    #[test]
    fn every_truncation_is_detected() {
        let buf = frame(1, &[b"abcdef"]);
        for len in 1..buf.len() {
            assert!(matches!(
                decode(&buf[..len]),
                Parsed::Invalid {
                    checksum_ok: false,
                    ..
                }
            ));
        }
    }

    #[test]
    fn a_sealed_frame_opens_to_its_batches_at_its_offset_only() {
        let cipher = FileCipher::new(&[3; 32], 77);
        let mut buf = vec![0xAA; 10];
        let sealing = Sealing {
            cipher: &cipher,
            file_offset: 10,
        };
        encode(&mut buf, 4, 3, &[b"secret", b"more"], Some(sealing)).unwrap();
        assert!(!buf.windows(6).any(|w| w == b"secret"));
        let Parsed::Frame(frame) = decode(&buf[10..]) else {
            panic!("valid sealed frame rejected")
        };
        assert!(frame.sealed && frame.batches.is_empty());
        assert_eq!((frame.batch_count, frame.last_lsn()), (2, 5));
        let mut body = frame.body.to_vec();
        assert!(
            cipher
                .open_in_place(&mut body.clone(), 11, &frame.context)
                .is_err()
        );
        let plain = cipher.open_in_place(&mut body, 10, &frame.context).unwrap();
        assert_eq!(
            split_batches(plain, 2).unwrap(),
            vec![&b"secret"[..], b"more"]
        );
    }

    #[test]
    fn zeros_end_the_log() {
        assert!(matches!(decode(&[]), Parsed::End));
        assert!(matches!(decode(&[0; 100]), Parsed::End));
        let mut zeros_then_data = vec![0u8; 100];
        zeros_then_data[90] = 1;
        assert!(matches!(decode(&zeros_then_data), Parsed::Invalid { .. }));
    }

    #[test]
    fn lsns_that_would_overflow_are_refused_not_wrapped() {
        // A checksum-valid frame whose LSNs run past u64::MAX: damage or forgery, never
        // something a store wrote.
        let mut buf = frame(1, &[b"a", b"b"]);
        buf[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        let crc = checksum(&buf);
        buf[4..8].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            decode(&buf),
            Parsed::Invalid {
                checksum_ok: true,
                ..
            }
        ));
    }
}
