//! The scan node: reads a table through its access path, at the statement's transaction
//! snapshot, and streams Arrow batches of at most `BATCH_ROWS` rows. Nothing is read
//! before DataFusion pulls a batch, and at most one batch is held at a time (per
//! partition), so a scan of any size runs in bounded memory.
//!
//! A large primary-key range without a LIMIT is cut into pieces, one partition each, at
//! keys the index's upper levels provide (`TxnReader::split_keys`); DataFusion reads the
//! partitions in parallel. Every partition reads through the one `TxnReader` frozen when
//! the scan was planned, so together they see exactly what one scan would have seen.

use std::collections::VecDeque;
use std::fmt;
use std::ops::Bound;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytedata_catalog::projection::RowProjection;
use bytedata_catalog::table::TableCodec;
use bytedata_mvcc::{TxnReader, TxnScan};
use bytes::Bytes;
use datafusion::arrow::array::{ArrayRef, RecordBatch};
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
use super::columns::{ScanColumn, ScanColumns};
use crate::context::interrupt::Interrupt;
use crate::error::{SqlError, into_datafusion};

/// Rows per batch.
pub const BATCH_ROWS: usize = 8192;
/// Most pieces one scan is cut into, to be read in parallel.
const MAX_PARTITIONS: usize = 8;

/// Pieces a large range scan is cut into: one per core the process may use.
pub(crate) fn scan_partitions() -> usize {
    static PARTITIONS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *PARTITIONS.get_or_init(|| {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_PARTITIONS))
    })
}

pub struct KvScanExec {
    table: String,
    codec: Arc<TableCodec>,
    /// Frozen when the scan is planned, before the statement writes anything: it never
    /// reads its own output. Every partition reads through it.
    reader: TxnReader,
    interrupt: Arc<Interrupt>,
    access: AccessPlan,
    /// A large range cut into pieces, one partition each, read in parallel; `None`: one
    /// partition reads the whole path.
    pieces: Option<Vec<KeyRange>>,
    /// What to decode of each row: the columns at `decoded`.
    rows: Arc<RowProjection>,
    /// Distinct positions among the codec's live columns, each decoded into one array.
    decoded: Arc<[usize]>,
    /// For each output column, its array in `decoded`.
    outputs: Arc<[usize]>,
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
    ) -> Result<Self, SqlError> {
        let reader = context.txn.reader()?;
        // A scan that may stop early keeps one partition (and its key order).
        let pieces = match (&access.path, limit) {
            (Path::Ranges(ranges), None) if ranges.len() == 1 => {
                cut(&reader, &ranges[0], scan_partitions())
            }
            _ => None,
        };
        let partitions = pieces.as_ref().map_or(1, Vec::len);
        // Each column is decoded once, however often the projection names it.
        let mut decoded: Vec<usize> = Vec::with_capacity(projection.len());
        let outputs = projection
            .iter()
            .map(
                |position| match decoded.iter().position(|p| p == position) {
                    Some(at) => at,
                    None => {
                        decoded.push(*position);
                        decoded.len() - 1
                    }
                },
            )
            .collect();
        let rows = Arc::new(RowProjection::new(&codec, &decoded));
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Incremental,
            Boundedness::Bounded,
        )
        .with_scheduling_type(SchedulingType::Cooperative);
        Ok(KvScanExec {
            table,
            codec,
            reader,
            interrupt: context.interrupt.clone(),
            access,
            pieces,
            rows,
            decoded: decoded.into(),
            outputs,
            limit,
            schema,
            properties: Arc::new(properties),
        })
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
                if let Some(pieces) = &self.pieces {
                    write!(f, " partitions={}", pieces.len())?;
                }
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
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let source = match (&self.pieces, &self.access.path) {
            (Some(pieces), _) => {
                let piece = pieces.get(partition).ok_or_else(|| {
                    into_datafusion(SqlError::internal(format!(
                        "scan partition {partition} of {}",
                        pieces.len()
                    )))
                })?;
                Source::Ranges {
                    ranges: VecDeque::from([piece.clone()]),
                    current: None,
                }
            }
            (None, path) => Self::whole(path),
        };
        let reader = self.reader.clone();
        // Cooperative: each batch spends tokio budget, so a long query yields now and then
        // and its consumer can notice a cancel request or a timeout.
        Ok(Box::pin(datafusion::physical_plan::coop::cooperative(
            KvScanStream {
                rows: self.rows.clone(),
                codec: self.codec.clone(),
                reader,
                interrupt: self.interrupt.clone(),
                source,
                decoded: self.decoded.clone(),
                outputs: self.outputs.clone(),
                remaining: self.limit.unwrap_or(usize::MAX),
                schema: self.schema.clone(),
                done: false,
            },
        )))
    }
}

impl KvScanExec {
    /// The source of a scan in one partition: the whole access path.
    fn whole(path: &Path) -> Source {
        match path {
            Path::Points(keys) => Source::Lookups(Lookups::Points(keys.iter().cloned().collect())),
            Path::Ranges(ranges) => Source::Ranges {
                ranges: ranges.iter().cloned().collect(),
                current: None,
            },
            Path::Index { index, ranges } => Source::Lookups(Lookups::Index {
                index: *index,
                ranges: ranges.iter().cloned().collect(),
                current: None,
            }),
        }
    }
}

