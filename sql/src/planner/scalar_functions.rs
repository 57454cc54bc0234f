//! PostgreSQL functions DataFusion lacks: `mod(a, b)` (the remainder with the sign of
//! `a`, as `%`), `gen_random_uuid()`, `pg_sleep(seconds)`, which waits in short steps so
//! that a cancel request or `statement_timeout` ends it, `width_bucket` and
//! `num_nulls` / `num_nonnulls`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringArray};

use crate::error::SqlError;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::exec_err;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::type_coercion::binary::binary_numeric_coercion;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

/// `mod(a, b)`: both operands coerced to one numeric type, which is the result's.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Mod {
    signature: Signature,
}

impl ScalarUDFImpl for Mod {
    fn name(&self) -> &str {
        "mod"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> DfResult<Vec<DataType>> {
        let [a, b] = arg_types else {
            return exec_err!("mod takes two arguments");
        };
        // A quoted literal (text here) is read as the other operand's type.
        let common = if a == b {
            Some(a.clone())
        } else if a == &DataType::Utf8 {
            Some(b.clone())
        } else if b == &DataType::Utf8 {
            Some(a.clone())
        } else {
            binary_numeric_coercion(a, b)
        };
        match common {
            Some(common) if common.is_numeric() => Ok(vec![common.clone(), common]),
            _ => Err(DataFusionError::Plan(format!(
                "function mod({}, {}) does not exist",
                type_name(a),
                type_name(b)
            ))),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Int32))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        crate::bridge::invoke_on_arrays(&args, |arrays, _rows| {
            let [a, b] = arrays else {
                return exec_err!("mod takes two arguments");
            };
            datafusion::arrow::compute::kernels::numeric::rem(a, b).map_err(|error| match error {
                datafusion::arrow::error::ArrowError::DivideByZero => {
                    crate::error::into_datafusion(crate::error::SqlError::new(
                        "22012",
                        "division by zero",
                    ))
                }
                other => DataFusionError::ArrowError(Box::new(other), None),
            })
        })
    }
}

/// `gen_random_uuid()`: a version 4 UUID, typed uuid.
#[derive(Debug, PartialEq, Eq, Hash)]
struct GenRandomUuid {
    signature: Signature,
}

impl ScalarUDFImpl for GenRandomUuid {
    fn name(&self) -> &str {
        "gen_random_uuid"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> DfResult<FieldRef> {
        let field: Field =
            crate::bridge::field("gen_random_uuid", &bytedata_pgtypes::DataType::Uuid, false);
        Ok(Arc::new(field))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let uuids: StringArray = (0..args.number_rows.max(1))
            .map(|_| Some(random_uuid()))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(uuids) as ArrayRef))
    }
}

/// `pg_sleep(seconds)`: waits, then returns NULL (void).
#[derive(Debug, PartialEq, Eq, Hash)]
struct PgSleep {
    signature: Signature,
}

/// How long `pg_sleep` waits between looks at its statement's interrupt.
const SLEEP_STEP_MS: u64 = 10;

impl ScalarUDFImpl for PgSleep {
    fn name(&self) -> &str {
        "pg_sleep"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let context = crate::context::linked_context(&args.config_options)?;
        let seconds = args.args[0].to_array(args.number_rows)?;
        let seconds = datafusion::arrow::compute::cast(&seconds, &DataType::Float64)?;
        let seconds = datafusion::common::cast::as_float64_array(&seconds)?;
        for row in 0..seconds.len() {
            if !seconds.is_valid(row) || seconds.value(row).is_nan() || seconds.value(row) <= 0.0 {
                continue;
            }
            let until = std::time::Instant::now()
                + std::time::Duration::from_secs_f64(seconds.value(row).min(1e9));
            loop {
                context
                    .interrupt
                    .check()
                    .map_err(crate::error::into_datafusion)?;
                let now = std::time::Instant::now();
                if now >= until {
                    break;
                }
                let step = std::time::Duration::from_millis(SLEEP_STEP_MS);
                std::thread::sleep((until - now).min(step));
            }
        }
        Ok(ColumnarValue::Array(Arc::new(StringArray::new_null(
            args.number_rows.max(1),
        ))))
    }
}

