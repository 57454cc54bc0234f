//! CREATE and DROP of indexes, schemas, sequences, views, databases and roles; DROP
//! TABLE; TRUNCATE; CREATE TABLE … AS.

use std::collections::{BTreeSet, HashSet};

use bytedata_catalog::Relation;
use bytedata_catalog::descriptor::{
    ColumnDescriptor, RelationKind, RoleDescriptor, SequenceDescriptor, StorageConfig,
    TableDescriptor,
};
use bytedata_catalog::keycode::Direction;
use bytedata_catalog::keys::{PRIMARY_INDEX, index_end, index_prefix};
use bytedata_catalog::table::TableCodec;
use bytedata_mvcc::Transaction;
use bytedata_pgtypes::DataType as SqlType;
use bytedata_pgtypes::Value;
use datafusion::sql::sqlparser::ast::{
    self, CreateIndex, CreateView, ObjectName, ObjectType, SchemaName, Statement, Truncate,
};

use super::Ddl;
use super::create_table::{add_index, constraint_names, unique_name};
use super::typename::column_type;
use super::{delete_range, delete_table_data};
use crate::error::{Result, SqlError};
use crate::parse::{create_database_options, ident_name, object_name};
use crate::result::QueryResult;
use crate::session::Session;

/// Every row of a table, decoded (for backfills and rebuilds), read as the transaction
/// sees it now.
pub(crate) fn table_rows<'a>(
    txn: &Transaction,
    codec: &'a TableCodec,
) -> Result<impl Iterator<Item = Result<(bytes::Bytes, Vec<Value>)>> + 'a> {
    let reader = txn.reader()?;
    let range = (
        index_prefix(codec.table_id(), PRIMARY_INDEX).to_vec(),
        index_end(codec.table_id(), PRIMARY_INDEX).to_vec(),
    );
    let codec_rows = reader.scan(range.0..range.1);
    Ok(codec_rows.map(move |entry| {
        let (key, value) = entry?;
        Ok((key.clone(), codec.decode(&key, &value)?))
    }))
}

/// Writes the entries of a new index for every existing row; a unique index refuses
/// duplicates (23505).
pub(crate) fn backfill_index(
    txn: &Transaction,
    table: &TableDescriptor,
    index_id: u32,
) -> Result<()> {
    let codec = TableCodec::new(table);
    let index = codec
        .indexes()
        .iter()
        .find(|i| i.descriptor.id == index_id)
        .ok_or_else(|| SqlError::internal("index to backfill is missing"))?;
    for row in table_rows(txn, &codec)? {
        let (_, row) = row?;
        let (key, value) = codec.index_entry(index, &row)?;
        if index.descriptor.unique && !value.is_empty() && txn.lock_latest(&key)?.is_some() {
            return Err(crate::dml::unique_violation(
                &index.descriptor.name,
                table,
                &index.descriptor.columns,
                &row,
                &codec,
            )
            .with_hint("the index cannot be built while rows share these values"));
        }
        txn.put(key, value)?;
    }
    Ok(())
}

