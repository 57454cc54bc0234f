//! `date_part`/`extract` and `date_trunc` with the fields PostgreSQL has and DataFusion
//! lacks: `century`, `decade`, `millennium` (and `julian` for `date_part`). These
//! wrappers compute those from the year (or the day) DataFusion gives, with PostgreSQL's
//! rules for years before 1 AD (there is no century 0); every other field is DataFusion's.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int32Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int32Type};
use datafusion::common::ScalarValue;
use datafusion::error::Result as DfResult;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

use bytedata_pgtypes::calendar::{civil_from_days, days_from_civil};

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// Julian day number of 1970-01-01.
const JULIAN_OF_UNIX_EPOCH: f64 = 2_440_588.0;

pub fn register(state: &mut SessionState) {
    for inner in [
        datafusion::functions::datetime::date_part(),
        datafusion::functions::datetime::date_trunc(),
    ] {
        let wrapper = PgDateField {
            signature: inner.signature().clone(),
            truncate: inner.name() == "date_trunc",
            inner,
        };
        let _ = datafusion::execution::FunctionRegistry::register_udf(
            state,
            Arc::new(ScalarUDF::new_from_impl(wrapper)),
        );
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Span {
    Century,
    Decade,
    Millennium,
    Julian,
}

fn field_of(part: &str) -> Option<Span> {
    Some(match part.trim().to_ascii_lowercase().as_str() {
        "century" | "centuries" | "c" | "cent" => Span::Century,
        "decade" | "decades" | "dec" | "decs" => Span::Decade,
        "millennium" | "millennia" | "mil" | "mils" | "millenniums" => Span::Millennium,
        "julian" | "j" => Span::Julian,
        _ => return None,
    })
}

fn scalar_part(value: Option<&ScalarValue>) -> Option<Span> {
    match value? {
        ScalarValue::Utf8(Some(part))
        | ScalarValue::Utf8View(Some(part))
        | ScalarValue::LargeUtf8(Some(part)) => field_of(part),
        _ => None,
    }
}

/// The century, decade or millennium an astronomical year is in, as PostgreSQL numbers
/// them (1 BC is year 0 and in century -1).
fn year_field(field: Span, year: i64) -> i64 {
    match field {
        Span::Century if year > 0 => (year + 99) / 100,
        Span::Century => -((99 - (year - 1)) / 100),
        Span::Decade if year > 0 => year / 10,
        Span::Decade => -((8 - (year - 1)) / 10),
        Span::Millennium if year > 0 => (year + 999) / 1000,
        Span::Millennium => -((999 - (year - 1)) / 1000),
        Span::Julian => year,
    }
}

/// The first year of the century, decade or millennium of an astronomical year.
fn first_year(field: Span, year: i64) -> i64 {
    match field {
        Span::Millennium if year > 0 => ((year + 999) / 1000) * 1000 - 999,
        Span::Millennium => -((999 - (year - 1)) / 1000) * 1000 + 1,
        Span::Century if year > 0 => ((year + 99) / 100) * 100 - 99,
        Span::Century => -((99 - (year - 1)) / 100) * 100 + 1,
        Span::Decade if year > 0 => (year / 10) * 10,
        Span::Decade => -((8 - (year - 1)) / 10) * 10,
        Span::Julian => year,
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct PgDateField {
    inner: Arc<ScalarUDF>,
    signature: Signature,
    truncate: bool,
}

impl PgDateField {
    /// The inner function's result for another part over the same values.
    fn inner_with(&self, args: &ScalarFunctionArgs, part: &str) -> DfResult<ArrayRef> {
        let mut args = args.clone();
        args.args[0] = ColumnarValue::Scalar(ScalarValue::Utf8(Some(part.to_owned())));
        if !self.truncate {
            args.return_field = Arc::new(Field::new("date_part", DataType::Int32, true));
            if part == "epoch" {
                args.return_field = Arc::new(Field::new("date_part", DataType::Float64, true));
            }
        }
        let rows = args.number_rows.max(1);
        self.inner.invoke_with_args(args)?.to_array(rows)
    }
}

impl ScalarUDFImpl for PgDateField {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> DfResult<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> DfResult<FieldRef> {
        match scalar_part(args.scalar_arguments.first().copied().flatten()) {
            Some(field) if !self.truncate => {
                let data_type = if field == Span::Julian {
                    DataType::Float64
                } else {
                    DataType::Int32
                };
                Ok(Arc::new(Field::new(self.name(), data_type, true)))
            }
            _ => self.inner.return_field_from_args(args),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let field = match args.args.first() {
            Some(ColumnarValue::Scalar(value)) => scalar_part(Some(value)),
            _ => None,
        };
        let Some(field) = field else {
            return self.inner.invoke_with_args(args);
        };
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let result: ArrayRef = if self.truncate {
            if field == Span::Julian {
                return self.inner.invoke_with_args(args);
            }
            // Truncated to the year, then moved back to the first year of the span.
            let years = self.inner_with(&args, "year")?;
            truncate_years(&years, field)?
        } else if field == Span::Julian {
            let epoch = self.inner_with(&args, "epoch")?;
            let epoch = epoch.as_primitive::<Float64Type>();
            let julian: Float64Array = epoch
                .iter()
                .map(|e| e.map(|seconds| seconds / 86_400.0 + JULIAN_OF_UNIX_EPOCH))
                .collect();
            Arc::new(julian)
        } else {
            let years = self.inner_with(&args, "year")?;
            let years = years.as_primitive::<Int32Type>();
            let values: Int32Array = years
                .iter()
                .map(|y| y.map(|year| year_field(field, i64::from(year)) as i32))
                .collect();
            Arc::new(values)
        };
        Ok(if scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?)
        } else {
            ColumnarValue::Array(result)
        })
    }
}

/// Timestamps already truncated to January 1st moved to the first year of their
/// century, decade or millennium.
fn truncate_years(truncated: &ArrayRef, field: Span) -> DfResult<ArrayRef> {
    use datafusion::arrow::datatypes::{
        TimeUnit, TimestampMicrosecondType, TimestampNanosecondType,
    };
    let per_unit = match truncated.data_type() {
        DataType::Timestamp(TimeUnit::Microsecond, _) => 1,
        DataType::Timestamp(TimeUnit::Nanosecond, _) => 1000,
        other => {
            return Err(datafusion::error::DataFusionError::Internal(format!(
                "date_trunc of {other}"
            )));
        }
    };
    let move_back = |value: i64| {
        let micros = value / per_unit;
        let days = micros.div_euclid(MICROS_PER_DAY);
        let within = micros.rem_euclid(MICROS_PER_DAY);
        let (year, _, _) = civil_from_days(days);
        let start = days_from_civil(first_year(field, year), 1, 1);
        (start * MICROS_PER_DAY + within) * per_unit
    };
    Ok(if per_unit == 1 {
        let array = truncated.as_primitive::<TimestampMicrosecondType>();
        Arc::new(
            array
                .unary::<_, TimestampMicrosecondType>(move_back)
                .with_data_type(truncated.data_type().clone()),
        )
    } else {
        let array = truncated.as_primitive::<TimestampNanosecondType>();
        Arc::new(
            array
                .unary::<_, TimestampNanosecondType>(move_back)
                .with_data_type(truncated.data_type().clone()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_of_years_as_postgres_counts_them() {
        assert_eq!(year_field(Span::Century, 2000), 20);
        assert_eq!(year_field(Span::Century, 2001), 21);
        assert_eq!(year_field(Span::Century, 0), -1);
        assert_eq!(year_field(Span::Century, -99), -1);
        assert_eq!(year_field(Span::Century, -100), -2);
        assert_eq!(year_field(Span::Decade, 2020), 202);
        assert_eq!(year_field(Span::Millennium, 2001), 3);
        assert_eq!(year_field(Span::Millennium, 2000), 2);
        assert_eq!(first_year(Span::Century, 2020), 2001);
        assert_eq!(first_year(Span::Century, 2000), 1901);
        assert_eq!(first_year(Span::Decade, 2029), 2020);
        assert_eq!(first_year(Span::Millennium, 2020), 2001);
    }
}
