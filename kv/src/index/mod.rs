//! The in-memory index: a B+-tree with lock-free reads and a single writer, mapping each
//! key to a chain of versions stamped with the LSN of the batch that wrote them.
//!
//! Readers pin an epoch, load the root and descend; they take no lock and never wait.
//! The one writer at a time (the store's apply lock serializes batch application and
//! garbage collection) changes the tree in two ways only:
//! - storing a slot: pushing a new version onto a key's chain (the new version points at
//!   the old head, then becomes the head), or swapping a child for its replacement;
//! - replacing a node by copies: a leaf that gains or loses keys is rebuilt and swapped
//!   into its parent's slot; when it splits (or empties), the parent is rebuilt too, and
//!   so on up to the root. The replaced nodes are retired to the epoch collector.
//!
//! Why this is consistent for a reader at LSN `r`: `r` was visible when the reader loaded
//! the root, so every version with LSN ≤ `r` had been pushed by then, into a leaf that was
//! current then; a leaf reached from that root — or any later copy of it — holds those
//! versions, and versions pushed later have higher LSNs, which the reader skips. Nodes a
//! reader still stands on stay allocated until it unpins.
//!
//! Why a B+-tree of our own rather than crossbeam's skip list: on the 2-core machines we
//! run on, a random lookup among 1M keys took 4–5 µs in the skip list (one cache miss per
//! level, and another for each boxed key compared), ~1 µs in a B+-tree with packed 8-byte
//! key heads; a scan 75–240 ns per entry against ~10 ns. The single-writer discipline the
//! engine already has makes copy-on-write nodes simple.
//!
//! Limits: `CAP` keys per node; nodes are not merged when they shrink (an emptied node is
//! removed), so a tree that lost most of its keys stays sparse until they come back.

mod bulk;
mod check;
mod node;
mod pointers;
#[cfg(test)]
mod tests;
pub(crate) mod version;

use std::ops::Bound;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use crossbeam_epoch::Guard;
use parking_lot::Mutex;

use crate::batch::BatchOp;
use crate::pointer::ValuePointer;
pub(crate) use bulk::BulkLoader;
use node::{CAP, Node};
use version::GcMark;
pub(crate) use version::{Freed, Stored, Trim, Version};
use version::{VERSION_OVERHEAD_BYTES, visible_at};

/// Bytes of bookkeeping per key on top of its length (node slot, head, offset, slack).
const ENTRY_OVERHEAD_BYTES: u64 = 40;
/// The most memory a put of this key and value adds to the index (as a new key; a new
/// version of an existing key adds less), in the units of `approx_bytes`.
pub(crate) fn put_charge_bytes(key_len: usize, value_len: usize) -> u64 {
    ENTRY_OVERHEAD_BYTES + key_len as u64 + VERSION_OVERHEAD_BYTES + value_len as u64
}

/// Entries examined per walk before the caller must re-pin and resume.
pub(crate) const CHUNK_ENTRIES: usize = 256;
/// How many entries ahead a walk prefetches versions.
const PREFETCH_DISTANCE: usize = 8;
/// `Index::split_keys` cuts only nodes at least this many levels above the leaves.
const SPLIT_MIN_HEIGHT: usize = 2;

pub(crate) struct Index {
    root: AtomicPtr<Node>,
    live_keys: AtomicU64,
    entries: AtomicU64,
    versions: AtomicU64,
    approx_bytes: AtomicU64,
    /// Value-log entries whose versions were trimmed since the value log last took them.
    dead_values: Mutex<Vec<ValuePointer>>,
}

// SAFETY: nodes and versions are shared under the epoch protocol described above; all
// mutation goes through atomics by a single writer.
unsafe impl Send for Index {}
unsafe impl Sync for Index {}

struct SendNode(*mut Node);
// SAFETY: a retired node is owned by the collector alone.
unsafe impl Send for SendNode {}

/// Frees a node (not what its slots point to) once current readers have unpinned.
fn retire_node(node: *mut Node, guard: &Guard) {
    let node = SendNode(node);
    // SAFETY: the node is unreachable from the root for readers pinned after this call.
    unsafe {
        guard.defer_unchecked(move || {
            let node = node;
            Node::free(node.0);
        });
    }
}

/// Whether `key` is on the near side of `end` when moving in the given direction.
pub(crate) fn before_end(key: &[u8], end: Bound<&[u8]>, reverse: bool) -> bool {
    match (end, reverse) {
        (Bound::Unbounded, _) => true,
        (Bound::Included(end), false) => key <= end,
        (Bound::Excluded(end), false) => key < end,
        (Bound::Included(end), true) => key >= end,
        (Bound::Excluded(end), true) => key > end,
    }
}

