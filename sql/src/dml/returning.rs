//! RETURNING: the written rows (new for INSERT and UPDATE, old for DELETE) put in place of
//! the table, and the RETURNING list run over them as a query.

use std::collections::HashMap;
use std::sync::Arc;

use bytedata_catalog::descriptor::TableDescriptor;
use bytedata_pgtypes::Value;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;
use datafusion::datasource::MemTable;
use datafusion::scalar::ScalarValue;
use datafusion::sql::sqlparser::ast::SelectItem;

use super::qualified_name;
use crate::bridge::field;
use crate::bridge::{ColumnBuilder, finish_column};
use crate::context::result::{QueryResult, Rows};
use crate::error::{Result, SqlError};
use crate::planner::Planner;
use crate::syntax::sql_text::quote_ident;

/// Evaluates `RETURNING items` over `rows` (full rows: every live column).
pub async fn returning(
    planner: &Planner,
    table: &TableDescriptor,
    qualifier: Option<&str>,
    items: Option<Vec<SelectItem>>,
    rows: Vec<Vec<Value>>,
    params: &[ScalarValue],
    tag: String,
) -> Result<QueryResult> {
    let Some(items) = items else {
        return Ok(QueryResult::command(tag));
    };
    let codec = bytedata_catalog::table::TableCodec::new(table);
    let visible: Vec<usize> = codec
        .columns()
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.hidden)
        .map(|(i, _)| i)
        .collect();
    let fields: Vec<_> = visible
        .iter()
        .map(|&i| {
            field(
                &codec.columns()[i].name,
                &codec.columns()[i].data_type,
                true,
            )
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let mut builders: Vec<ColumnBuilder> = visible
        .iter()
        .map(|&i| ColumnBuilder::new(&codec.columns()[i].data_type, rows.len()))
        .collect();
    for row in &rows {
        for (builder, &i) in builders.iter_mut().zip(&visible) {
            builder.append(&row[i])?;
        }
    }
    let options =
        datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(rows.len()));
    let batch = RecordBatch::try_new_with_options(
        schema.clone(),
        builders.iter_mut().map(finish_column).collect(),
        &options,
    )?;
    let provider = Arc::new(MemTable::try_new(schema, vec![vec![batch]])?);
    let planner = planner.with_overrides(HashMap::from([(
        table.id,
        provider as Arc<dyn datafusion::catalog::TableProvider>,
    )]));
    let (context, state) = (&planner.context, &planner.state);
    let names = crate::syntax::naming::items_names(&items);
    let list: Vec<String> = items.iter().map(ToString::to_string).collect();
    let alias = qualifier
        .map(|q| format!(" AS {}", quote_ident(q)))
        .unwrap_or_default();
    let sql = format!(
        "SELECT {} FROM {}{alias}",
        list.join(", "),
        qualified_name(context, table)?
    );
    let statement = crate::syntax::parse(&sql)?
        .pop()
        .ok_or_else(|| SqlError::internal("RETURNING query vanished"))?;
    let plan = planner.plan_query(statement, params).await?;
    let physical = crate::planner::checked::physical_plan(state, &plan).await?;
    let result_schema = crate::syntax::naming::rename(physical.schema(), names.as_deref());
    let batches = datafusion::physical_plan::collect(physical, state.task_ctx()).await?;
    let batches = batches
        .into_iter()
        .map(|b| {
            RecordBatch::try_new(result_schema.clone(), b.columns().to_vec())
                .map_err(SqlError::from)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(QueryResult::Rows {
        schema: result_schema,
        rows: Rows::Batches(batches),
        tag: Some(tag),
    })
}
