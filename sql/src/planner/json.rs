//! json and jsonb operators: `->`, `->>`, `#>`, `#>>`, `@>`, `<@`, `?`.
//!
//! json values travel as text (Arrow strings) tagged with their PostgreSQL type. The
//! operators parse the text with serde_json; results are rendered in jsonb's canonical
//! form (`{"a": 1, "b": [1, 2]}`), which is what PostgreSQL prints for jsonb (for json,
//! PostgreSQL would keep the source's spacing).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::sql::sqlparser::ast::BinaryOperator;
use serde_json::Value as Json;

use bytedata_pgtypes::json;

use crate::error::into_datafusion;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Op {
    /// `->`: the field or element, as json.
    Get,
    /// `->>`: the field or element, as text.
    GetText,
    /// `#>`: the value at a path (`'{a,0}'`), as json.
    Path,
    /// `#>>`: the value at a path, as text.
    PathText,
    /// `@>`: left contains right.
    Contains,
    /// `<@`: left is contained in right.
    ContainedIn,
    /// `?`: the key (or array string element) exists.
    Exists,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonOp {
    op: Op,
    name: &'static str,
    signature: Signature,
}

impl JsonOp {
    fn udf(op: Op) -> Arc<ScalarUDF> {
        let name = match op {
            Op::Get => "json_get",
            Op::GetText => "json_get_text",
            Op::Path => "json_path",
            Op::PathText => "json_path_text",
            Op::Contains => "json_contains",
            Op::ContainedIn => "json_contained",
            Op::Exists => "json_exists",
        };
        Arc::new(ScalarUDF::new_from_impl(JsonOp {
            op,
            name,
            signature: Signature::any(2, Volatility::Immutable),
        }))
    }
}

fn parse(text: &str) -> DfResult<Json> {
    json::parse_json(text).map_err(|e| into_datafusion(e.into()))
}

fn key_text(array: &ArrayRef, row: usize) -> DfResult<String> {
    let text = datafusion::arrow::compute::cast(&array.slice(row, 1), &DataType::Utf8)?;
    Ok(text.as_string::<i32>().value(0).to_owned())
}

impl ScalarUDFImpl for JsonOp {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(match self.op {
            Op::Contains | Op::ContainedIn | Op::Exists => DataType::Boolean,
            _ => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let scalar = crate::bridge::all_scalar(&args.args);
        let rows = if scalar { 1 } else { args.number_rows };
        let left =
            datafusion::arrow::compute::cast(&args.args[0].to_array(rows)?, &DataType::Utf8)?;
        let right = args.args[1].to_array(rows)?;
        let left = left.as_string::<i32>();
        let array: ArrayRef = match self.op {
            Op::Contains | Op::ContainedIn | Op::Exists => {
                let mut out = Vec::with_capacity(rows);
                for row in 0..rows {
                    if left.is_null(row) || right.is_null(row) {
                        out.push(None);
                        continue;
                    }
                    let value = parse(left.value(row))?;
                    let other = key_text(&right, row)?;
                    out.push(Some(match self.op {
                        Op::Contains => json::contains(&value, &parse(&other)?),
                        Op::ContainedIn => json::contains(&parse(&other)?, &value),
                        _ => json::has_key(&value, &other),
                    }));
                }
                Arc::new(BooleanArray::from(out))
            }
            _ => {
                let mut out: Vec<Option<String>> = Vec::with_capacity(rows);
                for row in 0..rows {
                    if left.is_null(row) || right.is_null(row) {
                        out.push(None);
                        continue;
                    }
                    let value = parse(left.value(row))?;
                    let key = key_text(&right, row)?;
                    let found = match self.op {
                        Op::Get | Op::GetText => json::step(&value, &key),
                        _ => json::path_keys(&key)
                            .map_err(|e| into_datafusion(e.into()))?
                            .iter()
                            .try_fold(&value, |v, k| json::step(v, k)),
                    };
                    out.push(match (self.op, found) {
                        (_, None) => None,
                        (Op::Get | Op::Path, Some(found)) => Some(json::jsonb_text(found)),
                        (_, Some(found)) => json::as_text(found),
                    });
                }
                Arc::new(StringArray::from(out))
            }
        };
        crate::bridge::function_result(array, scalar)
    }
}

/// Plans the json operators into calls of the functions above.
#[derive(Debug)]
pub struct JsonOperators;

impl ExprPlanner for JsonOperators {
    fn plan_binary_op(
        &self,
        expr: RawBinaryExpr,
        _schema: &DFSchema,
    ) -> DfResult<PlannerResult<RawBinaryExpr>> {
        let op = match expr.op {
            BinaryOperator::Arrow => Op::Get,
            BinaryOperator::LongArrow => Op::GetText,
            BinaryOperator::HashArrow => Op::Path,
            BinaryOperator::HashLongArrow => Op::PathText,
            BinaryOperator::AtArrow => Op::Contains,
            BinaryOperator::ArrowAt => Op::ContainedIn,
            BinaryOperator::Question => Op::Exists,
            _ => return Ok(PlannerResult::Original(expr)),
        };
        Ok(PlannerResult::Planned(Expr::ScalarFunction(
            ScalarFunction::new_udf(JsonOp::udf(op), vec![expr.left, expr.right]),
        )))
    }
}
