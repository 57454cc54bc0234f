//! Encryption at rest: every record of user data the store writes to disk (log frames and
//! snapshot blocks) is sealed with XChaCha20-Poly1305.
//!
//! # Keys
//!
//! - The **master key** (32 bytes) is the user's: read from a key file or the
//!   environment, never written to the store. It only wraps data keys. Its *id* is a
//!   BLAKE3 derivation of it, so a wrong key is named without being revealed.
//! - **Data keys** (32 random bytes each) live in the directory's `KEYRING`, each sealed
//!   under the master key (`keyring`). New files use the newest; rotating the master key
//!   re-seals every data key under the new one and adds a fresh data key, rewriting only
//!   the keyring: no data file is touched.
//! - A **file key** is derived per file, `BLAKE3-derive-key(data key ‖ file id)`, where
//!   the file id is 64 random bits in the file's header, next to the id of the data key.
//!
//! # Records
//!
//! A sealed record is `nonce (24) ‖ ciphertext ‖ tag (16)`. The associated data binds
//! it to its place: the file id, its byte offset in the file and the header fields that
//! say what it is (LSNs, counts). A record moved to another file or offset, or with its
//! header edited, fails authentication.
//!
//! # Why a nonce is never reused
//!
//! Every nonce is 192 random bits from the operating system, and keys are per file. A
//! crash that loses the tail of a file and rewrites it therefore draws new nonces: no
//! counter has to survive the crash. The chance of two equal nonces under one file key
//! is about n²/2¹⁹³ for n records — negligible for any n a file can hold.
//!
//! # What it does not protect
//!
//! See docs/security.md: sizes, counts, LSNs and timestamps are visible; a file can be
//! rolled back to an older copy of itself, or its unsynced tail cut, as a crash would.

pub(crate) mod keyring;

use std::fmt;
use std::path::Path;

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};

use crate::error::{Error, Result};

pub(crate) const KEY_BYTES: usize = 32;
pub(crate) const NONCE_BYTES: usize = 24;
pub(crate) const TAG_BYTES: usize = 16;
/// What sealing adds to a record.
pub(crate) const SEAL_OVERHEAD_BYTES: usize = NONCE_BYTES + TAG_BYTES;

/// The secret that wraps a store's data keys. Debug output shows its id only.
#[derive(Clone)]
pub struct MasterKey {
    bytes: [u8; KEY_BYTES],
}

/// Names a master key without revealing it: 8 bytes derived from it, shown as hex.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KeyId(pub [u8; 8]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey(id {})", self.id())
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        MasterKey { bytes }
    }

    /// Parses 64 hexadecimal digits (surrounding whitespace is ignored).
    pub fn from_hex(text: &str) -> Result<Self> {
        let text = text.trim();
        let bad = || {
            Error::Encryption(format!(
                "a master key is {} hexadecimal digits (32 bytes); got {} characters{}",
                KEY_BYTES * 2,
                text.len(),
                if text.chars().all(|c| c.is_ascii_hexdigit()) {
                    ""
                } else {
                    ", not all of them hexadecimal digits"
                }
            ))
        };
        if text.len() != KEY_BYTES * 2 {
            return Err(bad());
        }
        let mut bytes = [0u8; KEY_BYTES];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(i * 2..i * 2 + 2).ok_or_else(bad)?, 16)
                .map_err(|_| bad())?;
        }
        Ok(MasterKey { bytes })
    }

    /// Reads a key file holding the key as 64 hexadecimal digits.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("reading master key file {}", path.display()), e))?;
        Self::from_hex(&text).map_err(|error| match error {
            Error::Encryption(reason) => {
                Error::Encryption(format!("master key file {}: {reason}", path.display()))
            }
            other => other,
        })
    }

    /// A new random key, as 64 hexadecimal digits, for `bytedata-kv keygen` and tests.
    pub fn generate_hex() -> Result<String> {
        let bytes: [u8; KEY_BYTES] = random_bytes()?;
        Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
    }

    pub fn id(&self) -> KeyId {
        let derived = blake3::derive_key("ByteData master key id v1", &self.bytes);
        let mut id = [0u8; 8];
        id.copy_from_slice(&derived[..8]);
        KeyId(id)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.bytes.into())
    }
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| {
        Error::Encryption(format!(
            "the operating system's random number generator failed: {e}"
        ))
    })?;
    Ok(bytes)
}

/// A random 64-bit file id: file keys are derived from it, so it must not repeat.
pub(crate) fn random_file_id() -> Result<u64> {
    Ok(u64::from_le_bytes(random_bytes()?))
}

/// Seals and opens the records of one file.
pub(crate) struct FileCipher {
    cipher: XChaCha20Poly1305,
    file_id: u64,
}

/// A record that fails authentication: altered, moved, or sealed under another key.
#[derive(Debug)]
pub(crate) struct AuthenticationFailed;

impl FileCipher {
    pub fn new(data_key: &[u8; KEY_BYTES], file_id: u64) -> Self {
        let mut material = [0u8; KEY_BYTES + 8];
        material[..KEY_BYTES].copy_from_slice(data_key);
        material[KEY_BYTES..].copy_from_slice(&file_id.to_le_bytes());
        let file_key = blake3::derive_key("ByteData file key v1", &material);
        FileCipher {
            cipher: XChaCha20Poly1305::new(&file_key.into()),
            file_id,
        }
    }

