//! DataFusion over the catalog: catalog and schema providers that resolve names through
//! the statement's transaction, and `KvTable`, a table provider whose scans read the kv
//! store at the transaction's snapshot, along the key-aware access path (`access`).
//!
//! Every statement runs with a `StatementContext` — its database, transaction and search
//! path — placed in DataFusion's session config as an extension. Providers find it there;
//! nothing is global.

pub mod access;
pub mod checked;
mod columns;
pub mod scan;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytedata_catalog::catalog::{INFORMATION_SCHEMA, PG_CATALOG_SCHEMA};
use bytedata_catalog::descriptor::{RelationKind, SchemaDescriptor, TableDescriptor};
use bytedata_catalog::table::TableCodec;
use bytedata_mvcc::Transaction;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, SchemaProvider, Session, TableProvider,
};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::filter::FilterExec;

use crate::bridge::field;
use crate::cluster::Database;
use crate::error::{SqlError, into_datafusion};

/// Views nest at most this deep (a view over a view over …).
const MAX_VIEW_DEPTH: usize = 32;

/// What one statement runs with.
#[derive(Clone)]
pub struct StatementContext {
    pub database: Arc<Database>,
    pub txn: Transaction,
    /// Schemas searched for unqualified names, in order.
    pub search_path: Vec<String>,
    /// Tables this statement reads from elsewhere, by table id: the target of an UPDATE
    /// or DELETE with its hidden row id, the rows RETURNING reads.
    pub overrides: HashMap<u32, Arc<dyn TableProvider>>,
    /// The session's DataFusion state without our catalog, to plan views with.
    pub planner: SessionState,
    /// How many views deep this plan is.
    pub view_depth: usize,
    /// The transaction's start: what `now()` and `current_date` are.
    pub now: chrono::DateTime<chrono::Utc>,
    /// Stops the statement on a cancel request or timeout (checked once per batch).
    pub interrupt: Arc<crate::session::interrupt::Interrupt>,
    /// The cluster: its roles and databases, for the system tables.
    pub cluster: Arc<crate::cluster::Cluster>,
    /// The role the session runs as.
    pub user: String,
    /// The catalog as the system tables show it, loaded on first use (`system`).
    pub system: Arc<std::sync::OnceLock<Arc<crate::system::Snapshot>>>,
}

impl fmt::Debug for StatementContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatementContext")
            .field("database", &self.database.descriptor.name)
            .field("view_depth", &self.view_depth)
            .finish()
    }
}

impl StatementContext {
    /// The DataFusion state that plans with this context.
    pub fn state(self: &Arc<Self>) -> SessionState {
        let mut state = self.planner.clone();
        state.mark_start_execution();
        state.execution_props_mut().query_execution_start_time = Some(self.now);
        state.config_mut().set_extension(self.clone());
        state.register_catalog_list(Arc::new(KvCatalogList {
            context: self.clone(),
        }));
        state
    }

    /// `Err(57014)` if the statement planned in `state` has been cancelled or timed out.
    pub fn check_interrupt(state: &SessionState) -> Result<(), SqlError> {
        match state.config().get_extension::<StatementContext>() {
            Some(context) => context.interrupt.check(),
            None => Ok(()),
        }
    }

    /// A view as a table: its query planned now, in this statement's transaction, with
    /// its columns named as the view declares.
    async fn plan_view(
        &self,
        view: &TableDescriptor,
        definition: &str,
    ) -> Result<Arc<dyn TableProvider>, SqlError> {
        if self.view_depth >= MAX_VIEW_DEPTH {
            return Err(SqlError::new(
                "54001",
                format!(
                    "views nest deeper than {MAX_VIEW_DEPTH} levels at \"{}\"",
                    view.name
                ),
            ));
        }
        let nested = Arc::new(StatementContext {
            view_depth: self.view_depth + 1,
            ..self.clone()
        });
        let state = nested.state();
        let mut statements = crate::parse::parse(definition)?;
        let (Some(statement), true) = (statements.pop(), statements.is_empty()) else {
            return Err(SqlError::new(
                "XX001",
                format!("the definition of view \"{}\" is damaged", view.name),
            ));
        };
        let plan = state
            .statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(
                statement,
            )))
            .await?;
        let names: Vec<String> = view.visible_columns().map(|c| c.name.clone()).collect();
        let plan = crate::naming::alias_columns(plan, &names)?;
        Ok(Arc::new(datafusion::catalog::view::ViewTable::new(
            plan,
            Some(definition.to_owned()),
        )))
    }

    fn schemas(&self) -> Result<Vec<SchemaDescriptor>, SqlError> {
        Ok(self.database.catalog.schemas(&self.txn)?)
    }

    fn schema(&self, name: &str) -> Result<Option<SchemaDescriptor>, SqlError> {
        Ok(self.database.catalog.schema(&self.txn, name)?)
    }

    /// The schemas unqualified names resolve in: those of the search path that exist.
    pub fn search_schemas(&self) -> Result<Vec<SchemaDescriptor>, SqlError> {
        let mut schemas = Vec::new();
        for name in &self.search_path {
            if let Some(schema) = self.schema(name)? {
                schemas.push(schema);
            }
        }
        Ok(schemas)
    }

    /// Finds a table by optional schema and name, as PostgreSQL resolves it.
    pub fn resolve_table(
        &self,
        schema: Option<&str>,
        name: &str,
    ) -> Result<Option<TableDescriptor>, SqlError> {
        let candidates = match schema {
            Some(schema) => match self.schema(schema)? {
                Some(schema) => vec![schema],
                None => {
                    return Err(SqlError::new(
                        "3F000",
                        format!("schema \"{schema}\" does not exist"),
                    ));
                }
            },
            None => self.search_schemas()?,
        };
        for schema in candidates {
            if let Some(table) = self.database.catalog.table(&self.txn, schema.id, name)? {
                return Ok(Some(table));
            }
        }
        Ok(None)
    }
}