pub(crate) enum Walk {
    /// Reached the end of the range.
    Finished,
    /// The visitor asked to stop.
    Stopped,
    /// `CHUNK_ENTRIES` were examined; this was the last key.
    Paused(Vec<u8>),
}

/// What an operation leaves for its key.
pub(crate) enum OpValue {
    Delete,
    Inline(Box<[u8]>),
    /// A value written to the value log.
    Pointer(ValuePointer),
}

impl OpValue {
    fn stored(&self) -> Option<Stored<'_>> {
        match self {
            OpValue::Delete => None,
            OpValue::Inline(value) => Some(Stored::Inline(value)),
            OpValue::Pointer(pointer) => Some(Stored::Pointer(*pointer)),
        }
    }
}

/// A put or delete of a key at an LSN, as the tree applies it.
pub(crate) struct KeyOp {
    pub key: Box<[u8]>,
    pub lsn: u64,
    pub value: OpValue,
}

impl KeyOp {
    pub fn from_batch(op: BatchOp, lsn: u64) -> Self {
        match op {
            BatchOp::Put { key, value } => KeyOp {
                key,
                lsn,
                value: OpValue::Inline(value),
            },
            BatchOp::Delete { key } => KeyOp {
                key,
                lsn,
                value: OpValue::Delete,
            },
        }
    }

    /// Bytes this operation holds, for budgeting recovery's memory.
    pub fn size(&self) -> usize {
        let value = match &self.value {
            OpValue::Inline(value) => value.len(),
            _ => 0,
        };
        self.key.len() + value + 48
    }
}

/// Sorts operations given in LSN order by key (stably) and keeps only the last of each
/// key's.
pub(crate) fn last_op_per_key(ops: &mut Vec<KeyOp>) {
    if ops.len() < 2 {
        return;
    }
    ops.sort_by(|a, b| a.key.cmp(&b.key));
    let mut last: Vec<KeyOp> = Vec::with_capacity(ops.len());
    for op in ops.drain(..) {
        match last.last_mut() {
            Some(previous) if previous.key == op.key => *previous = op,
            _ => last.push(op),
        }
    }
    *ops = last;
}

/// A path from the root: inner nodes and the child taken in each.
type Path<'g> = Vec<(&'g Node, usize)>;

/// # Safety
/// `node` was loaded from the tree while `guard` was pinned.
unsafe fn node_ref(node: *mut u8, _guard: &Guard) -> &Node {
    // SAFETY: nodes are retired through the collector, after this pin ends.
    unsafe { &*node.cast::<Node>() }
}

fn child<'g>(node: &'g Node, i: usize, guard: &'g Guard) -> &'g Node {
    // SAFETY: slots of inner nodes always hold live children.
    unsafe { node_ref(node.slot(i), guard) }
}

fn new_leaf() -> *mut Node {
    Node::build(true, &[])
}

impl Index {
    pub fn new() -> Self {
        Index {
            root: AtomicPtr::new(new_leaf()),
            live_keys: AtomicU64::new(0),
            entries: AtomicU64::new(0),
            versions: AtomicU64::new(0),
            approx_bytes: AtomicU64::new(0),
            dead_values: Mutex::new(Vec::new()),
        }
    }

    /// Takes the value-log entries that became garbage since the last call.
    /// Value-log entries trimmed since the value log last took them, left in place.
    pub fn pending_dead_values(&self) -> Vec<ValuePointer> {
        self.dead_values.lock().clone()
    }

    pub fn take_dead_values(&self) -> Vec<ValuePointer> {
        std::mem::take(&mut *self.dead_values.lock())
    }

    fn note_dead_values(&self, dead: &[ValuePointer]) {
        if !dead.is_empty() {
            self.dead_values.lock().extend_from_slice(dead);
        }
    }

    pub fn live_keys(&self) -> u64 {
        self.live_keys.load(Ordering::Relaxed)
    }

    /// Keys in the tree, including deleted ones not yet collected.
    pub fn entries(&self) -> u64 {
        self.entries.load(Ordering::Relaxed)
    }

    /// Versions in all chains, tombstones included.
    pub fn versions(&self) -> u64 {
        self.versions.load(Ordering::Relaxed)
    }

    pub fn approx_bytes(&self) -> u64 {
        self.approx_bytes.load(Ordering::Relaxed)
    }

