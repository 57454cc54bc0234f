//! SQL values in their stored form: dates as days since 2000-01-01, times and timestamps
//! as microseconds (since midnight, or since 2000-01-01 00:00 UTC), as PostgreSQL keeps
//! them internally. A `Value` carries no type modifier: `varchar(3)` and `text` values
//! are both `Text`, a `numeric(10,2)` a `Numeric` already rounded to its scale.

use std::cmp::Ordering;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::calendar::MICROS_PER_DAY;
use crate::numeric::Numeric;
use crate::types::DataType;

/// An interval: months, days and microseconds are kept apart, as in PostgreSQL (a month
/// is not a fixed number of days), and compared as if a month were 30 days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Interval {
    pub months: i32,
    pub days: i32,
    pub micros: i64,
}

impl Interval {
    /// The span PostgreSQL orders intervals by.
    pub fn span(&self) -> i128 {
        (i128::from(self.months) * 30 + i128::from(self.days)) * i128::from(MICROS_PER_DAY)
            + i128::from(self.micros)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Null,
    Bool(bool),
    Int2(i16),
    Int4(i32),
    Int8(i64),
    Float4(f32),
    Float8(f64),
    Numeric(
        #[serde(
            serialize_with = "numeric_to_text",
            deserialize_with = "numeric_from_text"
        )]
        Numeric,
    ),
    /// text, varchar and char.
    Text(String),
    Bytea(Vec<u8>),
    /// Days since 2000-01-01.
    Date(i32),
    /// Microseconds since midnight.
    Time(i64),
    /// Microseconds since 2000-01-01 00:00.
    Timestamp(i64),
    /// Microseconds since 2000-01-01 00:00 UTC.
    TimestampTz(i64),
    Interval(Interval),
    Uuid([u8; 16]),
    /// json and jsonb, as text.
    Json(String),
    Array(Vec<Value>),
}

fn numeric_to_text<S: Serializer>(value: &Numeric, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&value.to_string())
}

fn numeric_from_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Numeric, D::Error> {
    let text = String::deserialize(deserializer)?;
    Numeric::parse(&text).map_err(serde::de::Error::custom)
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

fn float_cmp(a: f64, b: f64) -> Ordering {
    // PostgreSQL: NaN equals NaN and sorts above every other value; -0 equals 0.
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// Compares two non-null values of the same type as PostgreSQL's default btree operator
/// class does (text by bytes: the C collation; `char(n)` ignoring trailing spaces).
/// `None` for values of different kinds or types without an order.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    Some(match (a, b) {
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (Value::Int2(a), Value::Int2(b)) => a.cmp(b),
        (Value::Int4(a), Value::Int4(b)) => a.cmp(b),
        (Value::Int8(a), Value::Int8(b)) => a.cmp(b),
        (Value::Float4(a), Value::Float4(b)) => float_cmp(f64::from(*a), f64::from(*b)),
        (Value::Float8(a), Value::Float8(b)) => float_cmp(*a, *b),
        (Value::Numeric(a), Value::Numeric(b)) => a.cmp(b),
        (Value::Text(a), Value::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
        (Value::Bytea(a), Value::Bytea(b)) => a.cmp(b),
        (Value::Date(a), Value::Date(b)) => a.cmp(b),
        (Value::Time(a), Value::Time(b))
        | (Value::Timestamp(a), Value::Timestamp(b))
        | (Value::TimestampTz(a), Value::TimestampTz(b)) => a.cmp(b),
        (Value::Interval(a), Value::Interval(b)) => a.span().cmp(&b.span()),
        (Value::Uuid(a), Value::Uuid(b)) => a.cmp(b),
        _ => return None,
    })
}

/// A value converted to another key type of the same family (a foreign key's `int4`
/// looked up in an `int8` key, say); `None` when it cannot be represented there.
pub fn coerce_value(value: &Value, to: &DataType) -> Option<Value> {
    let integer = |v: i128| -> Option<Value> {
        Some(match to {
            DataType::Int2 => Value::Int2(i16::try_from(v).ok()?),
            DataType::Int4 => Value::Int4(i32::try_from(v).ok()?),
            DataType::Int8 => Value::Int8(i64::try_from(v).ok()?),
            DataType::Numeric { .. } => Value::Numeric(Numeric::from_i128(v, 0)),
            DataType::Float8 => Value::Float8(v as f64),
            _ => return None,
        })
    };
    match (value, to) {
        (Value::Null, _) => Some(Value::Null),
        (Value::Int2(v), _) => integer(i128::from(*v)),
        (Value::Int4(v), _) => integer(i128::from(*v)),
        (Value::Int8(v), _) => integer(i128::from(*v)),
        (Value::Numeric(n), DataType::Numeric { .. }) => Some(Value::Numeric(n.clone())),
        (Value::Numeric(n), DataType::Int2 | DataType::Int4 | DataType::Int8) => {
            let whole = n.to_i128(0)?;
            (Numeric::from_i128(whole, 0) == *n).then_some(())?;
            integer(whole)
        }
        (Value::Float4(v), DataType::Float8) => Some(Value::Float8(f64::from(*v))),
        (Value::Timestamp(v), DataType::Timestamp) => Some(Value::Timestamp(*v)),
        (Value::TimestampTz(v), DataType::TimestampTz) => Some(Value::TimestampTz(*v)),
        (v, _) => Some(v.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_orders_floats_and_intervals() {
        assert_eq!(
            compare(&Value::Float8(f64::NAN), &Value::Float8(f64::INFINITY)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare(&Value::Float8(-0.0), &Value::Float8(0.0)),
            Some(Ordering::Equal)
        );
        let month = Interval {
            months: 1,
            days: 0,
            micros: 0,
        };
        let thirty_days = Interval {
            months: 0,
            days: 30,
            micros: 0,
        };
        assert_eq!(
            compare(&Value::Interval(month), &Value::Interval(thirty_days)),
            Some(Ordering::Equal)
        );
        assert_eq!(compare(&Value::Int4(1), &Value::Int8(1)), None);
    }

    #[test]
    fn key_values_coerce_within_their_family() {
        assert!(matches!(
            coerce_value(&Value::Int4(7), &DataType::Int8),
            Some(Value::Int8(7))
        ));
        assert!(coerce_value(&Value::Int8(1 << 40), &DataType::Int4).is_none());
        let half = Value::Numeric(Numeric::parse("1.5").unwrap());
        assert!(coerce_value(&half, &DataType::Int4).is_none());
    }
}
