//! ByteData's SQL engine: a PostgreSQL dialect over the catalog and mvcc, planned and
//! executed by Apache DataFusion.
//!
//! A `Session` is one client's connection: `execute(sql)` parses with sqlparser (the
//! version DataFusion re-exports), then routes each statement:
//!
//! - transaction control and settings (`BEGIN`, `SET`, `SHOW` …) are handled by the
//!   session itself (`session`);
//! - point statements on a primary key (SELECT, UPDATE, DELETE by key; INSERT … VALUES)
//!   run on the fast path beside DataFusion, without a plan (`fast`);
//! - queries are planned by DataFusion; table scans go through `provider`, which turns
//!   filters on key columns into point gets, prefix and range scans of the kv store, read
//!   at the statement's transaction snapshot;
//! - DML (`dml`) and DDL (`ddl`) are ours: DataFusion evaluates the expressions and
//!   source queries, and we write rows, keep indexes and check constraints.
//!
//! Every error a user can cause comes back as a `SqlError` with a PostgreSQL SQLSTATE.
//! Nothing here is global: the statement's database and transaction travel in
//! DataFusion's session config (`provider::StatementContext`).

pub mod bridge;
pub mod cluster;
pub mod copy;
pub mod ddl;
pub mod dml;
pub mod error;
pub(crate) mod fast;
pub mod functions;
pub mod json;
pub mod json_build;
pub mod naming;
pub mod parse;
pub mod password;
pub mod pgtypes;
pub mod provider;
pub mod result;
pub mod session;
mod set_returning;
pub mod single_row;
pub mod subquery;
pub mod system;
pub mod to_char;

pub use cluster::{Cluster, ClusterOptions, Database};
pub use error::{Result, SqlError};
pub use result::{QueryResult, Rows, text_rows};
pub use session::Session;
