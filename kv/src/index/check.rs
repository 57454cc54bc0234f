//! The index checked against itself: the structure every change must preserve, walked
//! whole, and the counters recounted.
//!
//! Checked:
//! - keys strictly ascend within each node and, leaf to leaf, across the tree; every key
//!   under child `i > 0` of an inner node is at least key `i`, and every key under child
//!   `i` is below key `i + 1` (child 0 also takes what is below key 0);
//! - every leaf is at the same depth; no node holds more than `CAP` keys, none but an
//!   empty root holds none, and an inner root has at least two children;
//! - every chain has a head, and its LSNs never increase from the head down;
//! - `entries`, `live_keys`, `versions` and `approx_bytes` equal a recount.
//!
//! `check_consistency` is for tests and diagnosis; `debug_check` runs it in debug builds
//! after every change to a small tree and after every load, and panics on a violation,
//! like redb's `debug_check_consistency` around its structural changes.

use crossbeam_epoch::Guard;

use super::node::{CAP, Node};
use super::version::{self, Version};
use super::{ENTRY_OVERHEAD_BYTES, Index, child};

/// Trees up to this many keys are walked whole after every change in debug builds; a
/// larger one only after a load (the walk is linear in the tree).
pub(crate) const DEBUG_CHECK_MAX_ENTRIES: u64 = 2048;

/// What a walk of the tree counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Census {
    pub entries: u64,
    pub live_keys: u64,
    pub versions: u64,
    pub approx_bytes: u64,
}

struct Walker<'g, 'k> {
    guard: &'g Guard,
    census: Census,
    leaf_depth: Option<usize>,
    last_key: Option<Vec<u8>>,
    /// Where to collect every key, in order, if anywhere.
    keys: Option<&'k mut Vec<Vec<u8>>>,
}

impl<'g> Walker<'g, '_> {
    /// Checks the subtree at `node`, whose keys must lie in `[lower, upper)`.
    fn node(
        &mut self,
        node: &'g Node,
        depth: usize,
        lower: Option<&[u8]>,
        upper: Option<&[u8]>,
    ) -> Result<(), String> {
        if node.len() == 0 && depth > 0 {
            return Err(format!("an empty node at depth {depth}"));
        }
        if node.len() > CAP {
            return Err(format!("a node of {} keys at depth {depth}", node.len()));
        }
        if depth == 0 && !node.leaf && node.len() < 2 {
            return Err("an inner root with one child was not collapsed".into());
        }
        for i in 1..node.len() {
            if node.key(i - 1) >= node.key(i) {
                return Err(format!(
                    "keys out of order in a node at depth {depth}: {:?} before {:?}",
                    node.key(i - 1),
                    node.key(i)
                ));
            }
        }
        if node.leaf {
            return self.leaf(node, depth, lower, upper);
        }
        for i in 0..node.len() {
            let child_lower = if i == 0 { lower } else { Some(node.key(i)) };
            let child_upper = if i + 1 < node.len() {
                Some(node.key(i + 1))
            } else {
                upper
            };
            self.node(
                child(node, i, self.guard),
                depth + 1,
                child_lower,
                child_upper,
            )?;
        }
        Ok(())
    }

    fn leaf(
        &mut self,
        leaf: &Node,
        depth: usize,
        lower: Option<&[u8]>,
        upper: Option<&[u8]>,
    ) -> Result<(), String> {
        match self.leaf_depth {
            None => self.leaf_depth = Some(depth),
            Some(expected) if expected != depth => {
                return Err(format!("leaves at depths {expected} and {depth}"));
            }
            Some(_) => {}
        }
        for (key, slot) in leaf.entries() {
            if lower.is_some_and(|lower| key < lower) || upper.is_some_and(|upper| key >= upper) {
                return Err(format!("key {key:?} outside its subtree's bounds"));
            }
            if self.last_key.as_deref().is_some_and(|last| last >= key) {
                return Err(format!(
                    "key {key:?} does not follow the previous leaf's keys"
                ));
            }
            self.last_key = Some(key.to_vec());
            if let Some(keys) = &mut self.keys {
                keys.push(key.to_vec());
            }
            self.chain(key, slot.cast())?;
        }
        Ok(())
    }

    fn chain(&mut self, key: &[u8], head: *mut Version) -> Result<(), String> {
        // SAFETY: the head was loaded from a slot of the tree under `guard`.
        let Some(head_ref) = (unsafe { version::deref(head, self.guard) }) else {
            return Err(format!("key {key:?} has no version"));
        };
        self.census.entries += 1;
        self.census.live_keys += u64::from(head_ref.is_live());
        self.census.approx_bytes += ENTRY_OVERHEAD_BYTES + key.len() as u64;
        let mut newer_lsn = u64::MAX;
        let mut current = Some(head_ref);
        while let Some(version) = current {
            if version.lsn() > newer_lsn {
                return Err(format!(
                    "key {key:?}: version {} below version {newer_lsn}",
                    version.lsn()
                ));
            }
            newer_lsn = version.lsn();
            self.census.versions += 1;
            self.census.approx_bytes += version.footprint();
            // SAFETY: linked from a version reachable under `guard`.
            current = unsafe { version::deref(version.next_ptr(), self.guard) };
        }
        Ok(())
    }
}

impl Index {
    /// Walks the whole tree, checks its structure and recounts it; `Err` names the first
    /// violation. Nothing may change the tree meanwhile: the caller holds the apply lock
    /// or owns the index.
    pub(crate) fn check_consistency(&self, guard: &Guard) -> Result<Census, String> {
        self.check_collecting(guard, None)
    }

    /// `check_consistency`, collecting every key of the tree in order into `keys`.
    pub(super) fn check_collecting(
        &self,
        guard: &Guard,
        keys: Option<&mut Vec<Vec<u8>>>,
    ) -> Result<Census, String> {
        let mut walker = Walker {
            guard,
            census: Census::default(),
            leaf_depth: None,
            last_key: None,
            keys,
        };
        walker.node(self.root(guard), 0, None, None)?;
        let census = walker.census;
        let counted = Census {
            entries: self.entries(),
            live_keys: self.live_keys(),
            versions: self.versions(),
            approx_bytes: self.approx_bytes(),
        };
        if census != counted {
            return Err(format!(
                "the counters say {counted:?}, a recount finds {census:?}"
            ));
        }
        Ok(census)
    }

    /// In debug builds, `check_consistency` — always when `whole`, else while the tree
    /// holds at most `DEBUG_CHECK_MAX_ENTRIES` keys — panicking on a violation.
    pub(crate) fn debug_check(&self, whole: bool, guard: &Guard) {
        if cfg!(debug_assertions)
            && (whole || self.entries() <= DEBUG_CHECK_MAX_ENTRIES)
            && let Err(violation) = self.check_consistency(guard)
        {
            panic!("index inconsistent: {violation}");
        }
    }
}
