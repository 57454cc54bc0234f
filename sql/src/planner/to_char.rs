//! `to_char(timestamp | date | time, pattern)` with PostgreSQL's patterns (`YYYY-MM-DD
//! HH24:MI:SS`). DataFusion's `to_char` takes chrono's (`%Y-%m-%d`): this wrapper
//! translates a PostgreSQL pattern and hands over. `to_char(number, pattern)` is
//! PostgreSQL's own (`bytedata_pgtypes::to_char_number`).

use std::sync::Arc;

use bytedata_pgtypes::numeric::Numeric;
use bytedata_pgtypes::to_char::chrono_format;
use bytedata_pgtypes::to_char_number::{NumberValue, to_char_number};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;

use crate::error::into_datafusion;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};
use datafusion::scalar::ScalarValue;

/// Registers the wrapper over DataFusion's `to_char`.
pub fn register(state: &mut datafusion::execution::context::SessionState) {
    let inner = datafusion::functions::datetime::to_char();
    let wrapper = PgToChar {
        signature: Signature::user_defined(inner.signature().volatility),
        inner,
    };
    let _ = datafusion::execution::FunctionRegistry::register_udf(
        state,
        Arc::new(ScalarUDF::new_from_impl(wrapper)),
    );
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct PgToChar {
    inner: Arc<ScalarUDF>,
    signature: Signature,
}

fn numeric(data_type: &DataType) -> bool {
    data_type.is_numeric()
}

/// One number formatted by its template, read from the array as the type it is.
fn number_text(array: &ArrayRef, row: usize, template: &str) -> DfResult<String> {
    use datafusion::arrow::datatypes::{
        Decimal128Type, Decimal256Type, Float32Type, Float64Type, Int64Type,
    };
    let numeric;
    let value = match array.data_type() {
        DataType::Float64 => NumberValue::Float8(array.as_primitive::<Float64Type>().value(row)),
        DataType::Float32 => NumberValue::Float4(array.as_primitive::<Float32Type>().value(row)),
        DataType::Int64 => NumberValue::Int(array.as_primitive::<Int64Type>().value(row)),
        DataType::Decimal128(_, scale) => {
            let unscaled = array.as_primitive::<Decimal128Type>().value(row);
            numeric = decimal(&unscaled.to_string(), *scale)?;
            NumberValue::Numeric(&numeric)
        }
        DataType::Decimal256(_, scale) => {
            let unscaled = array.as_primitive::<Decimal256Type>().value(row);
            numeric = decimal(&unscaled.to_string(), *scale)?;
            NumberValue::Numeric(&numeric)
        }
        other => {
            return Err(datafusion::error::DataFusionError::Internal(format!(
                "to_char of {other}"
            )));
        }
    };
    to_char_number(value, template).map_err(|e| into_datafusion(e.into()))
}

fn decimal(unscaled: &str, scale: i8) -> DfResult<Numeric> {
    Numeric::parse(&format!("{unscaled}e{}", -i32::from(scale)))
        .map(|n| n.with_display_scale(scale.max(0) as u16))
        .map_err(|e| datafusion::error::DataFusionError::Internal(e.to_string()))
}

fn temporal(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Date32
            | DataType::Date64
            | DataType::Timestamp(..)
            | DataType::Time32(_)
            | DataType::Time64(_)
    )
}

impl ScalarUDFImpl for PgToChar {
    fn name(&self) -> &str {
        "to_char"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> DfResult<Vec<DataType>> {
        match arg_types {
            [number, _] if numeric(number) => {
                let number = match number {
                    DataType::Float32 | DataType::Float64 | DataType::Decimal128(..) => {
                        number.clone()
                    }
                    DataType::Decimal256(..) => number.clone(),
                    _ => DataType::Int64,
                };
                Ok(vec![number, DataType::Utf8])
            }
            _ => {
                let fields: Vec<FieldRef> = arg_types
                    .iter()
                    .map(|t| Arc::new(Field::new("argument", t.clone(), true)))
                    .collect();
                Ok(fields_with_udf(&fields, self.inner.as_ref())?
                    .iter()
                    .map(|f| f.data_type().clone())
                    .collect())
            }
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        match arg_types.first() {
            Some(number) if numeric(number) => Ok(DataType::Utf8),
            _ => self.inner.return_type(arg_types),
        }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> DfResult<FieldRef> {
        match args.arg_fields.first() {
            Some(number) if numeric(number.data_type()) => {
                Ok(Arc::new(Field::new(self.name(), DataType::Utf8, true)))
            }
            _ => self.inner.return_field_from_args(args),
        }
    }

    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        if args.args.len() == 2 && numeric(&args.args[0].data_type()) {
            return crate::bridge::invoke_on_arrays(&args, |arrays, rows| {
                let templates = datafusion::common::cast::as_string_array(&arrays[1])?;
                let mut out = StringBuilder::with_capacity(rows, rows * 16);
                for row in 0..rows {
                    if arrays[0].is_null(row) || templates.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    let text = number_text(&arrays[0], row, templates.value(row))?;
                    out.append_value(text);
                }
                Ok(Arc::new(out.finish()) as ArrayRef)
            });
        }
        if args.args.len() == 2 && temporal(&args.args[0].data_type()) {
            args.args[1] = match &args.args[1] {
                ColumnarValue::Scalar(ScalarValue::Utf8(Some(template))) => {
                    ColumnarValue::Scalar(ScalarValue::Utf8(Some(chrono_format(template))))
                }
                ColumnarValue::Array(array) => {
                    let templates = datafusion::common::cast::as_string_array(array)?;
                    let translated: datafusion::arrow::array::StringArray =
                        templates.iter().map(|t| t.map(chrono_format)).collect();
                    ColumnarValue::Array(Arc::new(translated))
                }
                other => other.clone(),
            };
        }
        self.inner.invoke_with_args(args)
    }
}
