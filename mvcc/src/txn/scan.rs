//! Reading a range as a transaction sees it: the snapshot with the transaction's own
//! writes merged in (an own write replaces the snapshot's entry; an own delete hides it).

use std::collections::VecDeque;
use std::ops::{Bound, ControlFlow};

use bytedata_kv::{KeyRange, ReadView};
use bytes::Bytes;

use super::{Transaction, Writes};
use crate::Result;

/// Entries a scan fetches at a time.
const CHUNK: usize = 256;

pub(crate) fn owned_bounds(range: &impl KeyRange) -> (Bound<Bytes>, Bound<Bytes>) {
    let (start, end) = range.bounds();
    (
        start.map(Bytes::copy_from_slice),
        end.map(Bytes::copy_from_slice),
    )
}

pub(crate) fn slice_bound(bound: &Bound<Bytes>) -> Bound<&[u8]> {
    bound.as_ref().map(|bytes| &bytes[..])
}

/// Visits the merged entries from `start` towards `end` (in the direction of the walk)
/// until `f` breaks (or a value cannot be read).
pub(crate) fn merged_for_each<B>(
    view: &ReadView,
    writes: &Writes,
    start: Bound<&[u8]>,
    end: Bound<&[u8]>,
    reverse: bool,
    mut f: impl FnMut(&[u8], &[u8]) -> ControlFlow<B>,
) -> Result<Option<B>> {
    let (low, high) = if reverse { (end, start) } else { (start, end) };
    let mut own: Box<dyn Iterator<Item = (&Bytes, &Option<Bytes>)>> = if reverse {
        Box::new(writes.range::<_, [u8]>((low, high)).rev())
    } else {
        Box::new(writes.range::<_, [u8]>((low, high)))
    };
    let mut pending = own.next();
    let comes_first = |a: &[u8], b: &[u8]| if reverse { a > b } else { a < b };
    let mut result = None;
    view.for_each((low, high), reverse, |key, value| {
        // Own writes before this snapshot entry go first; one on the same key replaces it.
        while let Some((own_key, own_value)) = pending {
            if comes_first(own_key, key) {
                if let Some(own_value) = own_value
                    && let ControlFlow::Break(b) = f(own_key, own_value)
                {
                    result = Some(b);
                    return ControlFlow::Break(());
                }
                pending = own.next();
                continue;
            }
            if &own_key[..] == key {
                pending = own.next();
                return match own_value {
                    Some(own_value) => match f(key, own_value) {
                        ControlFlow::Continue(()) => ControlFlow::Continue(()),
                        ControlFlow::Break(b) => {
                            result = Some(b);
                            ControlFlow::Break(())
                        }
                    },
                    None => ControlFlow::Continue(()),
                };
            }
            break;
        }
        match f(key, value) {
            ControlFlow::Continue(()) => ControlFlow::Continue(()),
            ControlFlow::Break(b) => {
                result = Some(b);
                ControlFlow::Break(())
            }
        }
    })?;
    if result.is_some() {
        return Ok(result);
    }
    while let Some((own_key, own_value)) = pending {
        if let Some(own_value) = own_value
            && let ControlFlow::Break(b) = f(own_key, own_value)
        {
            return Ok(Some(b));
        }
        pending = own.next();
    }
    Ok(None)
}

/// An ordered iterator over a range as a transaction sees it, yielding owned pairs.
/// It reads the snapshot and the own writes as they were when it was opened.
pub struct TxnScan {
    txn: Transaction,
    view: ReadView,
    writes: Writes,
    /// Where the next chunk starts, and where the scan ends, in walking direction.
    cursor: Bound<Bytes>,
    start: Bound<Bytes>,
    end: Bound<Bytes>,
    reverse: bool,
    buffer: VecDeque<(Bytes, Bytes)>,
    finished: bool,
    /// Whether the caller took anything (a scan never pulled read nothing).
    pulled: bool,
    /// A value that could not be read; yielded after the entries before it.
    /// Boxed: scans are held by value in enums that should stay small.
    failure: Option<Box<crate::Error>>,
}

