//! Temporary tables: ordinary tables in the session's own schema (`pg_temp_N`), which
//! only that session can reach, first in its search path once it has one, and which is
//! dropped with everything in it when the session ends. ON COMMIT DROP and ON COMMIT
//! DELETE ROWS are carried out by the session just before each commit.
//!
//! The schema is created by the session's first temporary table. Its name is unique
//! within the process, so one found already there was left by an earlier process that
//! stopped without cleaning up; it is dropped before the new one is made.

use std::sync::atomic::Ordering;

use bytedata_catalog::Relation;
use bytedata_catalog::descriptor::SchemaDescriptor;
use datafusion::sql::sqlparser::ast;

use super::Ddl;
use crate::context::OnCommit;
use crate::error::{Result, SqlError};
use crate::planner::Planner;

/// The schema a temporary table named `schema.name` goes to, created if need be.
pub(super) fn temp_schema(ddl: &Ddl, schema: Option<&str>) -> Result<SchemaDescriptor> {
    let shared = &ddl.context.shared;
    if let Some(schema) = schema
        && !schema.eq_ignore_ascii_case("pg_temp")
        && schema != shared.temp_schema
    {
        return Err(SqlError::new(
            "42P16",
            "cannot create temporary relation in non-temporary schema",
        ));
    }
    let catalog = ddl.catalog();
    let name = shared.temp_schema.as_str();
    let existing = catalog.schema(ddl.txn, name)?;
    if !shared.temp_claimed.load(Ordering::Acquire) {
        if existing.is_some() {
            drop_schema_contents(ddl, name)?;
        }
        shared.temp_claimed.store(true, Ordering::Release);
    } else if let Some(schema) = existing {
        return Ok(schema);
    }
    Ok(catalog.create_schema(ddl.txn, name, ddl.owner())?)
}

/// Remembers what the table does at commit (`PRESERVE ROWS` is what tables do anyway).
pub(super) fn remember_on_commit(
    ddl: &Ddl,
    schema: &SchemaDescriptor,
    name: &str,
    on_commit: Option<ast::OnCommit>,
) {
    let action = match on_commit {
        Some(ast::OnCommit::Drop) => OnCommit::Drop,
        Some(ast::OnCommit::DeleteRows) => OnCommit::DeleteRows,
        Some(ast::OnCommit::PreserveRows) | None => return,
    };
    ddl.context
        .shared
        .temp_on_commit
        .lock()
        .push((schema.name.clone(), name.to_owned(), action));
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn drop_schema_contents(ddl: &Ddl, name: &str) -> Result<()> {
    let catalog = ddl.catalog();
    for relation in catalog.drop_schema(ddl.txn, name, true)? {
        if let Relation::Table(table) = relation {
            catalog.retire_storage(ddl.txn, table.storage_id())?;
        }
    }
    Ok(())
}

/// Carries out the ON COMMIT actions in the committing transaction `planner` runs in.
/// Returns whether the catalog changed. `ON COMMIT DROP` tables are forgotten after.
pub(crate) fn before_commit(planner: &Planner) -> Result<bool> {
    let shared = &planner.context.shared;
    let actions: Vec<(String, String, OnCommit)> = shared.temp_on_commit.lock().clone();
    if actions.is_empty() {
        return Ok(false);
    }
    let ddl = Ddl::new(planner);
    let mut changed = false;
    for (schema, table, action) in &actions {
        let exists = match ddl.catalog().schema(ddl.txn, schema)? {
            Some(schema) => ddl.catalog().table(ddl.txn, schema.id, table)?.is_some(),
            None => false,
        };
        if !exists {
            continue;
        }
        let name = format!("{}.{}", quote(schema), quote(table));
        let statement = match action {
            OnCommit::Drop => format!("DROP TABLE IF EXISTS {name}"),
            OnCommit::DeleteRows => format!("TRUNCATE {name}"),
        };
        let parsed = crate::syntax::parse(&statement)?
            .pop()
            .ok_or_else(|| SqlError::internal("ON COMMIT statement did not parse"))?;
        match parsed {
            ast::Statement::Drop { names, .. } => {
                super::drop::drop(&ddl, ast::ObjectType::Table, &names, true, false)?;
            }
            ast::Statement::Truncate(truncate) => {
                super::drop::truncate(&ddl, &truncate)?;
            }
            _ => return Err(SqlError::internal("unexpected ON COMMIT statement")),
        }
        changed = true;
    }
    shared
        .temp_on_commit
        .lock()
        .retain(|(_, _, action)| *action != OnCommit::Drop);
    Ok(changed)
}

/// Drops the session's temporary schema and everything in it (the session is ending).
pub(crate) fn drop_temp_schema(planner: &Planner) -> Result<()> {
    let ddl = Ddl::new(planner);
    let name = planner.context.shared.temp_schema.clone();
    if ddl.catalog().schema(ddl.txn, &name)?.is_some() {
        drop_schema_contents(&ddl, &name)?;
    }
    Ok(())
}
