//! ALTER TABLE: columns (add, drop, rename, NOT NULL, defaults), constraints (primary
//! key — in `rekey` —, unique, foreign key, check), renaming the table.
//!
//! Adding a column rewrites nothing: rows written before read it as its default, fixed
//! when the column is added (PostgreSQL's "missing value"). Only a volatile default
//! (`nextval`, `random()`) is evaluated row by row and written. ADD PRIMARY KEY on a
//! table that had only a hidden row id rewrites every row under its new key.

use std::collections::HashSet;
use std::ops::ControlFlow;

use bytedata_catalog::descriptor::{CheckConstraint, TableDescriptor};
use bytedata_catalog::keycode::Direction;
use bytedata_catalog::table::TableCodec;
use bytedata_pgtypes::Value;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;
use datafusion::common::DFSchema;
use datafusion::logical_expr::cast;
use datafusion::sql::sqlparser::ast::{
    self, AlterColumnOperation, AlterTable, AlterTableOperation, TableConstraint,
};

use super::create_table::{
    Definition, add_index, check_expression, check_name_for, column_descriptor, constraint_names,
    default_expression, resolve_foreign_key, unique_name,
};
use super::index::backfill_index;
use super::{Ddl, delete_range};
use crate::bridge::arrow_type;
use crate::bridge::value_at;
use crate::context::result::QueryResult;
use crate::error::{Result, SqlError};
use crate::syntax::{ident_name, object_name};
use crate::writer::Writers;
use crate::writer::table_rows;

/// Rows validated or rewritten at a time.
const BATCH_ROWS: usize = 4096;

pub async fn alter_table(ddl: &Ddl<'_>, alter: AlterTable) -> Result<QueryResult> {
    let table = match ddl.table(&alter.name) {
        Err(error) if error.code == "42P01" && alter.if_exists => {
            return Ok(QueryResult::command("ALTER TABLE"));
        }
        other => other?,
    };
    let mut table = table;
    for operation in alter.operations {
        table = alter_one(ddl, table, operation).await?;
    }
    Ok(QueryResult::command("ALTER TABLE"))
}

/// Writes the new descriptor and returns it.
pub(super) fn save(
    ddl: &Ddl,
    old: &TableDescriptor,
    new: TableDescriptor,
) -> Result<TableDescriptor> {
    ddl.catalog().update_table(ddl.txn, old, &new)?;
    Ok(new)
}

