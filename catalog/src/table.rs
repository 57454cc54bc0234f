//! A table's codec: its rows as kv entries, from a descriptor, with the layouts of every
//! version precomputed.
//!
//! Rows are given and returned as a `Value` per *live* column of the table (hidden ones
//! included), in definition order. A row is stored as:
//!
//! - primary index: key `[table][1][key columns]`, value the row format (see `rowcode`);
//! - non-unique secondary index: key `[table][index][index columns][key columns]`,
//!   empty value;
//! - unique secondary index: key `[table][index][index columns]`, value the key columns —
//!   unless an index column is NULL (NULLs never conflict), when the key columns follow in
//!   the key as for a non-unique index.

use crate::descriptor::{ColumnDescriptor, IndexDescriptor, TableDescriptor};
use crate::error::{CatalogError, Result};
use crate::keycode::{self, Direction};
use crate::keys::{PRIMARY_INDEX, index_prefix};
use crate::rowcode::{self, RowReader};
use bytedata_pgtypes::DataType;
use bytedata_pgtypes::Value;

/// Where each column a version's rows hold goes now: its position among the live columns,
/// or `None` if it has been dropped since.
struct Layout {
    targets: Vec<Option<usize>>,
    types: Vec<DataType>,
}

pub struct IndexCodec {
    pub descriptor: IndexDescriptor,
    columns: Vec<(usize, DataType, Direction)>,
    /// The columns' types and directions, as `keycode::decode_key` takes them.
    column_types: Vec<(DataType, Direction)>,
    /// See `TableCodec::index_only_positions`.
    exact_positions: Vec<usize>,
}

pub struct TableCodec {
    storage_id: u32,
    columns: Vec<ColumnDescriptor>,
    /// Key columns: position among the live columns, type, direction.
    key: Vec<(usize, DataType, Direction)>,
    /// The key columns' types and directions, as `keycode::decode_key` takes them.
    key_types: Vec<(DataType, Direction)>,
    version: u32,
    /// Indexed by version - 1.
    layouts: Vec<Layout>,
    /// Positions of the columns the current version's rows hold.
    current: Vec<usize>,
    current_types: Vec<DataType>,
    indexes: Vec<IndexCodec>,
}

/// The positions of the index and key columns whose key encoding keeps their values
/// exactly (not `DataType::key_is_lossy`, not `char(n)`'s padding), ascending.
fn exact_positions(
    index: &[(usize, DataType, Direction)],
    key: &[(usize, DataType, Direction)],
) -> Vec<usize> {
    let exact = |ty: &DataType| !ty.key_is_lossy() && !matches!(ty, DataType::Char(_));
    let mut positions: Vec<usize> = index
        .iter()
        .chain(key)
        .filter(|(_, ty, _)| exact(ty))
        .map(|(p, _, _)| *p)
        .collect();
    positions.sort_unstable();
    positions.dedup();
    positions
}

impl TableCodec {
    pub fn new(table: &TableDescriptor) -> Self {
        let columns: Vec<ColumnDescriptor> = table.live_columns().cloned().collect();
        let position = |id: u32| columns.iter().position(|c| c.id == id);
        let resolve = |keys: &[crate::descriptor::KeyColumn]| -> Vec<(usize, DataType, Direction)> {
            keys.iter()
                .filter_map(|k| {
                    position(k.column).map(|p| (p, columns[p].data_type.clone(), k.direction))
                })
                .collect()
        };
        let key = resolve(&table.primary_key.columns);
        let layouts = (1..=table.version)
            .map(|version| {
                let layout = table.layout(version);
                Layout {
                    targets: layout.iter().map(|c| position(c.id)).collect(),
                    types: layout.iter().map(|c| c.data_type.clone()).collect(),
                }
            })
            .collect();
        let current_layout = table.layout(table.version);
        let current = current_layout
            .iter()
            .filter_map(|c| position(c.id))
            .collect();
        let current_types = current_layout.iter().map(|c| c.data_type.clone()).collect();
        let indexes = table
            .indexes
            .iter()
            .map(|index| {
                let columns = resolve(&index.columns);
                IndexCodec {
                    descriptor: index.clone(),
                    column_types: columns.iter().map(|(_, t, d)| (t.clone(), *d)).collect(),
                    exact_positions: exact_positions(&columns, &key),
                    columns,
                }
            })
            .collect();
        TableCodec {
            storage_id: table.storage_id(),
            columns,
            key_types: key.iter().map(|(_, t, d)| (t.clone(), *d)).collect(),
            key,
            version: table.version,
            layouts,
            current,
            current_types,
            indexes,
        }
    }

