//! The catalog: how SQL values become ordered kv keys and compact row values, and the
//! transactional system catalog (databases, schemas, tables, indexes, sequences, roles).
//!
//! # Design
//!
//! - **Keys** (`keys`, `keycode`): every key is `[table id][index id][key columns]`. Key
//!   columns use an order-preserving encoding: byte order equals PostgreSQL's order of the
//!   tuples, per column ascending or descending with PostgreSQL's NULL placement, and a key
//!   prefix encodes to a byte prefix — so equality on leading key columns is a prefix scan
//!   and a range on the next one a range scan.
//! - **Rows** (`rowcode`, `table`): non-key columns in a compact format that records the
//!   table version it was written under; adding or dropping a column never rewrites rows.
//!   Scans decode only the columns they read (`projection`), from the raw stored bytes.
//! - **Descriptors** (`descriptor`, `catalog`, `system`): schemas, tables, sequences,
//!   databases and roles are JSON descriptors under their ids, with a name table; both are
//!   read and written in mvcc transactions, so DDL is transactional. Ids (which are also
//!   OIDs), sequence values and hidden row ids come from counters outside transactions
//!   (`counters`), never repeating a value.
//!
//! Values and types are `bytedata_pgtypes`' (`Value`, `DataType`, `Numeric`): this crate
//! decides only how they are laid out in keys and rows.
//!
//! Each database has its own store (its own storage configuration); the system store holds
//! the databases and roles. The formats are documented byte by byte in
//! docs/key-encoding.md.

pub mod catalog;
mod counters;
pub mod descriptor;
pub mod error;
pub mod keycode;
pub mod keys;
mod objects;
pub mod projection;
mod reclaim;
pub mod rowcode;
pub mod system;
pub mod table;

pub use catalog::{Catalog, Relation};
pub use counters::CounterSpec;
pub use error::{CatalogError, Result};
pub use objects::NameEntry;
pub use system::SystemCatalog;
