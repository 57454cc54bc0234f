//! The scan node: reads a table through its access path, at the statement's transaction
//! snapshot, and streams Arrow batches of at most `BATCH_ROWS` rows. Nothing is read
//! before DataFusion pulls a batch, and at most one batch is held at a time, so a scan of
//! any size runs in bounded memory.

use std::collections::VecDeque;
use std::fmt;
use std::ops::Bound;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytedata_catalog::table::TableCodec;
use bytedata_catalog::value::Value;
use bytedata_mvcc::{Transaction, TxnReader, TxnScan};
use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::Result as DfResult;
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType, SchedulingType};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::Stream;

use super::access::{AccessPlan, KeyRange, Path};
use crate::convert::{ColumnBuilder, finish_column};
use crate::error::{SqlError, into_datafusion};
use crate::session::interrupt::Interrupt;

/// Rows per batch.
pub const BATCH_ROWS: usize = 8192;

pub struct KvScanExec {
    table: String,
    codec: Arc<TableCodec>,
    txn: Transaction,
    interrupt: Arc<Interrupt>,
    access: AccessPlan,
    /// Positions among the codec's live columns, in output order.
    projection: Vec<usize>,
    limit: Option<usize>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl fmt::Debug for KvScanExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KvScanExec")
            .field("table", &self.table)
            .field("access", &self.access.description)
            .finish()
    }
}

impl KvScanExec {
    pub fn new(
        table: String,
        codec: Arc<TableCodec>,
        context: &super::StatementContext,
        access: AccessPlan,
        projection: Vec<usize>,
        limit: Option<usize>,
        schema: SchemaRef,
    ) -> Self {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        )
        .with_scheduling_type(SchedulingType::Cooperative);
        KvScanExec {
            table,
            codec,
            txn: context.txn.clone(),
            interrupt: context.interrupt.clone(),
            access,
            projection,
            limit,
            schema,
            properties: Arc::new(properties),
        }
    }

    pub fn access_description(&self) -> &str {
        &self.access.description
    }
}

impl DisplayAs for KvScanExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match t {
            DisplayFormatType::Default | DisplayFormatType::Verbose => {
                write!(
                    f,
                    "KvScan: {} access={}",
                    self.table, self.access.description
                )?;
                let columns: Vec<&str> = self
                    .schema
                    .fields()
                    .iter()
                    .map(|c| c.name().as_str())
                    .collect();
                write!(f, " projection=[{}]", columns.join(", "))?;
                if let Some(limit) = self.limit {
                    write!(f, " limit={limit}")?;
                }
                Ok(())
            }
            DisplayFormatType::TreeRender => write!(
                f,
                "table={}\naccess={}",
                self.table, self.access.description
            ),
        }
    }
}

impl ExecutionPlan for KvScanExec {
    fn name(&self) -> &str {
        "KvScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(
            &Arc<dyn datafusion::physical_expr::PhysicalExpr>,
        ) -> DfResult<datafusion::common::tree_node::TreeNodeRecursion>,
    ) -> DfResult<datafusion::common::tree_node::TreeNodeRecursion> {
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
        _options: datafusion::physical_plan::ReplaceChildrenOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        _partition: usize,
        _context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let source = match &self.access.path {
            Path::Points(keys) => Source::Points(keys.iter().cloned().collect()),
            Path::Ranges(ranges) => Source::Ranges {
                ranges: ranges.iter().cloned().collect(),
                current: None,
            },
            Path::Index { index, ranges } => Source::Index {
                index: *index,
                ranges: ranges.iter().cloned().collect(),
                current: None,
            },
        };
        // Frozen now, before the statement writes anything: it never reads its own output.
        let reader = self.txn.reader().map_err(|e| into_datafusion(e.into()))?;
        // Cooperative: each batch spends tokio budget, so a long query yields now and then
        // and its consumer can notice a cancel request or a timeout.
        Ok(Box::pin(datafusion::physical_plan::coop::cooperative(
            KvScanStream {
                codec: self.codec.clone(),
                reader,
                interrupt: self.interrupt.clone(),
                source,
                wanted: wanted_columns(&self.projection, self.codec.columns().len()),
                row: vec![Value::Null; self.codec.columns().len()],
                projection: self.projection.clone(),
                remaining: self.limit.unwrap_or(usize::MAX),
                schema: self.schema.clone(),
                done: false,
            },
        )))
    }
}

enum Source {
    Points(VecDeque<Vec<u8>>),
    Ranges {
        ranges: VecDeque<KeyRange>,
        current: Option<TxnScan>,
    },
    Index {
        index: usize,
        ranges: VecDeque<KeyRange>,
        current: Option<TxnScan>,
    },
}

fn open(reader: &TxnReader, range: KeyRange) -> TxnScan {
    fn as_slice(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
        bound.as_ref().map(Vec::as_slice)
    }
    reader.scan((as_slice(&range.0), as_slice(&range.1)))
}