/// The one catalog a session sees: its database.
#[derive(Debug)]
pub struct KvCatalogList {
    pub context: Arc<StatementContext>,
}

impl CatalogProviderList for KvCatalogList {
    fn register_catalog(
        &self,
        _name: String,
        _catalog: Arc<dyn CatalogProvider>,
    ) -> Option<Arc<dyn CatalogProvider>> {
        None
    }

    fn catalog_names(&self) -> Vec<String> {
        vec![self.context.database.descriptor.name.clone()]
    }

    fn catalog(&self, name: &str) -> Option<Arc<dyn CatalogProvider>> {
        (name == self.context.database.descriptor.name).then(|| {
            Arc::new(KvCatalog {
                context: self.context.clone(),
            }) as _
        })
    }
}

#[derive(Debug)]
pub struct KvCatalog {
    context: Arc<StatementContext>,
}

/// The name DataFusion resolves unqualified tables in: the search path.
pub const SEARCH_PATH_SCHEMA: &str = "$search_path";

impl CatalogProvider for KvCatalog {
    fn schema_names(&self) -> Vec<String> {
        self.context
            .schemas()
            .map(|s| s.into_iter().map(|s| s.name).collect())
            .unwrap_or_default()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        let search_path = name == SEARCH_PATH_SCHEMA;
        let schemas = if search_path {
            self.context.search_schemas().ok()?
        } else {
            vec![self.context.schema(name).ok()??]
        };
        Some(Arc::new(KvSchema {
            context: self.context.clone(),
            catalog_first: search_path && !schemas.iter().any(|s| s.id == PG_CATALOG_SCHEMA),
            schemas,
        }))
    }
}

/// One schema, or the search path's schemas tried in order.
#[derive(Debug)]
pub struct KvSchema {
    context: Arc<StatementContext>,
    schemas: Vec<SchemaDescriptor>,
    /// Whether `pg_catalog` is searched before `schemas` (as for unqualified names).
    catalog_first: bool,
}

/// What a name finds in a schema.
enum Found {
    Table(Box<TableDescriptor>),
    System(Arc<dyn TableProvider>),
}

impl KvSchema {
    fn find(&self, name: &str) -> Result<Option<Found>, SqlError> {
        if self.catalog_first
            && let Some(table) = crate::system::pg_catalog_table(name)
        {
            return Ok(Some(Found::System(table)));
        }
        for schema in &self.schemas {
            let system = match schema.id {
                PG_CATALOG_SCHEMA => crate::system::pg_catalog_table(name),
                INFORMATION_SCHEMA => crate::system::information_schema_table(name),
                _ => None,
            };
            if let Some(table) = system {
                return Ok(Some(Found::System(table)));
            }
            if let Some(table) =
                self.context
                    .database
                    .catalog
                    .table(&self.context.txn, schema.id, name)?
            {
                return Ok(Some(Found::Table(Box::new(table))));
            }
        }
        Ok(None)
    }
}

#[async_trait]
impl SchemaProvider for KvSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for schema in &self.schemas {
            match schema.id {
                PG_CATALOG_SCHEMA => {
                    names.extend(crate::system::pg_catalog_names().map(String::from))
                }
                INFORMATION_SCHEMA => {
                    names.extend(crate::system::information_schema_names().map(String::from))
                }
                _ => {}
            }
            if let Ok(tables) = self
                .context
                .database
                .catalog
                .tables(&self.context.txn, schema.id)
            {
                names.extend(tables.into_iter().map(|t| t.name));
            }
        }
        names
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let table = match self.find(name).map_err(into_datafusion)? {
            None => return Ok(None),
            Some(Found::System(table)) => return Ok(Some(table)),
            Some(Found::Table(table)) => *table,
        };
        if let Some(provider) = self.context.overrides.get(&table.id) {
            return Ok(Some(provider.clone()));
        }
        if let RelationKind::View { definition } = &table.kind {
            return Ok(Some(
                self.context
                    .plan_view(&table, definition)
                    .await
                    .map_err(into_datafusion)?,
            ));
        }
        Ok(Some(Arc::new(KvTable::new(table))))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.find(name).ok().flatten().is_some()
    }
}

