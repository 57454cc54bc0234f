//! `to_char(timestamp | date | time, pattern)` with PostgreSQL's patterns (`YYYY-MM-DD
//! HH24:MI:SS`). DataFusion's `to_char` takes chrono's (`%Y-%m-%d`): this wrapper
//! translates a PostgreSQL pattern and hands over; other arguments pass unchanged.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};
use datafusion::scalar::ScalarValue;

/// PostgreSQL's template patterns, longest first, with chrono's equivalents.
const PATTERNS: &[(&str, &str)] = &[
    ("HH24", "%H"),
    ("HH12", "%I"),
    ("YYYY", "%Y"),
    ("Month", "%B"),
    ("MONTH", "%B"),
    ("Day", "%A"),
    ("DAY", "%A"),
    ("DDD", "%j"),
    ("Mon", "%b"),
    ("MON", "%b"),
    ("Dy", "%a"),
    ("DY", "%a"),
    ("YY", "%y"),
    ("MM", "%m"),
    ("DD", "%d"),
    ("HH", "%I"),
    ("MI", "%M"),
    ("SS", "%S"),
    ("MS", "%3f"),
    ("US", "%6f"),
    ("AM", "%p"),
    ("PM", "%p"),
    ("am", "%P"),
    ("pm", "%P"),
    ("TZ", "%Z"),
    ("IW", "%V"),
];

/// A PostgreSQL `to_char` template as a chrono format string.
pub fn chrono_format(template: &str) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    let mut fill_mode = false;
    'outer: while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("FM") {
            fill_mode = true;
            rest = after;
            continue;
        }
        if c == '"' {
            // Quoted text is copied as it is.
            let end = rest[1..].find('"').map_or(rest.len(), |i| i + 1);
            out.push_str(&rest[1..end].replace('%', "%%"));
            rest = rest.get(end + 1..).unwrap_or("");
            continue;
        }
        for (pattern, chrono) in PATTERNS {
            if let Some(after) = rest.strip_prefix(pattern) {
                // FM drops the zero padding of numbers ("%-d").
                if fill_mode && chrono.len() == 2 && "dmHIMSjyV".contains(&chrono[1..]) {
                    out.push_str("%-");
                    out.push_str(&chrono[1..]);
                } else {
                    out.push_str(chrono);
                }
                fill_mode = false;
                rest = after;
                continue 'outer;
            }
        }
        if c == '%' {
            out.push_str("%%");
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Registers the wrapper over DataFusion's `to_char`.
pub fn register(state: &mut datafusion::execution::context::SessionState) {
    let inner = datafusion::functions::datetime::to_char();
    let wrapper = PgToChar {
        signature: inner.signature().clone(),
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

    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(
        &self,
        args: ReturnFieldArgs,
    ) -> DfResult<datafusion::arrow::datatypes::FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
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

#[cfg(test)]
mod tests {
    use super::chrono_format;

    #[test]
    fn postgres_templates_become_chrono_formats() {
        assert_eq!(chrono_format("YYYY-MM-DD"), "%Y-%m-%d");
        assert_eq!(chrono_format("HH24:MI:SS.MS"), "%H:%M:%S.%3f");
        assert_eq!(chrono_format("FMDD Mon YYYY"), "%-d %b %Y");
        assert_eq!(chrono_format("\"day\" DD, 100%"), "day %d, 100%%");
        assert_eq!(chrono_format("HH12 AM"), "%I %p");
    }
}