impl Source {
    /// The next row as its primary key and stored value.
    fn next_row(
        &mut self,
        reader: &TxnReader,
        codec: &TableCodec,
    ) -> Result<Option<(Bytes, Bytes)>, SqlError> {
        match self {
            Source::Points(keys) => {
                while let Some(key) = keys.pop_front() {
                    if let Some(value) = reader.get(&key) {
                        return Ok(Some((Bytes::from(key), value)));
                    }
                }
                Ok(None)
            }
            Source::Ranges { ranges, current } => loop {
                if let Some(scan) = current
                    && let Some(entry) = scan.next()
                {
                    return Ok(Some(entry));
                }
                let Some(range) = ranges.pop_front() else {
                    return Ok(None);
                };
                *current = Some(open(reader, range));
            },
            Source::Index {
                index,
                ranges,
                current,
            } => loop {
                if let Some(scan) = current
                    && let Some((key, value)) = scan.next()
                {
                    let index = &codec.indexes()[*index];
                    let primary = codec.primary_key_of(index, &key, &value)?;
                    let row = reader.get(&primary).ok_or_else(|| {
                        SqlError::new(
                            "XX002",
                            format!(
                                "index \"{}\" points at a missing row",
                                index.descriptor.name
                            ),
                        )
                    })?;
                    return Ok(Some((Bytes::from(primary), row)));
                }
                let Some(range) = ranges.pop_front() else {
                    return Ok(None);
                };
                *current = Some(open(reader, range));
            },
        }
    }
}

/// A flag per live column: whether the projection reads it.
fn wanted_columns(projection: &[usize], width: usize) -> Vec<bool> {
    let mut wanted = vec![false; width];
    for &position in projection {
        wanted[position] = true;
    }
    wanted
}

struct KvScanStream {
    codec: Arc<TableCodec>,
    reader: TxnReader,
    interrupt: Arc<Interrupt>,
    source: Source,
    /// The projected columns as flags: only those are decoded.
    wanted: Vec<bool>,
    /// The row being decoded, reused from row to row.
    row: Vec<Value>,
    projection: Vec<usize>,
    remaining: usize,
    schema: SchemaRef,
    done: bool,
}

impl KvScanStream {
    fn next_batch(&mut self) -> Result<Option<RecordBatch>, SqlError> {
        self.interrupt.check()?;
        let wanted = self.remaining.min(BATCH_ROWS);
        let columns = self.codec.columns();
        let mut builders: Vec<ColumnBuilder> = self
            .projection
            .iter()
            .map(|&p| ColumnBuilder::new(&columns[p].data_type, wanted.min(1024)))
            .collect();
        let rows = match &mut self.source {
            Source::Ranges { ranges, current } => {
                let mut decoder = Decoder {
                    codec: &self.codec,
                    wanted: &self.wanted,
                    row: &mut self.row,
                    projection: &self.projection,
                    builders: &mut builders,
                };
                let (rows, exhausted) =
                    decoder.visit_ranges(&self.reader, ranges, current, wanted)?;
                self.done |= exhausted;
                rows
            }
            _ => self.batch_by_rows(&mut builders, wanted)?,
        };
        self.remaining -= rows;
        if self.remaining == 0 {
            self.done = true;
        }
        if rows == 0 {
            return Ok(None);
        }
        let arrays = builders.iter_mut().map(finish_column).collect();
        let options =
            datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(rows));
        Ok(Some(RecordBatch::try_new_with_options(
            self.schema.clone(),
            arrays,
            &options,
        )?))
    }

    /// Up to `wanted` rows, one `next_row` at a time (points and index scans).
    fn batch_by_rows(
        &mut self,
        builders: &mut [ColumnBuilder],
        wanted: usize,
    ) -> Result<usize, SqlError> {
        let mut rows = 0;
        while rows < wanted {
            let Some((key, value)) = self.source.next_row(&self.reader, &self.codec)? else {
                self.done = true;
                break;
            };
            self.codec
                .decode_wanted(&key, &value, &self.wanted, &mut self.row)?;
            for (builder, &p) in builders.iter_mut().zip(&self.projection) {
                builder.append(&self.row[p])?;
            }
            rows += 1;
        }
        Ok(rows)
    }
}

/// Decodes rows straight from the store into the batch's builders.
struct Decoder<'a> {
    codec: &'a TableCodec,
    wanted: &'a [bool],
    row: &'a mut [Value],
    projection: &'a [usize],
    builders: &'a mut [ColumnBuilder],
}

impl Decoder<'_> {
    fn append(&mut self, key: &[u8], value: &[u8]) -> Result<(), SqlError> {
        self.codec
            .decode_wanted(key, value, self.wanted, self.row)?;
        for (builder, &p) in self.builders.iter_mut().zip(self.projection) {
            builder.append(&self.row[p])?;
        }
        Ok(())
    }

    /// Up to `wanted` rows from the ranges, visited in place; and whether the ranges are
    /// exhausted.
    fn visit_ranges(
        &mut self,
        reader: &TxnReader,
        ranges: &mut VecDeque<KeyRange>,
        current: &mut Option<TxnScan>,
        wanted: usize,
    ) -> Result<(usize, bool), SqlError> {
        let mut rows = 0;
        while rows < wanted {
            let scan = match current {
                Some(scan) => scan,
                None => match ranges.pop_front() {
                    Some(range) => current.insert(open(reader, range)),
                    None => return Ok((rows, true)),
                },
            };
            let asked = wanted - rows;
            let visited = scan.visit(asked, |key, value| self.append(key, value))?;
            rows += visited;
            if visited < asked {
                *current = None;
            }
        }
        Ok((rows, false))
    }
}

impl Stream for KvScanStream {
    type Item = DfResult<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        Poll::Ready(self.next_batch().map_err(into_datafusion).transpose())
    }
}

impl RecordBatchStream for KvScanStream {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}
