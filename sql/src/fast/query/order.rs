//! The select list, DISTINCT and ORDER BY over the rows read (or the groups formed).
//!
//! An ORDER BY key names a result column (by its name or position) or, as PostgreSQL
//! allows when nothing is grouped or made distinct, a table column not in the select
//! list: such columns are carried after the result columns until the sort, then cut.

use std::cmp::Ordering;

use bytedata_pgtypes::Value;

use super::aggregate::compare_nullable;
use super::{OrderTarget, OutputColumn, QueryShape, Source, orders_like_arrow};
use crate::fast::{Decline, visible_position};
use crate::writer::TableWriter;

#[derive(Debug, Default)]
pub(super) struct Order {
    /// Per key: the position in the projected row, descending, NULLs first.
    pub keys: Vec<(usize, bool, bool)>,
    /// Table columns carried for the sort after the result columns.
    pub hidden: Vec<usize>,
}

pub(super) fn resolve(
    writer: &TableWriter,
    shape: &QueryShape,
    outputs: &[OutputColumn],
    aggregating: bool,
) -> std::result::Result<Order, Decline> {
    let columns = writer.codec.columns();
    let mut order = Order::default();
    for key in &shape.order_by {
        let by_name = |name: &str| {
            let mut named = outputs.iter().enumerate().filter(|(_, o)| o.name == name);
            match (named.next(), named.next()) {
                (Some((i, _)), None) => Ok(Some(i)),
                (None, _) => Ok(None),
                // Ambiguous (or the same column twice): the general path decides.
                (Some(_), Some(_)) => Err(Decline),
            }
        };
        let at = match &key.target {
            OrderTarget::Position(n) if (1..=outputs.len()).contains(n) => Some(n - 1),
            OrderTarget::Position(_) => return Err(Decline),
            OrderTarget::Name(name) => by_name(name)?,
            OrderTarget::Column(_) => None,
        };
        let at = match (at, &key.target) {
            (Some(at), _) => at,
            (None, OrderTarget::Name(name) | OrderTarget::Column(name)) => {
                let position = visible_position(writer, name)?;
                let output = outputs
                    .iter()
                    .position(|o| matches!(o.source, Source::Column(p) if p == position));
                match output {
                    Some(at) => at,
                    None if aggregating || shape.distinct => return Err(Decline),
                    None => {
                        if !orders_like_arrow(&columns[position].data_type) {
                            return Err(Decline);
                        }
                        order.hidden.push(position);
                        outputs.len() + order.hidden.len() - 1
                    }
                }
            }
            (None, OrderTarget::Position(_)) => return Err(Decline),
        };
        if at < outputs.len() && !orders_like_arrow(&outputs[at].data_type) {
            return Err(Decline);
        }
        order.keys.push((at, key.descending, key.nulls_first));
    }
    Ok(order)
}

/// Where each column of a projected row comes from: the result columns (none
/// aggregated), then the hidden sort columns; `None` for an aggregate, which has no place
/// in a row not grouped.
pub(super) fn projection(outputs: &[OutputColumn], hidden: &[usize]) -> Vec<Option<usize>> {
    outputs
        .iter()
        .map(|output| match output.source {
            Source::Column(p) => Some(p),
            Source::Aggregate(..) => None,
        })
        .chain(hidden.iter().copied().map(Some))
        .collect()
}

/// A row as `projection` lays it out; each value moved out of the row unless a later
/// column takes it too.
pub(super) fn project(mut row: Vec<Value>, projection: &[Option<usize>]) -> Vec<Value> {
    let mut projected = Vec::with_capacity(projection.len());
    for (i, source) in projection.iter().enumerate() {
        match *source {
            None => {
                debug_assert!(false, "an aggregate projected without grouping");
                projected.push(Value::Null);
            }
            Some(p) if projection[i + 1..].contains(&Some(p)) => projected.push(row[p].clone()),
            Some(p) => projected.push(std::mem::replace(&mut row[p], Value::Null)),
        }
    }
    projected
}

/// Removes duplicate rows (NULLs equal to each other, as DISTINCT has them).
pub(super) fn distinct(
    rows: &mut Vec<Vec<Value>>,
    outputs: &[OutputColumn],
) -> std::result::Result<(), Decline> {
    if !outputs.iter().all(|o| orders_like_arrow(&o.data_type)) {
        return Err(Decline);
    }
    let whole = |a: &Vec<Value>, b: &Vec<Value>| {
        a.iter()
            .zip(b)
            .map(|(a, b)| compare_nullable(a, b))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    };
    rows.sort_by(whole);
    rows.dedup_by(|a, b| whole(a, b).is_eq());
    Ok(())
}

pub(super) fn sort(rows: &mut [Vec<Value>], order: &Order) -> std::result::Result<(), Decline> {
    if order.keys.is_empty() {
        return Ok(());
    }
    rows.sort_by(|a, b| {
        for &(at, descending, nulls_first) in &order.keys {
            let (x, y) = (&a[at], &b[at]);
            let ordering = match (matches!(x, Value::Null), matches!(y, Value::Null)) {
                (true, true) => Ordering::Equal,
                (true, false) if nulls_first => Ordering::Less,
                (true, false) => Ordering::Greater,
                (false, true) if nulls_first => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    let ordering = compare_nullable(x, y);
                    if descending {
                        ordering.reverse()
                    } else {
                        ordering
                    }
                }
            };
            if ordering.is_ne() {
                return ordering;
            }
        }
        Ordering::Equal
    });
    Ok(())
}
