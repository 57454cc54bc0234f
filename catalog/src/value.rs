//! SQL values in their stored form: dates as days since 2000-01-01, times and timestamps
//! as microseconds (since midnight, or since 2000-01-01 00:00 UTC), as PostgreSQL keeps
//! them internally.

use std::cmp::Ordering;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::numeric::Numeric;

pub const MICROS_PER_DAY: i64 = 86_400_000_000;

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
