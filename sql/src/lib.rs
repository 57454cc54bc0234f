//! ByteData's SQL engine: PostgreSQL's dialect over the catalog and mvcc, planned and
//! executed by Apache DataFusion.
//!
//! # A statement, step by step
//!
//! 1. `Session::execute` (or `execute_prepared` for the extended protocol) takes a query
//!    string; `syntax::parse` turns it into statements with sqlparser's PostgreSQL
//!    dialect and rewrites what DataFusion would read differently from PostgreSQL.
//! 2. The session picks the transaction (its open block, an implicit one for several
//!    statements, or one of the statement's own) and routes the statement
//!    (`session::execute`): transaction control and SET/SHOW it answers itself.
//! 3. A point statement on a primary key (SELECT, UPDATE, DELETE by key; INSERT …
//!    VALUES) runs on the fast path (`fast`): no plan, one key read or written.
//! 4. Anything else gets a `planner::Planner`: a `context::StatementContext` (database,
//!    transaction, role, clock) and a DataFusion state that resolves names through it.
//! 5. A query is planned by DataFusion; its table scans are `provider::KvTable`s, which
//!    turn filters on key columns into point gets, prefix and range scans
//!    (`provider::access`) read at the transaction's snapshot (`provider::scan`); system
//!    tables are computed from the catalog (`system`).
//! 6. DML (`dml`) plans the rows to write as a query and writes them through
//!    `writer`, which keeps indexes and checks constraints; DDL (`ddl`) writes catalog
//!    descriptors in the same transaction.
//! 7. Rows stream back as Arrow batches (`context::result`); the server formats them
//!    with `bridge` and `bytedata_pgtypes`, and the session commits when they are read.
//!
//! # Layers
//!
//! Each module imports only modules listed before it (a test, `tests/layers.rs`, reads
//! every `use crate::…` and fails on one that climbs):
//!
//! | layer | modules | what |
//! |---|---|---|
//! | errors | `error`, `password` | SQLSTATE errors; SCRAM verifiers |
//! | values | `bridge` | Arrow arrays ↔ `bytedata_pgtypes` values |
//! | syntax | `syntax` | parsing and rewrites of the syntax tree |
//! | input | `copy` | COPY's data formats |
//! | context | `context` | statement context, settings, interrupt, cluster, results |
//! | catalog | `system`, `provider` | system tables; table providers over the kv store |
//! | planning | `planner` | DataFusion assembled for PostgreSQL; a statement's planner |
//! | writing | `writer` | rows, indexes and constraints written |
//! | execution | `dml`, `fast`, `ddl` | INSERT/UPDATE/DELETE, the fast path, DDL |
//! | session | `session` | a connection's state, routing, transactions |
//!
//! Every error a user can cause comes back as a `SqlError` with a PostgreSQL SQLSTATE.
//! Nothing is global: a statement's database and transaction travel in its context.

mod bridge;
mod context;
mod copy;
mod ddl;
mod dml;
mod error;
mod fast;
pub mod password;
mod planner;
mod provider;
mod session;
mod syntax;
mod system;
mod writer;

// The API the server (and the tests and benchmarks) use; nothing else is public.
pub use bridge::text::cell_text;
pub use bridge::{ColumnBuilder, field, finish_column, pg_type_of};
pub use context::activity;
pub use context::cluster::{
    Cluster, ClusterOptions, Database, MIN_MEMORY_LIMIT_BYTES, MasterKey, rotate_master_key,
};
pub use context::interrupt::{Canceller, Interrupt};
pub use context::result::{QueryResult, Rows, ValueRows, text_rows};
pub use context::settings::{REPORTED_SETTINGS, Settings};
pub use copy::{CopyFormat, CopyIn, CopyOptions};
pub use error::{Result, SqlError};
pub use planner::fresh_state;
pub use session::describe::Description;
pub use session::tables::TableInfo;
pub use session::{PreparedStatement, ReadKind, Session, is_transaction_control};
pub use syntax::{ident_name, parse};

/// The type a declared SQL type names (`PREPARE q (int, text)`).
pub fn declared_type(
    ty: &datafusion::sql::sqlparser::ast::DataType,
) -> Result<bytedata_pgtypes::DataType, SqlError> {
    syntax::typename::column_type(ty).map(|column| column.data_type)
}
pub use system::types::format_type;
