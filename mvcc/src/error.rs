//! Errors of transactions, each with the PostgreSQL SQLSTATE the SQL layer reports.

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The transaction cannot commit (or go on) without breaking its isolation level.
    /// Retrying the whole transaction may succeed.
    #[error("could not serialize access due to {reason}")]
    Serialization { reason: &'static str },

    /// Waiting for a lock would wait forever; this transaction was chosen to fail.
    #[error(
        "deadlock detected: transaction {waiter} waits for transaction {holder}, which waits for it"
    )]
    Deadlock { waiter: u64, holder: u64 },

    /// A lock was held by another transaction and the request did not wait (NOWAIT),
    /// or waited longer than the lock timeout.
    #[error("could not obtain lock on row: {reason}")]
    LockNotAvailable { reason: &'static str },

    #[error("canceling statement due to user request")]
    Canceled,

    #[error("cannot execute {operation} in a read-only transaction")]
    ReadOnly { operation: &'static str },

    #[error("savepoint \"{0}\" does not exist")]
    NoSuchSavepoint(String),

    /// The transaction already committed or rolled back.
    #[error("the transaction is no longer active")]
    NotActive,

    #[error(transparent)]
    Storage(#[from] bytedata_kv::Error),
}

impl Error {
    /// The SQLSTATE PostgreSQL reports for this condition.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            Error::Serialization { .. } => "40001",
            Error::Deadlock { .. } => "40P01",
            Error::LockNotAvailable { .. } => "55P03",
            Error::Canceled => "57014",
            Error::ReadOnly { .. } => "25006",
            Error::NoSuchSavepoint(_) => "3B001",
            Error::NotActive => "25P01",
            Error::Storage(error) => storage_sqlstate(error),
        }
    }

    /// Whether running the whole transaction again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Serialization { .. } | Error::Deadlock { .. })
    }
}

fn storage_sqlstate(error: &bytedata_kv::Error) -> &'static str {
    use bytedata_kv::Error as Kv;
    match error {
        Kv::KeyTooLarge { .. } | Kv::ValueTooLarge { .. } | Kv::BatchTooLarge { .. } => "54000",
        Kv::MemoryLimit { .. } => "53200",
        Kv::Corruption { .. } | Kv::AuthenticationFailed { .. } => "XX001",
        Kv::Io { .. } | Kv::Failed(_) => "58030",
        Kv::Closed => "57P01",
        Kv::Locked(_) | Kv::Config(_) | Kv::Encryption(_) => "XX000",
    }
}
