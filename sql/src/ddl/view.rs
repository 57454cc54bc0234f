//! CREATE VIEW: the query planned once now, so a broken one is refused, and stored as
//! text. A temporary view goes to the session's temporary schema (`temp`).

use bytedata_catalog::descriptor::{ColumnDescriptor, RelationKind, TableDescriptor};
use bytedata_pgtypes::DataType as SqlType;
use datafusion::sql::sqlparser::ast::{CreateView, Statement};

use super::Ddl;
use crate::context::result::QueryResult;
use crate::error::{Result, SqlError};
use crate::syntax::{ident_name, object_name};

pub async fn create_view(ddl: &Ddl<'_>, view: CreateView) -> Result<QueryResult> {
    if view.materialized {
        return Err(SqlError::unsupported("materialized views"));
    }
    let (schema_name, name) = object_name(&view.name)?;
    let schema = if view.temporary {
        super::temp::temp_schema(ddl, schema_name.as_deref())?
    } else {
        ddl.creation_schema(schema_name.as_deref())?
    };
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
    let default_names = crate::syntax::naming::output_names(&query);
    let plan = ddl.planner.plan_query(query, &[]).await?;
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
