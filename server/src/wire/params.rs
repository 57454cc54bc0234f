//! Bind parameters: bytes from the client, in text or binary, to the values the
//! statement runs with.

use bytedata_pgtypes::InputOptions;
use bytedata_pgtypes::Value;
use bytedata_sql::Description;
use bytedata_sql::SqlError;
use bytes::Bytes;
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::scalar::ScalarValue;

use super::rows::{FORMAT_BINARY, format_of};

pub(crate) fn value_to_scalar(
    value: &Value,
    ty: &bytedata_pgtypes::DataType,
) -> Result<ScalarValue, SqlError> {
    let mut builder = bytedata_sql::ColumnBuilder::new(ty, 1);
    builder.append(value)?;
    let array = builder.finish();
    ScalarValue::try_from_array(&array, 0).map_err(SqlError::from)
}

/// The values of a Bind for a statement described by `description`.
pub fn decode(
    description: &Description,
    formats: &[i16],
    values: &[Option<Bytes>],
    input: &InputOptions,
) -> Result<Vec<ScalarValue>, SqlError> {
    if values.len() != description.params.len() {
        return Err(SqlError::new(
            "08P01",
            format!(
                "bind message supplies {} parameters, but prepared statement requires {}",
                values.len(),
                description.params.len()
            ),
        ));
    }
    if formats.len() > 1 && formats.len() != values.len() {
        return Err(SqlError::new(
            "08P01",
            format!(
                "bind message has {} parameter formats but {} parameters",
                formats.len(),
                values.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(values.len());
    for (i, bytes) in values.iter().enumerate() {
        let oid = description.params[i];
        let ty = bytedata_pgtypes::DataType::from_oid(oid)
            .or_else(|| {
                (oid != 0 && bytedata_pgtypes::types::element_oid(oid) != oid)
                    .then(|| {
                        bytedata_pgtypes::DataType::from_oid(bytedata_pgtypes::types::element_oid(
                            oid,
                        ))
                    })
                    .flatten()
                    .map(|e| bytedata_pgtypes::DataType::Array(Box::new(e)))
            })
            .unwrap_or(bytedata_pgtypes::DataType::Text);
        let value = match bytes {
            None => Value::Null,
            Some(bytes) if format_of(formats, i) == FORMAT_BINARY => {
                bytedata_pgtypes::binary::decode(bytes, &ty)?
            }
            Some(bytes) => {
                let text = std::str::from_utf8(bytes).map_err(|_| {
                    SqlError::new("22021", "invalid byte sequence for encoding \"UTF8\"")
                })?;
                bytedata_pgtypes::input::parse_text(text, &ty, input)?
            }
        };
        let mut scalar = value_to_scalar(&value, &ty)?;
        if let Some(Some(wanted)) = description.param_arrow_types.get(i)
            && &scalar.data_type() != wanted
            && !matches!(wanted, ArrowType::Null)
        {
            scalar = scalar.cast_to(wanted).map_err(|_| {
                SqlError::new(
                    "22P02",
                    format!("parameter ${} does not fit type {wanted}", i + 1),
                )
            })?;
        }
        out.push(scalar);
    }
    Ok(out)
}
