//! Read views: a consistent image of the store at one LSN that stays valid while writers
//! continue.
//!
//! A view registers its LSN with the `ViewRegistry` for as long as it lives; the garbage
//! collector keeps, for every registered LSN, the versions a reader at that LSN sees (see
//! `index`). Registration reads the visible LSN under the registry lock, and the collector
//! reads the registry under the same lock while holding the apply lock (so the visible LSN
//! cannot move): a view is therefore either in the collector's list, or at an LSN at or
//! above the visible one, whose versions the collector never removes.
//!
//! Scans copy entries out in small chunks, each under a short epoch pin, so a long scan
//! neither holds a lock nor keeps the epoch collector from freeing memory.
//!
//! In a hybrid store a read may go to the value log, which can fail (an I/O error, a
//! damaged entry): every read that returns values returns a `Result`. A value's pointer
//! is followed while the epoch is still pinned, so the file it names is still there.

use std::collections::VecDeque;
use std::ops::{
    Bound, ControlFlow, Range, RangeFrom, RangeFull, RangeInclusive, RangeTo, RangeToInclusive,
};
use std::sync::Arc;

use crossbeam_epoch as epoch;

use crate::Lsn;
use crate::error::{Error, Result};
use crate::index::{Index, Stored, Walk, before_end};
use crate::inner::Inner;

impl Inner {
    /// Calls `f` with the value `stored` holds or points at (`None`: no value).
    pub(crate) fn with_value<R>(
        &self,
        stored: Option<Stored<'_>>,
        f: impl FnOnce(Option<&[u8]>) -> R,
    ) -> Result<R> {
        match stored {
            None => Ok(f(None)),
            Some(Stored::Inline(value)) => Ok(f(Some(value))),
            Some(Stored::Pointer(pointer)) => {
                let values = self.values.as_ref().ok_or_else(|| {
                    Error::Failed("a value pointer in a store without a value log".into())
                })?;
                let value = values.read(&pointer)?;
                Ok(f(Some(&value)))
            }
        }
    }
}

struct Registration {
    store: Arc<Inner>,
    lsn: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.store.views.unregister(self.lsn);
    }
}

/// A consistent, read-only image of the store at one LSN. Cheap to clone.
#[derive(Clone)]
pub struct ReadView {
    registration: Arc<Registration>,
}

impl ReadView {
    pub(crate) fn new(store: Arc<Inner>) -> Self {
        let lsn = store.views.register(&store.visible_lsn);
        ReadView {
            registration: Arc::new(Registration { store, lsn }),
        }
    }

    /// Every batch with an LSN at or below this one is visible, and no other.
    pub fn lsn(&self) -> Lsn {
        Lsn(self.registration.lsn)
    }

    fn index(&self) -> &Index {
        &self.registration.store.index
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.get_with(key, |value| value.map(<[u8]>::to_vec))
    }

    /// Calls `f` with the value of `key` borrowed from the index (or the value cache),
    /// without copying it.
    pub fn get_with<R>(&self, key: &[u8], f: impl FnOnce(Option<&[u8]>) -> R) -> Result<R> {
        let guard = epoch::pin();
        let stored = self
            .index()
            .read(key, self.registration.lsn, &guard)
            .and_then(|version| version.stored());
        self.registration.store.with_value(stored, f)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        let guard = epoch::pin();
        self.index()
            .read(key, self.registration.lsn, &guard)
            .is_some_and(|version| version.stored().is_some())
    }

    /// The LSN of the newest write of `key` visible to this view (a delete counts).
    pub fn last_write(&self, key: &[u8]) -> Option<Lsn> {
        let guard = epoch::pin();
        self.index()
            .read(key, self.registration.lsn, &guard)
            .map(|version| Lsn(version.lsn()))
    }

    /// Entries of `range` in ascending key order.
    pub fn scan(&self, range: impl KeyRange) -> Scan {
        Scan::new(self.clone(), &range, false)
    }

    /// Entries of `range` in descending key order.
    pub fn scan_rev(&self, range: impl KeyRange) -> Scan {
        Scan::new(self.clone(), &range, true)
    }

    /// Keys that cut `range` into up to `parts` pieces of similar size, for scanning them
    /// in parallel (see `Index::split_keys`); none for a range too small to be worth it.
    pub fn split_keys(&self, range: impl KeyRange, parts: usize) -> Vec<Vec<u8>> {
        let (start, end) = range.bounds();
        let guard = epoch::pin();
        self.index().split_keys(start, end, parts, &guard)
    }

    /// Calls `f` on every entry of `range` in order without copying, until it breaks.
    pub fn for_each<B>(
        &self,
        range: impl KeyRange,
        reverse: bool,
        mut f: impl FnMut(&[u8], &[u8]) -> ControlFlow<B>,
    ) -> Result<Option<B>> {
        let store = &self.registration.store;
        let mut failure = None;
        let stopped = self.for_each_stored(range, reverse, |key, stored| {
            match store.with_value(Some(stored), |value| f(key, value.unwrap_or_default())) {
                Ok(flow) => flow.map_break(Ok),
                Err(error) => {
                    failure = Some(error);
                    ControlFlow::Break(Err(()))
                }
            }
        });
        match (stopped, failure) {
            (_, Some(error)) => Err(error),
            (Some(Ok(b)), None) => Ok(Some(b)),
            _ => Ok(None),
        }
    }