pub fn create_index(ddl: &Ddl, create: CreateIndex) -> Result<QueryResult> {
    if create.predicate.is_some() {
        return Err(SqlError::unsupported("partial indexes"));
    }
    if !create.include.is_empty() {
        return Err(SqlError::unsupported("INCLUDE columns"));
    }
    if let Some(using) = &create.using
        && !using.to_string().eq_ignore_ascii_case("btree")
    {
        return Err(SqlError::unsupported(format!(
            "index access method \"{using}\""
        )));
    }
    let old = ddl.table(&create.table_name)?;
    let mut table = old.clone();
    let columns: Vec<(String, Direction)> = create
        .columns
        .iter()
        .map(|c| match &c.column.expr {
            ast::Expr::Identifier(ident) => Ok((
                ident_name(ident),
                if c.column.options.asc == Some(false) {
                    Direction::Desc
                } else {
                    Direction::Asc
                },
            )),
            other => Err(SqlError::unsupported(format!(
                "index on expression {other}"
            ))),
        })
        .collect::<Result<_>>()?;
    let name = match &create.name {
        Some(name) => object_name(name)?.1,
        None => {
            let mut taken = constraint_names(&table);
            for relation in ddl.catalog().tables(ddl.txn, table.schema_id)? {
                taken.insert(relation.name);
            }
            unique_name(
                format!(
                    "{}_{}_idx",
                    table.name,
                    columns
                        .iter()
                        .map(|(c, _)| c.as_str())
                        .collect::<Vec<_>>()
                        .join("_")
                ),
                &taken,
            )
        }
    };
    if ddl
        .catalog()
        .relation(ddl.txn, table.schema_id, &name)?
        .is_some()
    {
        if create.if_not_exists {
            return Ok(QueryResult::command("CREATE INDEX"));
        }
        return Err(SqlError::new(
            "42P07",
            format!("relation \"{name}\" already exists"),
        ));
    }
    let index = add_index(
        &mut table,
        ddl.catalog().next_object_id()?,
        &name,
        create.unique,
        &columns,
    )?;
    ddl.catalog().update_table(ddl.txn, &old, &table)?;
    backfill_index(ddl.txn, &table, index.id)?;
    Ok(QueryResult::command("CREATE INDEX"))
}

pub fn create_schema(
    ddl: &Ddl,
    schema_name: SchemaName,
    if_not_exists: bool,
) -> Result<QueryResult> {
    let name = match &schema_name {
        SchemaName::Simple(name) | SchemaName::NamedAuthorization(name, _) => object_name(name)?.1,
        SchemaName::UnnamedAuthorization(owner) => ident_name(owner),
    };
    if ddl.catalog().schema(ddl.txn, &name)?.is_some() {
        if if_not_exists {
            return Ok(QueryResult::command("CREATE SCHEMA"));
        }
        return Err(SqlError::new(
            "42P06",
            format!("schema \"{name}\" already exists"),
        ));
    }
    if name.starts_with("pg_") {
        return Err(
            SqlError::new("42939", format!("unacceptable schema name \"{name}\""))
                .with_detail("The prefix \"pg_\" is reserved for system schemas."),
        );
    }
    ddl.catalog().create_schema(ddl.txn, &name, ddl.owner())?;
    Ok(QueryResult::command("CREATE SCHEMA"))
}

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

