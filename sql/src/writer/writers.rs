//! `Writers`: one statement's writers, one per table it touches, and the foreign-key
//! checks it owes — inserted, updated and deleted rows with their index entries, unique
//! probes under locks, and the deferred checks run at `finish`.

use super::*;

/// A foreign key to verify when the statement ends.
pub(super) enum Pending {
    /// A child row needs its parent: table, constraint position, the referencing values.
    Parent {
        table: u32,
        fk: usize,
        values: Vec<Value>,
    },
    /// A parent row went or changed: no child may still reference its old values.
    Children {
        table: u32,
        fk: usize,
        values: Vec<Value>,
    },
}

/// The writers of one statement, with the foreign-key checks it owes.
pub(crate) struct Writers<'a> {
    pub txn: &'a Transaction,
    /// Compiles the CHECKs of writers built during the statement; `None` on the fast
    /// path, whose one writer comes built and whose tables are in no foreign key.
    pub(super) state: Option<&'a SessionState>,
    pub(super) catalog: &'a Catalog,
    pub(super) tables: HashMap<u32, Arc<TableWriter>>,
    pub(super) pending: Vec<Pending>,
    /// What is already pending, so a thousand children of one parent check it once.
    pub(super) pending_seen: HashSet<(bool, u32, usize, Vec<u8>)>,
    pub(super) depth: usize,
}

