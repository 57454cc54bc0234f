//! GROUP BY and the aggregates, over the rows read: groups are runs of equal keys after a
//! sort (NULLs group together, as in SQL); without GROUP BY the one group is every row,
//! and yields a row even when there are none.
//!
//! Each aggregate gives what the general path's gives, or declines: `sum` of integers is
//! `int8` and declines past its range; `avg` of integers is `float8`, computed exactly
//! while the sum of magnitudes stays below 2^53 (where a float sum is exact in any order).

use std::cmp::Ordering;

use bytedata_pgtypes::Value;
use bytedata_pgtypes::value::compare;

use super::{Aggregate, OutputColumn, Source, orders_like_arrow};
use crate::fast::{Decline, visible_position};
use crate::writer::TableWriter;

/// The largest integer magnitude every partial float sum represents exactly.
const EXACT_FLOAT_SUM: i128 = 1 << 53;

/// NULLs last, as equal to each other.
pub(super) fn compare_nullable(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        _ => compare(a, b).unwrap_or(Ordering::Equal),
    }
}

fn compare_at(a: &[Value], b: &[Value], positions: &[usize]) -> Ordering {
    positions
        .iter()
        .map(|&p| compare_nullable(&a[p], &b[p]))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// The result rows of an aggregating query: one per group.
pub(super) fn group(
    writer: &TableWriter,
    group_by: &[String],
    outputs: &[OutputColumn],
    mut rows: Vec<Vec<Value>>,
) -> std::result::Result<Vec<Vec<Value>>, Decline> {
    let columns = writer.codec.columns();
    let positions = group_by
        .iter()
        .map(|name| visible_position(writer, name))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if positions
        .iter()
        .any(|&p| !orders_like_arrow(&columns[p].data_type))
    {
        return Err(Decline);
    }
    for output in outputs {
        if let Source::Column(p) = output.source
            && !positions.contains(&p)
        {
            return Err(Decline);
        }
    }
    if positions.is_empty() {
        return Ok(vec![group_row(outputs, &rows)?]);
    }
    rows.sort_by(|a, b| compare_at(a, b, &positions));
    let mut result = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let mut end = start + 1;
        while end < rows.len() && compare_at(&rows[start], &rows[end], &positions).is_eq() {
            end += 1;
        }
        result.push(group_row(outputs, &rows[start..end])?);
        start = end;
    }
    Ok(result)
}

fn group_row(
    outputs: &[OutputColumn],
    rows: &[Vec<Value>],
) -> std::result::Result<Vec<Value>, Decline> {
    outputs
        .iter()
        .map(|output| match output.source {
            Source::Column(p) => Ok(rows.first().map_or(Value::Null, |row| row[p].clone())),
            Source::Aggregate(function, argument) => accumulate(function, argument, rows),
        })
        .collect()
}

fn integer(value: &Value) -> std::result::Result<i128, Decline> {
    match value {
        Value::Int2(v) => Ok(i128::from(*v)),
        Value::Int4(v) => Ok(i128::from(*v)),
        Value::Int8(v) => Ok(i128::from(*v)),
        _ => Err(Decline),
    }
}

fn accumulate(
    function: Aggregate,
    argument: Option<usize>,
    rows: &[Vec<Value>],
) -> std::result::Result<Value, Decline> {
    let Some(p) = argument else {
        // count(*)
        return Ok(Value::Int8(i64::try_from(rows.len()).map_err(|_| Decline)?));
    };
    let values = rows
        .iter()
        .map(|row| &row[p])
        .filter(|v| !matches!(v, Value::Null));
    Ok(match function {
        Aggregate::Count => Value::Int8(i64::try_from(values.count()).map_err(|_| Decline)?),
        Aggregate::Sum | Aggregate::Avg => {
            let (mut sum, mut magnitude, mut count) = (0i128, 0i128, 0i128);
            for value in values {
                let v = integer(value)?;
                sum += v;
                magnitude += v.abs();
                count += 1;
            }
            if count == 0 {
                Value::Null
            } else if function == Aggregate::Sum {
                Value::Int8(i64::try_from(sum).map_err(|_| Decline)?)
            } else if magnitude < EXACT_FLOAT_SUM {
                Value::Float8(sum as f64 / count as f64)
            } else {
                return Err(Decline);
            }
        }
        Aggregate::Min | Aggregate::Max => {
            let wanted = if function == Aggregate::Min {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            let mut best: Option<&Value> = None;
            for value in values {
                best = match best {
                    Some(current) if compare(value, current).ok_or(Decline)? != wanted => {
                        Some(current)
                    }
                    _ => Some(value),
                };
            }
            best.cloned().unwrap_or(Value::Null)
        }
    })
}
