//! DDL: statements that change the catalog — CREATE/DROP/ALTER of tables, indexes,
//! schemas, sequences, views and databases, and TRUNCATE.
//!
//! Catalog changes are ordinary writes in the statement's transaction, so DDL commits
//! and rolls back with everything else (`BEGIN; CREATE TABLE …; ROLLBACK` leaves nothing).
//! The two exceptions are PostgreSQL's too: `CREATE DATABASE` and `DROP DATABASE` run in
//! a system transaction of their own and refuse to run inside a block.
//!
//! Data follows its descriptor: dropping or truncating a table deletes its rows in the
//! same transaction (keys under `/<table id>/`), and building a key or an index rewrites
//! the rows it covers, so a committed descriptor always matches the rows under it.
//!
//! Expressions stored in the catalog (defaults, CHECK conditions, view queries) are kept
//! as SQL text and planned with DataFusion when used; they are planned once here, at
//! creation, so a broken one is refused then and not at the first insert.

mod alter;
mod create_table;
mod create_table_as;
mod database;
mod drop;
mod index;
mod rekey;
mod role;
mod schema;
mod sequence;
pub(crate) mod temp;
mod view;

use std::ops::Bound;
use std::sync::Arc;

use bytedata_catalog::catalog::Catalog;
use bytedata_catalog::descriptor::{SchemaDescriptor, TableDescriptor};
use bytedata_mvcc::Transaction;
use datafusion::common::DFSchema;
use datafusion::execution::context::SessionState;
use datafusion::sql::sqlparser::ast::{ObjectName, ObjectType, Statement};

use crate::bridge::field;
use crate::context::StatementContext;
use crate::context::result::QueryResult;
use crate::error::{Result, SqlError};
use crate::planner::Planner;
use crate::syntax::object_name;

/// A DDL statement's working set: its planner, and the parts of it every statement uses.
pub(crate) struct Ddl<'a> {
    pub planner: &'a Planner,
    pub txn: &'a Transaction,
    pub context: &'a Arc<StatementContext>,
    pub state: &'a SessionState,
}

impl<'a> Ddl<'a> {
    pub fn new(planner: &'a Planner) -> Self {
        Ddl {
            planner,
            txn: planner.txn(),
            context: &planner.context,
            state: &planner.state,
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.context.database.catalog
    }

    pub fn owner(&self) -> &str {
        &self.context.user
    }

    /// The schema a new object named without one goes to: the first schema of the search
    /// path that exists (3F000 if none does).
    pub fn creation_schema(&self, schema: Option<&str>) -> Result<SchemaDescriptor> {
        match schema {
            Some(name) => self
                .catalog()
                .schema(self.txn, name)?
                .ok_or_else(|| SqlError::new("3F000", format!("schema \"{name}\" does not exist"))),
            None => self
                .context
                .search_schemas()?
                .into_iter()
                // The session's temporary schema leads the search path once it exists,
                // but only TEMPORARY creates there, as in PostgreSQL.
                .find(|s| {
                    s.id != bytedata_catalog::catalog::PG_CATALOG_SCHEMA
                        && s.name != self.context.shared.temp_schema
                })
                .ok_or_else(|| SqlError::new("3F000", "no schema has been selected to create in")),
        }
    }

    /// The table (not view) `name` names, or 42P01.
    pub fn table(&self, name: &ObjectName) -> Result<TableDescriptor> {
        let (schema, table) = object_name(name)?;
        match self.context.resolve_table(schema.as_deref(), &table)? {
            Some(descriptor)
                if matches!(
                    descriptor.kind,
                    bytedata_catalog::descriptor::RelationKind::Table
                ) =>
            {
                Ok(descriptor)
            }
            Some(_) => Err(SqlError::new(
                "42809",
                format!("\"{table}\" is not a table"),
            )),
            None => Err(SqlError::undefined_table(&table)),
        }
    }

    /// The table's visible columns as a DataFusion schema (to plan expressions over).
    pub fn df_schema(table: &TableDescriptor) -> Result<DFSchema> {
        let fields: Vec<_> = table
            .visible_columns()
            .map(|c| field(&c.name, &c.data_type, c.nullable))
            .collect();
        let schema = datafusion::arrow::datatypes::Schema::new(fields);
        Ok(DFSchema::try_from_qualified_schema(
            table.name.as_str(),
            &schema,
        )?)
    }
}

/// Runs a DDL statement in `txn`.
pub async fn execute(planner: &Planner, statement: Statement) -> Result<QueryResult> {
    let ddl = Ddl::new(planner);
    match statement {
        Statement::CreateTable(create) => create_table::create_table(&ddl, create).await,
        Statement::AlterTable(alter) => alter::alter_table(&ddl, alter).await,
        Statement::CreateIndex(create) => index::create_index(&ddl, create),
        Statement::CreateSchema {
            schema_name,
            if_not_exists,
            ..
        } => schema::create_schema(&ddl, schema_name, if_not_exists),
        Statement::CreateSequence {
            temporary,
            if_not_exists,
            name,
            data_type,
            sequence_options,
            owned_by,
        } => {
            if temporary {
                return Err(SqlError::unsupported("CREATE TEMPORARY SEQUENCE"));
            }
            sequence::create_sequence(
                &ddl,
                &name,
                if_not_exists,
                data_type.as_ref(),
                &sequence_options,
                owned_by.as_ref(),
            )
        }
        Statement::CreateView(view) => view::create_view(&ddl, view).await,
        Statement::Drop {
            object_type,
            if_exists,
            names,
            cascade,
            ..
        } => match object_type {
            ObjectType::Database => database::drop_databases(&ddl, &names, if_exists),
            ObjectType::Role | ObjectType::User => role::drop_roles(&ddl, &names, if_exists),
            other => drop::drop(&ddl, other, &names, if_exists, cascade),
        },
        Statement::Truncate(truncate) => drop::truncate(&ddl, &truncate),
        statement @ Statement::CreateDatabase { .. } => database::create_database(&ddl, &statement),
        Statement::CreateRole(create) => role::create_role(&ddl, &create),
        Statement::AlterRole { name, operation } => role::alter_role(&ddl, &name, &operation),
        Statement::Comment { .. } => Ok(QueryResult::command("COMMENT")),
        other => Err(SqlError::unsupported(statement_kind(&other))),
    }
}

/// The leading keywords of a statement (`CREATE FUNCTION`), to say what is unsupported.
pub fn statement_kind(statement: &Statement) -> String {
    let text = statement.to_string();
    let words: Vec<&str> = text
        .split_whitespace()
        .take_while(|w| w.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .take(3)
        .collect();
    if words.is_empty() {
        "this statement".to_owned()
    } else {
        words.join(" ")
    }
}

/// Deletes every key in a range, as the transaction sees it.
pub(crate) fn delete_range(
    txn: &Transaction,
    start: Bound<Vec<u8>>,
    end: Bound<Vec<u8>>,
) -> Result<u64> {
    // Keys deleted under one batch of locks.
    const BATCH_KEYS: usize = 4096;
    let reader = txn.reader()?;
    let mut deleted = 0;
    let mut batch = Vec::with_capacity(BATCH_KEYS);
    for entry in reader.scan((start, end)) {
        let (key, _) = entry?;
        batch.push(key);
        if batch.len() == BATCH_KEYS {
            deleted += batch.len() as u64;
            txn.delete_many(std::mem::replace(
                &mut batch,
                Vec::with_capacity(BATCH_KEYS),
            ))?;
        }
    }
    if !batch.is_empty() {
        deleted += batch.len() as u64;
        txn.delete_many(batch)?;
    }
    Ok(deleted)
}
