//! Type names in DDL (`integer`, `varchar(20)`, `numeric(10,2)`, `timestamptz`, `serial`,
//! `int[]` …) as our SQL types, with PostgreSQL's limits and errors.

use bytedata_pgtypes::DataType as SqlType;
use datafusion::sql::sqlparser::ast::{self, CharacterLength, ExactNumberInfo, TimezoneInfo};

use crate::error::{Result, SqlError};

/// PostgreSQL's limits on declared lengths and precisions.
const MAX_CHAR_LENGTH: u64 = 10_485_760;
const MAX_NUMERIC_PRECISION: u64 = 1000;

/// What a column's declared type asks for: a type, and whether it is a serial (which
/// gets a sequence and a `nextval` default).
pub struct ColumnType {
    pub data_type: SqlType,
    pub serial: bool,
}

fn char_length(length: &Option<CharacterLength>, type_name: &str) -> Result<Option<u32>> {
    match length {
        None | Some(CharacterLength::Max) => Ok(None),
        Some(CharacterLength::IntegerLength { length, .. }) => {
            if *length == 0 {
                Err(SqlError::new(
                    "22023",
                    format!("length for type {type_name} must be at least 1"),
                ))
            } else if *length > MAX_CHAR_LENGTH {
                Err(SqlError::new(
                    "22023",
                    format!("length for type {type_name} cannot exceed {MAX_CHAR_LENGTH}"),
                ))
            } else {
                Ok(Some(*length as u32))
            }
        }
    }
}

fn numeric(info: &ExactNumberInfo) -> Result<SqlType> {
    let (precision, scale) = match info {
        ExactNumberInfo::None => {
            return Ok(SqlType::Numeric {
                precision: None,
                scale: None,
            });
        }
        ExactNumberInfo::Precision(p) => (*p, 0),
        ExactNumberInfo::PrecisionAndScale(p, s) => (*p, *s),
    };
    if precision == 0 || precision > MAX_NUMERIC_PRECISION {
        return Err(SqlError::new(
            "22023",
            format!("NUMERIC precision {precision} must be between 1 and {MAX_NUMERIC_PRECISION}"),
        ));
    }
    if scale < 0 || scale as u64 > precision {
        return Err(SqlError::unsupported(format!(
            "NUMERIC scale {scale} outside 0 to precision {precision}"
        )));
    }
    Ok(SqlType::Numeric {
        precision: Some(precision as u32),
        scale: Some(scale as u32),
    })
}

