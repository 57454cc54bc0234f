//! Reading and writing names and descriptors inside a transaction.

use bytedata_mvcc::Transaction;

use crate::descriptor::{Descriptor, from_json, to_json};
use crate::error::{CatalogError, Result};
use crate::keys::{NameKind, descriptor_key, name_key, names_of};

/// What a name refers to: an object id, and for relations what kind (`r` table, `v`
/// view, `S` sequence, `i` index — then `extra` is the index's table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameEntry {
    pub id: u32,
    pub relkind: u8,
    pub extra: u32,
}

impl NameEntry {
    pub fn new(id: u32, relkind: u8) -> Self {
        NameEntry {
            id,
            relkind,
            extra: 0,
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut bytes = self.id.to_be_bytes().to_vec();
        bytes.push(self.relkind);
        bytes.extend_from_slice(&self.extra.to_be_bytes());
        bytes
    }

    fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 9 {
            return Err(CatalogError::Corrupt("name entry of the wrong size".into()));
        }
        Ok(NameEntry {
            id: u32::from_be_bytes(bytes[..4].try_into().expect("4 bytes")),
            relkind: bytes[4],
            extra: u32::from_be_bytes(bytes[5..].try_into().expect("4 bytes")),
        })
    }
}

pub(crate) fn lookup(
    txn: &Transaction,
    parent: u32,
    kind: NameKind,
    name: &str,
) -> Result<Option<NameEntry>> {
    txn.get(&name_key(parent, kind, name))?
        .map(|bytes| NameEntry::decode(&bytes))
        .transpose()
}

/// Claims a name, seeing concurrent claims: a second transaction claiming the same name
/// waits for the first, then finds it taken. Returns false if the name is taken.
pub(crate) fn claim(
    txn: &Transaction,
    parent: u32,
    kind: NameKind,
    name: &str,
    entry: NameEntry,
) -> Result<bool> {
    let key = name_key(parent, kind, name);
    if txn.lock_latest(&key)?.is_some() {
        return Ok(false);
    }
    txn.put(key, entry.encode())?;
    Ok(true)
}

pub(crate) fn release(txn: &Transaction, parent: u32, kind: NameKind, name: &str) -> Result<()> {
    txn.delete(name_key(parent, kind, name))?;
    Ok(())
}

/// Every name of `kind` under `parent`, in name order.
pub(crate) fn names(
    txn: &Transaction,
    parent: u32,
    kind: NameKind,
) -> Result<Vec<(String, NameEntry)>> {
    let (start, end) = names_of(parent, kind);
    let prefix = start.len();
    txn.scan(start..end)?
        .map(|entry| {
            let (key, value) = entry?;
            let name = String::from_utf8(key[prefix..].to_vec())
                .map_err(|_| CatalogError::Corrupt("name is not UTF-8".into()))?;
            Ok((name, NameEntry::decode(&value)?))
        })
        .collect()
}

pub(crate) fn get(txn: &Transaction, id: u32) -> Result<Option<Descriptor>> {
    txn.get(&descriptor_key(id))?
        .map(|bytes| from_json(&bytes))
        .transpose()
}

pub(crate) fn put(txn: &Transaction, id: u32, descriptor: &Descriptor) -> Result<()> {
    txn.put(descriptor_key(id), to_json(descriptor))?;
    Ok(())
}

pub(crate) fn remove(txn: &Transaction, id: u32) -> Result<()> {
    txn.delete(descriptor_key(id))?;
    Ok(())
}
