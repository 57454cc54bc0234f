//! The index's side of the value log: moving a version to a relocated value, and listing
//! every pointer (hybrid stores only).

use crossbeam_epoch::Guard;

use super::version::{self, Version};
use super::{Index, Path, child, next_leaf};
use crate::pointer::ValuePointer;

impl Index {
    /// Makes the version of `key` written at `lsn` that points at `from` point at `to`
    /// instead (the value log moved the value), by linking a copy in its place. Returns
    /// whether it was found; a value overwritten and trimmed meanwhile is not. Readers
    /// standing on the old version read `from`, which stays readable until they unpin.
    /// Caller holds the apply lock.
    pub fn relocate(
        &self,
        key: &[u8],
        lsn: u64,
        from: ValuePointer,
        to: ValuePointer,
        guard: &Guard,
    ) -> bool {
        let (_, leaf) = self.descend(key, guard);
        let Some(i) = leaf.find(key) else {
            return false;
        };
        let mut newer: Option<&Version> = None;
        let mut current: *mut Version = leaf.slot(i).cast();
        // SAFETY (loop): the chain is reachable from a current leaf and we are pinned;
        // only the apply-lock holder (us) relinks it.
        while let Some(version) = unsafe { version::deref(current, guard) } {
            if version.lsn() < lsn {
                return false;
            }
            if version.lsn() == lsn {
                if version.pointer() != Some(from) {
                    return false;
                }
                let copy = version.relocated(to);
                match newer {
                    None => leaf.set_slot(i, copy.cast()),
                    Some(newer) => newer.set_next(copy),
                }
                // SAFETY: unlinked just now; readers that hold it are pinned.
                unsafe { Version::retire(current, guard) };
                self.note_dead_values(&[from]);
                return true;
            }
            newer = Some(version);
            current = version.next_ptr();
        }
        false
    }

    /// Calls `f` on every pointer held by any version (for value-log accounting at open,
    /// when nothing else runs).
    pub fn for_each_pointer(&self, guard: &Guard, mut f: impl FnMut(ValuePointer)) {
        let mut stack: Path<'_> = Vec::new();
        let mut leaf = self.root(guard);
        while !leaf.leaf {
            stack.push((leaf, 0));
            leaf = child(leaf, 0, guard);
        }
        loop {
            for (_, slot) in leaf.entries() {
                let mut current: *mut Version = slot.cast();
                // SAFETY: reachable from the tree under `guard`.
                while let Some(version) = unsafe { version::deref(current, guard) } {
                    if let Some(pointer) = version.pointer() {
                        f(pointer);
                    }
                    current = version.next_ptr();
                }
            }
            match next_leaf(&mut stack, false, guard) {
                Some(next) => leaf = next,
                None => return,
            }
        }
    }
}
