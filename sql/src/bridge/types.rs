//! Between the catalog's SQL types and Arrow's: which Arrow type holds a column, and the
//! PostgreSQL type each result field reports (kept in the field's metadata, so that
//! `varchar(20)`, `char(3)`, `json` and `uuid` stay what they are though Arrow holds them
//! all as strings).

use std::collections::HashMap;
use std::sync::Arc;

use bytedata_pgtypes::DataType as SqlType;
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, IntervalUnit, TimeUnit};

/// Field metadata key holding the PostgreSQL type: `"<oid>"` or `"<oid>:<typmod>"`.
pub const PG_TYPE_KEY: &str = "pg_type";

/// Precision and scale that hold an unconstrained `numeric`.
pub const UNCONSTRAINED_NUMERIC: (u8, i8) = (76, 20);

pub fn arrow_type(ty: &SqlType) -> ArrowType {
    match ty {
        SqlType::Bool => ArrowType::Boolean,
        SqlType::Int2 => ArrowType::Int16,
        SqlType::Int4 => ArrowType::Int32,
        SqlType::Int8 => ArrowType::Int64,
        SqlType::Float4 => ArrowType::Float32,
        SqlType::Float8 => ArrowType::Float64,
        SqlType::Numeric {
            precision: Some(precision),
            scale,
        } => {
            let scale = scale.unwrap_or(0) as i8;
            if *precision <= 38 {
                ArrowType::Decimal128(*precision as u8, scale)
            } else {
                ArrowType::Decimal256((*precision).min(76) as u8, scale)
            }
        }
        SqlType::Numeric {
            precision: None, ..
        } => ArrowType::Decimal256(UNCONSTRAINED_NUMERIC.0, UNCONSTRAINED_NUMERIC.1),
        SqlType::Text
        | SqlType::Varchar(_)
        | SqlType::Char(_)
        | SqlType::Name
        | SqlType::Json
        | SqlType::Jsonb
        | SqlType::Uuid => ArrowType::Utf8,
        SqlType::Bytea => ArrowType::Binary,
        SqlType::Date => ArrowType::Date32,
        SqlType::Time => ArrowType::Time64(TimeUnit::Microsecond),
        SqlType::Timestamp => ArrowType::Timestamp(TimeUnit::Microsecond, None),
        SqlType::TimestampTz => ArrowType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())),
        SqlType::Interval => ArrowType::Interval(IntervalUnit::MonthDayNano),
        SqlType::Array(element) => {
            ArrowType::List(Arc::new(Field::new("item", arrow_type(element), true)))
        }
    }
}

/// A field for a column of `ty`, with its PostgreSQL type in the metadata.
pub fn field(name: &str, ty: &SqlType, nullable: bool) -> Field {
    let pg = match ty.typmod() {
        -1 => ty.oid().to_string(),
        typmod => format!("{}:{typmod}", ty.oid()),
    };
    Field::new(name, arrow_type(ty), nullable)
        .with_metadata(HashMap::from([(PG_TYPE_KEY.to_owned(), pg)]))
}

/// The PostgreSQL type (OID and typmod) of a result field: from its metadata if it came
/// from a column, else from its Arrow type.
pub fn pg_type_of(field: &Field) -> (u32, i32) {
    if let Some(pg) = field.metadata().get(PG_TYPE_KEY) {
        let mut parts = pg.splitn(2, ':');
        let oid = parts.next().and_then(|o| o.parse().ok());
        let typmod = parts.next().and_then(|t| t.parse().ok()).unwrap_or(-1);
        if let Some(oid) = oid {
            return (oid, typmod);
        }
    }
    (pg_oid_of_arrow(field.data_type()), -1)
}

/// The PostgreSQL type OID that best holds values of an Arrow type.
pub fn pg_oid_of_arrow(ty: &ArrowType) -> u32 {
    match ty {
        ArrowType::Boolean => 16,
        ArrowType::Int8 | ArrowType::Int16 | ArrowType::UInt8 => 21,
        ArrowType::Int32 | ArrowType::UInt16 => 23,
        ArrowType::Int64 | ArrowType::UInt32 | ArrowType::UInt64 => 20,
        ArrowType::Float16 | ArrowType::Float32 => 700,
        ArrowType::Float64 => 701,
        ArrowType::Decimal32(_, _)
        | ArrowType::Decimal64(_, _)
        | ArrowType::Decimal128(_, _)
        | ArrowType::Decimal256(_, _) => 1700,
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => 25,
        ArrowType::Binary
        | ArrowType::LargeBinary
        | ArrowType::BinaryView
        | ArrowType::FixedSizeBinary(_) => 17,
        ArrowType::Date32 | ArrowType::Date64 => 1082,
        ArrowType::Time32(_) | ArrowType::Time64(_) => 1083,
        ArrowType::Timestamp(_, None) => 1114,
        ArrowType::Timestamp(_, Some(_)) => 1184,
        ArrowType::Interval(_) | ArrowType::Duration(_) => 1186,
        ArrowType::List(element)
        | ArrowType::LargeList(element)
        | ArrowType::FixedSizeList(element, _) => {
            let element_oid = pg_oid_of_arrow(element.data_type());
            bytedata_pgtypes::types::array_oid_of(element_oid)
        }
        ArrowType::Null => 25,
        _ => 25,
    }
}

/// The catalog type a result field holds: its PostgreSQL type and modifier (from the
/// metadata, or guessed from the Arrow type), `None` for types we do not store.
pub fn sql_type_of_field(field: &Field) -> Option<SqlType> {
    // An array's element type is its element field's (the list's own OID names only the
    // array type, not the element's modifier).
    if let ArrowType::List(element) | ArrowType::LargeList(element) = field.data_type() {
        return Some(SqlType::Array(Box::new(sql_type_of_field(element)?)));
    }
    let (oid, typmod) = pg_type_of(field);
    let base = SqlType::from_oid(oid)?;
    Some(match (base, field.data_type()) {
        (SqlType::Varchar(_), _) if typmod > 4 => SqlType::Varchar(Some((typmod - 4) as u32)),
        (SqlType::Char(_), _) if typmod > 4 => SqlType::Char((typmod - 4) as u32),
        (SqlType::Numeric { .. }, _) if typmod > 4 => SqlType::Numeric {
            precision: Some(((typmod - 4) >> 16) as u32),
            scale: Some(((typmod - 4) & 0xffff) as u32),
        },
        (SqlType::Numeric { .. }, ArrowType::Decimal128(p, s) | ArrowType::Decimal256(p, s))
            if (*p, *s) != UNCONSTRAINED_NUMERIC && *s >= 0 =>
        {
            SqlType::Numeric {
                precision: Some(u32::from(*p)),
                scale: Some(*s as u32),
            }
        }
        (base, _) => base,
    })
}
