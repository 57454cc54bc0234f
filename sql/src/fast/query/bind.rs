//! Binding a query's WHERE terms to one execution's parameters: each operand becomes a
//! value of its column's type (exactly, or the statement declines), the terms choose the
//! access path through the table provider's planner, and those the path does not
//! enforce remain as predicates checked on every row read.

use std::cmp::Ordering;
use std::ops::Bound;

use bytedata_pgtypes::Value;
use bytedata_pgtypes::value::compare;

use super::{Comparison, Shifted, Term, orders_like_arrow};
use crate::fast::eval::shifted_key_value;
use crate::fast::{Decline, Inputs, visible_position};
use crate::provider::access::{AccessPlan, Constraint, plan_constraints};
use crate::writer::TableWriter;

#[derive(Clone, Debug)]
pub(super) enum Test {
    Compare(Comparison, Value),
    Between(Value, Value),
    In(Vec<Value>),
}

/// A term as a test of one column (position among the codec's live columns).
#[derive(Clone, Debug)]
pub(super) struct Predicate {
    pub position: usize,
    pub test: Test,
}

impl Predicate {
    /// Whether the row passes; NULL passes no comparison.
    pub fn holds(&self, row: &[Value]) -> std::result::Result<bool, Decline> {
        let value = &row[self.position];
        if matches!(value, Value::Null) {
            return Ok(false);
        }
        let order = |other: &Value| compare(value, other).ok_or(Decline);
        Ok(match &self.test {
            Test::Compare(comparison, other) => {
                let order = order(other)?;
                match comparison {
                    Comparison::Eq => order == Ordering::Equal,
                    Comparison::NotEq => order != Ordering::Equal,
                    Comparison::Lt => order == Ordering::Less,
                    Comparison::LtEq => order != Ordering::Greater,
                    Comparison::Gt => order == Ordering::Greater,
                    Comparison::GtEq => order != Ordering::Less,
                }
            }
            Test::Between(low, high) => {
                order(low)? != Ordering::Less && order(high)? != Ordering::Greater
            }
            Test::In(values) => {
                for other in values {
                    if order(other)? == Ordering::Equal {
                        return Ok(true);
                    }
                }
                false
            }
        })
    }
}

pub(super) struct BoundTerms {
    pub access: AccessPlan,
    /// The predicates the access path does not enforce.
    pub residual: Vec<Predicate>,
}

fn value(
    shifted: &Shifted,
    ty: &bytedata_pgtypes::DataType,
    inputs: &Inputs,
) -> std::result::Result<Value, Decline> {
    shifted_key_value(&shifted.operand, shifted.shift, ty, inputs)
}

pub(super) fn bind(
    writer: &TableWriter,
    terms: &[Term],
    inputs: &Inputs,
) -> std::result::Result<BoundTerms, Decline> {
    let codec = &writer.codec;
    let columns = codec.columns();
    let mut constraints = vec![Constraint::default(); columns.len()];
    let mut predicates = Vec::with_capacity(terms.len());
    for (i, term) in terms.iter().enumerate() {
        let name = match term {
            Term::Compare { column, .. }
            | Term::Between { column, .. }
            | Term::In { column, .. } => column,
        };
        let position = visible_position(writer, name)?;
        let ty = &columns[position].data_type;
        if !orders_like_arrow(ty) {
            return Err(Decline);
        }
        let test = match term {
            Term::Compare {
                comparison,
                value: v,
                ..
            } => Test::Compare(*comparison, value(v, ty, inputs)?),
            Term::Between { low, high, .. } => {
                Test::Between(value(low, ty, inputs)?, value(high, ty, inputs)?)
            }
            Term::In { values, .. } => Test::In(
                values
                    .iter()
                    .map(|v| value(v, ty, inputs))
                    .collect::<std::result::Result<_, _>>()?,
            ),
        };
        let c = &mut constraints[position];
        match &test {
            Test::Compare(Comparison::Eq, v) if c.equals.is_none() => {
                c.equals = Some(vec![v.clone()]);
                c.eq_filters.push(i);
            }
            Test::In(values) if c.equals.is_none() => {
                c.equals = Some(values.clone());
                c.eq_filters.push(i);
            }
            Test::Compare(Comparison::Gt, v) if c.lower.is_none() => {
                c.lower = Some((Bound::Excluded(v.clone()), i));
            }
            Test::Compare(Comparison::GtEq, v) if c.lower.is_none() => {
                c.lower = Some((Bound::Included(v.clone()), i));
            }
            Test::Compare(Comparison::Lt, v) if c.upper.is_none() => {
                c.upper = Some((Bound::Excluded(v.clone()), i));
            }
            Test::Compare(Comparison::LtEq, v) if c.upper.is_none() => {
                c.upper = Some((Bound::Included(v.clone()), i));
            }
            Test::Between(low, high) if c.lower.is_none() && c.upper.is_none() => {
                c.lower = Some((Bound::Included(low.clone()), i));
                c.upper = Some((Bound::Included(high.clone()), i));
            }
            _ => {}
        }
        predicates.push(Predicate { position, test });
    }
    let access = plan_constraints(codec, &constraints, terms.len());
    let residual = predicates
        .into_iter()
        .zip(&access.consumed)
        .filter(|(_, consumed)| !**consumed)
        .map(|(predicate, _)| predicate)
        .collect();
    Ok(BoundTerms { access, residual })
}
