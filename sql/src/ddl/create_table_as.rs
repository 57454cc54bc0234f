//! CREATE TABLE … AS: a table with a query's columns, filled with its rows.

use bytedata_catalog::descriptor::{ColumnDescriptor, TableDescriptor};
use bytedata_pgtypes::DataType as SqlType;
use datafusion::sql::sqlparser::ast::{self, Statement};

use super::Ddl;
use crate::context::result::QueryResult;
use crate::error::{Result, SqlError};
use crate::syntax::ident_name;

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
    let names = crate::syntax::naming::output_names(&statement);
    let plan = ddl.planner.plan_query(statement, &[]).await?;
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
    let rows = crate::dml::insert_plan(ddl.planner, &table, plan).await?;
    Ok(QueryResult::command(format!("SELECT {rows}")))
}
