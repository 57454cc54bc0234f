//! Single-table queries on the fast path: key ranges, multi-key reads, secondary-index
//! look-ups, with filters, aggregates, GROUP BY, DISTINCT, ORDER BY and LIMIT/OFFSET —
//! run from the shape recognised once per prepared statement or cached query text, with
//! no DataFusion plan.
//!
//! A short range costs PostgreSQL a few tens of microseconds; DataFusion's planning and
//! its operator pipeline cost more than the read itself. So the statements an OLTP
//! workload repeats over a key prefix or range run here as a small pipeline over
//! `pgtypes::Value` rows:
//!
//! 1. *bind* (`bind`): each WHERE term's operands become values of their column's type,
//!    exactly or not at all; the terms on key and index columns choose the access path
//!    through the same planner the table provider uses (`provider::access`), and the
//!    terms the path does not enforce stay as residual predicates;
//! 2. *read* (`read`): the path's rows at the statement's snapshot, each decoded and
//!    checked against the residual predicates;
//! 3. *shape the result* (`aggregate`, `order`): grouping and aggregates, the select
//!    list, DISTINCT, ORDER BY, OFFSET and LIMIT.
//!
//! The general path's answer is the reference: the same rows, the same types, the same
//! column names. Whatever could make them differ declines before any row is returned —
//! a type whose comparison or aggregate the pipeline does not reproduce exactly (floats,
//! intervals, json), an operand whose conversion is not exact, an aggregate that could
//! overflow, a clause it does not know. A query that reads more than `MAX_ROWS_READ`
//! rows declines too: large scans belong to DataFusion's streamed, parallel, bounded-
//! memory pipeline, and the fast path holds what it reads.

mod aggregate;
mod bind;
mod order;
mod read;
pub(crate) mod recognize;

use bytedata_mvcc::Transaction;
use bytedata_pgtypes::DataType as SqlType;
use bytedata_pgtypes::Value;

use super::{Decline, Inputs, Operand, Outcome, TableName, visible_position};
use crate::bridge::field;
use crate::error::Result;
use crate::writer::TableWriter;

/// Most rows one fast query reads before it leaves the statement to the general path.
pub(crate) const MAX_ROWS_READ: usize = 4096;

/// A recognised single-table query.
#[derive(Clone, Debug)]
pub(crate) struct QueryShape {
    pub table: TableName,
    pub items: Vec<Item>,
    /// The WHERE clause's conjuncts.
    pub terms: Vec<Term>,
    pub group_by: Vec<String>,
    pub distinct: bool,
    pub order_by: Vec<OrderKey>,
    pub limit: Option<Operand>,
    pub offset: Option<Operand>,
}

