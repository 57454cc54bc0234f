//! DML: INSERT, UPDATE and DELETE, with RETURNING and ON CONFLICT.
//!
//! DataFusion plans and evaluates; we write. Each statement becomes a query whose rows
//! are what to write:
//!
//! - INSERT: the source (VALUES or a query) projected onto every column of the table —
//!   the given values cast to the column types, defaults, sequence values and hidden row
//!   ids for the rest;
//! - UPDATE: `SELECT <every column>, <each new value> FROM target [, FROM list] WHERE …`;
//! - DELETE: `SELECT <every column> FROM target [, USING list] WHERE …`.
//!
//! Because the WHERE clause is an ordinary query's, subqueries in it select exactly the
//! rows they should. The target is read through a reader frozen when the scan starts, so
//! the statement never meets its own writes.
//!
//! Rows then go through `writer`: each row to change is locked first. At READ COMMITTED,
//! if a concurrent commit changed it since the statement's snapshot, the row is
//! re-evaluated against its latest version — the WHERE clause and the new values — as
//! PostgreSQL does, so `SET balance = balance + 1` never loses an update. At REPEATABLE
//! READ and above the lock itself fails with a serialization error (40001).

mod copy;
mod insert;
mod modify;
mod returning;

use bytedata_catalog::descriptor::{ColumnDescriptor, Identity, RelationKind, TableDescriptor};
use bytedata_pgtypes::Value;
use datafusion::arrow::array::RecordBatch;
use datafusion::sql::sqlparser::ast;

pub(crate) use copy::{copy_rows, copy_targets, load_rows};
pub use insert::insert;
pub(crate) use insert::insert_plan;
pub use modify::{delete, update};

use bytedata_pgtypes::DataType as SqlType;
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{Expr, cast};

use crate::bridge::arrow_type;
use crate::bridge::value_at_in;
use crate::context::StatementContext;
use crate::error::{Result, SqlError};
use crate::syntax::object_name;
use bytedata_pgtypes::InputOptions;

/// The table a DML statement writes, or why it cannot.
pub(crate) fn target_table(
    context: &StatementContext,
    name: &ast::ObjectName,
    verb: &str,
) -> Result<TableDescriptor> {
    let (schema, table) = object_name(name)?;
    match context.resolve_table(schema.as_deref(), &table)? {
        Some(descriptor) if descriptor.kind == RelationKind::Table => Ok(descriptor),
        Some(_) => Err(
            SqlError::new("55000", format!("cannot {verb} view \"{table}\""))
                .with_hint("Views are read-only in ByteData."),
        ),
        None => Err(SqlError::undefined_table(&table)),
    }
}

/// `"schema"."table"`.
pub(crate) fn qualified_name(
    context: &StatementContext,
    table: &TableDescriptor,
) -> Result<String> {
    let schema = context
        .database
        .catalog
        .schema_by_id(&context.txn, table.schema_id)?
        .ok_or_else(|| {
            SqlError::internal(format!("schema of table \"{}\" is missing", table.name))
        })?;
    Ok(format!(
        "{}.{}",
        crate::syntax::sql_text::quote_ident(&schema.name),
        crate::syntax::sql_text::quote_ident(&table.name)
    ))
}

/// The expression a column gets when a statement gives it none (or says DEFAULT): its
/// identity sequence, its default, or NULL.
pub(crate) fn default_of(
    context: &StatementContext,
    column: &ColumnDescriptor,
) -> Result<ast::Expr> {
    if let Some(Identity::Always { sequence } | Identity::ByDefault { sequence }) = &column.identity
    {
        let catalog = &context.database.catalog;
        let sequence = catalog
            .sequence_by_id(&context.txn, *sequence)?
            .ok_or_else(|| {
                SqlError::internal(format!(
                    "identity sequence of column \"{}\" is missing",
                    column.name
                ))
            })?;
        let schema = catalog
            .schema_by_id(&context.txn, sequence.schema_id)?
            .map(|s| s.name)
            .unwrap_or_default();
        return crate::syntax::sql_text::parse_expr(&format!(
            "nextval({})",
            crate::syntax::sql_text::regclass_literal(&schema, &sequence.name)
        ));
    }
    match &column.default {
        Some(text) => crate::syntax::sql_text::parse_expr(text),
        None => Ok(ast::Expr::Value(ast::Value::Null.into())),
    }
}

/// An expression as a column of type `target` will take it: text stays text, to be read
/// by the type's input function (PostgreSQL's rules, not Arrow's casts); other types are
/// cast.
pub(crate) fn store_cast(
    expr: Expr,
    source: &DataType,
    target: &SqlType,
    column: &str,
) -> Result<Expr> {
    check_assignable(source, target, column)?;
    let text = matches!(
        source,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    );
    let wanted = arrow_type(target);
    Ok(
        if (text && bytedata_pgtypes::input::reads_text(target)) || *source == wanted {
            expr
        } else {
            cast(expr, wanted)
        },
    )
}

#[derive(PartialEq)]
enum Category {
    Boolean,
    Number,
    DateTime,
    Other,
}

/// PostgreSQL has no assignment cast between booleans, numbers and dates or times (only
/// explicit ones, for some): storing one as another is 42804, not a silent conversion.
fn check_assignable(source: &DataType, target: &SqlType, column: &str) -> Result<()> {
    let source_category = match source {
        DataType::Boolean => Category::Boolean,
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => Category::Number,
        DataType::Date32 | DataType::Timestamp(..) | DataType::Time64(_) => Category::DateTime,
        _ => Category::Other,
    };
    let target_category = match target {
        SqlType::Bool => Category::Boolean,
        SqlType::Int2
        | SqlType::Int4
        | SqlType::Int8
        | SqlType::Float4
        | SqlType::Float8
        | SqlType::Numeric { .. } => Category::Number,
        SqlType::Date | SqlType::Time | SqlType::Timestamp | SqlType::TimestampTz => {
            Category::DateTime
        }
        _ => Category::Other,
    };
    if source_category == Category::Other
        || target_category == Category::Other
        || source_category == target_category
    {
        return Ok(());
    }
    let source_name = match source {
        DataType::Boolean => "boolean",
        DataType::Int16 => "smallint",
        DataType::Int32 => "integer",
        DataType::Int64 => "bigint",
        DataType::Float32 => "real",
        DataType::Float64 => "double precision",
        DataType::Date32 => "date",
        DataType::Time64(_) => "time without time zone",
        DataType::Timestamp(_, Some(_)) => "timestamp with time zone",
        DataType::Timestamp(_, None) => "timestamp without time zone",
        _ => "numeric",
    };
    Err(SqlError::new(
        "42804",
        format!(
            "column \"{column}\" is of type {} but expression is of type {source_name}",
            target.display_name()
        ),
    )
    .with_hint("You will need to rewrite or cast the expression."))
}

/// The rows of a batch as values of the given column types (the columns in order); text
/// cells are read by the column type's input function, with the session's `options`.
pub(crate) fn batch_rows(
    batch: &RecordBatch,
    columns: &[ColumnDescriptor],
    offset: usize,
    options: &InputOptions,
) -> Result<Vec<Vec<Value>>> {
    let mut rows = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let values = columns
            .iter()
            .enumerate()
            .map(|(i, column)| {
                value_at_in(batch.column(offset + i), row, &column.data_type, options)
            })
            .collect::<Result<Vec<_>>>()?;
        rows.push(values);
    }
    Ok(rows)
}
