//! CREATE SCHEMA.

use datafusion::sql::sqlparser::ast::SchemaName;

use super::Ddl;
use crate::context::result::QueryResult;
use crate::error::{Result, SqlError};
use crate::syntax::{ident_name, object_name};

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
