//! The key layout: every key of a store begins with the table id and the index id, both
//! 4 bytes big-endian, so each index of each table is one contiguous, ordered range.
//!
//! ```text
//! [table id: u32 BE][index id: u32 BE][encoded key columns …]
//! ```
//!
//! Ids below `FIRST_OBJECT_ID` belong to the catalog's own tables; user tables, indexes
//! and sequences get ids from `FIRST_OBJECT_ID` up, which double as their PostgreSQL OIDs.
//! The primary index of a table is index 1. See docs/key-encoding.md.

/// The first id handed out to user objects (PostgreSQL's `FirstNormalObjectId`).
pub const FIRST_OBJECT_ID: u32 = 16_384;
/// Index id of every table's primary index.
pub const PRIMARY_INDEX: u32 = 1;

/// Catalog tables. Their keys are `[table][1][…]`.
pub mod system {
    /// Names: `[parent id u32][kind u8][name]` → the object's id (and kind details).
    pub const NAMESPACE: u32 = 1;
    /// Descriptors: `[object id u32]` → the object's descriptor (JSON).
    pub const DESCRIPTOR: u32 = 2;
    /// Sequence and counter states, written outside transactions: `[kind u8][id u32]`.
    pub const COUNTER: u32 = 3;
    /// Retired storage awaiting reclamation: `[storage id u32]` → empty (`reclaim`).
    pub const RETIRED: u32 = 4;
}

/// What a name in the namespace table refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum NameKind {
    Schema = 1,
    /// Tables, views, sequences and indexes share one namespace per schema, as in
    /// PostgreSQL's `pg_class`.
    Relation = 2,
    Database = 3,
    Role = 4,
}

pub fn index_prefix(table: u32, index: u32) -> [u8; 8] {
    let mut prefix = [0u8; 8];
    prefix[..4].copy_from_slice(&table.to_be_bytes());
    prefix[4..].copy_from_slice(&index.to_be_bytes());
    prefix
}

/// The first key after every key of an index: the end of its range.
pub fn index_end(table: u32, index: u32) -> [u8; 8] {
    match index.checked_add(1) {
        Some(next) => index_prefix(table, next),
        None => index_prefix(table + 1, 0),
    }
}

/// The marker of a retired storage id.
pub fn retired_key(storage_id: u32) -> [u8; 12] {
    let mut key = [0u8; 12];
    key[..8].copy_from_slice(&index_prefix(system::RETIRED, 1));
    key[8..].copy_from_slice(&storage_id.to_be_bytes());
    key
}

/// Every key of a storage id (all its indexes): `[id][0…]` up to `[id + 1]`.
pub fn storage_range(storage_id: u32) -> (Vec<u8>, Option<Vec<u8>>) {
    let start = index_prefix(storage_id, 0).to_vec();
    let end = storage_id
        .checked_add(1)
        .map(|next| index_prefix(next, 0).to_vec());
    (start, end)
}

pub fn name_key(parent: u32, kind: NameKind, name: &str) -> Vec<u8> {
    let mut key = index_prefix(system::NAMESPACE, 1).to_vec();
    key.extend_from_slice(&parent.to_be_bytes());
    key.push(kind as u8);
    key.extend_from_slice(name.as_bytes());
    key
}

/// The range of every name of `kind` under `parent`.
pub fn names_of(parent: u32, kind: NameKind) -> (Vec<u8>, Vec<u8>) {
    let mut start = index_prefix(system::NAMESPACE, 1).to_vec();
    start.extend_from_slice(&parent.to_be_bytes());
    start.push(kind as u8);
    let mut end = start.clone();
    *end.last_mut().expect("non-empty") += 1;
    (start, end)
}

pub fn descriptor_key(id: u32) -> Vec<u8> {
    let mut key = index_prefix(system::DESCRIPTOR, 1).to_vec();
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// Counters kept outside transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CounterKind {
    /// The object id allocator (id 0).
    ObjectIds = 1,
    Sequence = 2,
    /// Hidden row ids of a table without a primary key.
    RowIds = 3,
}

pub fn counter_key(kind: CounterKind, id: u32) -> Vec<u8> {
    let mut key = index_prefix(system::COUNTER, 1).to_vec();
    key.push(kind as u8);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_ranges_are_contiguous_and_ordered() {
        assert!(index_prefix(16384, 1) < index_prefix(16384, 2));
        assert!(index_prefix(16384, u32::MAX) < index_prefix(16385, 0));
        assert_eq!(index_end(16384, 1), index_prefix(16384, 2));
        assert_eq!(index_end(7, u32::MAX), index_prefix(8, 0));
        let (start, end) = names_of(2200, NameKind::Relation);
        let key = name_key(2200, NameKind::Relation, "accounts");
        assert!(start <= key && key < end);
        assert!(
            !(start <= name_key(2200, NameKind::Schema, "x")
                && name_key(2200, NameKind::Schema, "x") < end)
        );
    }
}