/// `range` cut into up to `parts` pieces of similar size, in key order; `None` when it is
/// too small to be worth cutting.
fn cut(reader: &TxnReader, range: &KeyRange, parts: usize) -> Option<Vec<KeyRange>> {
    if parts < 2 {
        return None;
    }
    let (start, end) = range;
    let cuts = reader.split_keys((as_slice(start), as_slice(end)), parts);
    if cuts.is_empty() {
        return None;
    }
    let mut pieces = Vec::with_capacity(cuts.len() + 1);
    let mut lower = start.clone();
    for cut in cuts {
        pieces.push((lower, Bound::Excluded(cut.clone())));
        lower = Bound::Included(cut);
    }
    pieces.push((lower, end.clone()));
    Some(pieces)
}

fn as_slice(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    bound.as_ref().map(Vec::as_slice)
}

enum Source {
    /// Read in place, entry by entry.
    Ranges {
        ranges: VecDeque<KeyRange>,
        current: Option<TxnScan>,
    },
    /// Read row by row, each looked up by its primary key.
    Lookups(Lookups),
}

enum Lookups {
    Points(VecDeque<Vec<u8>>),
    Index {
        index: usize,
        ranges: VecDeque<KeyRange>,
        current: Option<Box<TxnScan>>,
    },
}

/// An index entry whose row is not there: the index and the table disagree.
pub(crate) fn missing_row(index_name: &str) -> SqlError {
    SqlError::new(
        "XX002",
        format!("index \"{index_name}\" points at a missing row"),
    )
}

fn open(reader: &TxnReader, range: KeyRange) -> TxnScan {
    reader.scan((as_slice(&range.0), as_slice(&range.1)))
}

impl Lookups {
    /// The next row as its primary key and stored value.
    fn next_row(
        &mut self,
        reader: &TxnReader,
        codec: &TableCodec,
    ) -> Result<Option<(Bytes, Bytes)>, SqlError> {
        match self {
            Lookups::Points(keys) => {
                while let Some(key) = keys.pop_front() {
                    if let Some(value) = reader.get(&key)? {
                        return Ok(Some((Bytes::from(key), value)));
                    }
                }
                Ok(None)
            }
            Lookups::Index {
                index,
                ranges,
                current,
            } => loop {
                if let Some(scan) = current
                    && let Some(entry) = scan.next()
                {
                    let (key, value) = entry?;
                    let index = &codec.indexes()[*index];
                    let primary = codec.primary_key_of(index, &key, &value)?;
                    let row = reader
                        .get(&primary)?
                        .ok_or_else(|| missing_row(&index.descriptor.name))?;
                    return Ok(Some((Bytes::from(primary), row)));
                }
                let Some(range) = ranges.pop_front() else {
                    return Ok(None);
                };
                *current = Some(Box::new(open(reader, range)));
            },
        }
    }
}

struct KvScanStream {
    codec: Arc<TableCodec>,
    reader: TxnReader,
    interrupt: Arc<Interrupt>,
    source: Source,
    /// As the plan's (`KvScanExec`).
    rows: Arc<RowProjection>,
    decoded: Arc<[usize]>,
    outputs: Arc<[usize]>,
    remaining: usize,
    schema: SchemaRef,
    done: bool,
}

impl KvScanStream {
    fn next_batch(&mut self) -> Result<Option<RecordBatch>, SqlError> {
        self.interrupt.check()?;
        let wanted = self.remaining.min(BATCH_ROWS);
        let columns = self.codec.columns();
        let mut builders = ScanColumns(
            self.decoded
                .iter()
                .map(|&p| ScanColumn::new(&columns[p].data_type, wanted.min(1024)))
                .collect(),
        );
        let mut decoder = Decoder {
            rows: self.rows.as_ref(),
            columns: &mut builders,
        };
        let (rows, exhausted) = match &mut self.source {
            Source::Ranges { ranges, current } => {
                decoder.visit_ranges(&self.reader, ranges, current, wanted)?
            }
            Source::Lookups(lookups) => {
                decoder.look_up(lookups, &self.reader, &self.codec, wanted)?
            }
        };
        self.done |= exhausted;
        self.remaining -= rows;
        if self.remaining == 0 {
            self.done = true;
        }
        if rows == 0 {
            return Ok(None);
        }
        let arrays: Vec<ArrayRef> = builders.0.iter_mut().map(ScanColumn::finish).collect();
        let arrays = self.outputs.iter().map(|&at| arrays[at].clone()).collect();
        let options =
            datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(rows));
        Ok(Some(RecordBatch::try_new_with_options(
            self.schema.clone(),
            arrays,
            &options,
        )?))
    }
}

/// Decodes rows from the store into a batch's columns.
struct Decoder<'a> {
    rows: &'a RowProjection,
    columns: &'a mut ScanColumns,
}

impl Decoder<'_> {
    fn append(&mut self, key: &[u8], value: &[u8]) -> Result<(), SqlError> {
        self.rows.decode(key, value, self.columns)
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

    /// Up to `wanted` rows looked up one at a time; and whether the lookups are exhausted.
    fn look_up(
        &mut self,
        lookups: &mut Lookups,
        reader: &TxnReader,
        codec: &TableCodec,
        wanted: usize,
    ) -> Result<(usize, bool), SqlError> {
        let mut rows = 0;
        while rows < wanted {
            let Some((key, value)) = lookups.next_row(reader, codec)? else {
                return Ok((rows, true));
            };
            self.append(&key, &value)?;
            rows += 1;
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
