//! Transactions over the kv engine: READ COMMITTED, REPEATABLE READ (snapshot isolation)
//! and SERIALIZABLE, with savepoints, row locks and garbage collection of old versions.
//!
//! # Design
//!
//! The kv engine is already multi-version: each key holds a chain of versions stamped
//! with the LSN of the batch that wrote them, and a `ReadView` reads the store as of one
//! LSN. This crate builds transactions on that:
//!
//! - **Timestamps.** A commit's timestamp is the LSN of its kv batch; the kv store hands
//!   out LSNs in commit order. The store's *visible LSN* is the read watermark: every
//!   batch at or below it is fully applied, none above it is seen. A snapshot is a read
//!   view at the visible LSN, so it never sees part of a transaction.
//! - **Writes** are buffered in the transaction and merged into its reads; at commit they
//!   become one kv batch, atomic in memory and on disk.
//! - **Locks.** Every key a transaction writes is locked exclusively until it ends
//!   (`locks`): a second writer waits, as in PostgreSQL, and a wait that would never end
//!   fails as a deadlock. At READ COMMITTED a writer then reads the latest committed
//!   version (so concurrent increments are never lost); at REPEATABLE READ and above, a
//!   key committed after the snapshot cannot be written (first updater wins: 40001).
//! - **SERIALIZABLE** transactions record the keys they read and the ranges they scan;
//!   at commit these are checked against the write sets of every transaction that
//!   committed after the snapshot (`commit_log`). Commits are thereby equivalent to a
//!   serial execution in commit (LSN) order, and a read-only transaction — which reads a
//!   prefix of that order — needs no check and never aborts.
//! - **Garbage.** Old versions are trimmed by the kv garbage collector as soon as no
//!   registered read view (every transaction's snapshot is one) can see them.
//!
//! See docs/transactions.md for the exact guarantees and errors.
//!
//! # Example
//!
//! ```
//! use bytedata_mvcc::{Engine, IsolationLevel, TxnOptions};
//!
//! # fn main() -> bytedata_mvcc::Result<()> {
//! let engine = Engine::open(bytedata_kv::Options::memory())?;
//! let setup = engine.begin(TxnOptions::default());
//! setup.put("account/1", "100")?;
//! setup.commit()?;
//!
//! let txn = engine.begin(TxnOptions::isolation(IsolationLevel::Serializable));
//! let balance = txn.get(b"account/1")?; // snapshot + own writes
//! assert_eq!(balance.as_deref(), Some(&b"100"[..]));
//! txn.put("account/1", "80")?; // locks the key until the end
//! txn.commit()?; // 40001 if it cannot serialize
//! # Ok(())
//! # }
//! ```

mod commit_log;
mod engine;
mod error;
mod locks;
mod options;
mod shared;
mod txn;

pub use engine::{Engine, EngineStats};
pub use error::{Error, Result};
pub use locks::LockWait;
pub use options::{IsolationLevel, TxnOptions};
pub use txn::{CancelHandle, NoWaitScope, Transaction, TxnReader, TxnScan};

pub use bytedata_kv::Lsn;
