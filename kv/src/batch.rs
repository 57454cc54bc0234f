//! A write batch: puts and deletes of many keys that commit as one unit under one LSN.
//!
//! Encoding (inside a log frame, see `wal::frame`):
//!
//! ```text
//! u32 op_count
//! op_count × ( u8 tag | varint key_len | key | [ varint value_len | value ]  if tag = PUT )
//! ```
//!
//! Operations apply in order, so a later operation on the same key wins.

use crate::codec::{DecodeError, Reader, put_u32, put_varint, varint_len};
use crate::error::{Error, Result};
use crate::options::{FORMAT_MAX_KEY_BYTES, FORMAT_MAX_VALUE_BYTES, Options};

const TAG_PUT: u8 = 1;
const TAG_DELETE: u8 = 2;
/// Bytes charged per operation on top of its key and value, for the batch size limit.
const OP_OVERHEAD_BYTES: usize = 8;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchOp {
    Put { key: Box<[u8]>, value: Box<[u8]> },
    Delete { key: Box<[u8]> },
}

impl BatchOp {
    pub fn key(&self) -> &[u8] {
        match self {
            BatchOp::Put { key, .. } | BatchOp::Delete { key } => key,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<BatchOp>,
    size_bytes: usize,
}

impl WriteBatch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(ops: usize) -> Self {
        WriteBatch {
            ops: Vec::with_capacity(ops),
            size_bytes: 0,
        }
    }

    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> &mut Self {
        let key = key.into().into_boxed_slice();
        let value = value.into().into_boxed_slice();
        self.size_bytes += key.len() + value.len() + OP_OVERHEAD_BYTES;
        self.ops.push(BatchOp::Put { key, value });
        self
    }

    pub fn delete(&mut self, key: impl Into<Vec<u8>>) -> &mut Self {
        let key = key.into().into_boxed_slice();
        self.size_bytes += key.len() + OP_OVERHEAD_BYTES;
        self.ops.push(BatchOp::Delete { key });
        self
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The size counted against `Options::max_batch_bytes`.
    pub fn size_bytes(&self) -> usize {
        self.size_bytes
    }

    pub fn ops(&self) -> &[BatchOp] {
        &self.ops
    }

    pub(crate) fn into_ops(self) -> Vec<BatchOp> {
        self.ops
    }

    /// The most memory applying the batch adds to the index; 0 for deletes only. Values
    /// of at least `value_log_threshold` bytes go to the value log and cost a pointer.
    pub(crate) fn memory_charge_bytes(&self, value_log_threshold: Option<usize>) -> u64 {
        self.ops
            .iter()
            .map(|op| match op {
                BatchOp::Put { key, value } => {
                    let held = match value_log_threshold {
                        Some(threshold) if value.len() >= threshold => crate::vlog::POINTER_BYTES,
                        _ => value.len(),
                    };
                    crate::index::put_charge_bytes(key.len(), held)
                }
                BatchOp::Delete { .. } => 0,
            })
            .sum()
    }

    /// Checks every limit before anything is logged, so an oversized write fails alone
    /// and cleanly instead of after part of it reached the log.
    pub(crate) fn check_limits(&self, options: &Options) -> Result<()> {
        if self.size_bytes > options.max_batch_bytes {
            return Err(Error::BatchTooLarge {
                bytes: self.size_bytes,
                max: options.max_batch_bytes,
            });
        }
        for op in &self.ops {
            let key = op.key();
            if key.len() > options.max_key_bytes {
                return Err(Error::KeyTooLarge {
                    len: key.len(),
                    max: options.max_key_bytes,
                });
            }
            if let BatchOp::Put { value, .. } = op
                && value.len() > options.max_value_bytes
            {
                return Err(Error::ValueTooLarge {
                    len: value.len(),
                    max: options.max_value_bytes,
                });
            }
        }
        Ok(())
    }

    pub(crate) fn encoded_len(&self) -> usize {
        let ops: usize = self
            .ops
            .iter()
            .map(|op| match op {
                BatchOp::Put { key, value } => {
                    1 + varint_len(key.len() as u64)
                        + key.len()
                        + varint_len(value.len() as u64)
                        + value.len()
                }
                BatchOp::Delete { key } => 1 + varint_len(key.len() as u64) + key.len(),
            })
            .sum();
        4 + ops
    }

    pub(crate) fn encode_into(&self, buf: &mut Vec<u8>) {
        let start = buf.len();
        buf.reserve(self.encoded_len());
        put_u32(buf, self.ops.len() as u32);
        for op in &self.ops {
            match op {
                BatchOp::Put { key, value } => {
                    buf.push(TAG_PUT);
                    put_varint(buf, key.len() as u64);
                    buf.extend_from_slice(key);
                    put_varint(buf, value.len() as u64);
                    buf.extend_from_slice(value);
                }
                BatchOp::Delete { key } => {
                    buf.push(TAG_DELETE);
                    put_varint(buf, key.len() as u64);
                    buf.extend_from_slice(key);
                }
            }
        }
        debug_assert_eq!(buf.len() - start, self.encoded_len());
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<WriteBatch, DecodeError> {
        let mut reader = Reader::new(bytes);
        let count = reader.u32()? as usize;
        // Every operation takes at least 2 bytes, which bounds the allocation by the input.
        if count > bytes.len() / 2 {
            return Err(DecodeError {
                offset: 0,
                reason: "operation count exceeds what the batch can hold",
            });
        }
        let mut batch = WriteBatch::with_capacity(count);
        for _ in 0..count {
            let tag_offset = reader.position();
            match reader.u8()? {
                TAG_PUT => {
                    let key = reader.length_prefixed(FORMAT_MAX_KEY_BYTES)?;
                    let value = reader.length_prefixed(FORMAT_MAX_VALUE_BYTES)?;
                    batch.put(key, value);
                }
                TAG_DELETE => {
                    let key = reader.length_prefixed(FORMAT_MAX_KEY_BYTES)?;
                    batch.delete(key);
                }
                _ => {
                    return Err(DecodeError {
                        offset: tag_offset,
                        reason: "unknown batch operation tag",
                    });
                }
            }
        }
        if !reader.is_empty() {
            return Err(DecodeError {
                offset: reader.position(),
                reason: "trailing bytes after the last batch operation",
            });
        }
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_roundtrip() {
        let mut batch = WriteBatch::new();
        batch.put(b"a".to_vec(), b"1".to_vec());
        batch.delete(b"b".to_vec());
        batch.put(Vec::new(), vec![7u8; 300]);
        let mut buf = Vec::new();
        batch.encode_into(&mut buf);
        assert_eq!(buf.len(), batch.encoded_len());
        assert_eq!(WriteBatch::decode(&buf).unwrap(), batch);
    }

    #[test]
    fn damaged_encoding_is_rejected() {
        let mut batch = WriteBatch::new();
        batch.put(b"key".to_vec(), b"value".to_vec());
        let mut buf = Vec::new();
        batch.encode_into(&mut buf);
        assert!(WriteBatch::decode(&buf[..buf.len() - 1]).is_err());
        let mut bad_tag = buf.clone();
        bad_tag[4] = 9;
        assert!(WriteBatch::decode(&bad_tag).is_err());
        let mut trailing = buf.clone();
        trailing.push(0);
        assert!(WriteBatch::decode(&trailing).is_err());
        let mut huge_count = buf;
        huge_count[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(WriteBatch::decode(&huge_count).is_err());
    }

    #[test]
    fn limits_are_checked_per_key_value_and_batch() {
        let options = Options {
            max_key_bytes: 4,
            max_value_bytes: 8,
            max_batch_bytes: 64,
            ..Options::memory()
        };
        let mut ok = WriteBatch::new();
        ok.put(b"abcd".to_vec(), b"12345678".to_vec());
        assert!(ok.check_limits(&options).is_ok());

        let mut key = WriteBatch::new();
        key.delete(b"abcde".to_vec());
        assert!(matches!(
            key.check_limits(&options),
            Err(Error::KeyTooLarge { len: 5, max: 4 })
        ));

        let mut value = WriteBatch::new();
        value.put(b"a".to_vec(), vec![0; 9]);
        assert!(matches!(
            value.check_limits(&options),
            Err(Error::ValueTooLarge { len: 9, max: 8 })
        ));

        let mut big = WriteBatch::new();
        for i in 0..10u8 {
            big.put(vec![i], vec![0; 8]);
        }
        assert!(matches!(
            big.check_limits(&options),
            Err(Error::BatchTooLarge { .. })
        ));
    }
}
