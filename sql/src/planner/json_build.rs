//! `json_build_object(k1, v1, …)` and `json_build_array(v1, …)`: json values built from
//! SQL values, written as PostgreSQL writes `json` (`{"a" : 1, "b" : [1, 2]}`).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::error::Result as DfResult;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion::scalar::ScalarValue;

use crate::error::{SqlError, into_datafusion};

#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonBuild {
    object: bool,
    signature: Signature,
}

fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// A SQL value as json text.
fn json_of(value: &ScalarValue) -> String {
    match value {
        v if v.is_null() => "null".into(),
        ScalarValue::Boolean(Some(b)) => b.to_string(),
        ScalarValue::Int8(_)
        | ScalarValue::Int16(_)
        | ScalarValue::Int32(_)
        | ScalarValue::Int64(_)
        | ScalarValue::UInt8(_)
        | ScalarValue::UInt16(_)
        | ScalarValue::UInt32(_)
        | ScalarValue::UInt64(_)
        | ScalarValue::Decimal128(..)
        | ScalarValue::Decimal256(..) => value.to_string(),
        ScalarValue::Float32(Some(f)) if f.is_finite() => value.to_string(),
        ScalarValue::Float64(Some(f)) if f.is_finite() => value.to_string(),
        ScalarValue::List(list) => {
            let items: Vec<String> = (0..list.value_length(0) as usize)
                .filter_map(|i| ScalarValue::try_from_array(&list.value(0), i).ok())
                .map(|v| json_of(&v))
                .collect();
            format!("[{}]", items.join(", "))
        }
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => quoted(s),
        other => quoted(&other.to_string()),
    }
}

impl ScalarUDFImpl for JsonBuild {
    fn name(&self) -> &str {
        if self.object {
            "json_build_object"
        } else {
            "json_build_array"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> DfResult<FieldRef> {
        Ok(Arc::new(
            Field::new(self.name(), DataType::Utf8, true).with_metadata(
                std::collections::HashMap::from([(
                    crate::bridge::types::PG_TYPE_KEY.to_owned(),
                    "114".to_owned(),
                )]),
            ),
        ))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        if self.object && !args.args.len().is_multiple_of(2) {
            return Err(into_datafusion(SqlError::new(
                "22023",
                "argument list must have even number of elements",
            )));
        }
        let rows = args.number_rows.max(1);
        let arrays: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<DfResult<_>>()?;
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            let values = arrays
                .iter()
                .map(|a| ScalarValue::try_from_array(a, row))
                .collect::<DfResult<Vec<_>>>()?;
            let text = if self.object {
                let mut fields = Vec::with_capacity(values.len() / 2);
                for pair in values.chunks(2) {
                    let key = match &pair[0] {
                        k if k.is_null() => {
                            return Err(into_datafusion(SqlError::new(
                                "22004",
                                "null value not allowed for object key",
                            )));
                        }
                        ScalarValue::Utf8(Some(s)) => s.clone(),
                        other => other.to_string(),
                    };
                    fields.push(format!("{} : {}", quoted(&key), json_of(&pair[1])));
                }
                format!("{{{}}}", fields.join(", "))
            } else {
                let items: Vec<String> = values.iter().map(json_of).collect();
                format!("[{}]", items.join(", "))
            };
            out.push(text);
        }
        let array: ArrayRef = Arc::new(StringArray::from(out));
        if args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)))
        {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &array, 0,
            )?));
        }
        Ok(ColumnarValue::Array(array))
    }
}

pub fn register(state: &mut SessionState) {
    for object in [true, false] {
        let _ = datafusion::execution::FunctionRegistry::register_udf(
            state,
            Arc::new(ScalarUDF::new_from_impl(JsonBuild {
                object,
                signature: Signature::variadic_any(Volatility::Stable),
            })),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_json_as_postgres_writes_it() {
        assert_eq!(json_of(&ScalarValue::Int64(Some(3))), "3");
        assert_eq!(json_of(&ScalarValue::Boolean(Some(false))), "false");
        assert_eq!(
            json_of(&ScalarValue::Utf8(Some("a\"b".into()))),
            "\"a\\\"b\""
        );
        assert_eq!(json_of(&ScalarValue::Int32(None)), "null");
        assert_eq!(json_of(&ScalarValue::Float64(Some(f64::NAN))), "\"NaN\"");
    }
}
