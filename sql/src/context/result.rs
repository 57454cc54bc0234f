//! What a statement returns.

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::execution::SendableRecordBatchStream;
use futures::TryStreamExt;

use bytedata_pgtypes::DataType as SqlType;
use bytedata_pgtypes::Value;

use crate::bridge::values_batch;
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
    /// `COPY … FROM STDIN` waits for its data: feed it, then `Session::finish_copy`.
    CopyIn(Box<crate::copy::CopyIn>),
}

/// Rows, streamed from the plan or already computed.
pub enum Rows {
    Stream(SendableRecordBatchStream),
    Batches(Vec<RecordBatch>),
    /// Rows of stored values, as the fast path reads them: the wire encodes them straight
    /// from the values, without building Arrow arrays for one row.
    Values(ValueRows),
}

impl Rows {
    pub async fn collect(self) -> Result<Vec<RecordBatch>> {
        match self {
            Rows::Batches(batches) => Ok(batches),
            Rows::Stream(stream) => stream.try_collect().await.map_err(SqlError::from),
            Rows::Values(rows) => Ok(vec![rows.into_batch()?]),
        }
    }
}

/// Rows of stored values of the types whose wire forms need no Arrow array: booleans,
/// integers and text. Each value is of its column's type, or NULL.
pub struct ValueRows {
    schema: SchemaRef,
    types: Vec<SqlType>,
    rows: Vec<Vec<Value>>,
}

impl ValueRows {
    /// Whether values of a column of type `ty` may travel as `ValueRows`.
    pub fn supports(ty: &SqlType) -> bool {
        matches!(
            ty,
            SqlType::Bool
                | SqlType::Int2
                | SqlType::Int4
                | SqlType::Int8
                | SqlType::Text
                | SqlType::Varchar(_)
                | SqlType::Char(_)
        )
    }

    /// Refused (types and rows handed back) unless every column's type is supported and
    /// every value is of its column's type or NULL: anything else takes the Arrow path,
    /// which reports mismatches.
    #[allow(clippy::type_complexity)]
    pub fn new(
        schema: SchemaRef,
        types: Vec<SqlType>,
        rows: Vec<Vec<Value>>,
    ) -> std::result::Result<Self, (Vec<SqlType>, Vec<Vec<Value>>)> {
        assert_eq!(schema.fields().len(), types.len());
        let fits = |ty: &SqlType, value: &Value| {
            matches!(
                (ty, value),
                (_, Value::Null)
                    | (SqlType::Bool, Value::Bool(_))
                    | (SqlType::Int2, Value::Int2(_))
                    | (SqlType::Int4, Value::Int4(_))
                    | (SqlType::Int8, Value::Int8(_))
                    | (
                        SqlType::Text | SqlType::Varchar(_) | SqlType::Char(_),
                        Value::Text(_)
                    )
            )
        };
        let supported = types.iter().all(Self::supports)
            && rows.iter().all(|row| {
                row.len() == types.len() && row.iter().zip(&types).all(|(v, ty)| fits(ty, v))
            });
        if !supported {
            return Err((types, rows));
        }
        Ok(ValueRows {
            schema,
            types,
            rows,
        })
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    pub fn rows(&self) -> &[Vec<Value>] {
        &self.rows
    }

    pub fn into_rows(self) -> Vec<Vec<Value>> {
        self.rows
    }

    /// The same rows as one record batch, for consumers that want Arrow.
    pub fn into_batch(self) -> Result<RecordBatch> {
        values_batch(self.schema, &self.types, &self.rows)
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
            QueryResult::CopyIn(_) => "COPY 0".into(),
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
            QueryResult::CopyIn(copy) => copy.fmt(f),
        }
    }
}

/// Rows as PostgreSQL's text output: one `Option<String>` per value, `None` for NULL.
pub fn text_rows(
    batches: &[RecordBatch],
    options: &bytedata_pgtypes::TextOptions,
) -> Vec<Vec<Option<String>>> {
    let mut out = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        let types: Vec<(u32, i32)> = schema
            .fields()
            .iter()
            .map(|f| crate::bridge::pg_type_of(f))
            .collect();
        for row in 0..batch.num_rows() {
            out.push(
                batch
                    .columns()
                    .iter()
                    .zip(&types)
                    .map(|(array, &(oid, typmod))| {
                        crate::bridge::text::cell_text(array, row, oid, typmod, options)
                    })
                    .collect(),
            );
        }
    }
    out
}

/// The XX000 error for a panic caught inside a statement.
pub(crate) fn panic_error(panic: Box<dyn std::any::Any + Send>) -> SqlError {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".to_owned());
    SqlError::internal(format!("internal error: {message}"))
}

/// Streamed rows checked as they are read: a cancelled or timed-out statement stops at
/// the next poll (DataFusion's operators yield every few batches, so a long aggregation
/// is polled again soon), and a panic while computing rows becomes an error that ends the
/// stream.
pub(crate) fn guard_rows(
    result: QueryResult,
    interrupt: std::sync::Arc<crate::context::interrupt::Interrupt>,
) -> QueryResult {
    let QueryResult::Rows {
        schema,
        rows: Rows::Stream(stream),
        tag,
    } = result
    else {
        return result;
    };
    let guarded = GuardedStream {
        schema: schema.clone(),
        inner: Some(stream),
        interrupt,
    };
    QueryResult::Rows {
        schema,
        rows: Rows::Stream(Box::pin(guarded)),
        tag,
    }
}

struct GuardedStream {
    schema: SchemaRef,
    /// `None` once ended: nothing is polled after an error or a panic.
    inner: Option<SendableRecordBatchStream>,
    interrupt: std::sync::Arc<crate::context::interrupt::Interrupt>,
}

impl futures::Stream for GuardedStream {
    type Item = datafusion::error::Result<RecordBatch>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        if self.inner.is_none() {
            return Poll::Ready(None);
        }
        if let Some(cause) = self.interrupt.cause() {
            self.inner = None;
            self.interrupt.set_stream_failed();
            return Poll::Ready(Some(Err(crate::error::into_datafusion(cause))));
        }
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            inner.as_mut().poll_next(cx)
        }));
        match polled {
            Ok(Poll::Ready(Some(Err(error)))) => {
                self.inner = None;
                self.interrupt.set_stream_failed();
                let error = match self.interrupt.cause() {
                    Some(cause) => crate::error::into_datafusion(cause),
                    None => error,
                };
                Poll::Ready(Some(Err(error)))
            }
            Ok(Poll::Ready(None)) => {
                self.inner = None;
                Poll::Ready(None)
            }
            Ok(other) => other,
            Err(panic) => {
                self.inner = None;
                self.interrupt.set_stream_failed();
                Poll::Ready(Some(Err(crate::error::into_datafusion(panic_error(panic)))))
            }
        }
    }
}

impl datafusion::physical_plan::RecordBatchStream for GuardedStream {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}
