//! Reading some columns of many rows: what a scan does.
//!
//! A scan reads the same few columns of every row of a range. `RowProjection` works out,
//! once per scan and for each table version rows may have been written under, where each
//! wanted column comes from — a field of the stored row, a key column, or the value a
//! column added later reads as — and how far into the row the last wanted field lies.
//! Decoding a row then parses the header, steps over unwanted fields without decoding
//! them, stops after the last wanted one, and hands each wanted field to a `FieldSink`
//! as its raw stored bytes, so the sink can append it to its output without building a
//! `Value` (and, for text, without allocating a string).
//!
//! Invariant: each output is handed exactly one field per row, NULL included.

use crate::descriptor::ColumnDescriptor;
use crate::error::{CatalogError, Result};
use crate::keycode::{self, Direction};
use crate::rowcode::{RowError, RowReader};
use crate::table::TableCodec;
use bytedata_pgtypes::DataType;
use bytedata_pgtypes::Value;

/// Where the wanted fields of a row go. `output` is the index into the projection the
/// `RowProjection` was made for.
pub trait FieldSink {
    type Error: From<CatalogError>;

    /// A stored field: its bytes in the row encoding of `ty` (see `rowcode`), or `None`
    /// for NULL.
    fn raw(&mut self, output: usize, ty: &DataType, raw: Option<&[u8]>) -> Result<(), Self::Error>;

    /// A field known only as a value: a key column, or a column the row predates.
    fn value(&mut self, output: usize, value: &Value) -> Result<(), Self::Error>;
}

/// What to do with the rows of one table version.
struct VersionPlan {
    /// The types of the stored fields up to the last wanted one.
    types: Vec<DataType>,
    /// For each of those fields, the output it goes to.
    outputs: Vec<Option<usize>>,
    /// Outputs read from the key: (key column index, output).
    from_key: Vec<(usize, usize)>,
    /// Key columns to decode: up to the last one `from_key` reads.
    key_fields: usize,
    /// Outputs the version does not hold, with the value they read as.
    missing: Vec<(usize, Value)>,
}

/// A plan for decoding the columns at `positions` (among the live columns, no position
/// twice) of any row of a table.
pub struct RowProjection {
    primary_prefix: [u8; 8],
    /// The key columns, as far as the last one any version reads from the key.
    key_types: Vec<(DataType, Direction)>,
    /// Indexed by version - 1.
    versions: Vec<VersionPlan>,
}

impl RowProjection {
    pub fn new(codec: &TableCodec, positions: &[usize]) -> Self {
        let width = codec.columns().len();
        let mut output_of = vec![None; width];
        for (output, &position) in positions.iter().enumerate() {
            assert!(position < width, "a projected column exists");
            assert!(output_of[position].is_none(), "no column projected twice");
            output_of[position] = Some(output);
        }
        let key = codec.key_columns();
        let versions = codec
            .layout_targets()
            .map(|(types, targets)| {
                let mut plan = VersionPlan {
                    types: Vec::new(),
                    outputs: Vec::new(),
                    from_key: Vec::new(),
                    key_fields: 0,
                    missing: Vec::new(),
                };
                let held = |position: usize| targets.contains(&Some(position));
                let last_wanted = targets
                    .iter()
                    .rposition(|target| target.and_then(|p| output_of[p]).is_some());
                if let Some(last) = last_wanted {
                    plan.types = types[..=last].to_vec();
                    plan.outputs = targets[..=last]
                        .iter()
                        .map(|target| target.and_then(|p| output_of[p]))
                        .collect();
                }
                for (position, output) in output_of.iter().enumerate() {
                    let Some(output) = *output else { continue };
                    if held(position) {
                        continue;
                    }
                    // A lossy key column is stored exactly in the row too: the row's copy
                    // is the one read, so the key is read only for the others.
                    match key.iter().position(|(p, _, _)| *p == position) {
                        Some(index) => {
                            plan.from_key.push((index, output));
                            plan.key_fields = plan.key_fields.max(index + 1);
                        }
                        None => plan
                            .missing
                            .push((output, missing_value(&codec.columns()[position]))),
                    }
                }
                plan
            })
            .collect::<Vec<_>>();
        let key_len = versions
            .iter()
            .map(|plan| plan.key_fields)
            .max()
            .unwrap_or(0);
        RowProjection {
            primary_prefix: codec.primary_prefix(),
            key_types: key[..key_len]
                .iter()
                .map(|(_, ty, direction)| (ty.clone(), *direction))
                .collect(),
            versions,
        }
    }

    /// Hands the wanted fields of the row stored as `key` → `value` to `sink`.
    pub fn decode<S: FieldSink>(
        &self,
        key: &[u8],
        value: &[u8],
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let reader = RowReader::parse(value).map_err(CatalogError::from)?;
        let version = reader.version();
        let plan = version
            .checked_sub(1)
            .and_then(|index| self.versions.get(index as usize))
            .ok_or_else(|| {
                CatalogError::Corrupt(format!("row of unknown table version {version}"))
            })?;
        if !plan.from_key.is_empty() {
            self.decode_key(key, plan, sink)?;
        }
        for (output, value) in &plan.missing {
            sink.value(*output, value)?;
        }
        if plan.types.is_empty() {
            return Ok(());
        }
        let mut failure = None;
        let walked = reader.for_each_leading_field(&plan.types, |i, raw| {
            if let Some(output) = plan.outputs[i]
                && let Err(error) = sink.raw(output, &plan.types[i], raw)
            {
                failure = Some(error);
                return Err(RowError::Malformed("sink failed"));
            }
            Ok(())
        });
        match (failure, walked) {
            (Some(error), _) => Err(error),
            (None, walked) => walked.map_err(|error| CatalogError::from(error).into()),
        }
    }

    fn decode_key<S: FieldSink>(
        &self,
        key: &[u8],
        plan: &VersionPlan,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let mut body = key
            .strip_prefix(&self.primary_prefix[..])
            .ok_or_else(|| CatalogError::Corrupt("a row key of another table".into()))?;
        for (index, (ty, direction)) in self.key_types[..plan.key_fields].iter().enumerate() {
            let (value, used) =
                keycode::decode_field(body, ty, *direction).map_err(CatalogError::from)?;
            body = &body[used..];
            for (_, output) in plan.from_key.iter().filter(|(from, _)| *from == index) {
                sink.value(*output, &value)?;
            }
        }
        Ok(())
    }
}

fn missing_value(column: &ColumnDescriptor) -> Value {
    column.missing.clone().unwrap_or(Value::Null)
}
