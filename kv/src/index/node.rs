//! B+-tree nodes: up to `CAP` sorted keys, each with a slot (a version chain head in a
//! leaf, a child node in an inner node).
//!
//! A node is immutable once published, except its slots, which the single writer stores
//! atomically. Keys are kept whole in one byte arena; searching compares 8-byte
//! big-endian *heads* — the bytes right after the prefix all keys of the node share —
//! so a search touches a few cache lines of packed integers and reads key bytes only to
//! break ties between equal heads. In an inner node, key `i` is a lower bound of every
//! key under child `i` (child 0 also takes everything below key 0).

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::cmp::Ordering as CmpOrdering;
use std::sync::atomic::{AtomicPtr, Ordering};

pub(crate) const CAP: usize = 64;
const PREFIX_INLINE: usize = 24;

/// A node is one allocation: this header, then `keys_len` bytes of keys. The header is
/// zero-initialised whole, so its arrays are valid beyond `len` too.
#[repr(C)]
pub(crate) struct Node {
    pub leaf: bool,
    len: u16,
    prefix_len: u16,
    keys_len: u32,
    /// The first bytes of the shared prefix, so a search compares against it without
    /// touching the key bytes (another cache line).
    prefix_inline: [u8; PREFIX_INLINE],
    heads: [u64; CAP],
    /// Key `i` is `keys()[offsets[i]..offsets[i + 1]]`.
    offsets: [u32; CAP + 1],
    slots: [AtomicPtr<u8>; CAP],
}

fn layout(keys_len: usize) -> Layout {
    Layout::from_size_align(
        std::mem::size_of::<Node>() + keys_len,
        std::mem::align_of::<Node>(),
    )
    .expect("node layout within isize::MAX")
}

/// The search head of `suffix`: its first 8 bytes, big-endian, zero-padded.
fn head_of(suffix: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    let n = suffix.len().min(8);
    bytes[..n].copy_from_slice(&suffix[..n]);
    u64::from_be_bytes(bytes)
}