pub async fn create_view(ddl: &Ddl<'_>, view: CreateView) -> Result<QueryResult> {
    if view.materialized {
        return Err(SqlError::unsupported("materialized views"));
    }
    if view.temporary {
        return Err(SqlError::unsupported("temporary views"));
    }
    let (schema_name, name) = object_name(&view.name)?;
    let schema = ddl.creation_schema(schema_name.as_deref())?;
    let existing = ddl.catalog().table(ddl.txn, schema.id, &name)?;
    match &existing {
        Some(table) if !matches!(table.kind, RelationKind::View { .. }) => {
            return Err(SqlError::new("42809", format!("\"{name}\" is not a view")));
        }
        Some(_) if view.if_not_exists => return Ok(QueryResult::command("CREATE VIEW")),
        Some(_) if !view.or_replace => {
            return Err(SqlError::new(
                "42P07",
                format!("relation \"{name}\" already exists"),
            ));
        }
        None if ddl.catalog().relation(ddl.txn, schema.id, &name)?.is_some() => {
            return Err(SqlError::new(
                "42P07",
                format!("relation \"{name}\" already exists"),
            ));
        }
        _ => {}
    }
    let query = Statement::Query(view.query.clone());
    let default_names = crate::naming::output_names(&query);
    let plan = ddl.session.plan_query(query, &[], &ddl.state).await?;
    let fields = plan.schema().fields().clone();
    let declared: Vec<String> = view.columns.iter().map(|c| ident_name(&c.name)).collect();
    if declared.len() > fields.len() {
        return Err(SqlError::new(
            "42601",
            "CREATE VIEW specifies more column names than columns",
        ));
    }
    let columns: Vec<ColumnDescriptor> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let name = declared
                .get(i)
                .cloned()
                .or_else(|| default_names.as_ref().and_then(|n| n.get(i).cloned()))
                .unwrap_or_else(|| f.name().clone());
            let (oid, _) = crate::bridge::pg_type_of(f);
            ColumnDescriptor::new(0, name, SqlType::from_oid(oid).unwrap_or(SqlType::Text))
        })
        .collect();
    let id = existing
        .as_ref()
        .map_or_else(|| ddl.catalog().next_object_id(), |t| Ok(t.id))?;
    let mut descriptor = TableDescriptor::new(id, schema.id, &name, ddl.owner(), columns, None)?;
    descriptor.kind = RelationKind::View {
        definition: view.query.to_string(),
    };
    match existing {
        Some(old) => ddl.catalog().update_table(ddl.txn, &old, &descriptor)?,
        None => ddl.catalog().create_table(ddl.txn, &descriptor)?,
    }
    Ok(QueryResult::command("CREATE VIEW"))
}

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
    delete_table_data(ddl.txn, table.id)?;
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
                    delete_table_data(ddl.txn, table.id)?;
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
                    std::ops::Bound::Included(index_prefix(table.id, index.id).to_vec()),
                    std::ops::Bound::Excluded(index_end(table.id, index.id).to_vec()),
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
    for table in &tables {
        delete_table_data(ddl.txn, table.id)?;
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

/// CREATE TABLE … AS: a table with the query's columns (and a hidden row id), filled
/// with its rows. The tag is `SELECT <rows>`, as PostgreSQL reports it.
pub async fn create_table_as(
    ddl: &Ddl<'_>,
    schema_id: u32,
    name: &str,
    declared: &[ast::ColumnDef],
    query: ast::Query,
) -> Result<QueryResult> {
    let statement = Statement::Query(Box::new(query));
    let names = crate::naming::output_names(&statement);
    let plan = ddl.session.plan_query(statement, &[], &ddl.state).await?;
    let fields = plan.schema().fields().clone();
    if declared.len() > fields.len() {
        return Err(SqlError::new(
            "42601",
            "too many column names were specified",
        ));
    }
    let columns: Vec<ColumnDescriptor> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let column_name = declared
                .get(i)
                .map(|c| ident_name(&c.name))
                .or_else(|| names.as_ref().and_then(|n| n.get(i).cloned()))
                .unwrap_or_else(|| f.name().clone());
            let (oid, typmod) = crate::bridge::pg_type_of(f);
            let ty = SqlType::from_oid(oid).ok_or_else(|| {
                SqlError::unsupported(format!("a column of type {}", f.data_type()))
            })?;
            let ty = match (ty, typmod) {
                (SqlType::Varchar(None), t) if t > 4 => SqlType::Varchar(Some((t - 4) as u32)),
                (ty, _) => ty,
            };
            Ok(ColumnDescriptor::new(0, column_name, ty))
        })
        .collect::<Result<_>>()?;
    let table = TableDescriptor::new(
        ddl.catalog().next_object_id()?,
        schema_id,
        name,
        ddl.owner(),
        columns,
        None,
    )?;
    ddl.catalog().create_table(ddl.txn, &table)?;
    let rows = crate::dml::insert_plan(ddl, &table, plan).await?;
    Ok(QueryResult::command(format!("SELECT {rows}")))
}

fn parse_bytes(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let factor: u64 = match unit.trim() {
        "" | "b" => 1,
        "kb" | "k" => 1 << 10,
        "mb" | "m" => 1 << 20,
        "gb" | "g" => 1 << 30,
        "tb" | "t" => 1 << 40,
        _ => return None,
    };
    number.checked_mul(factor)
}