/// A random (version 4, RFC 4122 variant) UUID in its text form.
/// `width_bucket(operand, low, high, count)`: which of `count` equal buckets between
/// the bounds holds the operand (0 below, count + 1 above), as PostgreSQL's float8 one.
#[derive(Debug, PartialEq, Eq, Hash)]
struct WidthBucket {
    signature: Signature,
}

fn width_bucket(operand: f64, low: f64, high: f64, count: i64) -> Result<i32, SqlError> {
    let invalid = |message: &str| SqlError::new("2201G", message);
    if count <= 0 || count > i64::from(i32::MAX) {
        return Err(invalid("count must be greater than zero"));
    }
    if operand.is_nan() || low.is_nan() || high.is_nan() {
        return Err(invalid(
            "operand, lower bound, and upper bound cannot be NaN",
        ));
    }
    if low.is_infinite() || high.is_infinite() {
        return Err(invalid("lower and upper bounds must be finite"));
    }
    let count_f = count as f64;
    let count = count as i32;
    let above = || {
        count
            .checked_add(1)
            .ok_or_else(|| SqlError::new("22003", "integer out of range"))
    };
    let inside = |fraction: f64| {
        let bucket = (count_f * fraction) as i32;
        bucket.min(count - 1) + 1
    };
    if low < high {
        if operand < low {
            Ok(0)
        } else if operand >= high {
            above()
        } else {
            Ok(inside((operand - low) / (high - low)))
        }
    } else if low > high {
        if operand > low {
            Ok(0)
        } else if operand <= high {
            above()
        } else {
            Ok(inside((low - operand) / (low - high)))
        }
    } else {
        Err(invalid("lower bound cannot equal upper bound"))
    }
}

impl ScalarUDFImpl for WidthBucket {
    fn name(&self) -> &str {
        "width_bucket"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        crate::bridge::invoke_on_arrays(&args, |arrays, rows| {
            use datafusion::arrow::array::AsArray;
            use datafusion::arrow::datatypes::{Float64Type, Int64Type};
            let float = |i: usize| arrays[i].as_primitive::<Float64Type>();
            let counts = arrays[3].as_primitive::<Int64Type>();
            let mut out = Vec::with_capacity(rows);
            for row in 0..rows {
                if arrays.iter().any(|a| a.is_null(row)) {
                    out.push(None);
                    continue;
                }
                let bucket = width_bucket(
                    float(0).value(row),
                    float(1).value(row),
                    float(2).value(row),
                    counts.value(row),
                )
                .map_err(crate::error::into_datafusion)?;
                out.push(Some(bucket));
            }
            Ok(Arc::new(datafusion::arrow::array::Int32Array::from(out)) as ArrayRef)
        })
    }
}

/// `num_nulls(…)` and `num_nonnulls(…)`: how many arguments are (not) NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CountNulls {
    nulls: bool,
    signature: Signature,
}

impl ScalarUDFImpl for CountNulls {
    fn name(&self) -> &str {
        if self.nulls {
            "num_nulls"
        } else {
            "num_nonnulls"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let nulls = self.nulls;
        crate::bridge::invoke_on_arrays(&args, |arrays, rows| {
            let counts: Vec<i32> = (0..rows)
                .map(|row| {
                    let null_count = arrays
                        .iter()
                        .filter(|a| a.data_type() == &DataType::Null || a.is_null(row))
                        .count() as i32;
                    if nulls {
                        null_count
                    } else {
                        arrays.len() as i32 - null_count
                    }
                })
                .collect();
            Ok(Arc::new(datafusion::arrow::array::Int32Array::from(counts)) as ArrayRef)
        })
    }
}

/// `bytedata_untag(x)`: `x` without its field's PostgreSQL type tag (`syntax::values`).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Untag {
    signature: Signature,
}

impl ScalarUDFImpl for Untag {
    fn name(&self) -> &str {
        crate::syntax::values::UNTAG
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Null))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> DfResult<FieldRef> {
        let data_type = args
            .arg_fields
            .first()
            .map_or(DataType::Null, |f| f.data_type().clone());
        Ok(Arc::new(Field::new(self.name(), data_type, true)))
    }

    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        Ok(args.args.swap_remove(0))
    }
}

fn random_uuid() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    bytedata_pgtypes::output::format_uuid(&bytes)
}