    fn root<'g>(&self, guard: &'g Guard) -> &'g Node {
        // SAFETY: the root always points at a live node.
        unsafe { node_ref(self.root.load(Ordering::Acquire).cast(), guard) }
    }

    /// Descends to the leaf whose range holds `key`, recording the path.
    fn descend<'g>(&self, key: &[u8], guard: &'g Guard) -> (Path<'g>, &'g Node) {
        let mut path = Vec::with_capacity(6);
        let mut node = self.root(guard);
        while !node.leaf {
            let i = node.route(key);
            path.push((node, i));
            node = child(node, i, guard);
        }
        (path, node)
    }

    /// The newest version of `key` at or below `lsn` (a tombstone if deleted then).
    pub fn read<'g>(&self, key: &[u8], lsn: u64, guard: &'g Guard) -> Option<&'g Version> {
        let mut node = self.root(guard);
        loop {
            node.prefetch_search();
            if node.leaf {
                break;
            }
            node = child(node, node.route(key), guard);
        }
        let i = node.find(key)?;
        visible_at(node.slot(i).cast(), lsn, guard)
    }

    /// Keys that cut the range into up to `parts` pieces of similar size, ascending and
    /// strictly inside it, for scanning the pieces in parallel: the lower bounds of evenly
    /// spaced children of the highest node whose children the range spans several of.
    /// Only a node at least `SPLIT_MIN_HEIGHT` levels above the leaves is cut, so each
    /// piece spans whole subtrees of thousands of keys and a small range is never cut
    /// (nothing is returned).
    pub fn split_keys(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        parts: usize,
        guard: &Guard,
    ) -> Vec<Vec<u8>> {
        let mut height = 0;
        let mut node = self.root(guard);
        while !node.leaf {
            height += 1;
            node = child(node, 0, guard);
        }
        let mut node = self.root(guard);
        while !node.leaf && height >= SPLIT_MIN_HEIGHT && parts > 1 {
            let first = match start {
                Bound::Included(key) | Bound::Excluded(key) => node.route(key),
                Bound::Unbounded => 0,
            };
            let last = match end {
                Bound::Included(key) | Bound::Excluded(key) => node.route(key),
                Bound::Unbounded => node.len() - 1,
            };
            if last > first {
                let span = last - first + 1;
                let mut keys: Vec<Vec<u8>> = (1..parts.min(span))
                    .map(|k| node.key(first + k * span / parts.min(span)).to_vec())
                    .collect();
                keys.dedup();
                // Each cut is a lower bound of a child after the one `start` routes to,
                // and at most `end`: strictly inside unless it is `end` itself.
                keys.retain(|key| match end {
                    Bound::Included(end) | Bound::Excluded(end) => &key[..] < end,
                    Bound::Unbounded => true,
                });
                return keys;
            }
            node = child(node, first, guard);
            height -= 1;
        }
        Vec::new()
    }

    /// Visits the live entries visible at `lsn` from `start` towards `end`, at most
    /// `CHUNK_ENTRIES` of them, while `visit` returns true.
    pub fn walk<'g>(
        &self,
        lsn: u64,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        reverse: bool,
        guard: &'g Guard,
        mut visit: impl FnMut(&[u8], Stored<'g>) -> bool,
    ) -> Walk {
        let target = match start {
            Bound::Included(key) | Bound::Excluded(key) => Some(key),
            Bound::Unbounded => None,
        };
        let mut stack: Path<'_> = Vec::with_capacity(6);
        let mut leaf = self.root(guard);
        while !leaf.leaf {
            let i = match target {
                Some(key) => leaf.route(key),
                None if reverse => leaf.len() - 1,
                None => 0,
            };
            stack.push((leaf, i));
            leaf = child(leaf, i, guard);
        }
        let mut pos: isize = match (start, reverse) {
            (Bound::Included(key), false) => leaf.lower_bound(key) as isize,
            (Bound::Excluded(key), false) => leaf.upper_bound(key) as isize,
            (Bound::Unbounded, false) => 0,
            (Bound::Included(key), true) => leaf.upper_bound(key) as isize - 1,
            (Bound::Excluded(key), true) => leaf.lower_bound(key) as isize - 1,
            (Bound::Unbounded, true) => leaf.len() as isize - 1,
        };
        let mut examined = 0;
        // Whether the leaf's farthest key in the walking direction is before `end`: then
        // so is every key of it, and none needs comparing (a full scan compares none).
        let leaf_before_end = |leaf: &Node| {
            let farthest = if reverse {
                0
            } else {
                leaf.len().saturating_sub(1)
            };
            leaf.len() > 0 && before_end(leaf.key(farthest), end, reverse)
        };
        let mut whole_leaf = leaf_before_end(leaf);
        loop {
            if pos < 0 || pos >= leaf.len() as isize {
                match next_leaf(&mut stack, reverse, guard) {
                    Some(next) => {
                        leaf = next;
                        whole_leaf = leaf_before_end(leaf);
                        pos = if reverse { leaf.len() as isize - 1 } else { 0 };
                        continue;
                    }
                    None => return Walk::Finished,
                }
            }
            let i = pos as usize;
            // Versions live wherever they were allocated; asking for the ones a few
            // entries ahead lets their cache misses overlap instead of queueing.
            let ahead = if reverse {
                i.checked_sub(PREFETCH_DISTANCE)
            } else {
                Some(i + PREFETCH_DISTANCE)
            };
            if let Some(ahead) = ahead.filter(|&a| a < leaf.len()) {
                node::prefetch(leaf.slot(ahead));
            }
            let key = leaf.key(i);
            if !whole_leaf && !before_end(key, end, reverse) {
                return Walk::Finished;
            }
            if let Some(value) =
                visible_at(leaf.slot(i).cast(), lsn, guard).and_then(Version::stored)
                && !visit(key, value)
            {
                return Walk::Stopped;
            }
            examined += 1;
            if examined == CHUNK_ENTRIES {
                return Walk::Paused(key.to_vec());
            }
            pos += if reverse { -1 } else { 1 };
        }
    }

    /// Applies one batch at `lsn`: puts and deletes in order, a later operation on a key
    /// winning. Calls `queue_for_gc` for keys whose chain newly holds garbage. Caller holds
    /// the apply lock.
    #[cfg(test)]
    pub fn apply_batch(
        &self,
        ops: Vec<BatchOp>,
        lsn: u64,
        guard: &Guard,
        queue_for_gc: &mut impl FnMut(&[u8]),
    ) {
        let ops = ops
            .into_iter()
            .map(|op| KeyOp::from_batch(op, lsn))
            .collect();
        self.apply(ops, guard, queue_for_gc);
    }

    /// Applies operations given in LSN order, each at its own LSN; of several on one key,
    /// only the last counts — so this is for recovery, when no view can see the others.
    /// Caller holds the apply lock.
    pub fn apply(&self, mut ops: Vec<KeyOp>, guard: &Guard, queue_for_gc: &mut impl FnMut(&[u8])) {
        // Key order lets one descent and one leaf copy serve a whole run of keys.
        last_op_per_key(&mut ops);
        let mut start = 0;
        while start < ops.len() {
            let (path, leaf) = self.descend(&ops[start].key, guard);
            // The run of keys that fall in this leaf ends at the next sibling's lower bound.
            let fence = path
                .iter()
                .rev()
                .find(|(node, i)| i + 1 < node.len())
                .map(|(node, i)| node.key(i + 1));
            let end = start
                + ops[start..]
                    .iter()
                    .take_while(|op| fence.is_none_or(|fence| &op.key[..] < fence))
                    .count();
            let mut inserts: Vec<(&[u8], *mut u8)> = Vec::new();
            for KeyOp { key, lsn, value } in &ops[start..end] {
                match leaf.find(key) {
                    Some(i) => self.push_version(leaf, i, value.stored(), *lsn, queue_for_gc),
                    None => {
                        if let Some(value) = value.stored() {
                            let version = Version::new(*lsn, Some(value), ptr::null_mut());
                            inserts.push((key, version.cast()));
                            self.live_keys.fetch_add(1, Ordering::Relaxed);
                            self.entries.fetch_add(1, Ordering::Relaxed);
                            self.versions.fetch_add(1, Ordering::Relaxed);
                            // SAFETY: just allocated, not yet shared.
                            let footprint = unsafe { (*version).footprint() };
                            self.approx_bytes.fetch_add(
                                ENTRY_OVERHEAD_BYTES + key.len() as u64 + footprint,
                                Ordering::Relaxed,
                            );
                        }
                    }
                }
            }
            if !inserts.is_empty() {
                let appending =
                    fence.is_none() && (leaf.len() == 0 || inserts[0].0 > leaf.key(leaf.len() - 1));
                let merged = merge_entries(leaf, inserts);
                let leaves = build_nodes(true, &merged, appending);
                self.replace(path, leaf, leaves, guard);
            }
            start = end;
        }
        self.debug_check(false, guard);
    }

    /// Pushes a version onto the chain in `leaf` slot `i`.
    fn push_version(
        &self,
        leaf: &Node,
        i: usize,
        value: Option<Stored<'_>>,
        lsn: u64,
        queue_for_gc: &mut impl FnMut(&[u8]),
    ) {
        let head: *mut Version = leaf.slot(i).cast();
        // SAFETY: slots of a current leaf hold live chains; the writer holds them.
        let head_ref = unsafe { &*head };
        if value.is_none() && !head_ref.is_live() {
            // Deleting what is already deleted changes nothing any reader could see.
            return;
        }
        assert!(head_ref.lsn() <= lsn, "chain LSNs must not decrease");
        let version = Version::new(lsn, value, head);
        // SAFETY: just allocated, not yet shared.
        let version_ref = unsafe { &*version };
        // A new version makes the previous head collectable (unless a view needs it):
        // the key goes to the ready queue, from the parked set if it was there.
        version_ref.set_gc_mark(GcMark::Ready);
        if head_ref.gc_mark() != GcMark::Ready {
            queue_for_gc(leaf.key(i));
        }
        match (head_ref.is_live(), value.is_some()) {
            (false, true) => self.live_keys.fetch_add(1, Ordering::Relaxed),
            (true, false) => self.live_keys.fetch_sub(1, Ordering::Relaxed),
            _ => 0,
        };
        self.approx_bytes
            .fetch_add(version_ref.footprint(), Ordering::Relaxed);
        self.versions.fetch_add(1, Ordering::Relaxed);
        leaf.set_slot(i, version.cast());
    }

    /// Replaces `old` (reached through `path`) by `replacement` (zero or more nodes
    /// covering the same keys), rebuilding ancestors as their children change in number.
    fn replace<'g>(
        &self,
        mut path: Path<'g>,
        old: &'g Node,
        replacement: Vec<*mut Node>,
        guard: &'g Guard,
    ) {
        let mut old: *const Node = old;
        let mut replacement = replacement;
        loop {
            let Some((parent, i)) = path.pop() else {
                let root = match replacement.len() {
                    0 => new_leaf(),
                    1 => replacement[0],
                    _ => build_levels(replacement),
                };
                self.root.store(root, Ordering::Release);
                retire_node(old.cast_mut(), guard);
                self.collapse_root(guard);
                return;
            };
            if replacement.len() == 1 {
                parent.set_slot(i, replacement[0].cast());
                retire_node(old.cast_mut(), guard);
                return;
            }
            // The first replacement keeps the old lower bound — unless it is the leftmost
            // child, which also takes keys below that bound; the others start at their own
            // first keys.
            let mut children: Vec<(&[u8], *mut u8)> =
                Vec::with_capacity(parent.len() + replacement.len());
            children.extend(parent.entries().take(i));
            for (n, &node) in replacement.iter().enumerate() {
                // SAFETY: just built, owned by us until published.
                let own_first = unsafe { (*node).key(0) };
                let first = if n == 0 {
                    parent.key(i).min(own_first)
                } else {
                    own_first
                };
                children.push((first, node.cast()));
            }
            children.extend(parent.entries().skip(i + 1));
            let parents = build_nodes(false, &children, false);
            retire_node(old.cast_mut(), guard);
            old = parent;
            replacement = parents;
        }
    }

    /// While the root is an inner node with a single child, that child becomes the root.
    fn collapse_root(&self, guard: &Guard) {
        loop {
            let root = self.root(guard);
            if root.leaf || root.len() != 1 {
                return;
            }
            self.root.store(root.slot(0).cast(), Ordering::Release);
            retire_node((root as *const Node).cast_mut(), guard);
        }
    }

    /// Trims the chain of `key`, removing the key when nothing is left. Caller holds the
    /// apply lock.
    pub fn collect(&self, key: &[u8], views: &[u64], visible: u64, guard: &Guard) -> Trim {
        let (path, leaf) = self.descend(key, guard);
        let Some(i) = leaf.find(key) else {
            return Trim::Empty(Freed::default());
        };
        let head: *mut Version = leaf.slot(i).cast();
        let trim = version::trim(head, views, visible, guard);
        // SAFETY: the head is never trimmed, only retired below.
        let head_ref = unsafe { &*head };
        let (mut bytes, mut versions, dead) = match &trim {
            Trim::Pinned(freed) | Trim::Clean(freed) | Trim::Empty(freed) => {
                (freed.bytes, freed.versions, &freed.dead_values)
            }
        };
        match &trim {
            Trim::Pinned(_) => head_ref.set_gc_mark(GcMark::Parked),
            Trim::Clean(_) => head_ref.set_gc_mark(GcMark::Clean),
            Trim::Empty(_) => {
                debug_assert!(
                    head_ref.stored().is_none(),
                    "only a tombstone empties a key"
                );
                let rest: Vec<(&[u8], *mut u8)> = leaf
                    .entries()
                    .enumerate()
                    .filter(|(n, _)| *n != i)
                    .map(|(_, e)| e)
                    .collect();
                let replacement = if rest.is_empty() {
                    Vec::new()
                } else {
                    build_nodes(true, &rest, false)
                };
                self.replace(path, leaf, replacement, guard);
                self.entries.fetch_sub(1, Ordering::Relaxed);
                bytes += head_ref.footprint() + ENTRY_OVERHEAD_BYTES + key.len() as u64;
                versions += 1;
                // SAFETY: unreachable for readers pinned from now on.
                unsafe { Version::retire(head, guard) };
            }
        }
        self.note_dead_values(dead);
        self.approx_bytes.fetch_sub(bytes, Ordering::Relaxed);
        self.versions.fetch_sub(versions, Ordering::Relaxed);
        trim
    }
}

