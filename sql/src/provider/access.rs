//! Access paths: which keys a scan reads, from the filters on key columns.
//!
//! Filters of the forms `col = lit`, `col IN (lits)`, `col <|<=|>|>= lit` and
//! `col BETWEEN lit AND lit` are matched against the primary key's columns in order:
//! equalities (and IN lists) on a prefix of the key, then optionally a range on the next
//! column. That yields
//!
//! - **point gets** when every key column is fixed (one per combination of IN values),
//! - a **prefix scan** when a proper prefix is fixed,
//! - a **range scan** when a range follows the fixed prefix (one range per prefix),
//! - else, if a secondary index's leading columns are constrained the same way, an
//!   **index scan** (then a fetch of each row by its key),
//! - else a **full scan** of the table's key range.
//!
//! Filters the chosen path enforces completely are *consumed*: they are reported to
//! DataFusion as exact and need no re-check. Because key fields are self-delimiting,
//! "column = v" is exactly "key starts with prefix ‖ field(v)", and bounds translate to
//! byte bounds — inverted for descending columns, and stopping short of NULL entries.

use std::ops::Bound;

use bytedata_catalog::keycode::{self, Direction};
use bytedata_catalog::keys::index_end;
use bytedata_catalog::table::TableCodec;
use bytedata_pgtypes::DataType as SqlType;
use bytedata_pgtypes::Value;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};
use datafusion::scalar::ScalarValue;

/// Most ranges or points one scan expands to (IN lists multiply).
const MAX_RANGES: usize = 4096;

pub type KeyRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

#[derive(Clone, Debug)]
pub enum Path {
    /// Whole primary keys.
    Points(Vec<Vec<u8>>),
    /// Ranges of the primary index, in key order.
    Ranges(Vec<KeyRange>),
    /// Ranges of a secondary index (position in the codec's indexes), in key order.
    Index { index: usize, ranges: Vec<KeyRange> },
}

#[derive(Clone, Debug)]
pub struct AccessPlan {
    pub path: Path,
    /// Per filter: whether the path enforces it completely.
    pub consumed: Vec<bool>,
    /// How EXPLAIN shows the path.
    pub description: String,
}

/// What the filters say about one column; the `usize`s name the filter that said it.
#[derive(Clone, Debug, Default)]
pub struct Constraint {
    pub equals: Option<Vec<Value>>,
    pub lower: Option<(Bound<Value>, usize)>,
    pub upper: Option<(Bound<Value>, usize)>,
    /// Filters that contributed the equality.
    pub eq_filters: Vec<usize>,
}

fn strip_cast(expr: &Expr) -> &Expr {
    match expr {
        Expr::Cast(cast)
            if matches!(cast.expr.as_ref(), Expr::Column(_))
                && cast.field.data_type().is_integer() =>
        {
            &cast.expr
        }
        other => other,
    }
}

fn column_name(expr: &Expr) -> Option<&str> {
    match strip_cast(expr) {
        Expr::Column(column) => Some(column.name.as_str()),
        _ => None,
    }
}

fn literal(expr: &Expr) -> Option<&ScalarValue> {
    match expr {
        Expr::Literal(value, _) => Some(value),
        _ => None,
    }
}

/// A literal as a value of the column's type, only if the conversion is exact (no
/// rounding, no truncation): otherwise the filter is left to DataFusion.
pub fn exact_value(scalar: &ScalarValue, ty: &SqlType) -> Option<Value> {
    if scalar.is_null() {
        return None;
    }
    if let Some(integer) = integer_of(scalar) {
        // The common key, converted without building a one-row array (a point
        // statement's look-up runs through here every time).
        return match ty {
            SqlType::Int2 => i16::try_from(integer).ok().map(Value::Int2),
            SqlType::Int4 => i32::try_from(integer).ok().map(Value::Int4),
            SqlType::Int8 => i64::try_from(integer).ok().map(Value::Int8),
            _ => exact_value_through_array(scalar, ty),
        };
    }
    exact_value_through_array(scalar, ty)
}

