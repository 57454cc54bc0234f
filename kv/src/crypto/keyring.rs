//! The keyring: a store's data keys, each sealed under the master key.
//!
//! File `<dir>/KEYRING`, replaced whole (written as `KEYRING.tmp`, fsynced, renamed, the
//! directory fsynced), so a crash leaves the old keyring or the new one, never a mix:
//!
//! ```text
//!      0    8  magic          "BYTEKEYS"
//!      8    4  version        1
//!     12    4  key_count      1 ..= MAX_DATA_KEYS
//!     16    8  master_key_id  id of the master key the data keys are sealed under
//!     24    …  key_count × ( u32 data_key_id | 24 nonce | 32 sealed key | 16 tag )
//!      …    4  crc32          of everything before
//! ```
//!
//! Data key ids ascend; the last is the one new files use. The associated data of each
//! sealed key is the magic, its id and the master key id, so a key cannot be passed off
//! under another id. The keyring is written before any file that needs one of its keys.

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{Tag, XNonce};

use super::{FileCipher, KEY_BYTES, KeyId, MasterKey, NONCE_BYTES, TAG_BYTES, random_bytes};
use crate::codec::{le_u32, put_u32};
use crate::error::{Error, Result};
use crate::fs::{Fs, read_all};

const MAGIC: &[u8; 8] = b"BYTEKEYS";
const VERSION: u32 = 1;
const HEADER_BYTES: usize = 24;
const ENTRY_BYTES: usize = 4 + NONCE_BYTES + KEY_BYTES + TAG_BYTES;
// magic, version, key_count, master_key_id.
const _: () = assert!(HEADER_BYTES == MAGIC.len() + 4 + 4 + 8);
const _: () = assert!(ENTRY_BYTES == 76);
/// Each master-key rotation adds one data key.
pub(crate) const MAX_DATA_KEYS: usize = 4096;
pub(crate) const FILE_NAME: &str = "KEYRING";

/// The keyring of an open store, shared by whatever creates files; a rotation replaces
/// what is inside.
pub(crate) type SharedKeyring = std::sync::Arc<parking_lot::Mutex<Keyring>>;

pub(crate) struct Keyring {
    master_id: KeyId,
    /// Ascending by id; never empty.
    data_keys: Vec<(u32, [u8; KEY_BYTES])>,
}

pub(crate) fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

fn tmp_path(dir: &Path) -> PathBuf {
    dir.join(format!("{FILE_NAME}.tmp"))
}

fn associated_data(id: u32, master_id: KeyId) -> [u8; 20] {
    let mut aad = [0u8; 20];
    aad[..8].copy_from_slice(MAGIC);
    aad[8..12].copy_from_slice(&id.to_le_bytes());
    aad[12..].copy_from_slice(&master_id.0);
    aad
}

impl Keyring {
    /// A keyring with one fresh data key, for a new store.
    pub fn generate(master: &MasterKey) -> Result<Keyring> {
        Ok(Keyring {
            master_id: master.id(),
            data_keys: vec![(1, random_bytes()?)],
        })
    }

    /// The same data keys plus a fresh one, sealed under `new_master` once written.
    pub fn rotated(&self, new_master: &MasterKey) -> Result<Keyring> {
        if self.data_keys.len() >= MAX_DATA_KEYS {
            return Err(Error::Encryption(format!(
                "the keyring holds {MAX_DATA_KEYS} data keys, the most it can; no further rotation"
            )));
        }
        let next_id = self.current_id() + 1;
        let mut data_keys = self.data_keys.clone();
        data_keys.push((next_id, random_bytes()?));
        Ok(Keyring {
            master_id: new_master.id(),
            data_keys,
        })
    }

    pub fn master_id(&self) -> KeyId {
        self.master_id
    }

    pub fn data_key_count(&self) -> usize {
        self.data_keys.len()
    }

    /// The id of the data key new files use.
    pub fn current_id(&self) -> u32 {
        self.data_keys.last().map_or(0, |(id, _)| *id)
    }