/// The entries of `leaf` merged with `inserts` (sorted, none present in the leaf).
fn merge_entries<'a>(
    leaf: &'a Node,
    inserts: Vec<(&'a [u8], *mut u8)>,
) -> Vec<(&'a [u8], *mut u8)> {
    let mut merged = Vec::with_capacity(leaf.len() + inserts.len());
    let mut existing = leaf.entries().peekable();
    for insert in inserts {
        while let Some(entry) = existing.next_if(|entry| entry.0 < insert.0) {
            merged.push(entry);
        }
        merged.push(insert);
    }
    merged.extend(existing);
    merged
}

/// Packs sorted entries into nodes: full nodes when `appending` at the right edge (so
/// sequential loads fill the tree densely), evenly filled nodes otherwise.
fn build_nodes(leaf: bool, entries: &[(&[u8], *mut u8)], appending: bool) -> Vec<*mut Node> {
    if entries.is_empty() {
        return Vec::new();
    }
    let count = entries.len().div_ceil(CAP);
    let per_node = if appending {
        CAP
    } else {
        entries.len().div_ceil(count)
    };
    entries
        .chunks(per_node)
        .map(|chunk| Node::build(leaf, chunk))
        .collect()
}

/// Builds inner levels over `nodes` (at least two) up to a single root.
fn build_levels(mut nodes: Vec<*mut Node>) -> *mut Node {
    while nodes.len() > 1 {
        let children: Vec<(&[u8], *mut u8)> = nodes
            .iter()
            // SAFETY: freshly built nodes, not yet shared.
            .map(|&node| (unsafe { (*node).key(0) }, node.cast()))
            .collect();
        nodes = build_nodes(false, &children, false);
    }
    nodes[0]
}

