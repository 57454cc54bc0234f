//! What a statement returns.

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::execution::SendableRecordBatchStream;
use futures::TryStreamExt;

use crate::error::{Result, SqlError};

pub enum QueryResult {
    /// Rows. `tag` is the command tag to report after them: `None` for a query
    /// (`SELECT <rows>`), or a DML tag for `… RETURNING`.
    Rows {
        schema: SchemaRef,
        rows: Rows,
        tag: Option<String>,
    },
    /// A command without rows, with its tag (`INSERT 0 3`, `CREATE TABLE`, `BEGIN`…).
    Command { tag: String },
}

/// Rows, streamed from the plan or already computed.
pub enum Rows {
    Stream(SendableRecordBatchStream),
    Batches(Vec<RecordBatch>),
}

impl Rows {
    pub async fn collect(self) -> Result<Vec<RecordBatch>> {
        match self {
            Rows::Batches(batches) => Ok(batches),
            Rows::Stream(stream) => stream.try_collect().await.map_err(SqlError::from),
        }
    }
}

impl QueryResult {
    pub fn command(tag: impl Into<String>) -> Self {
        QueryResult::Command { tag: tag.into() }
    }

    /// The command tag, given how many rows were sent.
    pub fn tag(&self, rows_sent: usize) -> String {
        match self {
            QueryResult::Rows { tag: Some(tag), .. } => tag.clone(),
            QueryResult::Rows { tag: None, .. } => format!("SELECT {rows_sent}"),
            QueryResult::Command { tag } => tag.clone(),
        }
    }
}

impl std::fmt::Debug for QueryResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryResult::Rows { schema, tag, .. } => f
                .debug_struct("Rows")
                .field("schema", schema)
                .field("tag", tag)
                .finish(),
            QueryResult::Command { tag } => f.debug_struct("Command").field("tag", tag).finish(),
        }
    }
}

/// Rows as PostgreSQL's text output: one `Option<String>` per value, `None` for NULL.
pub fn text_rows(
    batches: &[RecordBatch],
    options: &crate::pgtext::TextOptions,
) -> Vec<Vec<Option<String>>> {
    let mut out = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        let types: Vec<(u32, i32)> = schema
            .fields()
            .iter()
            .map(|f| crate::types::pg_type_of(f))
            .collect();
        for row in 0..batch.num_rows() {
            out.push(
                batch
                    .columns()
                    .iter()
                    .zip(&types)
                    .map(|(array, &(oid, typmod))| {
                        crate::pgtext::format(array, row, oid, typmod, options)
                    })
                    .collect(),
            );
        }
    }
    out
}