    /// The cipher of a new file: the current data key and a fresh file id.
    pub fn new_file_cipher(&self) -> Result<(u32, FileCipher)> {
        let (id, key) = self
            .data_keys
            .last()
            .ok_or_else(|| Error::Encryption("the keyring holds no data key".to_string()))?;
        Ok((*id, FileCipher::new(key, super::random_file_id()?)))
    }

    /// The cipher of an existing file, from the ids its header names.
    pub fn file_cipher(&self, data_key_id: u32, file_id: u64) -> Option<FileCipher> {
        self.data_keys
            .binary_search_by_key(&data_key_id, |(id, _)| *id)
            .ok()
            .map(|at| FileCipher::new(&self.data_keys[at].1, file_id))
    }

    /// Whether `dir` holds a keyring (that is, whether the store there is encrypted).
    pub fn exists(fs: &dyn Fs, dir: &Path) -> Result<bool> {
        let names = fs
            .list(dir)
            .map_err(|e| Error::io(format!("listing {}", dir.display()), e))?;
        Ok(names.iter().any(|name| name == FILE_NAME))
    }

    /// Reads and unseals the keyring of `dir`. A leftover `KEYRING.tmp` (a rotation that
    /// did not complete) is removed: the keyring under the final name is the valid one.
    pub fn load(fs: &dyn Fs, dir: &Path, master: &MasterKey) -> Result<Keyring> {
        let tmp = tmp_path(dir);
        if fs.list(dir).is_ok_and(|names| {
            names
                .iter()
                .any(|name| Some(name.as_str()) == tmp.file_name().and_then(|n| n.to_str()))
        }) {
            fs.remove_file(&tmp)
                .map_err(|e| Error::io(format!("removing {}", tmp.display()), e))?;
        }
        let path = path(dir);
        let file = fs
            .open(&path)
            .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        let data =
            read_all(&*file).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        let corrupt = |offset: usize, reason: &str| Error::corruption(&path, offset as u64, reason);
        if data.len() < HEADER_BYTES + 4 || &data[..8] != MAGIC {
            return Err(corrupt(0, "not a ByteData keyring"));
        }
        let body_len = data.len() - 4;
        if crc32fast::hash(&data[..body_len]) != le_u32(&data, body_len) {
            return Err(corrupt(body_len, "keyring checksum mismatch"));
        }
        if le_u32(&data, 8) != VERSION {
            return Err(corrupt(8, "unsupported keyring version"));
        }
        let count = le_u32(&data, 12) as usize;
        if count == 0 || count > MAX_DATA_KEYS || body_len != HEADER_BYTES + count * ENTRY_BYTES {
            return Err(corrupt(12, "keyring key count does not match its size"));
        }
        let mut master_id = [0u8; 8];
        master_id.copy_from_slice(&data[16..24]);
        let master_id = KeyId(master_id);
        if master_id != master.id() {
            return Err(Error::Encryption(format!(
                "wrong master key: the data keys in {} are sealed under master key {master_id}, \
                 the key given is {}",
                path.display(),
                master.id()
            )));
        }
        let cipher = master.cipher();
        let mut data_keys: Vec<(u32, [u8; KEY_BYTES])> = Vec::with_capacity(count);
        for entry_at in (HEADER_BYTES..body_len).step_by(ENTRY_BYTES) {
            let entry = &data[entry_at..entry_at + ENTRY_BYTES];
            let id = le_u32(entry, 0);
            if data_keys.last().is_some_and(|(last, _)| *last >= id) {
                return Err(corrupt(entry_at, "keyring ids out of order"));
            }
            let nonce = XNonce::try_from(&entry[4..4 + NONCE_BYTES])
                .map_err(|_| corrupt(entry_at, "bad nonce"))?;
            let mut key = [0u8; KEY_BYTES];
            key.copy_from_slice(&entry[4 + NONCE_BYTES..4 + NONCE_BYTES + KEY_BYTES]);
            let tag = Tag::try_from(&entry[4 + NONCE_BYTES + KEY_BYTES..])
                .map_err(|_| corrupt(entry_at, "bad tag"))?;
            cipher
                .decrypt_inout_detached(
                    &nonce,
                    &associated_data(id, master_id),
                    (&mut key[..]).into(),
                    &tag,
                )
                .map_err(|_| Error::AuthenticationFailed {
                    file: path.clone(),
                    offset: entry_at as u64,
                })?;
            data_keys.push((id, key));
        }
        Ok(Keyring {
            master_id,
            data_keys,
        })
    }