impl TxnScan {
    pub(crate) fn new(
        txn: Transaction,
        view: ReadView,
        writes: Writes,
        lower: Bound<Bytes>,
        upper: Bound<Bytes>,
        reverse: bool,
    ) -> Self {
        let (start, end) = if reverse {
            (upper, lower)
        } else {
            (lower, upper)
        };
        TxnScan {
            txn,
            view,
            writes,
            cursor: start.clone(),
            start,
            end,
            reverse,
            buffer: VecDeque::new(),
            finished: false,
            pulled: false,
            failure: None,
        }
    }

    fn fill(&mut self) -> Result<()> {
        let mut buffer = std::mem::take(&mut self.buffer);
        let walked = self.walk(CHUNK, |key, value| {
            buffer.push_back((Bytes::copy_from_slice(key), Bytes::copy_from_slice(value)));
            Ok::<(), crate::Error>(())
        });
        self.buffer = buffer;
        walked.map(|_| ())
    }

    /// Calls `f` with up to `limit` more entries, in place (nothing copied but the key
    /// the next call resumes after), and returns how many it visited: fewer than `limit`
    /// only at the end of the range. For scans that decode entries as they go. An error
    /// from `f`, or a value that cannot be read, ends the scan.
    pub fn visit<E: From<crate::Error>>(
        &mut self,
        limit: usize,
        mut f: impl FnMut(&[u8], &[u8]) -> Result<(), E>,
    ) -> Result<usize, E> {
        self.pulled = true;
        let mut visited = 0;
        // Entries `next` already fetched come first.
        while visited < limit {
            let Some((key, value)) = self.buffer.pop_front() else {
                break;
            };
            f(&key, &value)?;
            visited += 1;
        }
        if visited == limit || self.finished {
            return Ok(visited);
        }
        Ok(visited + self.walk(limit - visited, f)?)
    }

    /// Walks up to `limit` entries from the cursor and moves the cursor past them, or
    /// marks the scan finished when the range ends (or `f` fails) first.
    fn walk<E: From<crate::Error>>(
        &mut self,
        limit: usize,
        mut f: impl FnMut(&[u8], &[u8]) -> Result<(), E>,
    ) -> Result<usize, E> {
        debug_assert!(limit > 0 && !self.finished);
        let mut visited = 0;
        let mut failure = None;
        let mut resume_after = None;
        let stopped = merged_for_each(
            &self.view,
            &self.writes,
            slice_bound(&self.cursor),
            slice_bound(&self.end),
            self.reverse,
            |key, value| {
                if let Err(error) = f(key, value) {
                    failure = Some(error);
                    return ControlFlow::Break(());
                }
                visited += 1;
                if visited == limit {
                    resume_after = Some(Bytes::copy_from_slice(key));
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        );
        let stopped = match stopped {
            Ok(stopped) => stopped,
            Err(error) => {
                self.finished = true;
                return Err(E::from(error));
            }
        };
        if let Some(error) = failure {
            self.finished = true;
            return Err(error);
        }
        match (stopped, resume_after) {
            (Some(()), Some(last)) => self.cursor = Bound::Excluded(last),
            _ => self.finished = true,
        }
        Ok(visited)
    }
}

/// Yields the entries in order; a value that cannot be read is an error, after which the
/// scan ends.
impl Iterator for TxnScan {
    type Item = Result<(Bytes, Bytes)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.pulled = true;
        if self.buffer.is_empty()
            && !self.finished
            && let Err(error) = self.fill()
        {
            self.failure = Some(Box::new(error));
        }
        match self.buffer.pop_front() {
            Some(entry) => Some(Ok(entry)),
            None => self.failure.take().map(|error| Err(*error)),
        }
    }
}

impl Drop for TxnScan {
    fn drop(&mut self) {
        if !self.pulled || !self.txn.tracks_reads() {
            return;
        }
        // What was read: from the start up to the last entry fetched, or the whole range
        // once the scan reached its end (so an insert anywhere in it is a phantom).
        let reached = if self.finished {
            self.end.clone()
        } else {
            match &self.cursor {
                Bound::Excluded(last) => Bound::Included(last.clone()),
                other => other.clone(),
            }
        };
        let (low, high) = if self.reverse {
            (reached, self.start.clone())
        } else {
            (self.start.clone(), reached)
        };
        self.txn.record_range(low, high);
    }
}