fn integer_of(scalar: &ScalarValue) -> Option<i128> {
    match *scalar {
        ScalarValue::Int8(Some(v)) => Some(v.into()),
        ScalarValue::Int16(Some(v)) => Some(v.into()),
        ScalarValue::Int32(Some(v)) => Some(v.into()),
        ScalarValue::Int64(Some(v)) => Some(v.into()),
        ScalarValue::UInt8(Some(v)) => Some(v.into()),
        ScalarValue::UInt16(Some(v)) => Some(v.into()),
        ScalarValue::UInt32(Some(v)) => Some(v.into()),
        ScalarValue::UInt64(Some(v)) => Some(v.into()),
        _ => None,
    }
}

fn exact_value_through_array(scalar: &ScalarValue, ty: &SqlType) -> Option<Value> {
    let array = scalar.to_array().ok()?;
    match (ty, scalar) {
        (SqlType::Int2 | SqlType::Int4 | SqlType::Int8, s) if !s.data_type().is_integer() => {
            return None;
        }
        (SqlType::Float4, s)
            if !matches!(s, ScalarValue::Float32(_)) && !s.data_type().is_integer() =>
        {
            return None;
        }
        (
            SqlType::Numeric {
                scale: Some(scale), ..
            },
            ScalarValue::Decimal128(_, _, s),
        ) if *s as u32 > *scale => return None,
        (SqlType::Numeric { .. }, ScalarValue::Float32(_) | ScalarValue::Float64(_)) => {
            return None;
        }
        _ => {}
    }
    let value = crate::bridge::value_at(&array, 0, ty).ok()?;
    // A string that had to be cut to fit cannot equal anything stored.
    if let (Value::Text(text), Some(original)) = (&value, scalar_str(scalar))
        && text.trim_end_matches(' ') != original.trim_end_matches(' ')
    {
        return None;
    }
    Some(value)
}

fn scalar_str(scalar: &ScalarValue) -> Option<&str> {
    match scalar {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(s),
        _ => None,
    }
}

fn flip(op: Operator) -> Operator {
    match op {
        Operator::Lt => Operator::Gt,
        Operator::LtEq => Operator::GtEq,
        Operator::Gt => Operator::Lt,
        Operator::GtEq => Operator::LtEq,
        other => other,
    }
}