    /// `for_each` over what the index holds: values or their pointers (snapshots).
    pub(crate) fn for_each_stored<B>(
        &self,
        range: impl KeyRange,
        reverse: bool,
        mut f: impl FnMut(&[u8], Stored<'_>) -> ControlFlow<B>,
    ) -> Option<B> {
        let (lower, upper) = owned_bounds(&range);
        let mut cursor = if reverse {
            upper.clone()
        } else {
            lower.clone()
        };
        let end = if reverse { lower } else { upper };
        loop {
            let guard = epoch::pin();
            let mut result = None;
            let step = self.index().walk(
                self.registration.lsn,
                as_ref(&cursor),
                as_ref(&end),
                reverse,
                &guard,
                |key, value| match f(key, value) {
                    ControlFlow::Continue(()) => true,
                    ControlFlow::Break(b) => {
                        result = Some(b);
                        false
                    }
                },
            );
            match step {
                Walk::Finished => return None,
                Walk::Stopped => return result,
                Walk::Paused(last) => cursor = Bound::Excluded(last),
            }
        }
    }
}

/// A range of keys: any of Rust's range forms (`..`, `a..b`, `a..=b`, `a..`, `..b`,
/// `..=b`) or a pair of `Bound`s, over anything that is bytes.
pub trait KeyRange {
    fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>);
}

impl KeyRange for RangeFull {
    fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (Bound::Unbounded, Bound::Unbounded)
    }
}

impl<K: AsRef<[u8]>> KeyRange for Range<K> {
    fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (
            Bound::Included(self.start.as_ref()),
            Bound::Excluded(self.end.as_ref()),
        )
    }
}

impl<K: AsRef<[u8]>> KeyRange for RangeInclusive<K> {
    fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (
            Bound::Included(self.start().as_ref()),
            Bound::Included(self.end().as_ref()),
        )
    }
}

impl<K: AsRef<[u8]>> KeyRange for RangeFrom<K> {
    fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (Bound::Included(self.start.as_ref()), Bound::Unbounded)
    }
}

impl<K: AsRef<[u8]>> KeyRange for RangeTo<K> {
    fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (Bound::Unbounded, Bound::Excluded(self.end.as_ref()))
    }
}

impl<K: AsRef<[u8]>> KeyRange for RangeToInclusive<K> {
    fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (Bound::Unbounded, Bound::Included(self.end.as_ref()))
    }
}

impl<K: AsRef<[u8]>> KeyRange for (Bound<K>, Bound<K>) {
    fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (
            self.0.as_ref().map(AsRef::as_ref),
            self.1.as_ref().map(AsRef::as_ref),
        )
    }
}

fn owned_bounds(range: &impl KeyRange) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let (start, end) = range.bounds();
    (start.map(<[u8]>::to_vec), end.map(<[u8]>::to_vec))
}

fn as_ref(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    bound.as_ref().map(Vec::as_slice)
}

/// An ordered iterator over a range of a read view, yielding owned `(key, value)` pairs.
pub struct Scan {
    view: ReadView,
    /// The range bounds as given; `seek` never leaves them.
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
    /// Where the next chunk starts, moving towards `end`.
    cursor: Bound<Vec<u8>>,
    reverse: bool,
    buffer: VecDeque<(Vec<u8>, Vec<u8>)>,
    finished: bool,
    failure: Option<Error>,
}

impl Scan {
    fn new(view: ReadView, range: &impl KeyRange, reverse: bool) -> Self {
        let (lower, upper) = owned_bounds(range);
        let cursor = if reverse {
            upper.clone()
        } else {
            lower.clone()
        };
        Scan {
            view,
            lower,
            upper,
            cursor,
            reverse,
            buffer: VecDeque::new(),
            finished: false,
            failure: None,
        }
    }

    /// Repositions the scan: the next entry is the first at or after `key` (forward) or
    /// the last at or before it (backward), still within the scan's range.
    pub fn seek(&mut self, key: &[u8]) {
        let (bound, inside) = if self.reverse {
            (&self.upper, before_end(key, as_ref(&self.upper), false))
        } else {
            (&self.lower, before_end(key, as_ref(&self.lower), true))
        };
        self.cursor = if inside {
            Bound::Included(key.to_vec())
        } else {
            bound.clone()
        };
        self.buffer.clear();
        self.finished = false;
        self.failure = None;
    }

    fn fill(&mut self) {
        let guard = epoch::pin();
        let end = if self.reverse {
            &self.lower
        } else {
            &self.upper
        };
        let buffer = &mut self.buffer;
        let store = &self.view.registration.store;
        let failure = &mut self.failure;
        let step = self.view.index().walk(
            self.view.registration.lsn,
            as_ref(&self.cursor),
            as_ref(end),
            self.reverse,
            &guard,
            |key, stored| match store
                .with_value(Some(stored), |value| value.unwrap_or_default().to_vec())
            {
                Ok(value) => {
                    buffer.push_back((key.to_vec(), value));
                    true
                }
                Err(error) => {
                    *failure = Some(error);
                    false
                }
            },
        );
        match step {
            Walk::Finished | Walk::Stopped => self.finished = true,
            Walk::Paused(last) => self.cursor = Bound::Excluded(last),
        }
    }
}

/// Yields the entries in order; an entry whose value cannot be read is an error, after
/// which the scan ends.
impl Iterator for Scan {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.buffer.is_empty() && !self.finished {
            self.fill();
        }
        match self.buffer.pop_front() {
            Some(entry) => Some(Ok(entry)),
            None => self.failure.take().map(Err),
        }
    }
}
