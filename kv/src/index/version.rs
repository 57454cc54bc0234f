//! Versions: one allocation each, a small header followed by the value bytes, linked
//! newest first into a chain whose head lives in a leaf slot.
//!
//! A version is immutable once linked except for `next` (swung past unneeded versions
//! by trimming) and `flags` (the garbage collector's mark, on the head). Versions are freed
//! only through the epoch collector, after they are unreachable.

use std::alloc::{Layout, alloc, dealloc};
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU8, Ordering};

use crossbeam_epoch::Guard;

use crate::pointer::{POINTER_BYTES, ValuePointer};

/// Bytes of bookkeeping per version, for memory accounting (header plus allocator).
pub(crate) const VERSION_OVERHEAD_BYTES: u64 = 48;

const KIND_TOMBSTONE: u8 = 0;
const KIND_INLINE: u8 = 1;
/// The version's bytes are an encoded `ValuePointer` into the value log.
const KIND_POINTER: u8 = 2;

/// What a live version holds: the value itself, or where the value log keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stored<'a> {
    Inline(&'a [u8]),
    Pointer(ValuePointer),
}
/// Where the garbage collector has a key, marked on its chain's head version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GcMark {
    /// Not queued: the chain holds nothing to collect.
    Clean = 0,
    /// In the queue of keys to trim.
    Ready = 1,
    /// Set aside: views still need its old versions.
    Parked = 2,
}

#[repr(C)]
pub(crate) struct Version {
    lsn: u64,
    next: AtomicPtr<Version>,
    len: u32,
    kind: u8,
    flags: AtomicU8,
    // followed by `len` value bytes
}

const HEADER: usize = std::mem::size_of::<Version>();

fn layout(len: usize) -> Layout {
    Layout::from_size_align(HEADER + len, std::mem::align_of::<Version>())
        .expect("version layout within isize::MAX")
}

/// A pointer to a version that may be sent to the epoch collector's thread.
struct SendPtr(*mut Version);
// SAFETY: a version is plain bytes plus atomics; ownership moves with the pointer.
unsafe impl Send for SendPtr {}

impl Version {
    /// Allocates an unlinked version; `value` `None` is a tombstone.
    pub fn new(lsn: u64, value: Option<Stored<'_>>, next: *mut Version) -> *mut Version {
        let encoded_pointer;
        let (kind, bytes) = match value {
            None => (KIND_TOMBSTONE, &[][..]),
            Some(Stored::Inline(bytes)) => (KIND_INLINE, bytes),
            Some(Stored::Pointer(pointer)) => {
                encoded_pointer = pointer.encode();
                (KIND_POINTER, &encoded_pointer[..])
            }
        };
        let len = u32::try_from(bytes.len()).expect("values are limited to 1 GiB");
        let layout = layout(bytes.len());
        // SAFETY: the layout has a non-zero size (the header); the header is written
        // before any read and the value bytes are copied right after it.
        unsafe {
            let raw = alloc(layout).cast::<Version>();
            if raw.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            raw.write(Version {
                lsn,
                next: AtomicPtr::new(next),
                len,
                kind,
                flags: AtomicU8::new(0),
            });
            ptr::copy_nonoverlapping(bytes.as_ptr(), raw.cast::<u8>().add(HEADER), bytes.len());
            raw
        }
    }

    /// Frees a version now. Only for versions no reader can reach and no guard can hold.
    ///
    /// # Safety
    /// `version` came from `Version::new`, is unreachable, and is not freed twice.
    pub unsafe fn free(version: *mut Version) {
        // SAFETY: per the contract; the layout is recomputed from the stored length.
        unsafe {
            let len = (*version).len as usize;
            dealloc(version.cast::<u8>(), layout(len));
        }
    }

