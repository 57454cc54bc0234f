//! The loader thread of a COPY whose lines hold every column: it writes batches of typed
//! rows into the statement's transaction while the connection parses the next ones.
//!
//! This file is the thread and its channel; what the thread runs — writing rows through
//! the statement's writers — is `dml::copy::load_rows`, handed to `start`.
//!
//! The channel holds at most `QUEUED_BATCHES` batches, so a client sending faster than
//! rows can be written waits (its socket fills) rather than the server buffering the
//! whole load twice. The loader owns a planner of the statement (its transaction, its
//! session state for CHECKs, its catalog), and nothing else writes that transaction
//! until the loader has ended: `finish` and `abort` both wait for the thread.
//!
//! Rows are written only when `Load::Finish` arrives after them; a channel closed without
//! it (the COPY failed, or the connection went) ends the loader without running the
//! statement's deferred checks, and the caller rolls back.

use bytedata_pgtypes::Value;
use tokio::sync::mpsc;

use crate::error::{Result, SqlError};

/// Batches parsed ahead of the one being written.
const QUEUED_BATCHES: usize = 2;

pub(crate) enum Load {
    Rows(Vec<Vec<Value>>),
    /// No more rows: run the deferred checks and report the count.
    Finish,
}

/// A running loader thread, or the outcome of one that ended.
pub(crate) struct CopyLoader {
    sender: Option<mpsc::Sender<Load>>,
    thread: Option<std::thread::JoinHandle<Result<Option<u64>>>>,
    /// Set once the thread has been joined.
    outcome: Option<Result<Option<u64>>>,
}

impl CopyLoader {
    /// Starts a thread running `load` over what is sent: it returns the count of rows
    /// written once `Load::Finish` arrives, `None` if the channel closed before.
    pub(crate) fn start<F>(load: F) -> Result<CopyLoader>
    where
        F: FnOnce(LoadReceiver) -> Result<Option<u64>> + Send + 'static,
    {
        let (sender, receiver) = mpsc::channel(QUEUED_BATCHES);
        let thread = std::thread::Builder::new()
            .name("copy-loader".into())
            .spawn(move || load(LoadReceiver(receiver)))
            .map_err(|error| {
                SqlError::internal(format!("cannot start the COPY loader: {error}"))
            })?;
        Ok(CopyLoader {
            sender: Some(sender),
            thread: Some(thread),
            outcome: None,
        })
    }

    /// Hands a batch to the loader, waiting while it is `QUEUED_BATCHES` behind. If the
    /// loader has stopped on an error, that error.
    pub(crate) async fn send(&mut self, rows: Vec<Vec<Value>>) -> Result<()> {
        assert!(!rows.is_empty());
        let sent = match &self.sender {
            Some(sender) => sender.send(Load::Rows(rows)).await.is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        match self.join() {
            Err(error) => Err(error),
            Ok(_) => Err(SqlError::internal("the COPY loader ended early")),
        }
    }

    /// Ends the load: the loader writes what it was sent, runs the deferred checks and
    /// reports how many rows it wrote.
    pub(crate) async fn finish(&mut self) -> Result<u64> {
        if let Some(sender) = self.sender.take() {
            // A closed channel means the loader failed: `join` has its error.
            let _ = sender.send(Load::Finish).await;
        }
        match self.join()? {
            Some(count) => Ok(count),
            None => Err(SqlError::internal("the COPY loader ended without its rows")),
        }
    }

    /// Stops the loader without finishing; its error, if it had failed.
    pub(crate) fn abort(&mut self) -> Option<SqlError> {
        self.sender = None;
        self.join().err()
    }

    /// Waits for the thread (once) and returns its outcome.
    fn join(&mut self) -> Result<Option<u64>> {
        self.sender = None;
        if let Some(thread) = self.thread.take() {
            let outcome = thread
                .join()
                .unwrap_or_else(|_| Err(SqlError::internal("the COPY loader panicked")));
            self.outcome = Some(outcome);
        }
        match &self.outcome {
            Some(Ok(count)) => Ok(*count),
            Some(Err(error)) => Err(error.clone()),
            None => Err(SqlError::internal("the COPY loader was never started")),
        }
    }
}

impl Drop for CopyLoader {
    fn drop(&mut self) {
        // The transaction is not to be touched by anyone else while the thread writes.
        let _ = self.abort();
    }
}

/// The loader thread's end of the channel.
pub(crate) struct LoadReceiver(mpsc::Receiver<Load>);

impl LoadReceiver {
    /// The next message, waiting for it; `None` once the sender is gone.
    pub(crate) fn next(&mut self) -> Option<Load> {
        self.0.blocking_recv()
    }
}
