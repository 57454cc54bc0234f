//! SQL-level PREPARE and EXECUTE. They share the connection's prepared statements with
//! the protocol's Parse (one namespace, as in PostgreSQL), so `DEALLOCATE` and Close
//! remove either kind.
//!
//! EXECUTE's arguments are expressions: they are evaluated by one `SELECT` that casts
//! each to its parameter's type and prints it as text, and the text is then read as a
//! Bind's text value would be. The cast gives the errors PostgreSQL gives for an argument
//! of the wrong type; the text goes through the same input functions as every client's.

use std::sync::Arc;

use bytedata_sql::{PreparedStatement, QueryResult, SqlError};
use bytes::Bytes;
use datafusion::arrow::array::{Array, StringArray};
use datafusion::sql::sqlparser::ast::{DataType, Expr, Ident, ObjectName, Statement};

use super::Connection;
use super::extended::Prepared;

impl Connection {
    /// `PREPARE name [(types)] AS statement`.
    pub(super) async fn sql_prepare(
        &mut self,
        name: &Ident,
        data_types: &[DataType],
        statement: &Statement,
    ) -> Result<QueryResult, SqlError> {
        let name = bytedata_sql::ident_name(name);
        if self.statements.contains_key(&name) {
            return Err(SqlError::new(
                "42P05",
                format!("prepared statement \"{name}\" already exists"),
            ));
        }
        let mut given = Vec::with_capacity(data_types.len());
        for data_type in data_types {
            given.push(bytedata_sql::declared_type(data_type)?.oid());
        }
        let statement = Arc::new(PreparedStatement::new(statement.clone()));
        let description = self.session.describe(statement.statement(), &given).await?;
        let text: Arc<str> = Arc::from(statement.statement().to_string().as_str());
        self.insert_statement(name, Prepared::new(Some(statement), description, text))?;
        Ok(QueryResult::command("PREPARE"))
    }

    /// `EXECUTE name [(arguments)]`: the prepared statement's own result and tag.
    pub(super) async fn sql_execute(
        &mut self,
        name: &ObjectName,
        arguments: &[Expr],
    ) -> Result<QueryResult, SqlError> {
        let key = match name.0.as_slice() {
            [part] => part
                .as_ident()
                .map(bytedata_sql::ident_name)
                .unwrap_or_else(|| part.to_string()),
            _ => name.to_string(),
        };
        let prepared = self.statements.get(&key).cloned().ok_or_else(|| {
            SqlError::new(
                "26000",
                format!("prepared statement \"{key}\" does not exist"),
            )
        })?;
        let expected = prepared.description().params.len();
        if arguments.len() != expected {
            return Err(SqlError::new(
                "42601",
                format!("wrong number of parameters for prepared statement \"{key}\""),
            )
            .with_detail(format!(
                "Expected {expected} parameters but got {}.",
                arguments.len()
            )));
        }
        let texts = self.argument_texts(&prepared, arguments).await?;
        let input = self.session.settings().input_options();
        let params = crate::wire::params::decode(prepared.description(), &[0], &texts, &input)?;
        let Some(statement) = prepared.statement() else {
            return Ok(QueryResult::command(""));
        };
        Box::pin(self.run_statement(&statement, &params)).await
    }

    /// Each argument cast to its parameter's type, as text (`None` for NULL).
    async fn argument_texts(
        &mut self,
        prepared: &Prepared,
        arguments: &[Expr],
    ) -> Result<Vec<Option<Bytes>>, SqlError> {
        if arguments.is_empty() {
            return Ok(Vec::new());
        }
        let casts: Vec<String> = arguments
            .iter()
            .zip(&prepared.description().params)
            .map(
                |(argument, oid)| match bytedata_pgtypes::DataType::from_oid(*oid) {
                    Some(ty) => format!("CAST(({argument}) AS {})::text", ty.display_name()),
                    None => format!("({argument})::text"),
                },
            )
            .collect();
        let query = format!("SELECT {}", casts.join(", "));
        let statement = bytedata_sql::parse(&query)?
            .pop()
            .ok_or_else(|| SqlError::internal("EXECUTE arguments did not parse"))?;
        let QueryResult::Rows { rows, .. } = self.session.execute_statement(statement, &[]).await?
        else {
            return Err(SqlError::internal("EXECUTE arguments returned no row"));
        };
        let batches = rows.collect().await?;
        let batch = batches
            .iter()
            .find(|b| b.num_rows() > 0)
            .ok_or_else(|| SqlError::internal("EXECUTE arguments returned no row"))?;
        let mut texts = Vec::with_capacity(arguments.len());
        for column in batch.columns() {
            let column = column
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| SqlError::internal("EXECUTE argument is not text"))?;
            texts.push(
                column
                    .is_valid(0)
                    .then(|| Bytes::copy_from_slice(column.value(0).as_bytes())),
            );
        }
        Ok(texts)
    }
}