#[derive(Clone, Debug)]
pub(crate) enum Item {
    /// `*`: the visible columns.
    All,
    Column {
        name: String,
        output: String,
    },
    Aggregate {
        function: Aggregate,
        /// `None` for `count(*)`.
        argument: Option<String>,
        output: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Aggregate {
    Count,
    Sum,
    Min,
    Max,
    Avg,
}

/// `operand + shift`: pgbench's `:r + 99` arrives as `$1 + 99`.
#[derive(Clone, Debug)]
pub(crate) struct Shifted {
    pub operand: Operand,
    pub shift: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Comparison {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

#[derive(Clone, Debug)]
pub(crate) enum Term {
    Compare {
        column: String,
        comparison: Comparison,
        value: Shifted,
    },
    Between {
        column: String,
        low: Shifted,
        high: Shifted,
    },
    In {
        column: String,
        values: Vec<Shifted>,
    },
}

#[derive(Clone, Debug)]
pub(crate) enum OrderTarget {
    /// `ORDER BY 2`, one-based.
    Position(usize),
    /// A bare name: an output column's name first, else the table's column.
    Name(String),
    /// A qualified name: the table's column.
    Column(String),
}

#[derive(Clone, Debug)]
pub(crate) struct OrderKey {
    pub target: OrderTarget,
    pub descending: bool,
    /// PostgreSQL's default: NULLs sort as if larger than every value.
    pub nulls_first: bool,
}

/// One column of the result: where its value comes from, and its type.
#[derive(Clone, Debug)]
enum Source {
    /// A column of the row (position among the codec's live columns).
    Column(usize),
    /// An aggregate over the group.
    Aggregate(Aggregate, Option<usize>),
}

#[derive(Clone, Debug)]
struct OutputColumn {
    name: String,
    source: Source,
    data_type: SqlType,
    nullable: bool,
}

/// Types whose order `pgtypes::compare` gives exactly as the general path's Arrow kernels
/// do (floats differ on -0 and NaN, intervals on spans).
fn orders_like_arrow(ty: &SqlType) -> bool {
    matches!(
        ty,
        SqlType::Bool
            | SqlType::Int2
            | SqlType::Int4
            | SqlType::Int8
            | SqlType::Numeric { .. }
            | SqlType::Text
            | SqlType::Varchar(_)
            | SqlType::Char(_)
            | SqlType::Date
            | SqlType::Timestamp
            | SqlType::TimestampTz
            | SqlType::Uuid
    )
}

fn is_integer(ty: &SqlType) -> bool {
    matches!(ty, SqlType::Int2 | SqlType::Int4 | SqlType::Int8)
}

/// The result columns of the select list, or `Decline`.
fn output_columns(
    writer: &TableWriter,
    shape: &QueryShape,
) -> std::result::Result<Vec<OutputColumn>, Decline> {
    let columns = writer.codec.columns();
    let column_output = |position: usize, name: &str| OutputColumn {
        name: name.to_owned(),
        source: Source::Column(position),
        data_type: columns[position].data_type.clone(),
        nullable: columns[position].nullable,
    };
    let mut outputs = Vec::with_capacity(shape.items.len());
    for item in &shape.items {
        match item {
            Item::All => outputs.extend(
                columns
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| !c.hidden)
                    .map(|(i, c)| column_output(i, &c.name)),
            ),
            Item::Column { name, output } => {
                outputs.push(column_output(visible_position(writer, name)?, output));
            }
            Item::Aggregate {
                function,
                argument,
                output,
            } => {
                let argument = match argument {
                    Some(name) => Some(visible_position(writer, name)?),
                    None => None,
                };
                let argument_type = argument.map(|p| &columns[p].data_type);
                let data_type = match (function, argument_type) {
                    (Aggregate::Count, _) => SqlType::Int8,
                    (Aggregate::Sum, Some(ty)) if is_integer(ty) => SqlType::Int8,
                    (Aggregate::Avg, Some(ty)) if is_integer(ty) => SqlType::Float8,
                    // Types whose result column the general path types the same way
                    // (a typmod, a numeric's precision, would be lost there).
                    (Aggregate::Min | Aggregate::Max, Some(ty))
                        if is_integer(ty)
                            || matches!(
                                ty,
                                SqlType::Text
                                    | SqlType::Date
                                    | SqlType::Timestamp
                                    | SqlType::TimestampTz
                            ) =>
                    {
                        ty.clone()
                    }
                    _ => return Err(Decline),
                };
                outputs.push(OutputColumn {
                    name: output.clone(),
                    source: Source::Aggregate(*function, argument),
                    nullable: *function != Aggregate::Count,
                    data_type,
                });
            }
        }
    }
    Ok(outputs)
}

macro_rules! declined {
    ($e:expr) => {
        match $e {
            Ok(value) => value,
            Err(Decline) => return Ok(Err(Decline)),
        }
    };
}

/// Runs a recognised query on its table in `txn`.
pub(crate) fn execute(
    shape: &QueryShape,
    writer: &TableWriter,
    txn: &Transaction,
    inputs: &Inputs,
) -> Result<Outcome> {
    let outputs = declined!(output_columns(writer, shape));
    let aggregating = !shape.group_by.is_empty()
        || outputs
            .iter()
            .any(|o| matches!(o.source, Source::Aggregate(..)));
    let order = declined!(order::resolve(writer, shape, &outputs, aggregating));
    let bound = declined!(bind::bind(writer, &shape.terms, inputs));
    let offset = match &shape.offset {
        Some(operand) => declined!(super::eval::row_count(operand, inputs)),
        None => 0,
    };
    let limit = match &shape.limit {
        Some(operand) => Some(declined!(super::eval::row_count(operand, inputs))),
        None => None,
    };
    // Rows can stop being read once OFFSET + LIMIT of them passed the filters, when
    // nothing after the read needs to see them all.
    let enough = match limit {
        Some(limit) if !aggregating && !shape.distinct && order.keys.is_empty() => {
            usize::try_from(offset.saturating_add(limit)).ok()
        }
        _ => None,
    };
    let needed = declined!(needed_columns(writer, shape, &outputs, &bound, &order));
    let rows = declined!(read::rows(writer, &bound, &needed, txn, enough)?);
    let mut values = if aggregating {
        declined!(aggregate::group(writer, &shape.group_by, &outputs, rows))
    } else {
        let projection = order::projection(&outputs, &order.hidden);
        rows.into_iter()
            .map(|row| order::project(row, &projection))
            .collect()
    };
    if shape.distinct {
        declined!(order::distinct(&mut values, &outputs));
    }
    declined!(order::sort(&mut values, &order));
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    let limit = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let values: Vec<Vec<Value>> = values
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|mut row| {
            row.truncate(outputs.len());
            row
        })
        .collect();
    result(&outputs, values)
}

/// The positions of the columns the query reads: outputs, aggregate arguments, residual
/// predicates, GROUP BY and ORDER BY keys; ascending.
fn needed_columns(
    writer: &TableWriter,
    shape: &QueryShape,
    outputs: &[OutputColumn],
    bound: &bind::BoundTerms,
    order: &order::Order,
) -> std::result::Result<Vec<usize>, Decline> {
    let mut needed: Vec<usize> = outputs
        .iter()
        .filter_map(|o| match o.source {
            Source::Column(p) | Source::Aggregate(_, Some(p)) => Some(p),
            Source::Aggregate(_, None) => None,
        })
        .chain(bound.residual.iter().map(|p| p.position))
        .chain(order.hidden.iter().copied())
        .collect();
    for name in &shape.group_by {
        needed.push(visible_position(writer, name)?);
    }
    needed.sort_unstable();
    needed.dedup();
    Ok(needed)
}

fn result(outputs: &[OutputColumn], values: Vec<Vec<Value>>) -> Result<Outcome> {
    let fields = outputs
        .iter()
        .map(|o| field(&o.name, &o.data_type, o.nullable))
        .collect();
    let types = outputs.iter().map(|o| o.data_type.clone()).collect();
    super::rows_outcome(fields, types, values)
}