    /// Replaces the keyring of `dir` with this one, sealed under `master` (whose id must
    /// be this keyring's). Durable when it returns.
    pub fn write(&self, fs: &dyn Fs, dir: &Path, master: &MasterKey) -> Result<()> {
        assert_eq!(master.id(), self.master_id, "sealing under the wrong key");
        assert!(!self.data_keys.is_empty() && self.data_keys.len() <= MAX_DATA_KEYS);
        let cipher = master.cipher();
        let mut out = Vec::with_capacity(HEADER_BYTES + self.data_keys.len() * ENTRY_BYTES + 4);
        out.extend_from_slice(MAGIC);
        put_u32(&mut out, VERSION);
        put_u32(&mut out, self.data_keys.len() as u32);
        out.extend_from_slice(&self.master_id.0);
        for (id, key) in &self.data_keys {
            let nonce: [u8; NONCE_BYTES] = random_bytes()?;
            let mut sealed = *key;
            let tag = cipher
                .encrypt_inout_detached(
                    &XNonce::from(nonce),
                    &associated_data(*id, self.master_id),
                    (&mut sealed[..]).into(),
                )
                .map_err(|_| Error::Encryption("sealing a data key failed".into()))?;
            put_u32(&mut out, *id);
            out.extend_from_slice(&nonce);
            out.extend_from_slice(&sealed);
            out.extend_from_slice(&tag);
        }
        let crc = crc32fast::hash(&out);
        put_u32(&mut out, crc);

        let tmp = tmp_path(dir);
        let context = |what: &str| format!("{what} {}", tmp.display());
        let _ = fs.remove_file(&tmp);
        let file = fs
            .create_new(&tmp)
            .map_err(|e| Error::io(context("creating"), e))?;
        file.write_all_at(&out, 0)
            .map_err(|e| Error::io(context("writing"), e))?;
        file.sync_data()
            .map_err(|e| Error::io(context("syncing"), e))?;
        fs.rename(&tmp, &path(dir))
            .map_err(|e| Error::io(context("renaming"), e))?;
        fs.sync_dir(dir)
            .map_err(|e| Error::io(format!("syncing directory {}", dir.display()), e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::fs::SimFs;

    fn key() -> MasterKey {
        MasterKey::from_hex(&MasterKey::generate_hex().unwrap()).unwrap()
    }

    #[test]
    fn a_keyring_reads_back_under_its_master_key_and_names_it_otherwise() {
        let fs = Arc::new(SimFs::new(1));
        let dir = Path::new("/store");
        fs.create_dir_all(dir).unwrap();
        let master = key();
        let ring = Keyring::generate(&master).unwrap();
        ring.write(&*fs, dir, &master).unwrap();
        let back = Keyring::load(&*fs, dir, &master).unwrap();
        assert_eq!(back.data_keys, ring.data_keys);

        let other = key();
        let error = Keyring::load(&*fs, dir, &other).err().unwrap().to_string();
        assert!(error.contains(&master.id().to_string()), "{error}");
        assert!(error.contains(&other.id().to_string()), "{error}");
    }

    #[test]
    fn rotation_keeps_every_data_key_and_adds_a_new_current_one() {
        let fs = Arc::new(SimFs::new(1));
        let dir = Path::new("/store");
        fs.create_dir_all(dir).unwrap();
        let (old, new) = (key(), key());
        let ring = Keyring::generate(&old).unwrap();
        ring.write(&*fs, dir, &old).unwrap();
        let rotated = ring.rotated(&new).unwrap();
        rotated.write(&*fs, dir, &new).unwrap();
        assert!(Keyring::load(&*fs, dir, &old).is_err());
        let back = Keyring::load(&*fs, dir, &new).unwrap();
        assert_eq!(back.data_key_count(), 2);
        assert_eq!(back.current_id(), 2);
        assert_eq!(back.data_keys[0], ring.data_keys[0]);
    }
}
