//! What a client outside SQL needs to address a table's rows: its visible columns with
//! their types and its primary key, resolved by name as a statement would (search path,
//! `schema.table`). The HTTP rows API builds its statements from this.

use bytedata_catalog::Relation;
use bytedata_catalog::descriptor::RelationKind;
use bytedata_pgtypes::DataType;

use super::Session;
use crate::error::{Result, SqlError};

/// A table as the rows API sees it.
#[derive(Clone, Debug)]
pub struct TableInfo {
    pub schema: String,
    pub name: String,
    /// Visible columns in definition order, with their types.
    pub columns: Vec<(String, DataType)>,
    /// The primary key's columns in key order; empty for a table without one.
    pub key: Vec<String>,
}

impl Session {
    /// The table `name` (`table` or `schema.table`) at the latest committed state: 42P01
    /// when there is none, 42809 when it is not a table.
    pub fn table_info(&self, name: &str) -> Result<TableInfo> {
        let catalog = &self.database.catalog;
        let txn = self.database.engine().begin(Default::default());
        let (schema_name, table_name) = match name.split_once('.') {
            Some((schema, table)) => (Some(schema), table),
            None => (None, name),
        };
        let schemas: Vec<String> = match schema_name {
            Some(schema) => vec![schema.to_owned()],
            None => self.search_path(),
        };
        let mut found = None;
        for schema_name in &schemas {
            let Some(schema) = catalog.schema(&txn, schema_name)? else {
                continue;
            };
            if let Some(relation) = catalog.relation(&txn, schema.id, table_name)? {
                found = Some((schema.name.clone(), relation));
                break;
            }
        }
        let _ = txn.rollback();
        let Some((schema, relation)) = found else {
            return Err(SqlError::new(
                "42P01",
                format!("relation \"{name}\" does not exist"),
            ));
        };
        let table = match relation {
            Relation::Table(table) if table.kind == RelationKind::Table => table,
            _ => {
                return Err(SqlError::new("42809", format!("\"{name}\" is not a table")));
            }
        };
        let columns = table
            .visible_columns()
            .map(|c| (c.name.clone(), c.data_type.clone()))
            .collect();
        let key = if table.has_hidden_row_id() {
            Vec::new()
        } else {
            table
                .primary_key
                .columns
                .iter()
                .filter_map(|k| table.columns.iter().find(|c| c.id == k.column))
                .map(|c| c.name.clone())
                .collect()
        };
        Ok(TableInfo {
            schema,
            name: table.name.clone(),
            columns,
            key,
        })
    }
}