/// `col = v1 OR col = v2 OR …` (one column throughout) as the column and its values.
fn equalities(expr: &Expr) -> Option<(&str, Vec<&ScalarValue>)> {
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => {
            let (left_name, mut values) = equalities(left)?;
            let (right_name, more) = equalities(right)?;
            (left_name == right_name).then(|| {
                values.extend(more);
                (left_name, values)
            })
        }
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => match (
            column_name(left),
            literal(right),
            column_name(right),
            literal(left),
        ) {
            (Some(name), Some(value), _, _) | (_, _, Some(name), Some(value)) => {
                Some((name, vec![value]))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Collects per-column constraints from the filters.
fn constraints(codec: &TableCodec, filters: &[&Expr]) -> Vec<Constraint> {
    let columns = codec.columns();
    let mut out = vec![Constraint::default(); columns.len()];
    let position = |name: &str| columns.iter().position(|c| c.name == name && !c.hidden);
    for (i, filter) in filters.iter().enumerate() {
        match filter {
            // DataFusion writes a short IN list as ORed equalities.
            Expr::BinaryExpr(BinaryExpr {
                op: Operator::Or, ..
            }) => {
                let Some((name, literals)) = equalities(filter) else {
                    continue;
                };
                let Some(p) = position(name) else { continue };
                let ty = &columns[p].data_type;
                let values: Option<Vec<Value>> =
                    literals.iter().map(|v| exact_value(v, ty)).collect();
                let c = &mut out[p];
                if let Some(values) = values
                    && c.equals.is_none()
                {
                    c.equals = Some(values);
                    c.eq_filters.push(i);
                }
            }
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
                let (name, op, value) = match (
                    column_name(left),
                    literal(right),
                    column_name(right),
                    literal(left),
                ) {
                    (Some(name), Some(value), _, _) => (name, *op, value),
                    (_, _, Some(name), Some(value)) => (name, flip(*op), value),
                    _ => continue,
                };
                let Some(p) = position(name) else { continue };
                let Some(value) = exact_value(value, &columns[p].data_type) else {
                    continue;
                };
                let c = &mut out[p];
                match op {
                    Operator::Eq if c.equals.is_none() => {
                        c.equals = Some(vec![value]);
                        c.eq_filters.push(i);
                    }
                    Operator::Gt if c.lower.is_none() => {
                        c.lower = Some((Bound::Excluded(value), i))
                    }
                    Operator::GtEq if c.lower.is_none() => {
                        c.lower = Some((Bound::Included(value), i))
                    }
                    Operator::Lt if c.upper.is_none() => {
                        c.upper = Some((Bound::Excluded(value), i))
                    }
                    Operator::LtEq if c.upper.is_none() => {
                        c.upper = Some((Bound::Included(value), i))
                    }
                    _ => {}
                }
            }
            Expr::Between(Between {
                expr,
                negated: false,
                low,
                high,
            }) => {
                let (Some(name), Some(low), Some(high)) =
                    (column_name(expr), literal(low), literal(high))
                else {
                    continue;
                };
                let Some(p) = position(name) else { continue };
                let ty = &columns[p].data_type;
                let (Some(low), Some(high)) = (exact_value(low, ty), exact_value(high, ty)) else {
                    continue;
                };
                let c = &mut out[p];
                if c.lower.is_none() && c.upper.is_none() {
                    c.lower = Some((Bound::Included(low), i));
                    c.upper = Some((Bound::Included(high), i));
                }
            }
            Expr::InList(list) if !list.negated => {
                let Some(name) = column_name(&list.expr) else {
                    continue;
                };
                let Some(p) = position(name) else { continue };
                let ty = &columns[p].data_type;
                let values: Option<Vec<Value>> = list
                    .list
                    .iter()
                    .map(|e| literal(e).and_then(|v| exact_value(v, ty)))
                    .collect();
                let c = &mut out[p];
                if let Some(values) = values
                    && !values.is_empty()
                    && c.equals.is_none()
                {
                    c.equals = Some(values);
                    c.eq_filters.push(i);
                }
            }
            _ => {}
        }
    }
    out
}

/// The smallest byte string above every string starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Bound<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Bound::Excluded(end);
        }
    }
    Bound::Unbounded
}

/// Key ranges over `columns` (position among live columns, type, direction) under an
/// index prefix; `None` if the leading column is unconstrained.
struct Ranges {
    ranges: Vec<KeyRange>,
    points: bool,
    used: Vec<usize>,
    fixed: usize,
    ranged: bool,
}