    pub fn file_id(&self) -> u64 {
        self.file_id
    }

    /// Appends `nonce ‖ ciphertext ‖ tag` of `plaintext` to `out`. `context` is the
    /// associated data besides the file id and `offset`.
    pub fn seal_into(
        &self,
        out: &mut Vec<u8>,
        offset: u64,
        context: &[u8],
        plaintext: &[u8],
    ) -> Result<()> {
        let nonce: [u8; NONCE_BYTES] = random_bytes()?;
        out.reserve(plaintext.len() + SEAL_OVERHEAD_BYTES);
        out.extend_from_slice(&nonce);
        let start = out.len();
        out.extend_from_slice(plaintext);
        let aad = self.associated_data(offset, context);
        let tag = self
            .cipher
            .encrypt_inout_detached(&XNonce::from(nonce), &aad, (&mut out[start..]).into())
            .map_err(|_| Error::Encryption("a record is too large to seal".into()))?;
        out.extend_from_slice(&tag);
        Ok(())
    }

    /// Opens a sealed record in place; returns the plaintext, a sub-slice of `sealed`.
    pub fn open_in_place<'a>(
        &self,
        sealed: &'a mut [u8],
        offset: u64,
        context: &[u8],
    ) -> Result<&'a mut [u8], AuthenticationFailed> {
        if sealed.len() < SEAL_OVERHEAD_BYTES {
            return Err(AuthenticationFailed);
        }
        let (nonce, rest) = sealed.split_at_mut(NONCE_BYTES);
        let (body, tag) = rest.split_at_mut(rest.len() - TAG_BYTES);
        let nonce = XNonce::try_from(&*nonce).map_err(|_| AuthenticationFailed)?;
        let tag = Tag::try_from(&*tag).map_err(|_| AuthenticationFailed)?;
        let aad = self.associated_data(offset, context);
        self.cipher
            .decrypt_inout_detached(&nonce, &aad, (&mut *body).into(), &tag)
            .map_err(|_| AuthenticationFailed)?;
        Ok(body)
    }

    fn associated_data(&self, offset: u64, context: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(16 + context.len());
        aad.extend_from_slice(&self.file_id.to_le_bytes());
        aad.extend_from_slice(&offset.to_le_bytes());
        aad.extend_from_slice(context);
        aad
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_opens_only_in_its_file_at_its_offset_with_its_context() {
        let key = [7u8; KEY_BYTES];
        let cipher = FileCipher::new(&key, 1);
        let mut sealed = Vec::new();
        cipher
            .seal_into(&mut sealed, 100, b"ctx", b"secret")
            .unwrap();
        assert_eq!(sealed.len(), 6 + SEAL_OVERHEAD_BYTES);
        assert!(!sealed.windows(6).any(|w| w == b"secret"));

        let opens = |cipher: &FileCipher, offset, context: &[u8]| {
            let mut copy = sealed.clone();
            cipher
                .open_in_place(&mut copy, offset, context)
                .map(|plain| plain.to_vec())
                .ok()
        };
        assert_eq!(opens(&cipher, 100, b"ctx"), Some(b"secret".to_vec()));
        assert_eq!(opens(&cipher, 101, b"ctx"), None, "another offset");
        assert_eq!(opens(&cipher, 100, b"cty"), None, "another context");
        assert_eq!(opens(&FileCipher::new(&key, 2), 100, b"ctx"), None);
        assert_eq!(
            opens(&FileCipher::new(&[8; KEY_BYTES], 1), 100, b"ctx"),
            None
        );
        for bit in 0..sealed.len() * 8 {
            let mut damaged = sealed.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            assert!(cipher.open_in_place(&mut damaged, 100, b"ctx").is_err());
        }
    }

    #[test]
    fn two_seals_of_the_same_record_differ() {
        let cipher = FileCipher::new(&[1; KEY_BYTES], 9);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        cipher.seal_into(&mut a, 0, b"", b"same").unwrap();
        cipher.seal_into(&mut b, 0, b"", b"same").unwrap();
        assert_ne!(a, b, "fresh nonce per record");
    }

    #[test]
    fn master_keys_parse_from_hex_and_name_themselves_by_id_only() {
        let hex = MasterKey::generate_hex().unwrap();
        let key = MasterKey::from_hex(&format!("  {hex}\n")).unwrap();
        assert_eq!(key.id(), MasterKey::from_hex(&hex).unwrap().id());
        assert!(!format!("{key:?}").contains(&hex[..16]));
        let other = MasterKey::from_hex(&MasterKey::generate_hex().unwrap()).unwrap();
        assert_ne!(key.id(), other.id());
        for bad in ["", "abc", &hex[..63], &format!("{}zz", &hex[..62])] {
            assert!(
                matches!(MasterKey::from_hex(bad), Err(Error::Encryption(_))),
                "{bad:?}"
            );
        }
    }
}
