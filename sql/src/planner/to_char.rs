//! `to_char(timestamp | date | time, pattern)` with PostgreSQL's patterns (`YYYY-MM-DD
//! HH24:MI:SS`). DataFusion's `to_char` takes chrono's (`%Y-%m-%d`): this wrapper
//! translates a PostgreSQL pattern and hands over; other arguments pass unchanged.

use std::sync::Arc;

use bytedata_pgtypes::to_char::chrono_format;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};
use datafusion::scalar::ScalarValue;

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
