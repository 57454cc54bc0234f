//! DROP of tables, views, indexes, sequences and schemas, and TRUNCATE: catalog entries
//! and the rows under them go together, in the statement's transaction.

use std::collections::{BTreeSet, HashSet};

use bytedata_catalog::Relation;
use bytedata_catalog::descriptor::{RelationKind, TableDescriptor};
use bytedata_catalog::keys::{index_end, index_prefix};
use datafusion::sql::sqlparser::ast::{self, ObjectName, ObjectType, Truncate};

use super::Ddl;
use super::delete_range;
use crate::context::result::QueryResult;
use crate::error::{Result, SqlError};
use crate::syntax::object_name;

/// Drops tables and views, with their rows, indexes and owned sequences. Tables whose
/// foreign keys reference a dropped table lose those constraints with CASCADE, and make
/// the drop fail (2BP01) without it.
fn drop_table(
    ddl: &Ddl,
    table: &TableDescriptor,
    cascade: bool,
    dropping: &HashSet<u32>,
) -> Result<()> {
    let catalog = ddl.catalog();
    for &referencing_id in &table.referenced_by {
        if referencing_id == table.id || dropping.contains(&referencing_id) {
            continue;
        }
        let Some(referencing) = catalog.table_by_id(ddl.txn, referencing_id)? else {
            continue;
        };
        let constraints: Vec<String> = referencing
            .foreign_keys
            .iter()
            .filter(|f| f.referenced_table == table.id)
            .map(|f| f.name.clone())
            .collect();
        if !cascade {
            let constraint = constraints.first().cloned().unwrap_or_default();
            return Err(SqlError::new(
                "2BP01",
                format!(
                    "cannot drop table {} because other objects depend on it",
                    table.name
                ),
            )
            .with_detail(format!(
                "constraint {constraint} on table {} depends on table {}",
                referencing.name, table.name
            ))
            .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
        }
        let mut updated = referencing.clone();
        updated
            .foreign_keys
            .retain(|f| f.referenced_table != table.id);
        catalog.update_table(ddl.txn, &referencing, &updated)?;
    }
    // Tables this one references forget it.
    let referenced: BTreeSet<u32> = table
        .foreign_keys
        .iter()
        .map(|f| f.referenced_table)
        .filter(|&id| id != table.id)
        .collect();
    for id in referenced {
        if dropping.contains(&id) {
            continue;
        }
        if let Some(other) = catalog.table_by_id(ddl.txn, id)? {
            let mut updated = other.clone();
            updated.referenced_by.retain(|&r| r != table.id);
            catalog.update_table(ddl.txn, &other, &updated)?;
        }
    }
    catalog.drop_table(ddl.txn, table)?;
    catalog.retire_storage(ddl.txn, table.storage_id())?;
    Ok(())
}

pub fn drop(
    ddl: &Ddl,
    object_type: ObjectType,
    names: &[ObjectName],
    if_exists: bool,
    cascade: bool,
) -> Result<QueryResult> {
    let tag = match object_type {
        ObjectType::Table => "DROP TABLE",
        ObjectType::View => "DROP VIEW",
        ObjectType::Index => "DROP INDEX",
        ObjectType::Sequence => "DROP SEQUENCE",
        ObjectType::Schema => "DROP SCHEMA",
        other => return Err(SqlError::unsupported(format!("DROP {other}"))),
    };
    let catalog = ddl.catalog();
    if object_type == ObjectType::Schema {
        for name in names {
            let (_, name) = object_name(name)?;
            if catalog.schema(ddl.txn, &name)?.is_none() {
                if if_exists {
                    continue;
                }
                return Err(SqlError::new(
                    "3F000",
                    format!("schema \"{name}\" does not exist"),
                ));
            }
            if name == "public" || name == "pg_catalog" || name == "information_schema" {
                return Err(SqlError::new(
                    "2BP01",
                    format!("cannot drop schema {name} because the system requires it"),
                ));
            }
            for relation in catalog.drop_schema(ddl.txn, &name, cascade)? {
                if let Relation::Table(table) = relation {
                    catalog.retire_storage(ddl.txn, table.storage_id())?;
                }
            }
        }
        return Ok(QueryResult::command(tag));
    }
    // Resolve every name first: a statement dropping several tables that reference each
    // other drops them together.
    let mut found = Vec::new();
    for name in names {
        let (schema, relation_name) = object_name(name)?;
        let schemas = match &schema {
            Some(s) => catalog.schema(ddl.txn, s)?.into_iter().collect(),
            None => ddl.context.search_schemas()?,
        };
        let relation = schemas
            .iter()
            .find_map(|s| catalog.relation(ddl.txn, s.id, &relation_name).transpose())
            .transpose()?;
        let kind_name = match object_type {
            ObjectType::Table => "table",
            ObjectType::View => "view",
            ObjectType::Index => "index",
            _ => "sequence",
        };
        match relation {
            None if if_exists => continue,
            None => {
                return Err(SqlError::new(
                    "42P01",
                    format!("{kind_name} \"{relation_name}\" does not exist"),
                ));
            }
            Some(relation) => found.push((relation_name, relation)),
        }
    }
    let dropping: HashSet<u32> = found
        .iter()
        .filter_map(|(_, r)| match r {
            Relation::Table(t) => Some(t.id),
            _ => None,
        })
        .collect();
    for (relation_name, relation) in found {
        match (object_type, relation) {
            (ObjectType::Table, Relation::Table(table)) if table.kind == RelationKind::Table => {
                drop_table(ddl, &table, cascade, &dropping)?
            }
            (ObjectType::View, Relation::Table(view))
                if matches!(view.kind, RelationKind::View { .. }) =>
            {
                catalog.drop_table(ddl.txn, &view)?;
            }
            (
                ObjectType::Index,
                Relation::Index {
                    table,
                    index: Some(index),
                },
            ) => {
                let mut updated = table.clone();
                updated.indexes.retain(|i| i.oid != index.oid);
                catalog.update_table(ddl.txn, &table, &updated)?;
                delete_range(
                    ddl.txn,
                    std::ops::Bound::Included(index_prefix(table.storage_id(), index.id).to_vec()),
                    std::ops::Bound::Excluded(index_end(table.storage_id(), index.id).to_vec()),
                )?;
            }
            (ObjectType::Index, Relation::Index { table, index: None }) => {
                return Err(SqlError::new(
                    "2BP01",
                    format!(
                        "cannot drop index {relation_name} because constraint {relation_name} on table {} requires it",
                        table.name
                    ),
                ));
            }
            (ObjectType::Sequence, Relation::Sequence(sequence)) => {
                if sequence.owned_by.is_some() && !cascade {
                    return Err(SqlError::new(
                        "2BP01",
                        format!(
                            "cannot drop sequence {} because other objects depend on it",
                            sequence.name
                        ),
                    )
                    .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
                }
                catalog.drop_sequence(ddl.txn, &sequence)?;
            }
            (_, other) => {
                let what = match object_type {
                    ObjectType::Table => "a table",
                    ObjectType::View => "a view",
                    ObjectType::Index => "an index",
                    _ => "a sequence",
                };
                let hint = match other {
                    Relation::Table(t) if matches!(t.kind, RelationKind::View { .. }) => {
                        "Use DROP VIEW to remove a view."
                    }
                    Relation::Table(_) => "Use DROP TABLE to remove a table.",
                    Relation::Index { .. } => "Use DROP INDEX to remove an index.",
                    Relation::Sequence(_) => "Use DROP SEQUENCE to remove a sequence.",
                };
                return Err(
                    SqlError::new("42809", format!("\"{relation_name}\" is not {what}"))
                        .with_hint(hint),
                );
            }
        }
    }
    Ok(QueryResult::command(tag))
}

pub fn truncate(ddl: &Ddl, truncate: &Truncate) -> Result<QueryResult> {
    let mut tables: Vec<TableDescriptor> = Vec::new();
    for target in &truncate.table_names {
        let table = ddl.table(&target.name)?;
        if !tables.iter().any(|t| t.id == table.id) {
            tables.push(table);
        }
    }
    let cascade = matches!(truncate.cascade, Some(ast::CascadeOption::Cascade));
    // Tables referencing a truncated one must be truncated with it.
    let mut i = 0;
    while i < tables.len() {
        for referencing_id in tables[i].referenced_by.clone() {
            if tables.iter().any(|t| t.id == referencing_id) {
                continue;
            }
            let Some(referencing) = ddl.catalog().table_by_id(ddl.txn, referencing_id)? else {
                continue;
            };
            if !cascade {
                return Err(SqlError::new(
                    "0A000",
                    "cannot truncate a table referenced in a foreign key constraint",
                )
                .with_detail(format!(
                    "Table \"{}\" references \"{}\".",
                    referencing.name, tables[i].name
                ))
                .with_hint(format!(
                    "Truncate table \"{}\" at the same time, or use TRUNCATE ... CASCADE.",
                    referencing.name
                )));
            }
            tables.push(referencing);
        }
        i += 1;
    }
    let restart = matches!(
        truncate.identity,
        Some(ast::TruncateIdentityOption::Restart)
    );
    let catalog = ddl.catalog();
    for table in &tables {
        // The table moves to fresh, empty storage; the old is reclaimed in the background
        // (as PostgreSQL gives the relation a new file).
        let mut moved = table.clone();
        moved.storage_id = Some(catalog.next_object_id()?);
        catalog.update_table(ddl.txn, table, &moved)?;
        catalog.retire_storage(ddl.txn, table.storage_id())?;
        if restart {
            for sequence in ddl.catalog().sequences(ddl.txn, table.schema_id)? {
                if sequence
                    .owned_by
                    .is_some_and(|(owner, _)| owner == table.id)
                {
                    ddl.catalog().setval(&sequence, sequence.start, false)?;
                }
            }
        }
    }
    Ok(QueryResult::command("TRUNCATE TABLE"))
}
