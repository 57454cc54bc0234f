//! Date and time functions DataFusion lacks, with PostgreSQL's results and errors:
//! `make_timestamp`, `make_timestamptz` (in the session zone or a named one),
//! `justify_days`, `justify_hours` and `justify_interval`, `age` (in years, months and
//! days, seen in the session zone).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, IntervalMonthDayNanoArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{
    DataType, Float64Type, Int64Type, IntervalMonthDayNano, IntervalUnit, TimeUnit,
};
use datafusion::error::Result as DfResult;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

use bytedata_pgtypes::Zone;
use bytedata_pgtypes::calendar::days_from_civil;

use crate::error::{SqlError, into_datafusion};

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;
const NANOS_PER_MICRO: i64 = 1000;
const DAYS_PER_MONTH: i32 = 30;

pub fn register(state: &mut SessionState) {
    let fields = vec![
        DataType::Int64,
        DataType::Int64,
        DataType::Int64,
        DataType::Int64,
        DataType::Int64,
        DataType::Float64,
    ];
    let mut with_zone = fields.clone();
    with_zone.push(DataType::Utf8);
    let interval = vec![DataType::Interval(IntervalUnit::MonthDayNano)];
    let timestamp = DataType::Timestamp(TimeUnit::Microsecond, None);
    let timestamptz = DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into()));
    let functions = [
        (
            Kind::Age,
            TypeSignature::OneOf(vec![
                TypeSignature::Exact(vec![timestamp.clone(), timestamp.clone()]),
                TypeSignature::Exact(vec![timestamptz.clone(), timestamptz.clone()]),
                TypeSignature::Exact(vec![timestamp]),
                TypeSignature::Exact(vec![timestamptz]),
            ]),
        ),
        (Kind::MakeTimestamp, TypeSignature::Exact(fields.clone())),
        (
            Kind::MakeTimestampTz,
            TypeSignature::OneOf(vec![
                TypeSignature::Exact(fields),
                TypeSignature::Exact(with_zone),
            ]),
        ),
        (Kind::JustifyDays, TypeSignature::Exact(interval.clone())),
        (Kind::JustifyHours, TypeSignature::Exact(interval.clone())),
        (Kind::JustifyInterval, TypeSignature::Exact(interval)),
    ];
    for (kind, types) in functions {
        let volatility = if matches!(kind, Kind::MakeTimestampTz | Kind::Age) {
            Volatility::Stable
        } else {
            Volatility::Immutable
        };
        let function = ScalarUDF::new_from_impl(DateTimeFunction {
            kind,
            signature: Signature::new(types, volatility),
        });
        let _ = datafusion::execution::FunctionRegistry::register_udf(state, Arc::new(function));
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Age,
    MakeTimestamp,
    MakeTimestampTz,
    JustifyDays,
    JustifyHours,
    JustifyInterval,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct DateTimeFunction {
    kind: Kind,
    signature: Signature,
}

fn out_of_range() -> SqlError {
    SqlError::new("22008", "interval out of range")
}

/// Microseconds since 1970 of a wall-clock date and time, checked as PostgreSQL's
/// `make_timestamp` checks them (a negative year is BC).
fn wall_clock_micros(fields: [i64; 5], seconds: f64) -> Result<i64, SqlError> {
    let [year, month, day, hour, minute] = fields;
    let field_error = || {
        SqlError::new(
            "22008",
            format!("date field value out of range: {year}-{month:02}-{day:02}"),
        )
    };
    let astronomical = if year < 0 { year + 1 } else { year };
    let days_in_month = |y: i64, m: i64| match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if year == 0
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(astronomical, month)
    {
        return Err(field_error());
    }
    if !(-4713..=5_874_897).contains(&astronomical) {
        return Err(SqlError::new(
            "22008",
            format!("date out of range: {year}-{month:02}-{day:02}"),
        ));
    }
    let time_error = || {
        SqlError::new(
            "22008",
            format!("time field value out of range: {hour}:{minute:02}:{seconds:02}"),
        )
    };
    if !(0..=24).contains(&hour) || !(0..=59).contains(&minute) || !(0.0..=60.0).contains(&seconds)
    {
        return Err(time_error());
    }
    let time = (hour * 60 + minute) * 60 * MICROS_PER_SECOND
        + (seconds * MICROS_PER_SECOND as f64).round_ties_even() as i64;
    if time > MICROS_PER_DAY {
        return Err(time_error());
    }
    let days = days_from_civil(astronomical, month as u32, day as u32);
    Ok(days * MICROS_PER_DAY + time)
}

/// PostgreSQL's `justify_*` on (months, days, microseconds).
fn justify(kind: Kind, span: (i32, i32, i64)) -> Result<(i32, i32, i64), SqlError> {
    let (mut months, mut days, mut micros) = span;
    let whole_days_of = |micros: &mut i64| {
        let whole = *micros / MICROS_PER_DAY;
        *micros -= whole * MICROS_PER_DAY;
        whole
    };
    match kind {
        Kind::JustifyHours => {
            let whole = whole_days_of(&mut micros);
            days = i32::try_from(i64::from(days) + whole).map_err(|_| out_of_range())?;
            if days > 0 && micros < 0 {
                micros += MICROS_PER_DAY;
                days -= 1;
            } else if days < 0 && micros > 0 {
                micros -= MICROS_PER_DAY;
                days += 1;
            }
        }
        Kind::JustifyDays => {
            let whole = days / DAYS_PER_MONTH;
            days -= whole * DAYS_PER_MONTH;
            months = months.checked_add(whole).ok_or_else(out_of_range)?;
            if months > 0 && days < 0 {
                days += DAYS_PER_MONTH;
                months -= 1;
            } else if months < 0 && days > 0 {
                days -= DAYS_PER_MONTH;
                months += 1;
            }
        }
        _ => {
            if (days > 0 && micros > 0) || (days < 0 && micros < 0) {
                let whole = days / DAYS_PER_MONTH;
                days -= whole * DAYS_PER_MONTH;
                months = months.checked_add(whole).ok_or_else(out_of_range)?;
            }
            let whole = whole_days_of(&mut micros);
            days = i32::try_from(i64::from(days) + whole).map_err(|_| out_of_range())?;
            let whole = days / DAYS_PER_MONTH;
            days -= whole * DAYS_PER_MONTH;
            months = months.checked_add(whole).ok_or_else(out_of_range)?;
            if months > 0 && (days < 0 || (days == 0 && micros < 0)) {
                days += DAYS_PER_MONTH;
                months -= 1;
            } else if months < 0 && (days > 0 || (days == 0 && micros > 0)) {
                days -= DAYS_PER_MONTH;
                months += 1;
            }
            if days > 0 && micros < 0 {
                micros += MICROS_PER_DAY;
                days -= 1;
            } else if days < 0 && micros > 0 {
                micros -= MICROS_PER_DAY;
                days += 1;
            }
        }
    }
    Ok((months, days, micros))
}

impl ScalarUDFImpl for DateTimeFunction {
    fn name(&self) -> &str {
        match self.kind {
            Kind::Age => "age",
            Kind::MakeTimestamp => "make_timestamp",
            Kind::MakeTimestampTz => "make_timestamptz",
            Kind::JustifyDays => "justify_days",
            Kind::JustifyHours => "justify_hours",
            Kind::JustifyInterval => "justify_interval",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(match self.kind {
            Kind::MakeTimestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            Kind::MakeTimestampTz => {
                DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into()))
            }
            _ => DataType::Interval(IntervalUnit::MonthDayNano),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let kind = self.kind;
        let session_zone = if matches!(kind, Kind::MakeTimestampTz | Kind::Age) {
            let context = crate::context::linked_context(&args.config_options)?;
            context.shared.settings.lock().time_zone()
        } else {
            Zone::UTC
        };
        if kind == Kind::Age {
            let context = crate::context::linked_context(&args.config_options)?;
            let now_micros = context.now.timestamp_micros();
            return age(&args, session_zone, now_micros);
        }
        crate::bridge::invoke_on_arrays(&args, |arrays, rows| match kind {
            Kind::MakeTimestamp | Kind::MakeTimestampTz => {
                let mut out = Vec::with_capacity(rows);
                for row in 0..rows {
                    if arrays.iter().any(|a| a.is_null(row)) {
                        out.push(None);
                        continue;
                    }
                    let int = |i: usize| arrays[i].as_primitive::<Int64Type>().value(row);
                    let seconds = arrays[5].as_primitive::<Float64Type>().value(row);
                    let local =
                        wall_clock_micros([int(0), int(1), int(2), int(3), int(4)], seconds)
                            .map_err(into_datafusion)?;
                    if kind == Kind::MakeTimestamp {
                        out.push(Some(local));
                        continue;
                    }
                    let zone = match arrays.get(6) {
                        Some(names) => {
                            let name = names.as_string::<i32>().value(row);
                            Zone::parse(name).ok_or_else(|| {
                                into_datafusion(SqlError::new(
                                    "22023",
                                    format!("time zone \"{name}\" not recognized"),
                                ))
                            })?
                        }
                        None => session_zone,
                    };
                    let offset = i64::from(zone.offset_of_local(local));
                    out.push(Some(local - offset * MICROS_PER_SECOND));
                }
                let array = TimestampMicrosecondArray::from(out);
                Ok(if kind == Kind::MakeTimestampTz {
                    Arc::new(array.with_timezone("+00:00")) as ArrayRef
                } else {
                    Arc::new(array) as ArrayRef
                })
            }
            _ => {
                let spans = arrays[0]
                    .as_primitive::<datafusion::arrow::datatypes::IntervalMonthDayNanoType>();
                let mut out = Vec::with_capacity(rows);
                for row in 0..rows {
                    if spans.is_null(row) {
                        out.push(None);
                        continue;
                    }
                    let span = spans.value(row);
                    let (months, days, micros) = justify(
                        kind,
                        (span.months, span.days, span.nanoseconds / NANOS_PER_MICRO),
                    )
                    .map_err(into_datafusion)?;
                    out.push(Some(IntervalMonthDayNano::new(
                        months,
                        days,
                        micros * NANOS_PER_MICRO,
                    )));
                }
                Ok(Arc::new(IntervalMonthDayNanoArray::from(out)) as ArrayRef)
            }
        })
    }
}

/// `age(later, earlier)`, or `age(earlier)` from today's midnight: both seen on the wall
/// clock — a timestamptz in the session zone.
fn age(args: &ScalarFunctionArgs, zone: Zone, now_micros: i64) -> DfResult<ColumnarValue> {
    let with_zone = matches!(args.args[0].data_type(), DataType::Timestamp(_, Some(_)));
    let local = |micros: i64| {
        if with_zone {
            micros + i64::from(zone.offset_at(micros)) * MICROS_PER_SECOND
        } else {
            micros
        }
    };
    let now_local = now_micros + i64::from(zone.offset_at(now_micros)) * MICROS_PER_SECOND;
    let midnight = now_local.div_euclid(MICROS_PER_DAY) * MICROS_PER_DAY;
    crate::bridge::invoke_on_arrays(args, |arrays, rows| {
        use datafusion::arrow::datatypes::TimestampMicrosecondType;
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            if arrays.iter().any(|a| a.is_null(row)) {
                out.push(None);
                continue;
            }
            let at = |i: usize| {
                arrays[i]
                    .as_primitive::<TimestampMicrosecondType>()
                    .value(row)
            };
            let (later, earlier) = if arrays.len() == 2 {
                (local(at(0)), local(at(1)))
            } else {
                (midnight, local(at(0)))
            };
            let span = bytedata_pgtypes::interval_arith::age(later, earlier)
                .map_err(|e| into_datafusion(e.into()))?;
            out.push(Some(IntervalMonthDayNano::new(
                span.months,
                span.days,
                span.micros * NANOS_PER_MICRO,
            )));
        }
        Ok(Arc::new(IntervalMonthDayNanoArray::from(out)) as ArrayRef)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn justify_as_postgres() {
        let day = MICROS_PER_DAY;
        assert_eq!(
            justify(Kind::JustifyHours, (0, 0, 27 * 3600 * MICROS_PER_SECOND)).unwrap(),
            (0, 1, 3 * 3600 * MICROS_PER_SECOND)
        );
        assert_eq!(justify(Kind::JustifyDays, (0, 35, 0)).unwrap(), (1, 5, 0));
        assert_eq!(justify(Kind::JustifyDays, (1, -35, 0)).unwrap(), (0, -5, 0));
        // justify_interval('1 mon -1 hour') = '29 days 23:00:00'
        assert_eq!(
            justify(Kind::JustifyInterval, (1, 0, -3600 * MICROS_PER_SECOND)).unwrap(),
            (0, 29, day - 3600 * MICROS_PER_SECOND)
        );
    }

    #[test]
    fn make_timestamp_checks_fields() {
        assert_eq!(
            wall_clock_micros([1970, 1, 1, 0, 0], 1.5).unwrap(),
            1_500_000
        );
        assert_eq!(
            wall_clock_micros([0, 7, 15, 8, 15], 55.333)
                .unwrap_err()
                .message,
            "date field value out of range: 0-07-15"
        );
        assert_eq!(
            wall_clock_micros([2013, 2, 30, 8, 15], 0.0)
                .unwrap_err()
                .code,
            "22008"
        );
        assert!(wall_clock_micros([2013, 7, 15, 25, 0], 0.0).is_err());
        // Year -1 is 1 BC.
        assert_eq!(
            wall_clock_micros([-1, 1, 1, 0, 0], 0.0).unwrap(),
            days_from_civil(0, 1, 1) * MICROS_PER_DAY
        );
    }
}