    /// The id every key of the table's rows and index entries starts with
    /// (`TableDescriptor::storage_id`).
    pub fn storage_id(&self) -> u32 {
        self.storage_id
    }

    /// The live columns, in the order rows are given and returned.
    pub fn columns(&self) -> &[ColumnDescriptor] {
        &self.columns
    }

    /// Positions of the key columns among the live columns.
    pub fn key_positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.key.iter().map(|(p, _, _)| *p)
    }

    pub fn key_types(&self) -> Vec<(DataType, Direction)> {
        self.key_types.clone()
    }

    pub fn indexes(&self) -> &[IndexCodec] {
        &self.indexes
    }

    /// Whether a secondary index is unique (so an insert has more than its key to probe).
    pub fn has_unique_index(&self) -> bool {
        self.indexes.iter().any(|index| index.descriptor.unique)
    }

    /// `[table][1]`: the start of the primary index's range.
    pub fn primary_prefix(&self) -> [u8; 8] {
        index_prefix(self.storage_id, PRIMARY_INDEX)
    }

    /// The primary key of a full row.
    pub fn encode_key(&self, row: &[Value]) -> Result<Vec<u8>> {
        let mut key = self.primary_prefix().to_vec();
        self.append_key_columns(&mut key, row)?;
        Ok(key)
    }

    fn append_key_columns(&self, out: &mut Vec<u8>, row: &[Value]) -> Result<()> {
        for (position, ty, direction) in &self.key {
            keycode::encode_field(out, &row[*position], ty, *direction)?;
        }
        Ok(())
    }

    /// The primary key (or a prefix of it) from values of its first key columns.
    pub fn encode_key_prefix(&self, values: &[Value]) -> Result<Vec<u8>> {
        assert!(values.len() <= self.key.len());
        let mut key = self.primary_prefix().to_vec();
        for (value, (_, ty, direction)) in values.iter().zip(&self.key) {
            keycode::encode_field(&mut key, value, ty, *direction)?;
        }
        Ok(key)
    }

    /// The stored value of a full row, under the current version.
    pub fn encode_value(&self, row: &[Value]) -> Result<Vec<u8>> {
        assert_eq!(row.len(), self.columns.len(), "one value per live column");
        let values: Vec<&Value> = self.current.iter().map(|&p| &row[p]).collect();
        let types: Vec<&DataType> = self.current_types.iter().collect();
        let mut out = Vec::new();
        rowcode::encode_row(&mut out, self.version, &types, &values)?;
        Ok(out)
    }

    /// A full row from its primary-index entry, whatever version it was written under.
    pub fn decode(&self, key: &[u8], value: &[u8]) -> Result<Vec<Value>> {
        let mut row: Vec<Option<Value>> = vec![None; self.columns.len()];
        let key_body = key
            .strip_prefix(&self.primary_prefix()[..])
            .ok_or(CatalogError::Corrupt("a row key of another table".into()))?;
        let key_types = self.key_types();
        let (key_values, _) = keycode::decode_key(key_body, &key_types)?;
        for ((position, _, _), value) in self.key.iter().zip(key_values) {
            row[*position] = Some(value);
        }
        let reader = RowReader::parse(value)?;
        let layout = self.layout(reader.version())?;
        reader.for_each_field(&layout.types, |i, raw| {
            if let Some(position) = layout.targets[i] {
                // A lossy key column is stored exactly in the row too: that copy wins.
                row[position] = Some(match raw {
                    None => Value::Null,
                    Some(raw) => rowcode::decode_value(raw, &layout.types[i])?,
                });
            }
            Ok(())
        })?;
        Ok(row
            .into_iter()
            .zip(&self.columns)
            .map(|(value, column)| {
                value
                    .or_else(|| column.missing.clone())
                    .unwrap_or(Value::Null)
            })
            .collect())
    }

    fn layout(&self, version: u32) -> Result<&Layout> {
        version
            .checked_sub(1)
            .and_then(|index| self.layouts.get(index as usize))
            .ok_or_else(|| CatalogError::Corrupt(format!("row of unknown table version {version}")))
    }

    /// Key columns: position among the live columns, type, direction.
    pub(crate) fn key_columns(&self) -> &[(usize, DataType, Direction)] {
        &self.key
    }

    /// For each version in order, the types of the fields its rows hold and the position
    /// among the live columns each goes to (`None`: dropped since).
    pub(crate) fn layout_targets(
        &self,
    ) -> impl Iterator<Item = (&[DataType], &[Option<usize>])> + '_ {
        self.layouts
            .iter()
            .map(|layout| (&layout.types[..], &layout.targets[..]))
    }

    /// The entry of a row in a secondary index: key and value.
    pub fn index_entry(&self, index: &IndexCodec, row: &[Value]) -> Result<(Vec<u8>, Vec<u8>)> {
        let mut key = index_prefix(self.storage_id, index.descriptor.id).to_vec();
        let mut has_null = false;
        for (position, ty, direction) in &index.columns {
            has_null |= row[*position].is_null();
            keycode::encode_field(&mut key, &row[*position], ty, *direction)?;
        }
        let mut primary = Vec::new();
        self.append_key_columns(&mut primary, row)?;
        if index.descriptor.unique && !has_null {
            Ok((key, primary))
        } else {
            key.extend_from_slice(&primary);
            Ok((key, Vec::new()))
        }
    }

    /// The index key (or a prefix of it) from values of its first columns.
    pub fn encode_index_prefix(&self, index: &IndexCodec, values: &[Value]) -> Result<Vec<u8>> {
        let mut key = index_prefix(self.storage_id, index.descriptor.id).to_vec();
        for (value, (_, ty, direction)) in values.iter().zip(&index.columns) {
            keycode::encode_field(&mut key, value, ty, *direction)?;
        }
        Ok(key)
    }

    /// The columns a secondary-index entry holds exactly — its index columns and the
    /// primary key's, by position among the live columns — for reading a row from its
    /// entry alone. Key encodings that lose information (`DataType::key_is_lossy`,
    /// `char(n)`'s padding) are left out: their values come from the row.
    pub fn index_only_positions<'a>(&self, index: &'a IndexCodec) -> &'a [usize] {
        &index.exact_positions
    }

    /// Puts the values of the index and primary-key columns a secondary-index entry holds
    /// into `row` (by position among the live columns) where `wanted` says so; see
    /// `index_only_positions` for which are exact.
    pub fn fill_from_index_entry(
        &self,
        index: &IndexCodec,
        key: &[u8],
        value: &[u8],
        wanted: impl Fn(usize) -> bool,
        row: &mut [Value],
    ) -> Result<()> {
        assert_eq!(row.len(), self.columns.len(), "a row of the table's width");
        let body = key
            .get(8..)
            .ok_or_else(|| CatalogError::Corrupt("an index key shorter than its prefix".into()))?;
        let (index_values, used) = keycode::decode_key(body, &index.column_types)?;
        let primary = if index.descriptor.unique && !index_values.iter().any(Value::is_null) {
            value
        } else {
            &body[used..]
        };
        let (key_values, _) = keycode::decode_key(primary, &self.key_types)?;
        let positions = index.columns.iter().chain(&self.key).map(|(p, _, _)| *p);
        for (position, value) in positions.zip(index_values.into_iter().chain(key_values)) {
            if wanted(position) {
                row[position] = value;
            }
        }
        Ok(())
    }

    /// The primary key a secondary-index entry points at.
    pub fn primary_key_of(&self, index: &IndexCodec, key: &[u8], value: &[u8]) -> Result<Vec<u8>> {
        let body = &key[8..];
        let types: Vec<(DataType, Direction)> = index
            .columns
            .iter()
            .map(|(_, t, d)| (t.clone(), *d))
            .collect();
        let (values, used) = keycode::decode_key(body, &types)?;
        let mut primary = self.primary_prefix().to_vec();
        if index.descriptor.unique && !values.iter().any(Value::is_null) {
            primary.extend_from_slice(value);
        } else {
            primary.extend_from_slice(&body[used..]);
        }
        Ok(primary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::KeyColumn;
    use crate::projection::{FieldSink, RowProjection};
    use bytedata_pgtypes::Numeric;

    fn accounts() -> TableDescriptor {
        let columns = vec![
            ColumnDescriptor::new(0, "branch", DataType::Int4),
            ColumnDescriptor::new(0, "id", DataType::Int8),
            ColumnDescriptor::new(
                0,
                "balance",
                DataType::Numeric {
                    precision: Some(12),
                    scale: Some(2),
                },
            ),
            ColumnDescriptor::new(0, "owner", DataType::Text),
        ];
        let mut table = TableDescriptor::new(
            16384,
            2200,
            "accounts",
            "bytedata",
            columns,
            Some((
                "accounts_pkey".into(),
                vec![
                    ("branch".into(), Direction::Asc),
                    ("id".into(), Direction::Desc),
                ],
            )),
        )
        .unwrap();
        table.indexes.push(IndexDescriptor {
            id: 2,
            oid: 16390,
            name: "accounts_owner_key".into(),
            unique: true,
            columns: vec![KeyColumn {
                column: 4,
                direction: Direction::Asc,
            }],
        });
        table
    }

    fn row(branch: i32, id: i64, balance: &str, owner: Option<&str>) -> Vec<Value> {
        vec![
            Value::Int4(branch),
            Value::Int8(id),
            Value::Numeric(Numeric::parse(balance).unwrap()),
            owner.map_or(Value::Null, |o| Value::Text(o.into())),
        ]
    }

    #[test]
    fn rows_roundtrip_through_key_and_value() {
        let table = accounts();
        let codec = TableCodec::new(&table);
        let original = row(3, 42, "100.50", Some("ada"));
        let key = codec.encode_key(&original).unwrap();
        let value = codec.encode_value(&original).unwrap();
        assert!(key.starts_with(&codec.encode_key_prefix(&[Value::Int4(3)]).unwrap()));
        let decoded = codec.decode(&key, &value).unwrap();
        assert_eq!(format!("{decoded:?}"), format!("{original:?}"));
        // Descending id: 43 sorts before 42 within branch 3.
        assert!(codec.encode_key(&row(3, 43, "0", None)).unwrap() < key);
    }

    #[test]
    fn old_rows_read_under_a_new_version_without_rewriting() {
        let mut table = accounts();
        let old_codec = TableCodec::new(&table);
        let original = row(1, 1, "5", Some("grace"));
        let (key, value) = (
            old_codec.encode_key(&original).unwrap(),
            old_codec.encode_value(&original).unwrap(),
        );

        let mut flag = ColumnDescriptor::new(0, "active", DataType::Bool);
        flag.missing = Some(Value::Bool(true));
        table.add_column(flag).unwrap();
        table
            .add_column(ColumnDescriptor::new(0, "note", DataType::Text))
            .unwrap();
        let dropped = table.drop_column("owner").unwrap();
        assert_eq!(dropped.len(), 1, "the index on the column goes with it");
        assert!(table.indexes.is_empty());
        let codec = TableCodec::new(&table);
        let names: Vec<&str> = codec.columns().iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["branch", "id", "balance", "active", "note"]);
        let decoded = codec.decode(&key, &value).unwrap();
        assert_eq!(
            format!("{decoded:?}"),
            format!(
                "{:?}",
                vec![
                    Value::Int4(1),
                    Value::Int8(1),
                    Value::Numeric(Numeric::parse("5").unwrap()),
                    Value::Bool(true),
                    Value::Null
                ]
            )
        );
        // A row written now holds the new layout and reads back the same.
        let new_row = vec![
            Value::Int4(2),
            Value::Int8(9),
            Value::Numeric(Numeric::parse("1.25").unwrap()),
            Value::Bool(false),
            Value::Text("n".into()),
        ];
        let value = codec.encode_value(&new_row).unwrap();
        let key = codec.encode_key(&new_row).unwrap();
        assert_eq!(
            format!("{:?}", codec.decode(&key, &value).unwrap()),
            format!("{new_row:?}")
        );
    }

    /// Collects what a projection hands over, decoded, and checks each output gets one.
    struct Collected(Vec<Option<Value>>);

    impl FieldSink for Collected {
        type Error = CatalogError;

        fn raw(&mut self, output: usize, ty: &DataType, raw: Option<&[u8]>) -> Result<()> {
            let value = match raw {
                None => Value::Null,
                Some(raw) => rowcode::decode_value(raw, ty)?,
            };
            self.value(output, &value)
        }

        fn value(&mut self, output: usize, value: &Value) -> Result<()> {
            assert!(self.0[output].is_none(), "output {output} handed twice");
            self.0[output] = Some(value.clone());
            Ok(())
        }
    }

    #[test]
    fn projections_agree_with_a_full_decode_for_every_choice_and_order_of_columns() {
        let mut table = accounts();
        let old_codec = TableCodec::new(&table);
        let old_row = row(1, 7, "5", Some("grace"));
        let mut flag = ColumnDescriptor::new(0, "active", DataType::Bool);
        flag.missing = Some(Value::Bool(true));
        table.add_column(flag).unwrap();
        let codec = TableCodec::new(&table);
        let mut new_row = row(2, 9, "1.25", None);
        new_row.push(Value::Bool(false));
        let entries = [
            (
                old_codec.encode_key(&old_row).unwrap(),
                old_codec.encode_value(&old_row).unwrap(),
            ),
            (
                codec.encode_key(&new_row).unwrap(),
                codec.encode_value(&new_row).unwrap(),
            ),
        ];
        let width = codec.columns().len();
        for (key, value) in &entries {
            let full = codec.decode(key, value).unwrap();
            for mask in 0..1u32 << width {
                let ascending: Vec<usize> = (0..width).filter(|i| mask & (1 << i) != 0).collect();
                let descending: Vec<usize> = ascending.iter().rev().copied().collect();
                for positions in [ascending, descending] {
                    let projection = RowProjection::new(&codec, &positions);
                    let mut collected = Collected(vec![None; positions.len()]);
                    projection.decode(key, value, &mut collected).unwrap();
                    let expected: Vec<String> = positions
                        .iter()
                        .map(|&p| format!("{:?}", Some(&full[p])))
                        .collect();
                    let got: Vec<String> = collected
                        .0
                        .iter()
                        .map(|v| format!("{:?}", v.as_ref()))
                        .collect();
                    assert_eq!(got, expected, "{positions:?}");
                }
            }
        }
    }

    #[test]
    fn a_projection_reports_damaged_rows() {
        let table = accounts();
        let codec = TableCodec::new(&table);
        let original = row(3, 42, "100.50", Some("ada"));
        let key = codec.encode_key(&original).unwrap();
        let value = codec.encode_value(&original).unwrap();
        let all: Vec<usize> = (0..codec.columns().len()).collect();
        let projection = RowProjection::new(&codec, &all);
        let mut collected = Collected(vec![None; all.len()]);
        let truncated = &value[..value.len() - 1];
        assert!(projection.decode(&key, truncated, &mut collected).is_err());
        let mut unknown_version = value.clone();
        unknown_version[0] = 9;
        let mut collected = Collected(vec![None; all.len()]);
        assert!(matches!(
            projection.decode(&key, &unknown_version, &mut collected),
            Err(CatalogError::Corrupt(_))
        ));
        let other_table = TableCodec::new(&TableDescriptor {
            id: 99,
            ..accounts()
        });
        let mut collected = Collected(vec![None; all.len()]);
        let foreign_key = other_table.encode_key(&original).unwrap();
        assert!(
            projection
                .decode(&foreign_key, &value, &mut collected)
                .is_err()
        );
    }

    #[test]
    fn unique_index_entries_point_at_their_row_and_nulls_do_not_collide() {
        let table = accounts();
        let codec = TableCodec::new(&table);
        let index = &codec.indexes()[0];
        let a = row(1, 1, "0", Some("ada"));
        let (key, value) = codec.index_entry(index, &a).unwrap();
        assert_eq!(
            codec.primary_key_of(index, &key, &value).unwrap(),
            codec.encode_key(&a).unwrap()
        );
        let (k1, v1) = codec.index_entry(index, &row(1, 2, "0", None)).unwrap();
        let (k2, _) = codec.index_entry(index, &row(1, 3, "0", None)).unwrap();
        assert_ne!(k1, k2, "two NULLs are two entries");
        assert!(v1.is_empty());
        assert_eq!(
            codec.primary_key_of(index, &k1, &v1).unwrap(),
            codec.encode_key(&row(1, 2, "0", None)).unwrap()
        );
    }

    #[test]
    fn an_index_entry_gives_back_its_index_and_key_columns() {
        let table = accounts();
        let codec = TableCodec::new(&table);
        let index = &codec.indexes()[0];
        // branch, id (the key) and owner (the index) are exact; balance is not held.
        assert_eq!(codec.index_only_positions(index), [0, 1, 3]);
        for row in [row(7, -3, "0", Some("ada")), row(7, 4, "0", None)] {
            let (key, value) = codec.index_entry(index, &row).unwrap();
            let mut filled = vec![Value::Null; 4];
            codec
                .fill_from_index_entry(index, &key, &value, |p| p != 1, &mut filled)
                .unwrap();
            let expected = [row[0].clone(), Value::Null, Value::Null, row[3].clone()];
            assert_eq!(format!("{filled:?}"), format!("{expected:?}"));
        }
    }
}