/// Maps a declared type (a column's, a cast's, a sequence's).
pub fn column_type(ty: &ast::DataType) -> Result<ColumnType> {
    use ast::DataType as T;
    let plain = |data_type| {
        Ok(ColumnType {
            data_type,
            serial: false,
        })
    };
    match ty {
        T::Bool | T::Boolean => plain(SqlType::Bool),
        T::SmallInt(_) | T::Int2(_) => plain(SqlType::Int2),
        T::Int(_) | T::Integer(_) | T::Int4(_) => plain(SqlType::Int4),
        T::BigInt(_) | T::Int8(_) => plain(SqlType::Int8),
        T::Real | T::Float4 => plain(SqlType::Float4),
        T::Double(_) | T::DoublePrecision | T::Float8 => plain(SqlType::Float8),
        T::Float(info) => match info {
            ExactNumberInfo::Precision(p) if *p == 0 || *p > 53 => Err(SqlError::new(
                "22023",
                format!("precision for type float must be between 1 and 53, not {p}"),
            )),
            ExactNumberInfo::Precision(p) if *p <= 24 => plain(SqlType::Float4),
            _ => plain(SqlType::Float8),
        },
        T::Numeric(info) | T::Decimal(info) | T::Dec(info) => plain(numeric(info)?),
        T::Text | T::String(None) => plain(SqlType::Text),
        T::Varchar(length) | T::CharacterVarying(length) | T::CharVarying(length) => {
            plain(SqlType::Varchar(char_length(length, "varchar")?))
        }
        T::Char(length) | T::Character(length) => plain(SqlType::Char(
            char_length(length, "character")?.unwrap_or(1),
        )),
        T::Bytea => plain(SqlType::Bytea),
        T::Date => plain(SqlType::Date),
        T::Time(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => plain(SqlType::Time),
        T::Timestamp(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => {
            plain(SqlType::Timestamp)
        }
        T::Timestamp(_, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz) => {
            plain(SqlType::TimestampTz)
        }
        T::Interval { .. } => plain(SqlType::Interval),
        T::Uuid => plain(SqlType::Uuid),
        T::JSON => plain(SqlType::Json),
        T::JSONB => plain(SqlType::Jsonb),
        T::Array(element) => {
            let element = match element {
                ast::ArrayElemTypeDef::AngleBracket(t)
                | ast::ArrayElemTypeDef::SquareBracket(t, _)
                | ast::ArrayElemTypeDef::Parenthesis(t) => t,
                ast::ArrayElemTypeDef::None => {
                    return Err(SqlError::syntax("syntax error at or near \"ARRAY\""));
                }
            };
            let inner = column_type(element)?;
            if inner.serial {
                return Err(SqlError::unsupported("arrays of serial"));
            }
            if matches!(inner.data_type, SqlType::Array(_)) {
                return plain(inner.data_type);
            }
            plain(SqlType::Array(Box::new(inner.data_type)))
        }
        T::Custom(name, modifiers) => {
            let name = name.to_string().to_lowercase();
            let name = name.trim_matches('"');
            let serial = |data_type| {
                Ok(ColumnType {
                    data_type,
                    serial: true,
                })
            };
            match (name, modifiers.len()) {
                ("serial" | "serial4", 0) => serial(SqlType::Int4),
                ("bigserial" | "serial8", 0) => serial(SqlType::Int8),
                ("smallserial" | "serial2", 0) => serial(SqlType::Int2),
                ("timestamptz", _) => plain(SqlType::TimestampTz),
                ("timetz", _) => Err(SqlError::unsupported("type time with time zone")),
                ("bpchar", 0) => plain(SqlType::Char(1)),
                ("int", 0) => plain(SqlType::Int4),
                ("float", 0) => plain(SqlType::Float8),
                ("bool", 0) => plain(SqlType::Bool),
                ("varchar", 0) => plain(SqlType::Varchar(None)),
                ("name", 0) => plain(SqlType::Name),
                _ => Err(SqlError::new(
                    "42704",
                    format!("type \"{name}\" does not exist"),
                )),
            }
        }
        other => Err(SqlError::new(
            "42704",
            format!(
                "type \"{}\" does not exist",
                other.to_string().to_lowercase()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    use super::*;

    fn parse(name: &str) -> Result<ColumnType> {
        let dialect = PostgreSqlDialect {};
        let ty = Parser::new(&dialect)
            .try_with_sql(name)
            .unwrap()
            .parse_data_type()
            .unwrap();
        column_type(&ty)
    }

    #[test]
    fn names_map_to_types() {
        let cases = [
            ("int", SqlType::Int4),
            ("bigint", SqlType::Int8),
            ("smallint", SqlType::Int2),
            ("double precision", SqlType::Float8),
            ("real", SqlType::Float4),
            ("float(10)", SqlType::Float4),
            ("float(40)", SqlType::Float8),
            (
                "numeric",
                SqlType::Numeric {
                    precision: None,
                    scale: None,
                },
            ),
            (
                "numeric(10, 2)",
                SqlType::Numeric {
                    precision: Some(10),
                    scale: Some(2),
                },
            ),
            (
                "decimal(5)",
                SqlType::Numeric {
                    precision: Some(5),
                    scale: Some(0),
                },
            ),
            ("varchar(20)", SqlType::Varchar(Some(20))),
            ("character varying", SqlType::Varchar(None)),
            ("char(3)", SqlType::Char(3)),
            ("char", SqlType::Char(1)),
            ("timestamp", SqlType::Timestamp),
            ("timestamp with time zone", SqlType::TimestampTz),
            ("timestamptz", SqlType::TimestampTz),
            ("int[]", SqlType::Array(Box::new(SqlType::Int4))),
            ("jsonb", SqlType::Jsonb),
        ];
        for (name, expected) in cases {
            let ty = parse(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(ty.data_type, expected, "{name}");
            assert!(!ty.serial);
        }
        let serial = parse("bigserial").unwrap();
        assert!(serial.serial);
        assert_eq!(serial.data_type, SqlType::Int8);
    }

    #[test]
    fn bad_types_get_postgres_errors() {
        assert_eq!(parse("nosuchtype").err().unwrap().code, "42704");
        assert_eq!(parse("numeric(2000)").err().unwrap().code, "22023");
        assert_eq!(parse("varchar(0)").err().unwrap().code, "22023");
    }
}
