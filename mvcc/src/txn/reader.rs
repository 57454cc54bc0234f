//! `TxnReader`: a transaction's reads frozen at one moment — its snapshot (or the latest
//! commits) merged with its own writes as they were — for scans that must not see what
//! the statement itself writes while they run.

use super::*;

impl Transaction {
    /// A reader frozen at this moment: the snapshot (the statement's, at READ COMMITTED)
    /// with the own writes made so far, and none made later. A statement reads through
    /// one, so it never sees its own output (an `UPDATE` that moves a row ahead of its
    /// scan must not meet it again).
    pub fn reader(&self) -> Result<TxnReader> {
        let state = self.active_state()?;
        Ok(TxnReader {
            txn: self.clone(),
            view: state.view().clone(),
            writes: state.writes.clone(),
        })
    }

    /// A reader of the latest committed state (not the snapshot) with the own writes made
    /// so far: for checks that must see concurrent commits, such as a foreign key's
    /// referencing rows when the referenced row goes.
    pub fn latest_reader(&self) -> Result<TxnReader> {
        let state = self.active_state()?;
        Ok(TxnReader {
            txn: self.clone(),
            view: self.inner.engine.store.read_view(),
            writes: state.writes.clone(),
        })
    }
}

/// A transaction's reads frozen at one moment (see `Transaction::reader`). Reads are
/// still recorded for serializable validation.
#[derive(Clone)]
pub struct TxnReader {
    txn: Transaction,
    view: ReadView,
    writes: Writes,
}

impl TxnReader {
    pub fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        self.get_with(key, |value| value.map(Bytes::copy_from_slice))
    }

    pub fn get_with<R>(&self, key: &[u8], f: impl FnOnce(Option<&[u8]>) -> R) -> Result<R> {
        self.txn.note_read(key);
        match self.writes.get(key) {
            Some(own) => Ok(f(own.as_deref())),
            None => Ok(self.view.get_with(key, f)?),
        }
    }

    pub fn scan(&self, range: impl bytedata_kv::KeyRange) -> TxnScan {
        self.open_scan(&range, false)
    }

    pub fn scan_rev(&self, range: impl bytedata_kv::KeyRange) -> TxnScan {
        self.open_scan(&range, true)
    }

    fn open_scan(&self, range: &impl bytedata_kv::KeyRange, reverse: bool) -> TxnScan {
        let (lower, upper) = owned_bounds(range);
        TxnScan::new(
            self.txn.clone(),
            self.view.clone(),
            self.writes.clone(),
            lower,
            upper,
            reverse,
        )
    }

    /// Keys that cut `range` into up to `parts` pieces of similar size in the snapshot,
    /// for scanning them in parallel; none when the range is too small to be worth it.
    /// The own writes do not move the cuts (every piece still merges them in).
    pub fn split_keys(&self, range: impl bytedata_kv::KeyRange, parts: usize) -> Vec<Vec<u8>> {
        self.view.split_keys(range, parts)
    }

    pub fn transaction(&self) -> &Transaction {
        &self.txn
    }
}
