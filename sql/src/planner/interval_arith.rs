//! `interval * number`, `number * interval` and `interval / number`, which DataFusion
//! does not plan, and `timestamp - timestamp`, which DataFusion makes a duration where
//! PostgreSQL makes an interval: an expression planner turns them into calls of
//! functions that do PostgreSQL's arithmetic (`bytedata_pgtypes::interval_arith`).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, IntervalMonthDayNanoArray};
use datafusion::arrow::datatypes::{
    DataType, IntervalMonthDayNano, IntervalUnit, TimeUnit, TimestampMicrosecondType,
};
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

/// `timestamp - timestamp` as PostgreSQL's `timestamp_mi`: an interval of days and time,
/// whole days taken out of the time (`justify_hours`), both with the difference's sign.
#[derive(Debug, PartialEq, Eq, Hash)]
struct TimestampDifference {
    signature: Signature,
}

impl TimestampDifference {
    fn udf() -> Arc<ScalarUDF> {
        let micros = DataType::Timestamp(TimeUnit::Microsecond, None);
        Arc::new(ScalarUDF::new_from_impl(TimestampDifference {
            signature: Signature::exact(vec![micros.clone(), micros], Volatility::Immutable),
        }))
    }
}

impl ScalarUDFImpl for TimestampDifference {
    fn name(&self) -> &str {
        "timestamp_mi"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Interval(IntervalUnit::MonthDayNano))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        crate::bridge::invoke_on_arrays(&args, |arrays, _rows| {
            let left = arrays[0].as_primitive::<TimestampMicrosecondType>();
            let right = arrays[1].as_primitive::<TimestampMicrosecondType>();
            let mut out = Vec::with_capacity(left.len());
            for row in 0..left.len() {
                if left.is_null(row) || right.is_null(row) {
                    out.push(None);
                    continue;
                }
                let (a, b) = (left.value(row), right.value(row));
                let infinite = |t: i64| t == i64::MIN || t == i64::MAX;
                if infinite(a) || infinite(b) {
                    return Err(into_datafusion(crate::error::SqlError::new(
                        "22008",
                        "cannot subtract infinite timestamps",
                    )));
                }
                let difference = a.checked_sub(b).ok_or_else(|| {
                    into_datafusion(crate::error::SqlError::new(
                        "22008",
                        "interval out of range",
                    ))
                })?;
                let days = difference / MICROS_PER_DAY;
                let micros = difference % MICROS_PER_DAY;
                out.push(Some(IntervalMonthDayNano::new(
                    0,
                    i32::try_from(days).unwrap_or(i32::MAX),
                    micros * NANOS_PER_MICRO,
                )));
            }
            Ok(Arc::new(IntervalMonthDayNanoArray::from(out)) as ArrayRef)
        })
    }
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Plans `*` and `/` between an interval and a number, and `-` between timestamps.
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
        if !matches!(
            expr.op,
            BinaryOperator::Multiply | BinaryOperator::Divide | BinaryOperator::Minus
        ) {
            return Ok(PlannerResult::Original(expr));
        }
        let (Ok(left), Ok(right)) = (expr.left.get_type(schema), expr.right.get_type(schema))
        else {
            return Ok(PlannerResult::Original(expr));
        };
        if expr.op == BinaryOperator::Minus {
            let (DataType::Timestamp(_, left_zone), DataType::Timestamp(_, right_zone)) =
                (&left, &right)
            else {
                return Ok(PlannerResult::Original(expr));
            };
            // Both sides as instants when either has a zone, else as wall-clock times.
            let zone = left_zone.clone().or_else(|| right_zone.clone());
            let as_micros = |e: Expr| {
                let instant = cast(e, DataType::Timestamp(TimeUnit::Microsecond, zone.clone()));
                cast(instant, DataType::Timestamp(TimeUnit::Microsecond, None))
            };
            return Ok(PlannerResult::Planned(Expr::ScalarFunction(
                ScalarFunction::new_udf(
                    TimestampDifference::udf(),
                    vec![as_micros(expr.left), as_micros(expr.right)],
                ),
            )));
        }
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