async fn alter_one(
    ddl: &Ddl<'_>,
    table: TableDescriptor,
    operation: AlterTableOperation,
) -> Result<TableDescriptor> {
    match operation {
        AlterTableOperation::AddColumn {
            if_not_exists,
            column_def,
            ..
        } => add_column(ddl, table, &column_def, if_not_exists).await,
        AlterTableOperation::DropColumn {
            column_names,
            if_exists,
            drop_behavior,
            ..
        } => {
            let cascade = matches!(drop_behavior, Some(ast::DropBehavior::Cascade));
            let mut table = table;
            for name in column_names {
                table = drop_column(ddl, table, &ident_name(&name), if_exists, cascade)?;
            }
            Ok(table)
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => {
            let (from, to) = (ident_name(&old_column_name), ident_name(&new_column_name));
            let mut new = table.clone();
            new.rename_column(&from, &to)?;
            for check in &mut new.checks {
                check.expression = rename_in_expression(&check.expression, &from, &to)?;
            }
            save(ddl, &table, new)
        }
        AlterTableOperation::RenameTable { table_name } => {
            let (ast::RenameTableNameKind::As(name) | ast::RenameTableNameKind::To(name)) =
                table_name;
            let (_, name) = object_name(&name)?;
            if ddl
                .catalog()
                .relation(ddl.txn, table.schema_id, &name)?
                .is_some()
            {
                return Err(SqlError::new(
                    "42P07",
                    format!("relation \"{name}\" already exists"),
                ));
            }
            let mut new = table.clone();
            new.name = name;
            save(ddl, &table, new)
        }
        AlterTableOperation::AddConstraint { constraint, .. } => {
            add_constraint(ddl, table, &constraint)
        }
        AlterTableOperation::DropConstraint {
            if_exists, name, ..
        } => drop_constraint(ddl, table, &ident_name(&name), if_exists),
        AlterTableOperation::AlterColumn { column_name, op } => {
            alter_column(ddl, table, &ident_name(&column_name), op)
        }
        AlterTableOperation::OwnerTo { new_owner } => {
            let mut new = table.clone();
            new.owner = new_owner.to_string();
            save(ddl, &table, new)
        }
        other => Err(SqlError::unsupported(format!("ALTER TABLE … {other}"))),
    }
}

/// A CHECK expression with a column renamed.
fn rename_in_expression(text: &str, from: &str, to: &str) -> Result<String> {
    let dialect = datafusion::sql::sqlparser::dialect::PostgreSqlDialect {};
    let mut expr = datafusion::sql::sqlparser::parser::Parser::new(&dialect)
        .try_with_sql(text)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| {
            SqlError::new(
                "XX001",
                format!("stored CHECK expression does not parse: {e}"),
            )
        })?;
    let _ = ast::visit_expressions_mut(&mut expr, |e| {
        if let ast::Expr::Identifier(ident) = e
            && ident_name(ident) == from
        {
            *ident = ast::Ident::with_quote('"', to);
        }
        ControlFlow::<()>::Continue(())
    });
    Ok(expr.to_string())
}

