//! The one error type of the engine. Every variant names what went wrong in terms a user
//! can act on: which limit, which file and offset, which operation.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("key of {len} bytes exceeds the limit of {max} bytes")]
    KeyTooLarge { len: usize, max: usize },

    #[error("value of {len} bytes exceeds the limit of {max} bytes")]
    ValueTooLarge { len: usize, max: usize },

    #[error("write batch of {bytes} bytes exceeds the limit of {max} bytes")]
    BatchTooLarge { bytes: usize, max: usize },

    /// The write would take the store past its memory budget; nothing was written.
    /// Deletes and reads still work.
    #[error(
        "out of memory: the write needs about {needed_bytes} bytes, {used_bytes} of the store's memory limit of {limit_bytes} bytes are in use"
    )]
    MemoryLimit {
        needed_bytes: u64,
        used_bytes: u64,
        limit_bytes: u64,
    },

    /// Data on disk is damaged in a way recovery must not paper over.
    #[error("corruption in {}: {reason} (at byte offset {offset})", file.display())]
    Corruption {
        file: PathBuf,
        offset: u64,
        reason: String,
    },

    /// A sealed record failed authentication: it was altered, moved from elsewhere, or
    /// sealed under another key. Never mistaken for a torn write (those fail the
    /// checksum first), so recovery stops instead of truncating or falling back.
    #[error(
        "authentication failed in {} at byte offset {offset}: the data was altered or does not belong there", file.display()
    )]
    AuthenticationFailed { file: PathBuf, offset: u64 },

    /// A missing, wrong or malformed key, or an encryption setting the store's data
    /// contradicts. Nothing was loaded.
    #[error("encryption: {0}")]
    Encryption(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },

    /// A write or fsync of the log failed. The outcome of in-flight commits is unknown
    /// and retrying an fsync cannot be trusted (the kernel may have dropped the dirty
    /// pages), so the store refuses all further writes until it is reopened, when
    /// recovery establishes what is durable.
    #[error("the store stopped accepting writes after a storage failure and must be reopened: {0}")]
    Failed(Arc<str>),

    #[error("the store is closed")]
    Closed,

    #[error("data directory {} is in use by another process", .0.display())]
    Locked(PathBuf),

    #[error("invalid configuration: {0}")]
    Config(String),
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn corruption(
        file: impl Into<PathBuf>,
        offset: u64,
        reason: impl Into<String>,
    ) -> Self {
        Error::Corruption {
            file: file.into(),
            offset,
            reason: reason.into(),
        }
    }
}
