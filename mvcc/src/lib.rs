//! Transactions over the kv engine: snapshot isolation, serializable, savepoints and
//! garbage collection of old versions. Not written yet; see the mvcc issue.
