//! `ValuePointer`: where a hybrid store's value lives in the value log — the one thing of
//! the value log the index, the snapshot format and the options need to know.

use crate::codec::{le_u32, le_u64};

/// The encoded size of a `ValuePointer`.
pub(crate) const POINTER_BYTES: usize = 24;
// file_no, offset, len, crc.
const _: () = assert!(POINTER_BYTES == 8 + 8 + 4 + 4);

/// Where a value lives in the value log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ValuePointer {
    pub file_no: u64,
    pub offset: u64,
    /// The whole entry: header and body.
    pub len: u32,
    /// The entry's checksum, so a pointer to another entry is caught before it is used.
    pub crc: u32,
}

impl ValuePointer {
    pub fn encode(&self) -> [u8; POINTER_BYTES] {
        let mut out = [0u8; POINTER_BYTES];
        out[..8].copy_from_slice(&self.file_no.to_le_bytes());
        out[8..16].copy_from_slice(&self.offset.to_le_bytes());
        out[16..20].copy_from_slice(&self.len.to_le_bytes());
        out[20..].copy_from_slice(&self.crc.to_le_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<ValuePointer> {
        if bytes.len() != POINTER_BYTES {
            return None;
        }
        Some(ValuePointer {
            file_no: le_u64(bytes, 0),
            offset: le_u64(bytes, 8),
            len: le_u32(bytes, 16),
            crc: le_u32(bytes, 20),
        })
    }
}