/// The storage configuration `CREATE DATABASE … WITH (…)` asks for, over the cluster's
/// default; PostgreSQL's own options are accepted where they make sense.
fn storage_options(
    default: &StorageConfig,
    options: &[(String, String)],
    user: &str,
) -> Result<(StorageConfig, String)> {
    let mut storage = default.clone();
    let mut owner = user.to_owned();
    let invalid = |name: &str, value: &str| {
        SqlError::new(
            "22023",
            format!("invalid value for option \"{name}\": \"{value}\""),
        )
    };
    for (name, value) in options {
        let lower = value.to_ascii_lowercase();
        match name.as_str() {
            "storage" => {
                if !["memory", "disk", "hybrid"].contains(&lower.as_str()) {
                    return Err(invalid(name, value).with_hint("storage is memory, disk or hybrid"));
                }
                storage.mode = lower;
            }
            "fsync" => {
                if !["always", "interval", "never"].contains(&lower.as_str()) {
                    return Err(
                        invalid(name, value).with_hint("fsync is always, interval or never")
                    );
                }
                storage.fsync = lower;
            }
            "fsync_interval_ms" => {
                storage.fsync_interval_ms = lower
                    .parse()
                    .ok()
                    .filter(|&ms| ms > 0)
                    .ok_or_else(|| invalid(name, value))?
            }
            "memory_limit" => {
                let bytes = parse_bytes(&lower)
                    .filter(|&bytes| bytes >= bytedata_kv::MIN_MEMORY_LIMIT_BYTES)
                    .ok_or_else(|| {
                        invalid(name, value).with_hint("memory_limit is a size of 1MB or more")
                    })?;
                storage.memory_limit_bytes = Some(bytes);
            }
            "encrypted" => {
                storage.encrypted = match lower.as_str() {
                    "true" | "on" | "yes" | "1" => true,
                    "false" | "off" | "no" | "0" => false,
                    _ => return Err(invalid(name, value)),
                }
            }
            "owner" => owner = value.clone(),
            "encoding" if lower.replace('-', "") != "utf8" => {
                return Err(SqlError::new(
                    "22023",
                    format!("encoding \"{value}\" is not supported: ByteData stores UTF8"),
                ));
            }
            "encoding" | "template" | "locale" | "lc_collate" | "lc_ctype" | "icu_locale"
            | "locale_provider" | "tablespace" | "allow_connections" | "connection_limit"
            | "is_template" | "strategy" | "oid" => {}
            other => {
                return Err(SqlError::new(
                    "42601",
                    format!("option \"{other}\" not recognized"),
                ));
            }
        }
    }
    Ok((storage, owner))
}

pub fn create_database(session: &Session, statement: &Statement) -> Result<QueryResult> {
    let Statement::CreateDatabase {
        db_name,
        if_not_exists,
        ..
    } = statement
    else {
        return Err(SqlError::internal("not a CREATE DATABASE"));
    };
    let (_, name) = object_name(db_name)?;
    let (storage, owner) = storage_options(
        &session.cluster().options().default_storage,
        &create_database_options(statement),
        session.user(),
    )?;
    match session.cluster().create_database(&name, &owner, storage) {
        Err(error) if error.code == "42P04" && *if_not_exists => {
            Ok(QueryResult::command("CREATE DATABASE"))
        }
        Err(error) => Err(error),
        Ok(_) => Ok(QueryResult::command("CREATE DATABASE")),
    }
}

pub fn drop_databases(
    session: &Session,
    names: &[ObjectName],
    if_exists: bool,
) -> Result<QueryResult> {
    for name in names {
        let (_, name) = object_name(name)?;
        if name == session.database().descriptor.name {
            return Err(SqlError::new(
                "55006",
                "cannot drop the currently open database",
            ));
        }
        match session.cluster().drop_database(&name) {
            Err(error) if error.code == "3D000" && if_exists => {}
            other => other?,
        }
    }
    Ok(QueryResult::command("DROP DATABASE"))
}

pub fn create_role(session: &Session, create: &ast::CreateRole) -> Result<QueryResult> {
    let password = create
        .password
        .as_ref()
        .map(password_verifier)
        .transpose()?
        .flatten();
    let system = session.cluster().system();
    let txn = system.engine().begin(Default::default());
    for name in &create.names {
        let (_, name) = object_name(name)?;
        if system.role(&txn, &name)?.is_some() {
            if create.if_not_exists {
                continue;
            }
            return Err(SqlError::new(
                "42710",
                format!("role \"{name}\" already exists"),
            ));
        }
        let mut role = RoleDescriptor::new(system.next_object_id()?, &name);
        role.login = create.login.unwrap_or(false);
        role.superuser = create.superuser.unwrap_or(false);
        role.create_db = create.create_db.unwrap_or(false);
        role.create_role = create.create_role.unwrap_or(false);
        role.password = password.clone();
        if let Some(limit) = &create.connection_limit {
            role.connection_limit = connection_limit(limit)?;
        }
        system.create_role(&txn, &role)?;
    }
    txn.commit()?;
    Ok(QueryResult::command("CREATE ROLE"))
}

