//! SQL data types, with what PostgreSQL clients need to know about them: type OIDs,
//! type modifiers and the names `format_type` prints.

use serde::{Deserialize, Serialize};

/// A column's type. Character types carry their length limit, `numeric` its precision and
/// scale (both absent for an unconstrained `numeric`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric {
        precision: Option<u32>,
        scale: Option<u32>,
    },
    Text,
    Varchar(Option<u32>),
    Char(u32),
    Bytea,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    Json,
    Jsonb,
    Array(Box<DataType>),
    /// `name`: an identifier, text of at most 63 bytes (longer input is cut, as
    /// PostgreSQL cuts it). Last, so stored descriptors keep their variant numbers.
    Name,
}

impl DataType {
    /// The type's OID in PostgreSQL's `pg_type`.
    pub fn oid(&self) -> u32 {
        match self {
            DataType::Bool => 16,
            DataType::Int2 => 21,
            DataType::Int4 => 23,
            DataType::Int8 => 20,
            DataType::Float4 => 700,
            DataType::Float8 => 701,
            DataType::Numeric { .. } => 1700,
            DataType::Text => 25,
            DataType::Varchar(_) => 1043,
            DataType::Char(_) => 1042,
            DataType::Bytea => 17,
            DataType::Date => 1082,
            DataType::Time => 1083,
            DataType::Timestamp => 1114,
            DataType::TimestampTz => 1184,
            DataType::Interval => 1186,
            DataType::Uuid => 2950,
            DataType::Json => 114,
            DataType::Jsonb => 3802,
            DataType::Array(element) => element.array_oid(),
            DataType::Name => 19,
        }
    }

    /// The OID of the array type whose elements are this type.
    pub fn array_oid(&self) -> u32 {
        match self {
            DataType::Bool => 1000,
            DataType::Int2 => 1005,
            DataType::Int4 => 1007,
            DataType::Int8 => 1016,
            DataType::Float4 => 1021,
            DataType::Float8 => 1022,
            DataType::Numeric { .. } => 1231,
            DataType::Text => 1009,
            DataType::Varchar(_) => 1015,
            DataType::Char(_) => 1014,
            DataType::Bytea => 1001,
            DataType::Date => 1182,
            DataType::Time => 1183,
            DataType::Timestamp => 1115,
            DataType::TimestampTz => 1185,
            DataType::Interval => 1187,
            DataType::Uuid => 2951,
            DataType::Json => 199,
            DataType::Jsonb => 3807,
            // No arrays of arrays: PostgreSQL arrays are multi-dimensional instead.
            DataType::Array(element) => element.array_oid(),
            DataType::Name => 1003,
        }
    }

    /// The type modifier (`atttypmod`), -1 when there is none.
    pub fn typmod(&self) -> i32 {
        match self {
            DataType::Varchar(Some(length)) | DataType::Char(length) => *length as i32 + 4,
            DataType::Numeric {
                precision: Some(precision),
                scale,
            } => ((*precision as i32) << 16 | scale.unwrap_or(0) as i32) + 4,
            DataType::Array(element) => element.typmod(),
            _ => -1,
        }
    }

    /// The bytes of a value of this type, or -1 for variable length (`typlen`).
    pub fn byte_length(&self) -> i16 {
        match self {
            DataType::Bool => 1,
            DataType::Int2 => 2,
            DataType::Int4 | DataType::Float4 | DataType::Date => 4,
            DataType::Int8
            | DataType::Float8
            | DataType::Time
            | DataType::Timestamp
            | DataType::TimestampTz => 8,
            DataType::Interval | DataType::Uuid => 16,
            DataType::Name => 64,
            _ => -1,
        }
    }

    /// How `format_type` prints the type (as psql's `\d` shows it).
    pub fn display_name(&self) -> String {
        match self {
            DataType::Bool => "boolean".into(),
            DataType::Int2 => "smallint".into(),
            DataType::Int4 => "integer".into(),
            DataType::Int8 => "bigint".into(),
            DataType::Float4 => "real".into(),
            DataType::Float8 => "double precision".into(),
            DataType::Numeric {
                precision: Some(precision),
                scale,
            } => format!("numeric({precision},{})", scale.unwrap_or(0)),
            DataType::Numeric { .. } => "numeric".into(),
            DataType::Text => "text".into(),
            DataType::Varchar(Some(length)) => format!("character varying({length})"),
            DataType::Varchar(None) => "character varying".into(),
            DataType::Char(length) => format!("character({length})"),
            DataType::Bytea => "bytea".into(),
            DataType::Date => "date".into(),
            DataType::Time => "time without time zone".into(),
            DataType::Timestamp => "timestamp without time zone".into(),
            DataType::TimestampTz => "timestamp with time zone".into(),
            DataType::Interval => "interval".into(),
            DataType::Uuid => "uuid".into(),
            DataType::Json => "json".into(),
            DataType::Jsonb => "jsonb".into(),
            DataType::Array(element) => format!("{}[]", element.display_name()),
            DataType::Name => "name".into(),
        }
    }

