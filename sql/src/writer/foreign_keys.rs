//! Foreign keys as the writers keep them: how a constraint finds its parent row and its
//! referencing rows, the checks a statement owes when it ends, and the cascades of
//! ON DELETE and ON UPDATE.

use super::writers::Pending;
use super::*;

/// Cascading deletes and updates go at most this deep.
pub(super) const MAX_CASCADE_DEPTH: usize = 64;

/// How a foreign key finds its parent row.
pub(super) enum ParentLookup {
    /// By primary key; `order[i]` is the position in the constraint of key column `i`.
    Primary { order: Vec<usize> },
    /// By a unique index (position in the parent's codec), likewise ordered.
    Unique { index: usize, order: Vec<usize> },
}

/// A foreign key of this table.
pub(super) struct Outgoing {
    pub(super) name: String,
    /// Positions (among live columns) of the referencing columns.
    pub(super) positions: Vec<usize>,
    pub(super) parent: u32,
    pub(super) lookup: ParentLookup,
}

/// How a foreign key's referencing rows are found in the child table.
pub(super) enum ChildLookup {
    /// The constraint's columns are a prefix of the child's primary key, in `order`.
    Primary {
        order: Vec<usize>,
    },
    Index {
        index: usize,
        order: Vec<usize>,
    },
    Full,
}

/// A foreign key of another table (or this one) that references this table.
pub(super) struct Incoming {
    pub(super) name: String,
    pub(super) child: u32,
    /// Positions in the child of the referencing columns.
    pub(super) child_positions: Vec<usize>,
    /// Positions in this table of the referenced columns.
    pub(super) positions: Vec<usize>,
    pub(super) on_delete: ReferentialAction,
    pub(super) on_update: ReferentialAction,
    pub(super) lookup: ChildLookup,
}