fn build_ranges(
    prefix: &[u8],
    columns: &[(usize, SqlType, Direction)],
    constraints: &[Constraint],
) -> Option<Ranges> {
    let mut prefixes: Vec<Vec<u8>> = vec![prefix.to_vec()];
    let mut used = Vec::new();
    let mut fixed = 0;
    for (position, ty, direction) in columns {
        let c = &constraints[*position];
        let Some(values) = &c.equals else { break };
        if prefixes.len() * values.len() > MAX_RANGES {
            break;
        }
        let mut next = Vec::with_capacity(prefixes.len() * values.len());
        for p in &prefixes {
            for value in values {
                let mut key = p.clone();
                keycode::encode_field(&mut key, value, ty, *direction).ok()?;
                next.push(key);
            }
        }
        prefixes = next;
        used.extend(&c.eq_filters);
        fixed += 1;
    }
    let mut ranged = false;
    let ranges: Vec<KeyRange> = if fixed == columns.len() {
        prefixes
            .iter()
            .map(|p| (Bound::Included(p.clone()), prefix_end(p)))
            .collect()
    } else {
        let (position, ty, direction) = &columns[fixed];
        let c = &constraints[*position];
        if c.lower.is_none() && c.upper.is_none() {
            if fixed == 0 {
                return None;
            }
            prefixes
                .iter()
                .map(|p| (Bound::Included(p.clone()), prefix_end(p)))
                .collect()
        } else {
            ranged = true;
            let field = |p: &[u8], v: &Value| -> Option<Vec<u8>> {
                let mut key = p.to_vec();
                keycode::encode_field(&mut key, v, ty, *direction).ok()?;
                Some(key)
            };
            let mut out = Vec::new();
            for p in &prefixes {
                // Bounds on values, as bounds on keys: ascending keeps the direction,
                // descending swaps lower and upper; NULL entries are never in range.
                let (value_low, value_high) = (
                    c.lower.as_ref().map(|l| &l.0),
                    c.upper.as_ref().map(|u| &u.0),
                );
                let (low, high) = if *direction == Direction::Asc {
                    (value_low, value_high)
                } else {
                    (value_high, value_low)
                };
                let start = match low {
                    None if *direction == Direction::Asc => Bound::Included(p.clone()),
                    None => {
                        // Skip the NULLs, which come first when descending.
                        let mut non_null = p.clone();
                        non_null.push(!0x01);
                        Bound::Included(non_null)
                    }
                    Some(Bound::Included(v)) if *direction == Direction::Asc => {
                        Bound::Included(field(p, v)?)
                    }
                    Some(Bound::Excluded(v)) if *direction == Direction::Asc => {
                        excluded_after(&field(p, v)?)
                    }
                    Some(Bound::Included(v)) => Bound::Included(field(p, v)?),
                    Some(Bound::Excluded(v)) => excluded_after(&field(p, v)?),
                    Some(Bound::Unbounded) => Bound::Included(p.clone()),
                };
                let stop = match high {
                    None if *direction == Direction::Asc => {
                        // Stop before the NULLs, which come last when ascending.
                        let mut nulls = p.clone();
                        nulls.push(0x02);
                        Bound::Excluded(nulls)
                    }
                    None => prefix_end(p),
                    Some(Bound::Included(v)) => prefix_end(&field(p, v)?),
                    Some(Bound::Excluded(v)) => Bound::Excluded(field(p, v)?),
                    Some(Bound::Unbounded) => prefix_end(p),
                };
                out.push((start, stop));
            }
            used.extend(c.lower.iter().map(|l| l.1));
            used.extend(c.upper.iter().map(|u| u.1));
            out
        }
    };
    let points = fixed == columns.len();
    let mut ranges = ranges;
    ranges.sort_by(|a, b| bound_start(&a.0).cmp(bound_start(&b.0)));
    // Repeated IN values give the same range twice; each row is read once.
    ranges.dedup();
    Some(Ranges {
        ranges,
        points,
        used,
        fixed,
        ranged,
    })
}

/// "Every key after all keys starting with `field`".
fn excluded_after(field: &[u8]) -> Bound<Vec<u8>> {
    match prefix_end(field) {
        Bound::Excluded(end) => Bound::Included(end),
        other => other,
    }
}

fn bound_start(bound: &Bound<Vec<u8>>) -> &[u8] {
    match bound {
        Bound::Included(key) | Bound::Excluded(key) => key,
        Bound::Unbounded => &[],
    }
}