    /// Whether values of this type can be part of a key (they have a total order the key
    /// encoding preserves).
    pub fn is_key_type(&self) -> bool {
        !matches!(self, DataType::Json | DataType::Jsonb | DataType::Array(_))
    }

    /// Whether the key encoding of this type drops something a value shows (the display
    /// scale of a numeric, the sign of -0, the months of an interval): the row stores such
    /// key columns again so they read back exactly.
    pub fn key_is_lossy(&self) -> bool {
        matches!(
            self,
            DataType::Numeric { .. } | DataType::Float4 | DataType::Float8 | DataType::Interval
        )
    }
}

/// The array type of an element type OID (25, text's, for types without one here).
pub fn array_oid_of(element: u32) -> u32 {
    match element {
        16 => 1000,
        21 => 1005,
        23 => 1007,
        20 => 1016,
        700 => 1021,
        701 => 1022,
        1700 => 1231,
        25 => 1009,
        1043 => 1015,
        1042 => 1014,
        19 => 1003,
        17 => 1001,
        1082 => 1182,
        1083 => 1183,
        1114 => 1115,
        1184 => 1185,
        1186 => 1187,
        2950 => 2951,
        114 => 199,
        3802 => 3807,
        _ => 1009,
    }
}

/// The element type of an array type OID (the inverse of `array_oid_of`); `int2vector`
/// (22) and `oidvector` (30) count as arrays. Text's OID for anything else.
pub fn element_oid(array_oid: u32) -> u32 {
    match array_oid {
        1000 => 16,
        1005 | 22 => 21,
        1028 | 30 => 26,
        1007 => 23,
        1016 => 20,
        1021 => 700,
        1022 => 701,
        1231 => 1700,
        1015 => 1043,
        1014 => 1042,
        1003 => 19,
        1001 => 17,
        1182 => 1082,
        1183 => 1083,
        1115 => 1114,
        1185 => 1184,
        1187 => 1186,
        2951 => 2950,
        199 => 114,
        3807 => 3802,
        _ => 25,
    }
}

impl DataType {
    /// The type a PostgreSQL type OID names, for values typed by clients (parameters).
    /// Catalog types without a column type of their own map to the nearest one:
    /// `"char"` and `unknown` to text, `oid` to bigint. `None` for types ByteData does not hold.
    pub fn from_oid(oid: u32) -> Option<DataType> {
        Some(match oid {
            16 => DataType::Bool,
            21 => DataType::Int2,
            23 => DataType::Int4,
            20 => DataType::Int8,
            700 => DataType::Float4,
            701 => DataType::Float8,
            1700 => DataType::Numeric {
                precision: None,
                scale: None,
            },
            25 | 705 | 18 => DataType::Text,
            19 => DataType::Name,
            26 => DataType::Int8,
            1043 => DataType::Varchar(None),
            1042 => DataType::Char(1),
            17 => DataType::Bytea,
            1082 => DataType::Date,
            1083 => DataType::Time,
            1114 => DataType::Timestamp,
            1184 => DataType::TimestampTz,
            1186 => DataType::Interval,
            2950 => DataType::Uuid,
            114 => DataType::Json,
            3802 => DataType::Jsonb,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_typmods_and_names_match_postgres() {
        let numeric = DataType::Numeric {
            precision: Some(10),
            scale: Some(2),
        };
        assert_eq!((numeric.oid(), numeric.typmod()), (1700, 655_366));
        assert_eq!(numeric.display_name(), "numeric(10,2)");
        assert_eq!(DataType::Varchar(Some(20)).typmod(), 24);
        assert_eq!(DataType::Char(1).display_name(), "character(1)");
        assert_eq!(DataType::Array(Box::new(DataType::Int4)).oid(), 1007);
        assert_eq!(
            DataType::Array(Box::new(DataType::Int4)).display_name(),
            "integer[]"
        );
        assert_eq!(DataType::Text.typmod(), -1);
    }

    #[test]
    fn array_and_element_oids_are_inverse() {
        for element in [
            16, 21, 23, 20, 700, 701, 1700, 25, 1043, 1042, 17, 1082, 1083, 1114, 1184, 1186, 2950,
            114, 3802, 19,
        ] {
            assert_eq!(element_oid(array_oid_of(element)), element);
            let ty = DataType::from_oid(element).unwrap();
            assert_eq!(ty.oid(), element);
            assert_eq!(ty.array_oid(), array_oid_of(element));
        }
        assert_eq!(DataType::from_oid(19), Some(DataType::Name));
        assert_eq!(DataType::Name.display_name(), "name");
        assert_eq!(DataType::from_oid(600), None);
    }
}