/// Asks the CPU to start loading the cache line at `ptr`; a hint with no effect on
/// behaviour.
#[inline(always)]
pub(crate) fn prefetch<T>(ptr: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint; it never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(ptr.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = ptr;
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

impl Node {
    /// Builds a node from sorted, distinct keys and their slot values. The node is owned
    /// by the caller until published, and freed with `Node::free` or `retire`.
    pub fn build(leaf: bool, entries: &[(&[u8], *mut u8)]) -> *mut Node {
        let len = entries.len();
        assert!(len <= CAP, "node over capacity");
        let keys_len: usize = entries.iter().map(|(key, _)| key.len()).sum();
        let keys_len_u32 = u32::try_from(keys_len).expect("node keys exceed 4 GiB");
        let layout = layout(keys_len);
        // SAFETY: the layout is non-zero; all-zero bytes are a valid `Node` header (bools,
        // integers and null pointers), and the key bytes are written before any read.
        unsafe {
            let raw = alloc_zeroed(layout).cast::<Node>();
            if raw.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            let node = &mut *raw;
            node.leaf = leaf;
            node.len = len as u16;
            node.keys_len = keys_len_u32;
            let keys = raw.cast::<u8>().add(std::mem::size_of::<Node>());
            let mut offset = 0usize;
            for (i, (key, slot)) in entries.iter().enumerate() {
                std::ptr::copy_nonoverlapping(key.as_ptr(), keys.add(offset), key.len());
                offset += key.len();
                node.offsets[i + 1] = offset as u32;
                *node.slots[i].get_mut() = *slot;
            }
            if len > 0 {
                let prefix = common_prefix(node.key(0), node.key(len - 1));
                node.prefix_len = u16::try_from(prefix).unwrap_or(u16::MAX);
                let inline = prefix.min(PREFIX_INLINE);
                std::ptr::copy_nonoverlapping(keys, node.prefix_inline.as_mut_ptr(), inline);
            }
            let prefix = node.prefix_len as usize;
            for i in 0..len {
                debug_assert!(
                    i == 0 || node.key(i - 1) < node.key(i),
                    "node keys must ascend"
                );
                node.heads[i] = head_of(&node.key(i)[prefix..]);
            }
            raw
        }
    }

    /// Frees a node (not what its slots point to).
    ///
    /// # Safety
    /// `node` came from `build`, no reader can reach it, and it is not freed twice.
    pub unsafe fn free(node: *mut Node) {
        // SAFETY: per the contract; the layout is recomputed from the stored length.
        unsafe {
            let keys_len = (*node).keys_len as usize;
            dealloc(node.cast::<u8>(), layout(keys_len));
        }
    }

    fn keys(&self) -> &[u8] {
        // SAFETY: `keys_len` bytes follow the header in the same allocation.
        unsafe {
            std::slice::from_raw_parts(
                (self as *const Node)
                    .cast::<u8>()
                    .add(std::mem::size_of::<Node>()),
                self.keys_len as usize,
            )
        }
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Starts loading the cache lines a search of this node reads, all at once, so the
    /// binary search's probes do not each wait for memory in turn.
    #[inline]
    pub fn prefetch_search(&self) {
        let heads = self.heads.as_ptr();
        for line in (0..self.len()).step_by(8) {
            prefetch(heads.wrapping_add(line));
        }
        prefetch(self.offsets.as_ptr());
    }

    fn key_len(&self, i: usize) -> usize {
        (self.offsets[i + 1] - self.offsets[i]) as usize
    }

    pub fn key(&self, i: usize) -> &[u8] {
        &self.keys()[self.offsets[i] as usize..self.offsets[i + 1] as usize]
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
        match self.strip_prefix(key) {
            Ok(suffix) => self.rank_suffix(suffix, inclusive),
            Err(position) => position,
        }
    }

    fn prefix(&self) -> &[u8] {
        let prefix_len = self.prefix_len as usize;
        if prefix_len <= PREFIX_INLINE {
            &self.prefix_inline[..prefix_len]
        } else {
            &self.key(0)[..prefix_len]
        }
    }

    /// Where `key` stands against the node's shared prefix: `Ok(suffix)` when it starts
    /// with it, else `Err(position)` — it sorts before or after every key.
    fn strip_prefix<'k>(&self, key: &'k [u8]) -> Result<&'k [u8], usize> {
        let prefix = self.prefix();
        let shared = key.len().min(prefix.len());
        match key[..shared].cmp(&prefix[..shared]) {
            CmpOrdering::Less => Err(0),
            CmpOrdering::Greater => Err(self.len()),
            // A proper prefix of the shared prefix sorts before every key.
            CmpOrdering::Equal if key.len() < prefix.len() => Err(0),
            CmpOrdering::Equal => Ok(&key[prefix.len()..]),
        }
    }

    /// `rank` of a key that starts with the node's prefix, given the rest of it.
    fn rank_suffix(&self, suffix: &[u8], inclusive: bool) -> usize {
        let len = self.len();
        let prefix_len = self.prefix_len as usize;
        let head = head_of(suffix);
        let mut i = self.heads[..len].partition_point(|&h| h < head);
        while i < len && self.heads[i] == head {
            // Equal heads of suffixes that both fit in a head differ only in trailing
            // zero padding: the shorter is the smaller. Only longer keys need their bytes.
            let entry_suffix_len = self.key_len(i) - prefix_len;
            let ordering = if entry_suffix_len <= 8 && suffix.len() <= 8 {
                entry_suffix_len.cmp(&suffix.len())
            } else {
                self.key(i)[prefix_len..].cmp(suffix)
            };
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
        let suffix = self.strip_prefix(key).ok()?;
        let i = self.rank_suffix(suffix, false);
        if i == self.len() || self.key_len(i) != key.len() {
            return None;
        }
        // Same length and same head: for a suffix that fits in the head, that is the key.
        let equal = if suffix.len() <= 8 {
            self.heads[i] == head_of(suffix)
        } else {
            self.key(i) == key
        };
        equal.then_some(i)
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

    struct Owned(*mut Node);
    impl Drop for Owned {
        fn drop(&mut self) {
            unsafe { Node::free(self.0) }
        }
    }
    impl std::ops::Deref for Owned {
        type Target = Node;
        fn deref(&self) -> &Node {
            unsafe { &*self.0 }
        }
    }

    fn node(keys: &[&[u8]]) -> Owned {
        let entries: Vec<(&[u8], *mut u8)> =
            keys.iter().map(|k| (*k, std::ptr::null_mut())).collect();
        Owned(Node::build(true, &entries))
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