/// The verifier to store for `PASSWORD …` (`None` for `PASSWORD NULL`).
fn password_verifier(password: &ast::Password) -> Result<Option<String>> {
    match password {
        ast::Password::NullPassword => Ok(None),
        ast::Password::Password(expr) => match expr {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(text) => {
                    if text.is_empty() {
                        // PostgreSQL: "empty string is not a valid password, clearing password".
                        return Ok(None);
                    }
                    Ok(Some(crate::password::verifier_for(text)))
                }
                ast::Value::Null => Ok(None),
                _ => Err(SqlError::syntax("a password is a string constant")),
            },
            _ => Err(SqlError::syntax("a password is a string constant")),
        },
    }
}

fn connection_limit(expr: &ast::Expr) -> Result<i32> {
    let text = expr.to_string();
    text.parse::<i32>()
        .ok()
        .filter(|limit| *limit >= -1)
        .ok_or_else(|| SqlError::new("22023", format!("invalid connection limit: {text}")))
}

/// `ALTER ROLE name [WITH] option …` and `ALTER ROLE name RENAME TO new`.
pub fn alter_role(
    session: &Session,
    name: &ast::Ident,
    operation: &ast::AlterRoleOperation,
) -> Result<QueryResult> {
    let system = session.cluster().system();
    let txn = system.engine().begin(Default::default());
    let role_name = crate::parse::ident_name(name);
    let old = system
        .role(&txn, &role_name)?
        .ok_or_else(|| SqlError::new("42704", format!("role \"{role_name}\" does not exist")))?;
    let mut role = old.clone();
    match operation {
        ast::AlterRoleOperation::RenameRole { role_name: new } => {
            role.name = crate::parse::ident_name(new);
            // PostgreSQL clears an MD5 password on rename; a SCRAM verifier stays valid.
        }
        ast::AlterRoleOperation::WithOptions { options } => {
            for option in options {
                match option {
                    ast::RoleOption::Login(on) => role.login = *on,
                    ast::RoleOption::SuperUser(on) => role.superuser = *on,
                    ast::RoleOption::CreateDB(on) => role.create_db = *on,
                    ast::RoleOption::CreateRole(on) => role.create_role = *on,
                    ast::RoleOption::Password(password) => {
                        role.password = password_verifier(password)?;
                    }
                    ast::RoleOption::ConnectionLimit(limit) => {
                        role.connection_limit = connection_limit(limit)?;
                    }
                    ast::RoleOption::Inherit(_)
                    | ast::RoleOption::Replication(_)
                    | ast::RoleOption::BypassRLS(_) => {}
                    other => {
                        return Err(SqlError::unsupported(format!("ALTER ROLE {other}")));
                    }
                }
            }
        }
        _ => return Err(SqlError::unsupported("this form of ALTER ROLE")),
    }
    system
        .update_role(&txn, &old, &role)
        .map_err(|error| match error {
            bytedata_catalog::CatalogError::DuplicateRole(name) => {
                SqlError::new("42710", format!("role \"{name}\" already exists"))
            }
            other => other.into(),
        })?;
    txn.commit()?;
    Ok(QueryResult::command("ALTER ROLE"))
}

pub fn drop_roles(session: &Session, names: &[ObjectName], if_exists: bool) -> Result<QueryResult> {
    let system = session.cluster().system();
    let txn = system.engine().begin(Default::default());
    for name in names {
        let (_, name) = object_name(name)?;
        if name == session.user() {
            return Err(SqlError::new("55006", "current user cannot be dropped"));
        }
        match system.drop_role(&txn, &name) {
            Err(bytedata_catalog::CatalogError::UndefinedRole(_)) if if_exists => {}
            other => {
                other?;
            }
        }
    }
    txn.commit()?;
    Ok(QueryResult::command("DROP ROLE"))
}
