//! The session's side of the fast path (`crate::fast`): the tables it resolved, cached
//! until the catalog changes, and the statements it ran.

use std::sync::Arc;

use bytedata_mvcc::Transaction;
use datafusion::scalar::ScalarValue;

use super::Session;
use crate::context::result::QueryResult;
use crate::error::Result;
use crate::writer::{TableWriter, Writers};

impl Session {
    /// Runs a statement the fast path recognised; `None` if it declines (the general path
    /// then runs it).
    pub(super) fn run_fast(
        &mut self,
        shape: &crate::fast::Shape,
        params: &[ScalarValue],
        txn: &Transaction,
    ) -> Result<Option<QueryResult>> {
        let Some(writer) = self.fast_table(shape.table(), txn)? else {
            return Ok(None);
        };
        let input = self.input_options();
        let inputs = crate::fast::Inputs {
            params,
            now: self.clock,
            input: &input,
        };
        let outcome = crate::fast::execute(shape, &writer, &self.database.catalog, txn, &inputs);
        if !matches!(outcome, Ok(Err(crate::fast::Decline))) {
            self.fast_runs += 1;
        }
        Ok(outcome?.ok())
    }

    /// The writer of a table the fast path may use, from the session's cache.
    pub(super) fn fast_table(
        &mut self,
        name: &crate::fast::TableName,
        txn: &Transaction,
    ) -> Result<Option<Arc<TableWriter>>> {
        // A transaction's own DDL does not change the version until it commits.
        let cacheable = !self.transaction.as_ref().is_some_and(|t| t.changed_catalog);
        let version = self.database.catalog.version();
        let search_path = self.search_path();
        if cacheable && let Some(hit) = self.fast_tables.get(name, version, &search_path) {
            return Ok(hit);
        }
        let table = crate::fast::tables::resolve(&self.database, txn, &search_path, name)?;
        let writer = match table {
            None => None,
            Some(table) => {
                let planner = self.planner(txn);
                let catalog = &self.database.catalog;
                Some(Writers::new(txn, &planner.state, catalog).writer(&table)?)
            }
        };
        if cacheable {
            self.fast_tables
                .insert(name.clone(), version, search_path, writer.clone());
        }
        Ok(writer)
    }
}
