//! B+-tree nodes: up to `CAP` sorted keys, each with a slot (a version chain head in a
//! leaf, a child node in an inner node).
//!
//! A node is immutable once published, except its slots, which the single writer stores
//! atomically. Keys are kept whole in one byte arena; searching compares 8-byte
//! big-endian *heads* — the bytes right after the prefix all keys of the node share —
//! so a search touches a few cache lines of packed integers and reads key bytes only to
//! break ties between equal heads. In an inner node, key `i` is a lower bound of every
//! key under child `i` (child 0 also takes everything below key 0).

use std::cmp::Ordering as CmpOrdering;
use std::sync::atomic::{AtomicPtr, Ordering};

pub(crate) const CAP: usize = 64;

pub(crate) struct Node {
    pub leaf: bool,
    len: u16,
    prefix_len: u16,
    heads: [u64; CAP],
    /// Key `i` is `keys[offsets[i]..offsets[i + 1]]`.
    offsets: [u32; CAP + 1],
    keys: Box<[u8]>,
    slots: [AtomicPtr<u8>; CAP],
}

/// The search head of `suffix`: its first 8 bytes, big-endian, zero-padded.
fn head_of(suffix: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    let n = suffix.len().min(8);
    bytes[..n].copy_from_slice(&suffix[..n]);
    u64::from_be_bytes(bytes)
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

impl Node {
    /// Builds a node from sorted, distinct keys and their slot values.
    pub fn build<'k>(
        leaf: bool,
        entries: impl ExactSizeIterator<Item = (&'k [u8], *mut u8)>,
    ) -> Box<Node> {
        let len = entries.len();
        assert!(len <= CAP, "node over capacity");
        let mut node = Box::new(Node {
            leaf,
            len: len as u16,
            prefix_len: 0,
            heads: [0; CAP],
            offsets: [0; CAP + 1],
            keys: Box::default(),
            slots: std::array::from_fn(|_| AtomicPtr::new(std::ptr::null_mut())),
        });
        let mut arena = Vec::new();
        for (i, (key, slot)) in entries.enumerate() {
            arena.extend_from_slice(key);
            node.offsets[i + 1] = u32::try_from(arena.len()).expect("node keys exceed 4 GiB");
            *node.slots[i].get_mut() = slot;
        }
        node.keys = arena.into_boxed_slice();
        if len > 0 {
            let prefix = common_prefix(node.key(0), node.key(len - 1));
            node.prefix_len = u16::try_from(prefix).unwrap_or(u16::MAX);
        }
        let prefix = node.prefix_len as usize;
        for i in 0..len {
            debug_assert!(
                i == 0 || node.key(i - 1) < node.key(i),
                "node keys must ascend"
            );
            node.heads[i] = head_of(&node.key(i)[prefix..]);
        }
        node
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn key(&self, i: usize) -> &[u8] {
        &self.keys[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    pub fn slot(&self, i: usize) -> *mut u8 {
        self.slots[i].load(Ordering::Acquire)
    }

    /// Replaces slot `i`; only the single writer calls this.
    pub fn set_slot(&self, i: usize, value: *mut u8) {
        self.slots[i].store(value, Ordering::Release);
    }

    pub fn entries(&self) -> impl ExactSizeIterator<Item = (&[u8], *mut u8)> + '_ {
        (0..self.len()).map(|i| (self.key(i), self.slot(i)))
    }

    /// The number of keys below `key` (or at or below it when `inclusive`): the position
    /// of `key` among the node's keys.
    fn rank(&self, key: &[u8], inclusive: bool) -> usize {
        let len = self.len();
        let prefix_len = self.prefix_len as usize;
        let prefix = if len == 0 {
            &[][..]
        } else {
            &self.key(0)[..prefix_len]
        };
        let shared = key.len().min(prefix_len);
        match key[..shared].cmp(&prefix[..shared]) {
            CmpOrdering::Less => return 0,
            CmpOrdering::Greater => return len,
            // A proper prefix of the shared prefix sorts before every key.
            CmpOrdering::Equal if key.len() < prefix_len => return 0,
            CmpOrdering::Equal => {}
        }
        let suffix = &key[prefix_len..];
        let head = head_of(suffix);
        let mut i = self.heads[..len].partition_point(|&h| h < head);
        while i < len && self.heads[i] == head {
            let ordering = self.key(i)[prefix_len..].cmp(suffix);
            if ordering == CmpOrdering::Greater || (ordering == CmpOrdering::Equal && !inclusive) {
                break;
            }
            i += 1;
        }
        i
    }

    /// First position whose key is at or after `key`.
    pub fn lower_bound(&self, key: &[u8]) -> usize {
        self.rank(key, false)
    }

    /// First position whose key is after `key`.
    pub fn upper_bound(&self, key: &[u8]) -> usize {
        self.rank(key, true)
    }

    /// The position of `key` in a leaf.
    pub fn find(&self, key: &[u8]) -> Option<usize> {
        let i = self.lower_bound(key);
        (i < self.len() && self.key(i) == key).then_some(i)
    }

    /// The child of an inner node whose range holds `key`.
    pub fn route(&self, key: &[u8]) -> usize {
        debug_assert!(!self.leaf && self.len > 0);
        self.upper_bound(key).saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(keys: &[&[u8]]) -> Box<Node> {
        Node::build(true, keys.iter().map(|k| (*k, std::ptr::null_mut())))
    }

    #[test]
    fn search_agrees_with_a_sorted_slice() {
        let keys: Vec<&[u8]> = vec![
            b"t1/i1/",
            b"t1/i1/\x00",
            b"t1/i1/a",
            b"t1/i1/abcdefgh",
            b"t1/i1/abcdefgh\x00",
            b"t1/i1/abcdefghi",
            b"t1/i1/abcdefgi",
            b"t1/i1/b",
        ];
        let node = node(&keys);
        let probes: Vec<&[u8]> = vec![
            b"",
            b"t",
            b"t1/i0/zzz",
            b"t1/i1",
            b"t1/i1/",
            b"t1/i1/\x00",
            b"t1/i1/\x00\x00",
            b"t1/i1/abcdefgh",
            b"t1/i1/abcdefgh\x00\x00",
            b"t1/i1/abcdefgz",
            b"t1/i1/c",
            b"t1/i2",
            b"u",
        ];
        for probe in probes {
            let lower = keys.partition_point(|k| *k < probe);
            let upper = keys.partition_point(|k| *k <= probe);
            assert_eq!(node.lower_bound(probe), lower, "lower bound of {probe:?}");
            assert_eq!(node.upper_bound(probe), upper, "upper bound of {probe:?}");
            assert_eq!(node.find(probe), keys.iter().position(|k| *k == probe));
        }
    }

    #[test]
    fn an_empty_node_places_everything_at_zero() {
        let node = node(&[]);
        assert_eq!(node.lower_bound(b"x"), 0);
        assert_eq!(node.find(b"x"), None);
    }
}