pub(super) fn values_key(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for value in values {
        // Any faithful encoding will do: the row format's per-value encoding is one.
        let text = value_text(value);
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    out
}

impl<'a> Writers<'a> {
    pub fn new(txn: &'a Transaction, state: &'a SessionState, catalog: &'a Catalog) -> Self {
        Self::with_state(txn, Some(state), catalog)
    }

    pub(super) fn with_state(
        txn: &'a Transaction,
        state: Option<&'a SessionState>,
        catalog: &'a Catalog,
    ) -> Self {
        Writers {
            txn,
            state,
            catalog,
            tables: HashMap::new(),
            pending: Vec::new(),
            pending_seen: HashSet::new(),
            depth: 0,
        }
    }

    /// The writers of a statement that writes one table, whose writer is built already
    /// (the fast path's, cached across statements).
    pub fn with_writer(
        txn: &'a Transaction,
        catalog: &'a Catalog,
        writer: Arc<TableWriter>,
    ) -> Self {
        let mut writers = Self::with_state(txn, None, catalog);
        writers.tables.insert(writer.table.id, writer);
        writers
    }

    /// The writer of a table, built once per statement.
    pub fn writer(&mut self, table: &TableDescriptor) -> Result<Arc<TableWriter>> {
        if let Some(writer) = self.tables.get(&table.id) {
            return Ok(writer.clone());
        }
        let state = self
            .state
            .ok_or_else(|| SqlError::internal("a second table's writer on the fast path"))?;
        let writer = Arc::new(TableWriter::new(
            state,
            self.catalog,
            self.txn,
            table.clone(),
        )?);
        self.tables.insert(table.id, writer.clone());
        Ok(writer)
    }

    pub(super) fn writer_by_id(&mut self, id: u32) -> Result<Arc<TableWriter>> {
        if let Some(writer) = self.tables.get(&id) {
            return Ok(writer.clone());
        }
        let table = self
            .catalog
            .table_by_id(self.txn, id)?
            .ok_or_else(|| SqlError::internal(format!("table {id} vanished")))?;
        self.writer(&table)
    }

    pub(super) fn defer(&mut self, pending: Pending) {
        let (kind, table, fk, values) = match &pending {
            Pending::Parent { table, fk, values } => (true, *table, *fk, values),
            Pending::Children { table, fk, values } => (false, *table, *fk, values),
        };
        if self
            .pending_seen
            .insert((kind, table, fk, values_key(values)))
        {
            self.pending.push(pending);
        }
    }

    /// Probes the unique constraints for a new row, locking each key probed. `own` is the
    /// row's previous key when it is being updated (finding itself is no conflict).
    pub(super) fn probe(
        &self,
        writer: &TableWriter,
        key: &[u8],
        row: &[Value],
        own: Option<&[u8]>,
    ) -> Result<Option<Conflict>> {
        if own != Some(key) && self.txn.lock_latest(key)?.is_some() {
            return Ok(Some(Conflict::Primary {
                key: Bytes::copy_from_slice(key),
            }));
        }
        for (i, index) in writer.codec.indexes().iter().enumerate() {
            if !index.descriptor.unique {
                continue;
            }
            let (entry, value) = writer.codec.index_entry(index, row)?;
            if value.is_empty() {
                continue; // a NULL column: never a conflict
            }
            if let Some(existing) = self.txn.lock_latest(&entry)? {
                let mut existing_key = writer.codec.primary_prefix().to_vec();
                existing_key.extend_from_slice(&existing);
                if own != Some(&existing_key[..]) && existing_key != key {
                    return Ok(Some(Conflict::Unique {
                        index: i,
                        key: Bytes::from(existing_key),
                    }));
                }
            }
        }
        Ok(None)
    }

    /// Inserts a row (CHECKs already evaluated), or reports the constraint it conflicts
    /// with and writes nothing.
    pub fn insert(&mut self, writer: &TableWriter, row: &[Value]) -> Result<Option<Conflict>> {
        writer.check_not_null(row)?;
        let key = Bytes::from(writer.codec.encode_key(row)?);
        if writer.codec.has_unique_index() {
            if let Some(conflict) = self.probe(writer, &key, row, None)? {
                return Ok(Some(conflict));
            }
            self.txn.put(key, writer.codec.encode_value(row)?)?;
        } else {
            // The key is the only constraint to probe: one lock and look-up for both.
            // The key moves into the write buffer; a conflict (rare) encodes it again
            // rather than every row paying for a shared copy.
            let value = Bytes::from(writer.codec.encode_value(row)?);
            if !self.txn.insert_absent(key, value)? {
                let key = Bytes::from(writer.codec.encode_key(row)?);
                return Ok(Some(Conflict::Primary { key }));
            }
        }
        for index in writer.codec.indexes() {
            let (entry, value) = writer.codec.index_entry(index, row)?;
            self.txn.put(entry, value)?;
        }
        self.defer_parents(writer, row, None);
        Ok(None)
    }

    /// Inserts rows (NOT NULL and CHECKs already checked) as `insert` one after another
    /// would, into a table whose only unique constraint is its primary key: returns the
    /// positions of the rows whose key is taken, which are not written. The rows' locks
    /// are taken together and their entries written in one go (`insert_absent_many`).
    pub fn insert_many(&mut self, writer: &TableWriter, rows: &[Vec<Value>]) -> Result<Vec<usize>> {
        assert!(
            !writer.codec.has_unique_index(),
            "rows of a table with unique indexes are inserted one by one"
        );
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            debug_assert!(writer.check_not_null(row).is_ok());
            let key = Bytes::from(writer.codec.encode_key(row)?);
            entries.push((key, Bytes::from(writer.codec.encode_value(row)?)));
        }
        let refused = if writer.table.has_hidden_row_id() {
            // Row ids come from the table's counter, each handed out once: no other
            // transaction can know these keys and none of them exists yet, so they need
            // neither locks nor look-ups. They rise within a batch; sorting is a check.
            if !entries.windows(2).all(|pair| pair[0].0 < pair[1].0) {
                entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            }
            self.txn.put_fresh_sorted(entries)?;
            Vec::new()
        } else {
            self.txn.insert_absent_many(entries)?
        };
        let mut next_refused = refused.iter().copied().peekable();
        for (position, row) in rows.iter().enumerate() {
            if next_refused.next_if_eq(&position).is_some() {
                continue;
            }
            for index in writer.codec.indexes() {
                let (entry, value) = writer.codec.index_entry(index, row)?;
                self.txn.put(entry, value)?;
            }
            self.defer_parents(writer, row, None);
        }
        Ok(refused)
    }

    /// Replaces a row (already locked by the caller) with a new version; CHECKs already
    /// evaluated.
    pub fn update(&mut self, writer: &TableWriter, old: &[Value], new: &[Value]) -> Result<()> {
        writer.check_not_null(new)?;
        let old_key = writer.codec.encode_key(old)?;
        let new_key = writer.codec.encode_key(new)?;
        if let Some(conflict) = self.probe(writer, &new_key, new, Some(&old_key))? {
            return Err(writer.conflict_error(&conflict, new));
        }
        if old_key != new_key {
            self.txn.delete(old_key)?;
        }
        self.txn.put(new_key, writer.codec.encode_value(new)?)?;
        for index in writer.codec.indexes() {
            let (old_entry, _) = writer.codec.index_entry(index, old)?;
            let (new_entry, value) = writer.codec.index_entry(index, new)?;
            if old_entry != new_entry {
                self.txn.delete(old_entry)?;
            }
            self.txn.put(new_entry, value)?;
        }
        self.defer_parents(writer, new, Some(old));
        self.referenced_change(writer, old, Some(new))
    }

    /// Deletes a row (already locked by the caller).
    pub fn delete(&mut self, writer: &TableWriter, old: &[Value]) -> Result<()> {
        self.txn.delete(writer.codec.encode_key(old)?)?;
        for index in writer.codec.indexes() {
            let (entry, _) = writer.codec.index_entry(index, old)?;
            self.txn.delete(entry)?;
        }
        self.referenced_change(writer, old, None)
    }

    /// Runs the foreign-key checks the statement deferred.
    pub fn finish(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        for item in pending {
            match item {
                Pending::Parent { table, fk, values } => {
                    let writer = self.writer_by_id(table)?;
                    let constraint = &writer.outgoing[fk];
                    if !self.parent_exists(constraint, &values)? {
                        let parent = self.writer_by_id(constraint.parent)?;
                        let names: Vec<String> = constraint
                            .positions
                            .iter()
                            .map(|&p| writer.codec.columns()[p].name.clone())
                            .collect();
                        let texts: Vec<String> = values.iter().map(value_text).collect();
                        return Err(SqlError::new(
                            "23503",
                            format!("insert or update on table \"{}\" violates foreign key constraint \"{}\"", writer.table.name, constraint.name),
                        )
                        .with_detail(format!("Key ({})=({}) is not present in table \"{}\".", names.join(", "), texts.join(", "), parent.table.name)));
                    }
                }
                Pending::Children { table, fk, values } => {
                    let writer = self.writer_by_id(table)?;
                    let constraint = &writer.incoming[fk];
                    if !self.children(&writer, constraint, &values)?.is_empty() {
                        return Err(self.still_referenced(&writer, constraint, &values));
                    }
                }
            }
        }
        self.pending_seen.clear();
        Ok(())
    }
}
