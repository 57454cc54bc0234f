//! The system catalog as clients query it: `pg_catalog` and `information_schema` tables,
//! computed when a statement reads them rather than stored.
//!
//! ByteData's catalog lives in descriptors (see the catalog crate); PostgreSQL clients
//! expect relations. A system table here is a list of typed columns and a function from a
//! `Snapshot` — the catalog as the statement's transaction sees it, loaded at most once
//! per statement — to rows. So the system tables are exactly as transactional as the
//! catalog: a table created in an open transaction shows in that transaction's `\d` and
//! nowhere else until it commits.
//!
//! Name resolution follows PostgreSQL: `pg_catalog` is searched before the search path
//! (unless the path names it later), so `pg_class` finds the system table even with an
//! empty search path, and a user table cannot hide it.

pub mod activity_functions;
pub mod columns;
pub mod functions;
pub mod information_schema;
pub mod pg_catalog;
mod sizes;
pub mod snapshot;
pub mod types;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use crate::context::statement_context;
use crate::error::into_datafusion;
use pg_catalog::SystemTable;
pub use snapshot::Snapshot;

/// The `pg_catalog` table of that name, if there is one.
pub fn pg_catalog_table(name: &str) -> Option<Arc<dyn TableProvider>> {
    find(pg_catalog::TABLES, name)
}

/// The `information_schema` view of that name, if there is one.
pub fn information_schema_table(name: &str) -> Option<Arc<dyn TableProvider>> {
    find(information_schema::TABLES, name)
}

pub fn pg_catalog_names() -> impl Iterator<Item = &'static str> {
    pg_catalog::TABLES.iter().map(|t| t.name)
}

pub fn information_schema_names() -> impl Iterator<Item = &'static str> {
    information_schema::TABLES.iter().map(|t| t.name)
}

fn find(tables: &'static [SystemTable], name: &str) -> Option<Arc<dyn TableProvider>> {
    tables
        .iter()
        .find(|t| t.name == name)
        .map(|table| Arc::new(SystemTableProvider::new(table)) as _)
}

struct SystemTableProvider {
    table: &'static SystemTable,
    schema: SchemaRef,
}

impl SystemTableProvider {
    fn new(table: &'static SystemTable) -> Self {
        SystemTableProvider {
            table,
            schema: columns::schema(table.columns),
        }
    }
}

impl fmt::Debug for SystemTableProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.table.name)
    }
}

#[async_trait]
impl TableProvider for SystemTableProvider {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let rows = match (self.table.rows, self.table.live) {
            (Some(rows), _) => {
                let context = statement_context(state)?;
                let snapshot = Snapshot::shared(&context).map_err(into_datafusion)?;
                rows(&snapshot)
            }
            (None, Some(live)) => {
                let context = statement_context(state)?;
                let snapshot = Snapshot::shared(&context).map_err(into_datafusion)?;
                live(&context, &snapshot)
            }
            (None, None) => Vec::new(),
        };
        let batch = columns::batch(self.table.columns, &rows).map_err(into_datafusion)?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            self.schema.clone(),
            projection.cloned(),
        )?)
    }
}
