//! Little-endian integers and LEB128 varints for the on-disk formats, and a reader that
//! checks every length against the bytes actually present, so a damaged length field is
//! reported instead of causing an out-of-bounds read or a huge allocation.

/// A decoding failure at `offset` (relative to the start of the decoded buffer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError {
    pub offset: usize,
    pub reason: &'static str,
}

pub(crate) fn put_u32(buf: &mut Vec<u8>, value: u32) {
    buf.extend_from_slice(&value.to_le_bytes());
}

pub(crate) fn put_u64(buf: &mut Vec<u8>, value: u64) {
    buf.extend_from_slice(&value.to_le_bytes());
}

/// The longest varint: 64 bits at 7 per byte.
pub(crate) const MAX_VARINT_BYTES: usize = 10;
const _: () = assert!(MAX_VARINT_BYTES == u64::BITS.div_ceil(7) as usize);

pub(crate) fn put_varint(buf: &mut Vec<u8>, mut value: u64) {
    let start = buf.len();
    let expected = varint_len(value);
    while value >= 0x80 {
        buf.push((value as u8) | 0x80);
        value >>= 7;
    }
    buf.push(value as u8);
    debug_assert_eq!(buf.len() - start, expected);
}

pub(crate) fn varint_len(mut value: u64) -> usize {
    let mut len = 1;
    while value >= 0x80 {
        value >>= 7;
        len += 1;
    }
    debug_assert!(len <= MAX_VARINT_BYTES);
    len
}

/// Reads `N` bytes at `offset` of a slice the caller has already bounds-checked.
pub(crate) fn le_u32(buf: &[u8], offset: usize) -> u32 {
    let mut bytes = [0u8; 4];
    bytes.copy_from_slice(&buf[offset..offset + 4]);
    u32::from_le_bytes(bytes)
}

pub(crate) fn le_u64(buf: &[u8], offset: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&buf[offset..offset + 8]);
    u64::from_le_bytes(bytes)
}

/// `<lsn as 20 digits>.<extension>`: file names that sort like the LSNs they carry.
pub(crate) fn lsn_file_name(lsn: u64, extension: &str) -> String {
    format!("{lsn:020}.{extension}")
}

pub(crate) fn parse_lsn_file_name(name: &str, extension: &str) -> Option<u64> {
    let digits = name.strip_suffix(extension)?.strip_suffix('.')?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    fn fail<T>(&self, reason: &'static str) -> Result<T, DecodeError> {
        Err(DecodeError {
            offset: self.pos,
            reason,
        })
    }

    pub fn bytes(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        if len > self.remaining() {
            return self.fail("length runs past the end of the data");
        }
        let bytes = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        debug_assert!(self.pos <= self.buf.len());
        Ok(bytes)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.bytes(1)?[0])
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        let bytes = self.bytes(4)?;
        Ok(le_u32(bytes, 0))
    }

    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return self.fail("varint overflows 64 bits");
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        self.fail("varint longer than 10 bytes")
    }

    /// A varint length followed by that many bytes, the length checked against `max`.
    pub fn length_prefixed(&mut self, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = self.varint()?;
        if len > max as u64 {
            return self.fail("length exceeds the format limit");
        }
        self.bytes(len as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_roundtrip_at_every_width() {
        let values = [
            0,
            1,
            127,
            128,
            16383,
            16384,
            u32::MAX as u64,
            u64::MAX - 1,
            u64::MAX,
        ];
        for value in values {
            let mut buf = Vec::new();
            put_varint(&mut buf, value);
            assert_eq!(buf.len(), varint_len(value), "{value}");
            let mut reader = Reader::new(&buf);
            assert_eq!(reader.varint(), Ok(value));
            assert!(reader.is_empty());
        }
    }

    #[test]
    fn lsn_file_names_roundtrip_and_reject_look_alikes() {
        assert_eq!(lsn_file_name(42, "wal"), "00000000000000000042.wal");
        assert_eq!(
            parse_lsn_file_name("00000000000000000042.wal", "wal"),
            Some(42)
        );
        for other in [
            "00000000000000000042.snap",
            "42.wal",
            "0000000000000000004x.wal",
            "00000000000000000042wal",
            "00000000000000000042.wal.tmp",
        ] {
            assert_eq!(parse_lsn_file_name(other, "wal"), None, "{other}");
        }
    }

    #[test]
    fn truncated_and_oversized_input_is_an_error_not_a_panic() {
        let mut reader = Reader::new(&[0x80, 0x80]);
        assert!(reader.varint().is_err());
        let mut reader = Reader::new(&[0xff; 11]);
        assert!(reader.varint().is_err());
        let mut buf = Vec::new();
        put_varint(&mut buf, 1000);
        buf.extend_from_slice(&[1, 2, 3]);
        assert!(Reader::new(&buf).length_prefixed(10).is_err());
        assert!(Reader::new(&buf).length_prefixed(2000).is_err());
    }
}
