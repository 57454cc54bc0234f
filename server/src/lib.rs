//! The ByteData server: the PostgreSQL wire protocol over the SQL engine, and the
//! `bytedata` command.
//!
//! One tokio task per connection (`connection`). A connection owns one `Session` of the
//! sql crate and speaks the protocol itself — startup and authentication, the simple and
//! extended query protocols, COPY — using pgwire only for TLS negotiation, message framing
//! and the SCRAM exchange. Owning the loop lets replies be buffered until the client
//! waits for them (Sync, the end of a simple query, a suspended portal), which saves one
//! system call per message: the wire, not the database, is the limit for small queries.
//!
//! Statements can block their thread — a lock wait, the fsync of a commit — so they run
//! under `block_in_place`, which moves the connection's reactor work elsewhere meanwhile.
//!
//! Invariants:
//! - every path out of a message handler leaves the session's transaction state and the
//!   ReadyForQuery status consistent: the status sent is always the session's;
//! - after an error in the extended protocol every message up to Sync is discarded, as
//!   PostgreSQL does;
//! - nothing a client sends can panic the server: bad messages get 08P01, bad values
//!   22P02/22P03, and a panic inside a statement is the statement's error (XX000).

pub mod auth;
pub mod config;
pub mod connection;
pub mod http;
pub mod listener;
pub mod metrics;
pub mod monitor;
pub mod process;
pub mod registry;
pub mod shell;
pub mod tls;
pub mod tokens;
pub mod wire;
