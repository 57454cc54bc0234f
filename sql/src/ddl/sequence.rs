//! CREATE SEQUENCE, and the options sequences share with identity columns.

use bytedata_catalog::descriptor::SequenceDescriptor;
use bytedata_pgtypes::DataType as SqlType;
use datafusion::sql::sqlparser::ast::{self, ObjectName};

use super::Ddl;
use crate::context::result::QueryResult;
use crate::error::{Result, SqlError};
use crate::syntax::typename::column_type;
use crate::syntax::{ident_name, object_name};

/// A whole-number sequence option (`INCREMENT BY -1`).
fn option_value(expr: &ast::Expr) -> Result<i64> {
    let text = expr.to_string().replace(' ', "");
    text.parse::<i64>()
        .map_err(|_| SqlError::new("22023", format!("invalid sequence option value {expr}")))
}

/// Applies `START WITH`, `INCREMENT BY`, `MINVALUE` … to a sequence with PostgreSQL's
/// checks.
pub(crate) fn apply_sequence_options(
    sequence: &mut SequenceDescriptor,
    options: &[ast::SequenceOptions],
) -> Result<()> {
    let type_max = match sequence.data_type {
        SqlType::Int2 => i64::from(i16::MAX),
        SqlType::Int4 => i64::from(i32::MAX),
        _ => i64::MAX,
    };
    let (mut min, mut max, mut start) = (None, None, None);
    for option in options {
        match option {
            ast::SequenceOptions::IncrementBy(expr, _) => {
                sequence.increment = option_value(expr)?;
                if sequence.increment == 0 {
                    return Err(SqlError::new("22023", "INCREMENT must not be zero"));
                }
            }
            ast::SequenceOptions::MinValue(expr) => {
                min = Some(expr.as_ref().map(option_value).transpose()?)
            }
            ast::SequenceOptions::MaxValue(expr) => {
                max = Some(expr.as_ref().map(option_value).transpose()?)
            }
            ast::SequenceOptions::StartWith(expr, _) => start = Some(option_value(expr)?),
            ast::SequenceOptions::Cache(expr) => {
                sequence.cache = option_value(expr)?;
                if sequence.cache < 1 {
                    return Err(SqlError::new(
                        "22023",
                        format!("CACHE ({}) must be greater than zero", sequence.cache),
                    ));
                }
            }
            ast::SequenceOptions::Cycle(no) => sequence.cycle = !*no,
        }
    }
    let ascending = sequence.increment > 0;
    sequence.min_value = min
        .flatten()
        .unwrap_or(if ascending { 1 } else { -type_max - 1 });
    sequence.max_value = max
        .flatten()
        .unwrap_or(if ascending { type_max } else { -1 });
    sequence.start = start.unwrap_or(if ascending {
        sequence.min_value
    } else {
        sequence.max_value
    });
    if sequence.min_value >= sequence.max_value {
        return Err(SqlError::new(
            "22023",
            format!(
                "MINVALUE ({}) must be less than MAXVALUE ({})",
                sequence.min_value, sequence.max_value
            ),
        ));
    }
    if sequence.start < sequence.min_value {
        return Err(SqlError::new(
            "22023",
            format!(
                "START value ({}) cannot be less than MINVALUE ({})",
                sequence.start, sequence.min_value
            ),
        ));
    }
    if sequence.start > sequence.max_value {
        return Err(SqlError::new(
            "22023",
            format!(
                "START value ({}) cannot be greater than MAXVALUE ({})",
                sequence.start, sequence.max_value
            ),
        ));
    }
    Ok(())
}

pub fn create_sequence(
    ddl: &Ddl,
    name: &ObjectName,
    if_not_exists: bool,
    data_type: Option<&ast::DataType>,
    options: &[ast::SequenceOptions],
    owned_by: Option<&ObjectName>,
) -> Result<QueryResult> {
    let (schema_name, name) = object_name(name)?;
    let schema = ddl.creation_schema(schema_name.as_deref())?;
    if ddl.catalog().relation(ddl.txn, schema.id, &name)?.is_some() {
        if if_not_exists {
            return Ok(QueryResult::command("CREATE SEQUENCE"));
        }
        return Err(SqlError::new(
            "42P07",
            format!("relation \"{name}\" already exists"),
        ));
    }
    let ty = match data_type {
        Some(ty) => column_type(ty)?.data_type,
        None => SqlType::Int8,
    };
    if !matches!(ty, SqlType::Int2 | SqlType::Int4 | SqlType::Int8) {
        return Err(SqlError::new(
            "22023",
            "sequence type must be smallint, integer, or bigint",
        ));
    }
    let mut sequence = SequenceDescriptor::new(
        ddl.catalog().next_object_id()?,
        schema.id,
        &name,
        ddl.owner(),
        ty,
        1,
    );
    apply_sequence_options(&mut sequence, options)?;
    if let Some(owner) = owned_by {
        let mut parts = owner.0.clone();
        let column = parts
            .pop()
            .and_then(|p| p.as_ident().map(ident_name))
            .ok_or_else(|| SqlError::syntax("invalid OWNED BY option"))?;
        if !(parts.is_empty() && column == "none") {
            let table = ddl.table(&ObjectName(parts))?;
            let column = table
                .column(&column)
                .ok_or_else(|| SqlError::undefined_column(&column))?;
            sequence.owned_by = Some((table.id, column.id));
        }
    }
    ddl.catalog().create_sequence(ddl.txn, &sequence)?;
    Ok(QueryResult::command("CREATE SEQUENCE"))
}
