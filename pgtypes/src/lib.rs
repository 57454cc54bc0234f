//! PostgreSQL's value semantics, in one place: what a value of each type *is*, how it is
//! read from text and printed, how it travels in binary, and how type modifiers bound it.
//!
//! # Where this sits
//!
//! This is the bottom crate of ByteData beside `kv`: it knows nothing of storage,
//! transactions, DataFusion or Arrow. The catalog encodes `Value`s into keys and rows; the
//! SQL layer converts them to and from Arrow arrays; the wire server parses parameters and
//! formats results with them. Because all three agree through this crate, a value reads
//! back as it was written whichever way it travelled.
//!
//! # Map
//!
//! - `types`: `DataType`, a column's type with its modifier; OIDs, typmods, the names
//!   `format_type` prints, and the OID tables clients type parameters by.
//! - `value`: `Value`, a value in its stored form (days and microseconds counted from
//!   PostgreSQL's epoch, 2000-01-01), `Interval`, and PostgreSQL's btree order.
//! - `numeric`: arbitrary-precision decimals with a display scale, NaN and ±Infinity,
//!   and their order-preserving byte encoding.
//! - `calendar` (civil dates, the two epochs, the clock) and `zone` (time zones).
//! - `input`: every type's input function (text → `Value`), with PostgreSQL's errors.
//! - `output`: text output of values, under the session's `TextOptions`.
//! - `binary`: the binary wire format (`typsend` / `typreceive`).
//! - `binary_text`: `encode` / `decode` of bytea as hex, base64 and escape text.
//! - `typmod`: `numeric(p, s)`, `varchar(n)`, `char(n)` applied to values.
//! - `json`: json/jsonb validation, jsonb's canonical text, the json operators.
//! - `to_char`: PostgreSQL's date/time templates.
//! - `to_char_number`: `to_char` of numbers with PostgreSQL's number templates.
//! - `regex`: PostgreSQL's regular expressions (ARE flags, SIMILAR TO) on the `regex` crate.
//!
//! # Invariants
//!
//! - A `Value` produced here satisfies its type: an `Int2` fits 16 bits, a `Numeric` for
//!   `numeric(p, s)` is rounded to `s` with at most `p - s` integer digits, a `char(n)`
//!   text is exactly `n` characters. Callers may store what they get without checking.
//! - Every error carries PostgreSQL's SQLSTATE and wording (`Error`); input that
//!   PostgreSQL refuses is refused, never silently altered.
//! - Text output of a value read back by its input function gives the same value (for
//!   floats, with `extra_float_digits` ≥ 1, the default).

pub mod binary;
pub mod binary_text;
pub mod calendar;
pub mod error;
pub mod input;
pub mod interval_arith;
pub mod json;
pub mod numeric;
pub mod output;
pub mod regex;
pub mod to_char;
pub mod to_char_number;
pub mod types;
pub mod typmod;
pub mod value;
pub mod zone;

pub use error::{Error, Result};
pub use input::InputOptions;
pub use numeric::Numeric;
pub use output::TextOptions;
pub use types::DataType;
pub use value::{Interval, Value};
pub use zone::Zone;