    /// Frees a version once every thread pinned now has unpinned.
    ///
    /// # Safety
    /// `version` is unreachable for readers pinned after this call, and not freed twice.
    pub unsafe fn retire(version: *mut Version, guard: &Guard) {
        let version = SendPtr(version);
        // SAFETY: the epoch collector runs the closure after all current pins end.
        unsafe {
            guard.defer_unchecked(move || {
                let version = version;
                Version::free(version.0);
            });
        }
    }

    pub fn lsn(&self) -> u64 {
        self.lsn
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `len` bytes follow the header in the same allocation.
        unsafe {
            std::slice::from_raw_parts(
                (self as *const Version).cast::<u8>().add(HEADER),
                self.len as usize,
            )
        }
    }

    /// The value or its pointer, or `None` for a tombstone.
    pub fn stored(&self) -> Option<Stored<'_>> {
        match self.kind {
            KIND_TOMBSTONE => None,
            KIND_POINTER => {
                debug_assert_eq!(self.len as usize, POINTER_BYTES);
                let pointer = ValuePointer::decode(self.bytes())
                    .expect("a pointer version holds an encoded pointer");
                Some(Stored::Pointer(pointer))
            }
            _ => Some(Stored::Inline(self.bytes())),
        }
    }

    /// The value-log entry this version points at, if it is a pointer.
    pub fn pointer(&self) -> Option<ValuePointer> {
        match self.stored() {
            Some(Stored::Pointer(pointer)) => Some(pointer),
            _ => None,
        }
    }

    /// A copy of this version, same LSN and successor, pointing at `pointer` instead
    /// (a value the value log moved). The flags are copied too.
    pub fn relocated(&self, pointer: ValuePointer) -> *mut Version {
        debug_assert_eq!(self.kind, KIND_POINTER);
        let copy = Version::new(self.lsn, Some(Stored::Pointer(pointer)), self.next_ptr());
        // SAFETY: just allocated, not yet shared.
        unsafe {
            (*copy)
                .flags
                .store(self.flags.load(Ordering::Relaxed), Ordering::Relaxed)
        };
        copy
    }

    pub fn set_next(&self, next: *mut Version) {
        self.next.store(next, Ordering::Release);
    }

    pub fn is_live(&self) -> bool {
        self.kind != KIND_TOMBSTONE
    }

    pub fn footprint(&self) -> u64 {
        VERSION_OVERHEAD_BYTES + u64::from(self.len)
    }

    pub fn next_ptr(&self) -> *mut Version {
        self.next.load(Ordering::Acquire)
    }

    pub fn gc_mark(&self) -> GcMark {
        match self.flags.load(Ordering::Relaxed) {
            1 => GcMark::Ready,
            2 => GcMark::Parked,
            _ => GcMark::Clean,
        }
    }

    pub fn set_gc_mark(&self, mark: GcMark) {
        self.flags.store(mark as u8, Ordering::Relaxed);
    }
}

/// A reference to a version valid for as long as the guard `'g`.
///
/// # Safety
/// `version` is null or was reachable from the index while `guard` was pinned.
pub(crate) unsafe fn deref(version: *mut Version, _guard: &Guard) -> Option<&Version> {
    // SAFETY: versions are freed only through the collector, after this pin ends.
    unsafe { version.as_ref() }
}

/// The newest version at or below `lsn` in the chain starting at `head`.
pub(crate) fn visible_at(head: *mut Version, lsn: u64, guard: &Guard) -> Option<&Version> {
    // SAFETY: `head` was loaded from a slot under `guard`.
    let mut current = unsafe { deref(head, guard) };
    while let Some(version) = current {
        if version.lsn <= lsn {
            return Some(version);
        }
        // SAFETY: as above; `next` pointers only ever point at versions retired later.
        current = unsafe { deref(version.next_ptr(), guard) };
    }
    None
}

/// What trimming a chain left.
pub(crate) enum Trim {
    /// One live version remains.
    Clean(Freed),
    /// Older versions are still needed by registered views.
    Pinned(Freed),
    /// Nothing but an unneeded tombstone remains (still linked): the key can go.
    Empty(Freed),
}