impl Writers<'_> {
    pub(super) fn defer_parents(
        &mut self,
        writer: &TableWriter,
        row: &[Value],
        old: Option<&[Value]>,
    ) {
        for (i, fk) in writer.outgoing.iter().enumerate() {
            let values: Vec<Value> = fk.positions.iter().map(|&p| row[p].clone()).collect();
            if values.iter().any(Value::is_null) {
                continue; // MATCH SIMPLE: a NULL column exempts the row
            }
            if let Some(old) = old
                && fk.positions.iter().all(|&p| equal(&old[p], &row[p]))
            {
                continue;
            }
            self.defer(Pending::Parent {
                table: writer.table.id,
                fk: i,
                values,
            });
        }
    }

    /// What a deleted (`new` = None) or updated row means for the rows referencing it.
    pub(super) fn referenced_change(
        &mut self,
        writer: &TableWriter,
        old: &[Value],
        new: Option<&[Value]>,
    ) -> Result<()> {
        for (i, fk) in writer.incoming.iter().enumerate() {
            let values: Vec<Value> = fk.positions.iter().map(|&p| old[p].clone()).collect();
            if values.iter().any(Value::is_null) {
                continue;
            }
            if let Some(new) = new
                && fk.positions.iter().all(|&p| equal(&old[p], &new[p]))
            {
                continue;
            }
            let action = if new.is_some() {
                fk.on_update
            } else {
                fk.on_delete
            };
            match action {
                ReferentialAction::NoAction => self.defer(Pending::Children {
                    table: writer.table.id,
                    fk: i,
                    values,
                }),
                ReferentialAction::Restrict => {
                    if !self.children(writer, fk, &values)?.is_empty() {
                        return Err(self.still_referenced(writer, fk, &values));
                    }
                }
                ReferentialAction::Cascade | ReferentialAction::SetNull => {
                    if self.depth >= MAX_CASCADE_DEPTH {
                        return Err(SqlError::new(
                            "54001",
                            format!(
                                "foreign key actions cascade deeper than {MAX_CASCADE_DEPTH} levels"
                            ),
                        ));
                    }
                    let child = self.writer_by_id(fk.child)?;
                    let rows = self.children(writer, fk, &values)?;
                    self.depth += 1;
                    for row in rows {
                        self.txn.lock(&child.codec.encode_key(&row)?)?;
                        match (action, new) {
                            (ReferentialAction::Cascade, None) => self.delete(&child, &row)?,
                            (ReferentialAction::Cascade, Some(new)) => {
                                let mut updated = row.clone();
                                for (&c, &p) in fk.child_positions.iter().zip(&fk.positions) {
                                    updated[c] =
                                        coerce_value(&new[p], &child.codec.columns()[c].data_type)
                                            .unwrap_or(Value::Null);
                                }
                                child.check_rows(std::slice::from_ref(&updated))?;
                                self.update(&child, &row, &updated)?;
                            }
                            _ => {
                                let mut updated = row.clone();
                                for &c in &fk.child_positions {
                                    updated[c] = Value::Null;
                                }
                                child.check_rows(std::slice::from_ref(&updated))?;
                                self.update(&child, &row, &updated)?;
                            }
                        }
                    }
                    self.depth -= 1;
                }
                ReferentialAction::SetDefault => {
                    return Err(SqlError::unsupported("ON DELETE/UPDATE SET DEFAULT"));
                }
            }
        }
        Ok(())
    }

    pub(super) fn still_referenced(
        &self,
        writer: &TableWriter,
        fk: &Incoming,
        values: &[Value],
    ) -> SqlError {
        let child_name = self
            .tables
            .get(&fk.child)
            .map_or_else(|| fk.child.to_string(), |c| c.table.name.clone());
        let names: Vec<String> = fk
            .positions
            .iter()
            .map(|&p| writer.codec.columns()[p].name.clone())
            .collect();
        let values: Vec<String> = values.iter().map(value_text).collect();
        SqlError::new(
            "23503",
            format!("update or delete on table \"{}\" violates foreign key constraint \"{}\" on table \"{child_name}\"", writer.table.name, fk.name),
        )
        .with_detail(format!("Key ({})=({}) is still referenced from table \"{child_name}\".", names.join(", "), values.join(", ")))
    }

    /// The rows of the child table referencing `values`, as of now.
    pub(super) fn children(
        &mut self,
        _parent: &TableWriter,
        fk: &Incoming,
        values: &[Value],
    ) -> Result<Vec<Vec<Value>>> {
        let child = self.writer_by_id(fk.child)?;
        let coerced: Option<Vec<Value>> = values
            .iter()
            .zip(&fk.child_positions)
            .map(|(v, &c)| coerce_value(v, &child.codec.columns()[c].data_type))
            .collect();
        let Some(coerced) = coerced else {
            return Ok(Vec::new());
        };
        let reader = self.txn.latest_reader()?;
        let matches = |row: &[Value]| {
            fk.child_positions
                .iter()
                .zip(&coerced)
                .all(|(&c, v)| equal(&row[c], v))
        };
        let mut rows = Vec::new();
        match &fk.lookup {
            ChildLookup::Primary { order } => {
                let ordered: Vec<Value> = order.iter().map(|&i| coerced[i].clone()).collect();
                let prefix = child.codec.encode_key_prefix(&ordered)?;
                for entry in reader.scan((
                    std::ops::Bound::Included(prefix.clone()),
                    prefix_end(&prefix),
                )) {
                    let (key, value) = entry?;
                    let row = child.codec.decode(&key, &value)?;
                    if matches(&row) {
                        rows.push(row);
                    }
                }
            }
            ChildLookup::Index { index, order } => {
                let index = &child.codec.indexes()[*index];
                let ordered: Vec<Value> = order.iter().map(|&i| coerced[i].clone()).collect();
                let prefix = child.codec.encode_index_prefix(index, &ordered)?;
                for entry in reader.scan((
                    std::ops::Bound::Included(prefix.clone()),
                    prefix_end(&prefix),
                )) {
                    let (key, value) = entry?;
                    let primary = child.codec.primary_key_of(index, &key, &value)?;
                    if let Some(stored) = reader.get(&primary)? {
                        let row = child.codec.decode(&primary, &stored)?;
                        if matches(&row) {
                            rows.push(row);
                        }
                    }
                }
            }
            ChildLookup::Full => {
                let start = child.codec.primary_prefix().to_vec();
                for entry in
                    reader.scan((std::ops::Bound::Included(start.clone()), prefix_end(&start)))
                {
                    let (key, value) = entry?;
                    let row = child.codec.decode(&key, &value)?;
                    if matches(&row) {
                        rows.push(row);
                    }
                }
            }
        }
        Ok(rows)
    }

    /// Whether the parent row a child's values reference exists (locking it, so it cannot
    /// go before this transaction commits).
    pub(super) fn parent_exists(&mut self, fk: &Outgoing, values: &[Value]) -> Result<bool> {
        let parent = self.writer_by_id(fk.parent)?;
        let (order, index) = match &fk.lookup {
            ParentLookup::Primary { order } => (order, None),
            ParentLookup::Unique { index, order } => (order, Some(&parent.codec.indexes()[*index])),
        };
        let parent_types: Vec<_> = match index {
            None => parent
                .codec
                .key_types()
                .into_iter()
                .map(|(t, _)| t)
                .collect(),
            Some(index) => index
                .descriptor
                .columns
                .iter()
                .filter_map(|k| {
                    parent
                        .codec
                        .columns()
                        .iter()
                        .find(|c| c.id == k.column)
                        .map(|c| c.data_type.clone())
                })
                .collect(),
        };
        let mut ordered = Vec::with_capacity(order.len());
        for (&i, ty) in order.iter().zip(&parent_types) {
            match coerce_value(&values[i], ty) {
                Some(value) => ordered.push(value),
                None => return Ok(false),
            }
        }
        let key = match index {
            None => parent.codec.encode_key_prefix(&ordered)?,
            Some(index) => parent.codec.encode_index_prefix(index, &ordered)?,
        };
        Ok(self.txn.lock_latest(&key)?.is_some())
    }

    /// Checks that every row of `table` satisfies its foreign key `fk` (ALTER TABLE ADD
    /// FOREIGN KEY on a table with rows).
    pub fn validate_foreign_key(&mut self, table: &TableDescriptor, fk_name: &str) -> Result<()> {
        let writer = self.writer(table)?;
        let Some(fk) = writer.outgoing.iter().position(|f| f.name == fk_name) else {
            return Err(SqlError::internal(format!(
                "foreign key {fk_name} to validate is missing"
            )));
        };
        for row in rows::table_rows(self.txn, &writer.codec)? {
            let (_, row) = row?;
            self.defer_parents_one(&writer, &row, fk);
        }
        self.finish()
    }

    pub(super) fn defer_parents_one(&mut self, writer: &TableWriter, row: &[Value], fk: usize) {
        let values: Vec<Value> = writer.outgoing[fk]
            .positions
            .iter()
            .map(|&p| row[p].clone())
            .collect();
        if !values.iter().any(Value::is_null) {
            self.defer(Pending::Parent {
                table: writer.table.id,
                fk,
                values,
            });
        }
    }
}
