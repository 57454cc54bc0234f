//! DataFusion over the catalog: catalog and schema providers that resolve names through
//! the statement's transaction, and `KvTable`, a table provider whose scans read the kv
//! store at the transaction's snapshot, along the key-aware access path (`access`).
//!
//! Every statement runs with a `StatementContext` — its database, transaction and search
//! path — placed in DataFusion's session config as an extension. Providers find it there;
//! nothing is global.

pub mod access;
mod columns;
pub mod scan;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytedata_catalog::catalog::{INFORMATION_SCHEMA, PG_CATALOG_SCHEMA};
use bytedata_catalog::descriptor::{RelationKind, SchemaDescriptor, TableDescriptor};
use bytedata_catalog::table::TableCodec;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, SchemaProvider, Session, TableProvider,
};
use datafusion::datasource::TableType;
use datafusion::error::Result as DfResult;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::filter::FilterExec;

use crate::bridge::field;
use crate::context::{StatementContext, statement_context};
use crate::error::SEARCH_PATH_SCHEMA;
use crate::error::{SqlError, into_datafusion};

/// Views nest at most this deep (a view over a view over …).
const MAX_VIEW_DEPTH: usize = 32;

/// The DataFusion state that plans with `context`: the shared base state with the
/// statement's clock, the context as an extension (for providers) and linked from the
/// config options (for functions and rules), and the database as its catalog.
pub fn session_state(context: &Arc<StatementContext>) -> SessionState {
    let mut state = SessionState::clone(&context.base_state);
    let options = state.config_mut().options_mut();
    options.catalog.default_catalog = context.database.descriptor.name.clone();
    options
        .extensions
        .insert(crate::context::StatementLink::new(context.clone()));
    // After the link: the execution props keep the options as they are now, and every
    // physical expression planned in this state gets them.
    state.mark_start_execution();
    state.execution_props_mut().query_execution_start_time = Some(context.now);
    state.config_mut().set_extension(context.clone());
    state.register_catalog_list(Arc::new(KvCatalogList {
        context: context.clone(),
    }));
    state
}

/// A view as a table: its query planned now, in this statement's transaction, with its
/// columns named as the view declares.
async fn plan_view(
    context: &StatementContext,
    view: &TableDescriptor,
    definition: &str,
) -> Result<Arc<dyn TableProvider>, SqlError> {
    if context.view_depth >= MAX_VIEW_DEPTH {
        return Err(SqlError::new(
            "54001",
            format!(
                "views nest deeper than {MAX_VIEW_DEPTH} levels at \"{}\"",
                view.name
            ),
        ));
    }
    let nested = Arc::new(StatementContext {
        view_depth: context.view_depth + 1,
        ..context.clone()
    });
    let state = session_state(&nested);
    let mut statements = crate::syntax::parse(definition)?;
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
    let plan = crate::syntax::naming::alias_columns(plan, &names)?;
    Ok(Arc::new(datafusion::catalog::view::ViewTable::new(
        plan,
        Some(definition.to_owned()),
    )))
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
            match self.context.schema(name) {
                Ok(schema) => vec![schema?],
                // A schema out of reach (another session's temporary one) says so when
                // a table in it is looked up.
                Err(error) => {
                    return Some(Arc::new(KvSchema {
                        context: self.context.clone(),
                        schemas: Vec::new(),
                        catalog_first: false,
                        refused: Some(error),
                    }));
                }
            }
        };
        Some(Arc::new(KvSchema {
            context: self.context.clone(),
            catalog_first: search_path && !schemas.iter().any(|s| s.id == PG_CATALOG_SCHEMA),
            schemas,
            refused: None,
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
    /// Why the schema may not be used, if it may not.
    refused: Option<SqlError>,
}

/// What a name finds in a schema.
enum Found {
    Table(Box<TableDescriptor>),
    System(Arc<dyn TableProvider>),
}

impl KvSchema {
    fn find(&self, name: &str) -> Result<Option<Found>, SqlError> {
        if let Some(error) = &self.refused {
            return Err(error.clone());
        }
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
                plan_view(&self.context, &table, definition)
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