/// What trimming gave back.
#[derive(Clone, Default)]
pub(crate) struct Freed {
    pub bytes: u64,
    pub versions: u64,
    /// Value-log entries no version points at any more.
    pub dead_values: Vec<ValuePointer>,
}

/// Unlinks the versions of the chain at `head` that no reader can need, and retires them.
/// `views` are the registered view LSNs, ascending; every other reader reads at or above
/// `visible`. Caller holds the apply lock, and every version in the chain is published.
///
/// A version `v` whose next-newer version is `w` is needed iff some reader `r` has
/// `v.lsn <= r < w.lsn`. A tombstone with nothing older kept says the same as no version.
pub(crate) fn trim(head: *mut Version, views: &[u64], visible: u64, guard: &Guard) -> Trim {
    // SAFETY: the chain is reachable from a slot and we are pinned.
    let Some(head_ref) = (unsafe { deref(head, guard) }) else {
        return Trim::Empty(Freed::default());
    };
    debug_assert!(head_ref.lsn <= visible, "trimming an unpublished version");
    let mut kept: Vec<*mut Version> = vec![head];
    let mut dropped: Vec<*mut Version> = Vec::new();
    let mut newer_lsn = head_ref.lsn;
    let mut current = head_ref.next_ptr();
    // SAFETY (loop): every pointer followed was reachable from the chain under `guard`.
    while let Some(version) = unsafe { deref(current, guard) } {
        let needed = newer_lsn > visible || {
            let first = views.partition_point(|&view| view < version.lsn);
            views.get(first).is_some_and(|&view| view < newer_lsn)
        };
        if needed {
            kept.push(current);
        } else {
            dropped.push(current);
        }
        newer_lsn = version.lsn;
        current = version.next_ptr();
    }
    // SAFETY: as above.
    while kept.len() > 1 && !unsafe { &**kept.last().expect("non-empty") }.is_live() {
        dropped.push(kept.pop().expect("non-empty"));
    }
    if dropped.is_empty() && (kept.len() > 1 || head_ref.is_live()) {
        return if kept.len() == 1 {
            Trim::Clean(Freed::default())
        } else {
            Trim::Pinned(Freed::default())
        };
    }
    // Relink the kept versions in order; the last one ends the chain. A reader standing on
    // a dropped version still follows its unchanged `next` to the versions it needs.
    for pair in kept.windows(2) {
        // SAFETY: kept versions are reachable and alive.
        let newer = unsafe { &*pair[0] };
        if newer.next_ptr() != pair[1] {
            newer.next.store(pair[1], Ordering::Release);
        }
    }
    // SAFETY: as above.
    let last = unsafe { &**kept.last().expect("the head is always kept") };
    if !last.next_ptr().is_null() {
        last.next.store(ptr::null_mut(), Ordering::Release);
    }
    let mut freed = Freed::default();
    for version in dropped {
        // SAFETY: unreachable from the chain now; readers that hold it are pinned.
        unsafe {
            freed.bytes += (*version).footprint();
            freed.versions += 1;
            freed.dead_values.extend((*version).pointer());
            Version::retire(version, guard);
        }
    }
    if !head_ref.is_live() && kept.len() == 1 {
        Trim::Empty(freed)
    } else if kept.len() == 1 {
        Trim::Clean(freed)
    } else {
        Trim::Pinned(freed)
    }
}

/// Frees a whole chain now (the index is being dropped; no reader exists).
///
/// # Safety
/// No reader can reach the chain and nothing else frees its versions.
pub(crate) unsafe fn free_chain(head: *mut Version) {
    let mut current = head;
    while !current.is_null() {
        // SAFETY: per the contract.
        unsafe {
            let next = (*current).next_ptr();
            Version::free(current);
            current = next;
        }
    }
}