fn names(codec: &TableCodec, positions: &[(usize, SqlType, Direction)], count: usize) -> String {
    positions
        .iter()
        .take(count)
        .map(|(p, _, _)| codec.columns()[*p].name.clone())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn plan(codec: &TableCodec, filters: &[&Expr]) -> AccessPlan {
    plan_constraints(codec, &constraints(codec, filters), filters.len())
}

/// The access path for per-column constraints (one per live column of the codec) drawn
/// from `filter_count` filters.
pub fn plan_constraints(
    codec: &TableCodec,
    constraints: &[Constraint],
    filter_count: usize,
) -> AccessPlan {
    debug_assert_eq!(constraints.len(), codec.columns().len());
    let mark = |used: &[usize]| {
        let mut consumed = vec![false; filter_count];
        for &i in used {
            consumed[i] = true;
        }
        consumed
    };
    let key_columns: Vec<(usize, SqlType, Direction)> = codec
        .key_positions()
        .zip(codec.key_types())
        .map(|(p, (ty, direction))| (p, ty, direction))
        .collect();
    let primary = codec.primary_prefix();
    let primary_end = index_end(codec.storage_id(), 1);
    if let Some(ranges) = build_ranges(&primary, &key_columns, constraints) {
        let key_names = names(
            codec,
            &key_columns,
            ranges.fixed + usize::from(ranges.ranged),
        );
        if ranges.points {
            let keys: Vec<Vec<u8>> = ranges
                .ranges
                .iter()
                .map(|(start, _)| bound_start(start).to_vec())
                .collect();
            let description = format!("point get ({key_names}){}", plural_keys(keys.len()));
            return AccessPlan {
                path: Path::Points(keys),
                consumed: mark(&ranges.used),
                description,
            };
        }
        let kind = if ranges.ranged {
            "range scan"
        } else {
            "prefix scan"
        };
        let description = format!("{kind} ({key_names}){}", plural_ranges(ranges.ranges.len()));
        return AccessPlan {
            path: Path::Ranges(ranges.ranges),
            consumed: mark(&ranges.used),
            description,
        };
    }
    for (i, index) in codec.indexes().iter().enumerate() {
        let columns: Vec<(usize, SqlType, Direction)> = index
            .descriptor
            .columns
            .iter()
            .filter_map(|k| {
                let p = codec.columns().iter().position(|c| c.id == k.column)?;
                Some((p, codec.columns()[p].data_type.clone(), k.direction))
            })
            .collect();
        let prefix = bytedata_catalog::keys::index_prefix(codec.storage_id(), index.descriptor.id);
        if let Some(ranges) = build_ranges(&prefix, &columns, constraints) {
            // Index entries of a non-unique index carry the key after the columns, so
            // even "all columns equal" is a prefix of the entries.
            let ranges_list = if ranges.points {
                ranges
                    .ranges
                    .iter()
                    .map(|(start, _)| {
                        let start_key = bound_start(start).to_vec();
                        let stop = prefix_end(&start_key);
                        (Bound::Included(start_key), stop)
                    })
                    .collect()
            } else {
                ranges.ranges
            };
            let description = format!(
                "index scan {} ({}){}",
                index.descriptor.name,
                names(codec, &columns, ranges.fixed + usize::from(ranges.ranged)),
                plural_ranges(ranges_list.len())
            );
            return AccessPlan {
                path: Path::Index {
                    index: i,
                    ranges: ranges_list,
                },
                consumed: mark(&ranges.used),
                description,
            };
        }
    }
    AccessPlan {
        path: Path::Ranges(vec![(
            Bound::Included(primary.to_vec()),
            Bound::Excluded(primary_end.to_vec()),
        )]),
        consumed: vec![false; filter_count],
        description: "full scan".into(),
    }
}

fn plural_keys(n: usize) -> String {
    if n == 1 {
        String::new()
    } else {
        format!(", {n} keys")
    }
}

fn plural_ranges(n: usize) -> String {
    if n == 1 {
        String::new()
    } else {
        format!(", {n} ranges")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_literals_convert_as_they_would_through_an_array() {
        let scalars = [
            ScalarValue::Int8(Some(-128)),
            ScalarValue::Int16(Some(300)),
            ScalarValue::Int32(Some(-5)),
            ScalarValue::Int32(Some(i32::MAX)),
            ScalarValue::Int64(Some(i64::MIN)),
            ScalarValue::Int64(Some(1 << 40)),
            ScalarValue::UInt8(Some(255)),
            ScalarValue::UInt32(Some(70_000)),
            ScalarValue::UInt64(Some(u64::MAX)),
            ScalarValue::Int32(None),
        ];
        for ty in [SqlType::Int2, SqlType::Int4, SqlType::Int8, SqlType::Float8] {
            for scalar in &scalars {
                let expected = if scalar.is_null() {
                    None
                } else {
                    exact_value_through_array(scalar, &ty)
                };
                let got = exact_value(scalar, &ty);
                assert_eq!(
                    format!("{got:?}"),
                    format!("{expected:?}"),
                    "{scalar:?} as {ty:?}"
                );
            }
        }
        let seven = exact_value(&ScalarValue::Int64(Some(7)), &SqlType::Int4);
        assert!(matches!(seven, Some(Value::Int4(7))), "{seven:?}");
    }
}
