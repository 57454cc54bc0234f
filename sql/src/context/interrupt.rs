//! Stopping a running statement: a cancel request from another connection, or the
//! session's `statement_timeout`.
//!
//! Nothing is preempted. The long-running loops — scans, per-row subqueries, the DML
//! writer — call `Interrupt::check` once per batch or per few hundred rows, and lock waits
//! in mvcc watch the transaction's cancel flag, which `cancel` and the timeout timer set.
//! A statement that notices returns 57014 with PostgreSQL's message for the cause; its
//! transaction then ends as after any other error.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytedata_mvcc::CancelHandle;
use parking_lot::Mutex;

use crate::error::SqlError;

#[derive(Debug)]
pub struct Interrupt {
    /// Set by `cancel` until the next statement starts.
    canceled: AtomicBool,
    /// The running statement's deadline, in ns after `epoch`; 0 for none.
    deadline_ns: AtomicU64,
    epoch: Instant,
    /// The running statement's transaction, whose lock waits a cancel must wake.
    transaction: Mutex<Option<CancelHandle>>,
    /// Rows streamed after the statement returned failed: its transaction block has
    /// failed too (taken by the session before the next statement).
    stream_failed: AtomicBool,
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt {
            canceled: AtomicBool::new(false),
            deadline_ns: AtomicU64::new(0),
            epoch: Instant::now(),
            transaction: Mutex::new(None),
            stream_failed: AtomicBool::new(false),
        }
    }
}

impl Interrupt {
    /// Arms the flags for a statement about to run in the transaction of `handle`.
    pub fn start(&self, handle: CancelHandle, timeout: Option<Duration>) {
        self.canceled.store(false, Ordering::Release);
        handle.reset();
        let deadline_ns = match timeout {
            Some(timeout) => {
                let at = self.epoch.elapsed() + timeout;
                u64::try_from(at.as_nanos()).unwrap_or(u64::MAX).max(1)
            }
            None => 0,
        };
        self.deadline_ns.store(deadline_ns, Ordering::Release);
        *self.transaction.lock() = Some(handle);
    }

    /// Asks the running statement, if any, to stop (a CancelRequest). A request that
    /// arrives between statements is void: the next statement's `start` clears it.
    pub fn cancel(&self) {
        let transaction = self.transaction.lock();
        if let Some(handle) = transaction.as_ref() {
            self.canceled.store(true, Ordering::Release);
            handle.cancel();
        }
    }

    /// Wakes lock waits once the deadline has passed (called by the timeout timer).
    pub(crate) fn expire(&self) {
        if self.timed_out()
            && let Some(handle) = self.transaction.lock().as_ref()
        {
            handle.cancel();
        }
    }

    /// The deadline of the running statement, if it has one.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self.deadline_ns.load(Ordering::Acquire) {
            0 => None,
            ns => Some(self.epoch + Duration::from_nanos(ns)),
        }
    }

    fn timed_out(&self) -> bool {
        match self.deadline_ns.load(Ordering::Acquire) {
            0 => false,
            ns => self.epoch.elapsed().as_nanos() >= u128::from(ns),
        }
    }

    pub(crate) fn set_stream_failed(&self) {
        self.stream_failed.store(true, Ordering::Release);
    }

    pub(crate) fn stream_failed(&self) -> bool {
        self.stream_failed.load(Ordering::Acquire)
    }

    pub(crate) fn take_stream_failed(&self) -> bool {
        self.stream_failed.swap(false, Ordering::AcqRel)
    }

    /// `Err(57014)` once the statement should stop.
    pub fn check(&self) -> Result<(), SqlError> {
        match self.cause() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Why the statement was stopped, if it was.
    pub fn cause(&self) -> Option<SqlError> {
        if self.canceled.load(Ordering::Acquire) {
            Some(SqlError::new(
                "57014",
                "canceling statement due to user request",
            ))
        } else if self.timed_out() {
            Some(SqlError::new(
                "57014",
                "canceling statement due to statement timeout",
            ))
        } else {
            None
        }
    }
}

/// What the server keeps to cancel a session's statements from another connection.
pub type Canceller = Arc<Interrupt>;
