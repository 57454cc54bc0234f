//! The bridge between DataFusion's Arrow arrays and PostgreSQL values (`bytedata_pgtypes`).
//!
//! DataFusion computes over Arrow; rows are stored, and clients are answered, in
//! PostgreSQL's types. Every crossing goes through here:
//!
//! - `types`: the Arrow type that holds each PostgreSQL type, and the PostgreSQL type a
//!   result field reports — kept in the field's metadata, since Arrow holds `varchar(20)`,
//!   `json` and `uuid` alike as strings;
//! - `cells`: an Arrow cell read as the stored value of a column type, with PostgreSQL's
//!   checks (what INSERT and UPDATE store);
//! - `builder`: stored values built into Arrow arrays (what scans produce);
//! - `text`: an Arrow cell in PostgreSQL's text output (what the wire sends).
//!
//! Invariant: a value built into an array by `builder` and read back by `cells` with the
//! same column type is the value it was (the round trip every scan-then-write relies on).

pub mod builder;
pub mod cells;
pub mod text;
pub mod types;

use datafusion::arrow::array::ArrayRef;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::ColumnarValue;
use datafusion::scalar::ScalarValue;

pub use builder::{ColumnBuilder, finish_column, values_batch};
pub use cells::{value_at, value_at_in};
pub use types::{arrow_type, field, pg_type_of};

/// Whether every argument of a function call is a scalar: the call then computes one row
/// and answers a scalar (`function_result`).
pub fn all_scalar(args: &[ColumnarValue]) -> bool {
    args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)))
}

/// Runs a row-wise function: `invoke` gets every argument as an array of one length (one
/// row for a call on scalars) and its result goes back as DataFusion takes it.
pub fn invoke_on_arrays(
    args: &datafusion::logical_expr::ScalarFunctionArgs,
    invoke: impl FnOnce(&[ArrayRef], usize) -> DfResult<ArrayRef>,
) -> DfResult<ColumnarValue> {
    let scalar = all_scalar(&args.args);
    let rows = if scalar { 1 } else { args.number_rows.max(1) };
    let arrays = args
        .args
        .iter()
        .map(|a| a.to_array(rows))
        .collect::<DfResult<Vec<_>>>()?;
    function_result(invoke(&arrays, rows)?, scalar)
}

/// A function's result array as DataFusion takes it back: its one value as a scalar for a
/// call on scalars, else the array.
pub fn function_result(array: ArrayRef, scalar: bool) -> DfResult<ColumnarValue> {
    if scalar {
        debug_assert_eq!(array.len(), 1, "a call on scalars computes one row");
        return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &array, 0,
        )?));
    }
    Ok(ColumnarValue::Array(array))
}