/// A table of the kv store, as DataFusion sees it.
pub struct KvTable {
    descriptor: TableDescriptor,
    codec: Arc<TableCodec>,
    schema: SchemaRef,
    /// Positions among the codec's live columns of the visible columns, in order.
    visible: Vec<usize>,
}

impl fmt::Debug for KvTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KvTable")
            .field("name", &self.descriptor.name)
            .finish()
    }
}

impl KvTable {
    pub fn new(descriptor: TableDescriptor) -> Self {
        Self::build(descriptor, false)
    }

    /// The table with its hidden row id as a column too (for the target of an UPDATE or
    /// DELETE, which must name every row by its key).
    pub fn with_hidden(descriptor: TableDescriptor) -> Self {
        Self::build(descriptor, true)
    }

    fn build(descriptor: TableDescriptor, include_hidden: bool) -> Self {
        let codec = Arc::new(TableCodec::new(&descriptor));
        let visible: Vec<usize> = codec
            .columns()
            .iter()
            .enumerate()
            .filter(|(_, c)| include_hidden || !c.hidden)
            .map(|(i, _)| i)
            .collect();
        let fields: Vec<_> = visible
            .iter()
            .map(|&i| {
                let column = &codec.columns()[i];
                field(&column.name, &column.data_type, column.nullable)
            })
            .collect();
        KvTable {
            descriptor,
            codec,
            schema: Arc::new(Schema::new(fields)),
            visible,
        }
    }

    /// The plan filters get, given the exprs as DataFusion passes them.
    fn access(&self, filters: &[&Expr]) -> access::AccessPlan {
        access::plan(&self.codec, filters)
    }
}

pub fn statement_context(state: &dyn Session) -> DfResult<Arc<StatementContext>> {
    state
        .config()
        .get_extension::<StatementContext>()
        .ok_or_else(|| DataFusionError::Internal("no statement context in the session".into()))
}

#[async_trait]
impl TableProvider for KvTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        let plan = self.access(filters);
        Ok(plan
            .consumed
            .iter()
            .map(|&consumed| {
                if consumed {
                    TableProviderFilterPushDown::Exact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let context = statement_context(state)?;
        let filter_refs: Vec<&Expr> = filters.iter().collect();
        let access = self.access(&filter_refs);
        // Filters DataFusion handed over but the path does not enforce are checked here,
        // whatever DataFusion decided earlier.
        let residual: Vec<Expr> = filters
            .iter()
            .zip(&access.consumed)
            .filter(|(_, consumed)| !**consumed)
            .map(|(f, _)| f.clone())
            .collect();
        let mut wanted: Vec<usize> = projection
            .cloned()
            .unwrap_or_else(|| (0..self.visible.len()).collect());
        // Columns the residual filters need, appended after the projection.
        let mut residual_columns = Vec::new();
        for filter in &residual {
            for column in filter.column_refs() {
                if let Some(i) = self
                    .schema
                    .index_of(&column.name)
                    .ok()
                    .filter(|i| !wanted.contains(i))
                {
                    wanted.push(i);
                    residual_columns.push(i);
                }
            }
        }
        let output_width = wanted.len() - residual_columns.len();
        let scan_schema = Arc::new(self.schema.project(&wanted)?);
        let positions: Vec<usize> = wanted.iter().map(|&i| self.visible[i]).collect();
        let limit = if residual.is_empty() { limit } else { None };
        let scan: Arc<dyn ExecutionPlan> = Arc::new(
            scan::KvScanExec::new(
                self.descriptor.name.clone(),
                self.codec.clone(),
                &context,
                access,
                positions,
                limit,
                scan_schema.clone(),
            )
            .map_err(into_datafusion)?,
        );
        if residual.is_empty() {
            return Ok(scan);
        }
        let df_schema = datafusion::common::DFSchema::try_from(scan_schema.as_ref().clone())?;
        let predicate = residual
            .into_iter()
            .reduce(|a, b| a.and(b))
            .expect("non-empty");
        let predicate = state.create_physical_expr(predicate, &df_schema)?;
        let filtered: Arc<dyn ExecutionPlan> = Arc::new(FilterExec::try_new(predicate, scan)?);
        if output_width == wanted.len() {
            return Ok(filtered);
        }
        let exprs = (0..output_width)
            .map(|i| {
                let name = scan_schema.field(i).name().clone();
                let column = datafusion::physical_expr::expressions::col(&name, &scan_schema)?;
                Ok((column, name))
            })
            .collect::<DfResult<Vec<_>>>()?;
        Ok(Arc::new(
            datafusion::physical_plan::projection::ProjectionExec::try_new(exprs, filtered)?,
        ))
    }
}