/// Moves `stack` to the next leaf in the given direction.
fn next_leaf<'g>(stack: &mut Path<'g>, reverse: bool, guard: &'g Guard) -> Option<&'g Node> {
    while let Some((node, i)) = stack.last_mut() {
        let next = if reverse {
            i.checked_sub(1)
        } else {
            Some(*i + 1).filter(|&n| n < node.len())
        };
        if let Some(next) = next {
            *i = next;
            let mut current = child(node, next, guard);
            while !current.leaf {
                let edge = if reverse { current.len() - 1 } else { 0 };
                stack.push((current, edge));
                current = child(current, edge, guard);
            }
            return Some(current);
        }
        stack.pop();
    }
    None
}

/// Frees a subtree and every version in it.
///
/// # Safety
/// Nothing else can reach the subtree.
unsafe fn free_tree(node: *mut Node) {
    // SAFETY: per the contract, we own the whole subtree.
    unsafe {
        let owned = &*node;
        for (_, slot) in owned.entries() {
            if owned.leaf {
                version::free_chain(slot.cast());
            } else {
                free_tree(slot.cast());
            }
        }
        Node::free(node);
    }
}

impl Drop for Index {
    fn drop(&mut self) {
        // SAFETY: dropping the index means no reader remains (views hold the store).
        unsafe { free_tree(*self.root.get_mut()) };
    }
}
