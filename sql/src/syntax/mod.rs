//! SQL text to statements: sqlparser's PostgreSQL dialect, the statements it does not
//! know (`parse`), and the rewrites of the parsed tree that make PostgreSQL's meaning
//! plannable by DataFusion — catalog query idioms (`catalog_queries`), scalar subqueries
//! and `ARRAY(…)` (`single_row`), set-returning functions in a select list
//! (`set_returning`) — plus the names a query's columns get (`naming`), type names
//! (`typename`) and the SQL text ByteData writes and reads back (`sql_text`).
//!
//! Everything here works on the syntax tree alone: no catalog, no transaction.

pub mod catalog_queries;
pub mod extract;
mod fetch;
mod literals;
pub mod naming;
mod parse;
pub mod set_returning;
pub mod similar;
pub mod single_row;
pub mod sql_text;
pub mod typename;
pub mod values;

pub use parse::{create_database_options, ident_name, is_checkpoint, object_name, parse};
