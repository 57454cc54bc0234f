//! `interval * number`, `number * interval` and `interval / number`, which DataFusion
//! does not plan: an expression planner turns them into calls of functions that do
//! PostgreSQL's arithmetic (`bytedata_pgtypes::interval_arith`).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, IntervalMonthDayNanoArray};
use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNano, IntervalUnit};
use datafusion::common::DFSchema;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility, cast,
};
use datafusion::sql::sqlparser::ast::BinaryOperator;

use bytedata_pgtypes::Interval;
use bytedata_pgtypes::interval_arith;

use crate::error::into_datafusion;

const NANOS_PER_MICRO: i64 = 1000;

#[derive(Debug, PartialEq, Eq, Hash)]
struct IntervalScale {
    divide: bool,
    signature: Signature,
}

impl IntervalScale {
    fn udf(divide: bool) -> Arc<ScalarUDF> {
        Arc::new(ScalarUDF::new_from_impl(IntervalScale {
            divide,
            signature: Signature::exact(
                vec![
                    DataType::Interval(IntervalUnit::MonthDayNano),
                    DataType::Float64,
                ],
                Volatility::Immutable,
            ),
        }))
    }
}

impl ScalarUDFImpl for IntervalScale {
    fn name(&self) -> &str {
        if self.divide {
            "interval_div"
        } else {
            "interval_mul"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Interval(IntervalUnit::MonthDayNano))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        crate::bridge::invoke_on_arrays(&args, |arrays, _rows| {
            let spans = datafusion::common::cast::as_interval_mdn_array(&arrays[0])?;
            let factors = datafusion::common::cast::as_float64_array(&arrays[1])?;
            let mut out = Vec::with_capacity(spans.len());
            for row in 0..spans.len() {
                if spans.is_null(row) || factors.is_null(row) {
                    out.push(None);
                    continue;
                }
                let span = spans.value(row);
                let interval = Interval {
                    months: span.months,
                    days: span.days,
                    micros: span.nanoseconds / NANOS_PER_MICRO,
                };
                let factor = factors.value(row);
                let result = if self.divide {
                    interval_arith::divide(interval, factor)
                } else {
                    interval_arith::multiply(interval, factor)
                }
                .map_err(|e| into_datafusion(e.into()))?;
                out.push(Some(IntervalMonthDayNano::new(
                    result.months,
                    result.days,
                    result.micros.saturating_mul(NANOS_PER_MICRO),
                )));
            }
            Ok(Arc::new(IntervalMonthDayNanoArray::from(out)) as ArrayRef)
        })
    }
}

/// Plans `*` and `/` between an interval and a number.
#[derive(Debug)]
pub struct IntervalArithmetic;

fn is_interval(ty: &DataType) -> bool {
    matches!(ty, DataType::Interval(_))
}

impl ExprPlanner for IntervalArithmetic {
    fn plan_binary_op(
        &self,
        expr: RawBinaryExpr,
        schema: &DFSchema,
    ) -> DfResult<PlannerResult<RawBinaryExpr>> {
        if !matches!(expr.op, BinaryOperator::Multiply | BinaryOperator::Divide) {
            return Ok(PlannerResult::Original(expr));
        }
        let (Ok(left), Ok(right)) = (expr.left.get_type(schema), expr.right.get_type(schema))
        else {
            return Ok(PlannerResult::Original(expr));
        };
        let divide = expr.op == BinaryOperator::Divide;
        let (span, factor) = if is_interval(&left) && right.is_numeric() {
            (expr.left, expr.right)
        } else if !divide && left.is_numeric() && is_interval(&right) {
            (expr.right, expr.left)
        } else {
            return Ok(PlannerResult::Original(expr));
        };
        let span = cast(span, DataType::Interval(IntervalUnit::MonthDayNano));
        Ok(PlannerResult::Planned(Expr::ScalarFunction(
            ScalarFunction::new_udf(
                IntervalScale::udf(divide),
                vec![span, cast(factor, DataType::Float64)],
            ),
        )))
    }
}