/// Whether an expression (as SQL text) mentions a column.
fn mentions(text: &str, column: &str) -> bool {
    let dialect = datafusion::sql::sqlparser::dialect::PostgreSqlDialect {};
    let Ok(expr) = datafusion::sql::sqlparser::parser::Parser::new(&dialect)
        .try_with_sql(text)
        .and_then(|mut p| p.parse_expr())
    else {
        return true;
    };
    let mut found = false;
    let _ = ast::visit_expressions(&expr, |e| {
        if let ast::Expr::Identifier(ident) = e {
            found |= ident_name(ident) == column;
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

fn has_rows(ddl: &Ddl, table: &TableDescriptor) -> Result<bool> {
    let codec = TableCodec::new(table);
    Ok(table_rows(ddl.txn, &codec)?.next().is_some())
}

/// Rewrites every row through `f` (rows are read as they were before the rewrite).
fn rewrite_rows(
    ddl: &Ddl,
    old: &TableDescriptor,
    new: &TableDescriptor,
    mut f: impl FnMut(&[Value]) -> Result<Vec<Value>>,
) -> Result<()> {
    let old_codec = TableCodec::new(old);
    let new_codec = TableCodec::new(new);
    for row in table_rows(ddl.txn, &old_codec)? {
        let (key, row) = row?;
        let new_row = f(&row)?;
        ddl.txn.put(key, new_codec.encode_value(&new_row)?)?;
    }
    Ok(())
}

async fn add_column(
    ddl: &Ddl<'_>,
    table: TableDescriptor,
    def: &ast::ColumnDef,
    if_not_exists: bool,
) -> Result<TableDescriptor> {
    let (mut column, mut definition) = column_descriptor(def)?;
    if table.column(&column.name).is_some() {
        if if_not_exists {
            return Ok(table);
        }
        return Err(SqlError::new(
            "42701",
            format!(
                "column \"{}\" of relation \"{}\" already exists",
                column.name, table.name
            ),
        ));
    }
    if definition.primary_key.is_some() {
        return Err(SqlError::unsupported(
            "adding a column with PRIMARY KEY; add the column, then ADD PRIMARY KEY",
        ));
    }
    let sequences = std::mem::take(&mut definition.sequences);
    let mut new_sequence = None;
    if let Some((_, ty, identity, options)) = sequences.into_iter().next() {
        let name = unique_name(
            format!("{}_{}_seq", table.name, column.name),
            &HashSet::new(),
        );
        let mut sequence = bytedata_catalog::descriptor::SequenceDescriptor::new(
            ddl.catalog().next_object_id()?,
            table.schema_id,
            &name,
            ddl.owner(),
            ty,
            1,
        );
        super::sequence::apply_sequence_options(&mut sequence, &options)?;
        let schema = ddl
            .catalog()
            .schema_by_id(ddl.txn, table.schema_id)?
            .map(|s| s.name)
            .unwrap_or_default();
        match identity {
            None => {
                column.default = Some(format!(
                    "nextval({})",
                    crate::syntax::sql_text::regclass_literal(&schema, &name)
                ))
            }
            Some(ast::GeneratedAs::Always) => {
                column.identity = Some(bytedata_catalog::descriptor::Identity::Always {
                    sequence: sequence.id,
                })
            }
            Some(_) => {
                column.identity = Some(bytedata_catalog::descriptor::Identity::ByDefault {
                    sequence: sequence.id,
                })
            }
        }
        new_sequence = Some(sequence);
    }
    default_expression(ddl, &column)?;
    let mut new = table.clone();
    new.add_column(column.clone())?;
    let column_id = new.columns.last().map(|c| c.id).unwrap_or_default();
    if let Some(mut sequence) = new_sequence {
        sequence.owned_by = Some((new.id, column_id));
        ddl.catalog().create_sequence(ddl.txn, &sequence)?;
    }
    let populated = has_rows(ddl, &table)?;
    let default = if column.identity.is_some() || column.default.is_some() {
        Some(crate::dml::default_of(ddl.context, &column)?)
    } else {
        None
    };
    match default {
        Some(expr) if populated => {
            let planned = ddl.state.create_logical_expr_from_sql_expr(
                ast::ExprWithAlias { expr, alias: None },
                &DFSchema::empty(),
            )?;
            let planned = cast(planned, arrow_type(&column.data_type));
            let volatile = planned.is_volatile();
            let physical = ddl
                .state
                .create_physical_expr(planned, &DFSchema::empty())?;
            let evaluate = |rows: usize| -> Result<Vec<Value>> {
                let options =
                    datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(rows));
                let batch = RecordBatch::try_new_with_options(
                    std::sync::Arc::new(Schema::empty()),
                    vec![],
                    &options,
                )?;
                let array = physical.evaluate(&batch)?.into_array(rows)?;
                (0..rows)
                    .map(|i| value_at(&array, i, &column.data_type))
                    .collect()
            };
            if volatile {
                // Each existing row gets its own value.
                let position = TableCodec::new(&new)
                    .columns()
                    .iter()
                    .position(|c| c.id == column_id)
                    .ok_or_else(|| SqlError::internal("new column vanished"))?;
                rewrite_rows(ddl, &table, &new, |row| {
                    let mut row = row.to_vec();
                    let value = evaluate(1)?.pop().unwrap_or(Value::Null);
                    if value.is_null() && !column.nullable {
                        return Err(not_null_violated(&column.name, &table.name));
                    }
                    row.insert(position, value);
                    Ok(row)
                })?;
            } else {
                let value = evaluate(1)?.pop().unwrap_or(Value::Null);
                if value.is_null() && !column.nullable {
                    return Err(not_null_violated(&column.name, &table.name));
                }
                if let Some(c) = new.columns.iter_mut().find(|c| c.id == column_id) {
                    c.missing = Some(value);
                }
            }
        }
        None if populated && !column.nullable => {
            return Err(not_null_violated(&column.name, &table.name));
        }
        _ => {}
    }
    let new = save(ddl, &table, new)?;
    // The column's inline constraints, as if added by ADD CONSTRAINT.
    let mut table = new;
    for (name, columns) in definition.uniques {
        table = add_unique(ddl, table, name, &columns)?;
    }
    for (name, expr) in definition.checks {
        table = add_check(ddl, table, name, &expr)?;
    }
    for fk in definition.foreign_keys {
        table = add_foreign_key(ddl, table, &fk)?;
    }
    Ok(table)
}

pub(super) fn not_null_violated(column: &str, table: &str) -> SqlError {
    SqlError::new(
        "23502",
        format!("column \"{column}\" of relation \"{table}\" contains null values"),
    )
}

fn drop_column(
    ddl: &Ddl,
    table: TableDescriptor,
    name: &str,
    if_exists: bool,
    cascade: bool,
) -> Result<TableDescriptor> {
    let Some(column) = table.column(name).cloned() else {
        if if_exists {
            return Ok(table);
        }
        return Err(SqlError::new(
            "42703",
            format!(
                "column \"{name}\" of relation \"{}\" does not exist",
                table.name
            ),
        ));
    };
    // Unique indexes other tables' foreign keys rely on go only with CASCADE.
    for &child_id in &table.referenced_by {
        let Some(child) = ddl.catalog().table_by_id(ddl.txn, child_id)? else {
            continue;
        };
        for fk in child
            .foreign_keys
            .iter()
            .filter(|f| f.referenced_table == table.id && f.referenced_columns.contains(&column.id))
        {
            if !cascade {
                return Err(SqlError::new(
                    "2BP01",
                    format!(
                        "cannot drop column {name} of table {} because other objects depend on it",
                        table.name
                    ),
                )
                .with_detail(format!(
                    "constraint {} on table {} depends on column {name} of table {}",
                    fk.name, child.name, table.name
                ))
                .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
            }
            let mut updated = if child.id == table.id {
                continue;
            } else {
                child.clone()
            };
            updated.foreign_keys.retain(|f| {
                !(f.referenced_table == table.id && f.referenced_columns.contains(&column.id))
            });
            ddl.catalog().update_table(ddl.txn, &child, &updated)?;
        }
    }
    let mut new = table.clone();
    let dropped_indexes = new.drop_column(name)?;
    new.checks.retain(|c| !mentions(&c.expression, name));
    new.foreign_keys.retain(|f| {
        !(f.columns.contains(&column.id)
            || f.referenced_table == table.id && f.referenced_columns.contains(&column.id))
    });
    let new = save(ddl, &table, new)?;
    for index in dropped_indexes {
        delete_range(
            ddl.txn,
            std::ops::Bound::Included(
                bytedata_catalog::keys::index_prefix(table.storage_id(), index.id).to_vec(),
            ),
            std::ops::Bound::Excluded(
                bytedata_catalog::keys::index_end(table.storage_id(), index.id).to_vec(),
            ),
        )?;
    }
    Ok(new)
}

fn add_constraint(
    ddl: &Ddl,
    table: TableDescriptor,
    constraint: &TableConstraint,
) -> Result<TableDescriptor> {
    let mut definition = Definition::default();
    definition.add_constraint(constraint)?;
    if let Some((name, columns)) = definition.primary_key {
        return super::rekey::add_primary_key(ddl, table, name, &columns);
    }
    let mut table = table;
    for (name, columns) in definition.uniques {
        table = add_unique(ddl, table, name, &columns)?;
    }
    for (name, expr) in definition.checks {
        table = add_check(ddl, table, name, &expr)?;
    }
    for fk in definition.foreign_keys {
        table = add_foreign_key(ddl, table, &fk)?;
    }
    Ok(table)
}

fn add_unique(
    ddl: &Ddl,
    table: TableDescriptor,
    name: Option<String>,
    columns: &[(String, Direction)],
) -> Result<TableDescriptor> {
    let mut taken = constraint_names(&table);
    for relation in ddl.catalog().tables(ddl.txn, table.schema_id)? {
        taken.insert(relation.name);
    }
    let name = name.unwrap_or_else(|| {
        unique_name(
            format!(
                "{}_{}_key",
                table.name,
                columns
                    .iter()
                    .map(|(c, _)| c.as_str())
                    .collect::<Vec<_>>()
                    .join("_")
            ),
            &taken,
        )
    });
    let mut new = table.clone();
    let index = add_index(
        &mut new,
        ddl.catalog().next_object_id()?,
        &name,
        true,
        columns,
    )?;
    let new = save(ddl, &table, new)?;
    backfill_index(ddl.txn, &new, index.id)?;
    Ok(new)
}

fn add_check(
    ddl: &Ddl,
    table: TableDescriptor,
    name: Option<String>,
    expr: &ast::Expr,
) -> Result<TableDescriptor> {
    check_expression(ddl, &table, expr)?;
    let name = name.unwrap_or_else(|| check_name_for(&table.name, expr, &constraint_names(&table)));
    let mut new = table.clone();
    new.checks.push(CheckConstraint {
        name: name.clone(),
        expression: expr.to_string(),
    });
    let new = save(ddl, &table, new)?;
    // Existing rows must satisfy it.
    let mut writers = Writers::new(ddl.txn, ddl.state, ddl.catalog());
    let writer = writers.writer(&new)?;
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let codec = TableCodec::new(&new);
    let violated = |error: SqlError| {
        if error.code == "23514" {
            SqlError::new(
                "23514",
                format!(
                    "check constraint \"{name}\" of relation \"{}\" is violated by some row",
                    table.name
                ),
            )
        } else {
            error
        }
    };
    for row in table_rows(ddl.txn, &codec)? {
        batch.push(row?.1);
        if batch.len() == BATCH_ROWS {
            writer.check_rows(&batch).map_err(violated)?;
            batch.clear();
        }
    }
    writer.check_rows(&batch).map_err(violated)?;
    Ok(new)
}

fn add_foreign_key(
    ddl: &Ddl,
    table: TableDescriptor,
    fk: &ast::ForeignKeyConstraint,
) -> Result<TableDescriptor> {
    let (constraint, referenced) = resolve_foreign_key(ddl, &table, fk, &constraint_names(&table))?;
    let name = constraint.name.clone();
    let mut new = table.clone();
    new.foreign_keys.push(constraint);
    match referenced {
        Some(referenced) => {
            if !referenced.referenced_by.contains(&table.id) {
                let mut updated = referenced.clone();
                updated.referenced_by.push(table.id);
                ddl.catalog().update_table(ddl.txn, &referenced, &updated)?;
            }
        }
        None => {
            if !new.referenced_by.contains(&new.id) {
                new.referenced_by.push(new.id);
            }
        }
    }
    let new = save(ddl, &table, new)?;
    Writers::new(ddl.txn, ddl.state, ddl.catalog()).validate_foreign_key(&new, &name)?;
    Ok(new)
}

fn drop_constraint(
    ddl: &Ddl,
    table: TableDescriptor,
    name: &str,
    if_exists: bool,
) -> Result<TableDescriptor> {
    let mut new = table.clone();
    if let Some(position) = new.checks.iter().position(|c| c.name == name) {
        new.checks.remove(position);
        return save(ddl, &table, new);
    }
    if let Some(position) = new.foreign_keys.iter().position(|f| f.name == name) {
        let fk = new.foreign_keys.remove(position);
        if fk.referenced_table != table.id
            && !new
                .foreign_keys
                .iter()
                .any(|f| f.referenced_table == fk.referenced_table)
            && let Some(referenced) = ddl.catalog().table_by_id(ddl.txn, fk.referenced_table)?
        {
            let mut updated = referenced.clone();
            updated.referenced_by.retain(|&id| id != table.id);
            ddl.catalog().update_table(ddl.txn, &referenced, &updated)?;
        }
        return save(ddl, &table, new);
    }
    if let Some(position) = new.indexes.iter().position(|i| i.name == name && i.unique) {
        let index = new.indexes.remove(position);
        let new = save(ddl, &table, new)?;
        delete_range(
            ddl.txn,
            std::ops::Bound::Included(
                bytedata_catalog::keys::index_prefix(table.storage_id(), index.id).to_vec(),
            ),
            std::ops::Bound::Excluded(
                bytedata_catalog::keys::index_end(table.storage_id(), index.id).to_vec(),
            ),
        )?;
        return Ok(new);
    }
    if !table.has_hidden_row_id() && table.primary_key.name == name {
        return Err(SqlError::unsupported(
            "dropping a primary key (rows are stored by it)",
        ));
    }
    if if_exists {
        return Ok(table);
    }
    Err(SqlError::new(
        "42704",
        format!(
            "constraint \"{name}\" of relation \"{}\" does not exist",
            table.name
        ),
    ))
}

fn alter_column(
    ddl: &Ddl,
    table: TableDescriptor,
    name: &str,
    op: AlterColumnOperation,
) -> Result<TableDescriptor> {
    let Some(column) = table.column(name).cloned() else {
        return Err(SqlError::new(
            "42703",
            format!(
                "column \"{name}\" of relation \"{}\" does not exist",
                table.name
            ),
        ));
    };
    let mut new = table.clone();
    let target = new
        .columns
        .iter_mut()
        .find(|c| c.id == column.id)
        .ok_or_else(|| SqlError::internal("column vanished"))?;
    match op {
        AlterColumnOperation::SetNotNull => {
            target.nullable = false;
            let codec = TableCodec::new(&table);
            let position = codec
                .columns()
                .iter()
                .position(|c| c.id == column.id)
                .ok_or_else(|| SqlError::internal("column vanished"))?;
            for row in table_rows(ddl.txn, &codec)? {
                if row?.1[position].is_null() {
                    return Err(not_null_violated(name, &table.name));
                }
            }
        }
        AlterColumnOperation::DropNotNull => {
            if table.is_key_column(column.id) {
                return Err(SqlError::new(
                    "42P16",
                    format!("column \"{name}\" is in a primary key"),
                ));
            }
            if column.identity.is_some() {
                return Err(SqlError::new(
                    "42P16",
                    format!(
                        "column \"{name}\" of relation \"{}\" is an identity column",
                        table.name
                    ),
                ));
            }
            target.nullable = true;
        }
        AlterColumnOperation::SetDefault { value } => {
            target.default = Some(value.to_string());
            let checked = target.clone();
            default_expression(ddl, &checked)?;
        }
        AlterColumnOperation::DropDefault => target.default = None,
        AlterColumnOperation::SetDataType {
            data_type, using, ..
        } => {
            let ty = crate::syntax::typename::column_type(&data_type)?.data_type;
            use bytedata_pgtypes::DataType as T;
            let text_family = |t: &T| matches!(t, T::Text | T::Varchar(_));
            if ty != column.data_type
                && !(text_family(&ty) && text_family(&column.data_type) && using.is_none())
            {
                return Err(SqlError::unsupported(format!(
                    "changing the type of column \"{name}\" from {} to {}",
                    column.data_type.display_name(),
                    ty.display_name()
                )));
            }
            target.data_type = ty.clone();
            if let T::Varchar(Some(limit)) = ty {
                let codec = TableCodec::new(&table);
                let position = codec
                    .columns()
                    .iter()
                    .position(|c| c.id == column.id)
                    .ok_or_else(|| SqlError::internal("column vanished"))?;
                for row in table_rows(ddl.txn, &codec)? {
                    if let Value::Text(text) = &row?.1[position]
                        && text.chars().count() > limit as usize
                    {
                        return Err(SqlError::new(
                            "22001",
                            format!("value too long for type character varying({limit})"),
                        ));
                    }
                }
            }
        }
        AlterColumnOperation::AddGenerated { .. } => {
            return Err(SqlError::unsupported("ALTER COLUMN … ADD GENERATED"));
        }
    }
    save(ddl, &table, new)
}