/// How PostgreSQL would name an argument of this Arrow type.
pub(crate) fn type_name(ty: &DataType) -> String {
    crate::bridge::types::sql_type_of_field(&Field::new("", ty.clone(), true))
        .map_or_else(|| ty.to_string(), |t| t.display_name())
}

/// `encode(bytea, format)` and `decode(text, format)` (`pgtypes::binary_text`).
#[derive(Debug, PartialEq, Eq, Hash)]
struct BinaryText {
    decode: bool,
    signature: Signature,
}

impl ScalarUDFImpl for BinaryText {
    fn name(&self) -> &str {
        if self.decode { "decode" } else { "encode" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> DfResult<Vec<DataType>> {
        let input = if self.decode {
            DataType::Utf8
        } else {
            DataType::Binary
        };
        match arg_types {
            [_, _] => Ok(vec![input, DataType::Utf8]),
            _ => exec_err!("{} takes two arguments", self.name()),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(if self.decode {
            DataType::Binary
        } else {
            DataType::Utf8
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let decode = self.decode;
        crate::bridge::invoke_on_arrays(&args, |arrays, rows| {
            use datafusion::arrow::array::{AsArray, BinaryBuilder, StringBuilder};
            let formats = arrays[1].as_string::<i32>();
            let into_df = |e: bytedata_pgtypes::Error| crate::error::into_datafusion(e.into());
            if decode {
                let texts = arrays[0].as_string::<i32>();
                let mut out = BinaryBuilder::with_capacity(rows, rows * 16);
                for row in 0..rows {
                    if texts.is_null(row) || formats.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    let bytes =
                        bytedata_pgtypes::binary_text::decode(texts.value(row), formats.value(row))
                            .map_err(into_df)?;
                    out.append_value(bytes);
                }
                Ok(Arc::new(out.finish()) as ArrayRef)
            } else {
                let bytes = arrays[0].as_binary::<i32>();
                let mut out = StringBuilder::with_capacity(rows, rows * 16);
                for row in 0..rows {
                    if bytes.is_null(row) || formats.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    let text =
                        bytedata_pgtypes::binary_text::encode(bytes.value(row), formats.value(row))
                            .map_err(into_df)?;
                    out.append_value(text);
                }
                Ok(Arc::new(out.finish()) as ArrayRef)
            }
        })
    }
}

pub fn register(state: &mut SessionState) {
    let functions = [
        ScalarUDF::new_from_impl(BinaryText {
            decode: false,
            signature: Signature::user_defined(Volatility::Immutable),
        }),
        ScalarUDF::new_from_impl(BinaryText {
            decode: true,
            signature: Signature::user_defined(Volatility::Immutable),
        }),
        ScalarUDF::new_from_impl(Mod {
            signature: Signature::user_defined(Volatility::Immutable),
        }),
        ScalarUDF::new_from_impl(GenRandomUuid {
            signature: Signature::nullary(Volatility::Volatile),
        }),
        ScalarUDF::new_from_impl(PgSleep {
            signature: Signature::uniform(1, vec![DataType::Float64], Volatility::Volatile),
        }),
        ScalarUDF::new_from_impl(WidthBucket {
            signature: Signature::exact(
                vec![
                    DataType::Float64,
                    DataType::Float64,
                    DataType::Float64,
                    DataType::Int64,
                ],
                Volatility::Immutable,
            ),
        }),
        ScalarUDF::new_from_impl(Untag {
            signature: Signature::any(1, Volatility::Immutable),
        }),
        ScalarUDF::new_from_impl(CountNulls {
            nulls: true,
            signature: Signature::variadic_any(Volatility::Immutable),
        }),
        ScalarUDF::new_from_impl(CountNulls {
            nulls: false,
            signature: Signature::variadic_any(Volatility::Immutable),
        }),
    ];
    for function in functions {
        let _ = datafusion::execution::FunctionRegistry::register_udf(state, Arc::new(function));
    }
    // PostgreSQL's names for aggregates DataFusion has under others.
    for (ours, theirs) in [("variance", "var_samp")] {
        if let Some(aggregate) = state.aggregate_functions().get(theirs).cloned() {
            let renamed = aggregate.as_ref().clone().with_aliases([ours]);
            let _ =
                datafusion::execution::FunctionRegistry::register_udaf(state, Arc::new(renamed));
        }
    }
}
