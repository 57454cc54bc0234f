//! CREATE INDEX, and the backfill that writes a new index's entries for the rows a
//! table already has.

use bytedata_catalog::descriptor::TableDescriptor;
use bytedata_catalog::keycode::Direction;
use bytedata_catalog::table::TableCodec;
use bytedata_mvcc::Transaction;
use datafusion::sql::sqlparser::ast::{self, CreateIndex};

use super::Ddl;
use super::create_table::{add_index, constraint_names, unique_name};
use crate::context::result::QueryResult;
use crate::error::{Result, SqlError};
use crate::syntax::{ident_name, object_name};
use crate::writer::table_rows;

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
            return Err(crate::writer::unique_violation(
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
