//! What a statement runs with — the layer between parsing and planning.
//!
//! - `StatementContext`: one statement's database, transaction, search path, role and
//!   clock, placed in DataFusion's session config as an extension, so table providers and
//!   functions find it there (nothing is global);
//! - `SessionShared`: the session state that outlives a statement (sequence values,
//!   settings), reached from the statement's context;
//! - `StatementLink`: how DataFusion's functions and rules, built once for every
//!   connection, find the statement they run in — through the config options DataFusion
//!   hands them;
//! - `settings` (what SET and SHOW act on), `interrupt` (cancel and `statement_timeout`),
//!   `cluster` (the databases and roles), `snapshot` (the catalog as the statement's
//!   transaction sees it), `result` (what a statement returns), `activity` and
//!   `statements` (the connections and statement statistics the `pg_stat_*` views show).
//!
//! Nothing here plans or executes: the layers above (`system`, `provider`, `planner`, the
//! writers and executors, `session`) build on these types.

mod accepted_settings;
pub mod activity;
pub mod cluster;
pub mod interrupt;
pub mod result;
pub mod settings;
pub mod snapshot;
pub mod statements;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use bytedata_catalog::descriptor::{SchemaDescriptor, TableDescriptor};
use bytedata_mvcc::Transaction;
use bytedata_pgtypes::InputOptions;
use datafusion::catalog::{Session as DfSession, TableProvider};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::context::SessionState;
use parking_lot::Mutex;

use crate::error::SqlError;
use cluster::{Cluster, Database};
use interrupt::Interrupt;
use settings::Settings;
use snapshot::Snapshot;

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
    /// The DataFusion state before any statement: each state that plans with this
    /// context (the statement's, a view's) starts from it.
    pub base_state: Arc<SessionState>,
    /// How many views deep this plan is.
    pub view_depth: usize,
    /// The transaction's start: what `now()` and `current_date` are.
    pub now: chrono::DateTime<chrono::Utc>,
    /// Stops the statement on a cancel request or timeout (checked once per batch).
    pub interrupt: Arc<Interrupt>,
    /// The cluster: its roles and databases, for the system tables.
    pub cluster: Arc<Cluster>,
    /// The role the session runs as.
    pub user: String,
    /// How the session read text when the statement started: its `TimeZone` (zone-less
    /// timestamptz text is read in it) and `DateStyle`'s field order.
    pub input: InputOptions,
    /// The catalog as the system tables show it, loaded on first use (`system`).
    pub system: Arc<OnceLock<Arc<Snapshot>>>,
    /// The session's state that outlives the statement (sequence values, settings).
    pub shared: Arc<SessionShared>,
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
    /// `Err(57014)` if the statement planned in `state` has been cancelled or timed out.
    pub fn check_interrupt(state: &SessionState) -> Result<(), SqlError> {
        match state.config().get_extension::<StatementContext>() {
            Some(context) => context.interrupt.check(),
            None => Ok(()),
        }
    }

    pub fn schemas(&self) -> Result<Vec<SchemaDescriptor>, SqlError> {
        Ok(self.database.catalog.schemas(&self.txn)?)
    }

    /// The schema `name` names: `pg_temp` is the session's own temporary schema, and
    /// another session's is out of reach (as in PostgreSQL).
    pub fn schema(&self, name: &str) -> Result<Option<SchemaDescriptor>, SqlError> {
        let name = if name.eq_ignore_ascii_case("pg_temp") {
            self.shared.temp_schema.as_str()
        } else {
            name
        };
        if name.starts_with(TEMP_SCHEMA_PREFIX) && name != self.shared.temp_schema {
            return Err(SqlError::new(
                "0A000",
                "cannot access temporary tables of other sessions",
            ));
        }
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

/// The context of the statement `state` plans (its config carries it).
pub fn statement_context(state: &dyn DfSession) -> DfResult<Arc<StatementContext>> {
    state
        .config()
        .get_extension::<StatementContext>()
        .ok_or_else(|| DataFusionError::Internal("no statement context in the session".into()))
}

/// The link from DataFusion's config options to the statement they plan and run.
///
/// DataFusion builds its session state once for every connection (`planner::base`), so
/// the functions, analyzer and optimizer rules in it belong to no session. What they are
/// handed is the statement's `ConfigOptions` — at planning, at constant folding and in
/// every physical expression — and this extension in them names the statement. It holds
/// no settings DataFusion could set: `SET bytedata.…` is refused.
#[derive(Clone, Debug, Default)]
pub struct StatementLink {
    context: Option<Arc<StatementContext>>,
}

impl StatementLink {
    pub fn new(context: Arc<StatementContext>) -> Self {
        StatementLink {
            context: Some(context),
        }
    }
}

impl datafusion::config::ConfigExtension for StatementLink {
    const PREFIX: &'static str = "bytedata";
}

impl datafusion::config::ExtensionOptions for StatementLink {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    fn cloned(&self) -> Box<dyn datafusion::config::ExtensionOptions> {
        Box::new(self.clone())
    }

    fn set(&mut self, key: &str, _value: &str) -> DfResult<()> {
        Err(DataFusionError::Configuration(format!(
            "unrecognized configuration parameter \"bytedata.{key}\""
        )))
    }

    fn entries(&self) -> Vec<datafusion::config::ConfigEntry> {
        Vec::new()
    }
}

/// The statement `options` were made for (see `StatementLink`).
pub fn linked_context(
    options: &datafusion::config::ConfigOptions,
) -> DfResult<Arc<StatementContext>> {
    options
        .extensions
        .get::<StatementLink>()
        .and_then(|link| link.context.clone())
        .ok_or_else(|| DataFusionError::Internal("no statement is running".into()))
}

/// Temporary schemas are named this and a number unique in the process.
pub const TEMP_SCHEMA_PREFIX: &str = "pg_temp_";

/// What a temporary table does when a transaction that saw it commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnCommit {
    Drop,
    DeleteRows,
}

/// Session state shared with functions DataFusion calls (nextval, currval…), reached
/// through the statement's context.
pub struct SessionShared {
    pub currvals: Mutex<HashMap<u32, i64>>,
    pub last_sequence: Mutex<Option<u32>>,
    /// The settings the running statement runs with.
    pub settings: Mutex<Settings>,
    /// The process id the server gave the connection (`pg_backend_pid()`).
    pub backend_pid: AtomicI32,
    /// The session's temporary schema (`pg_temp` names it).
    pub temp_schema: String,
    /// Whether this session has created a temporary table: from then on its temporary
    /// schema is first in the search path, and is dropped when the session ends. A
    /// schema of that name found before is a leftover of an earlier process.
    pub temp_claimed: AtomicBool,
    /// Temporary tables with an ON COMMIT action: schema, table, action.
    pub temp_on_commit: Mutex<Vec<(String, String, OnCommit)>>,
}

impl SessionShared {
    pub fn new(user: &str) -> Self {
        static NEXT_TEMP_SCHEMA: AtomicU64 = AtomicU64::new(1);
        let number = NEXT_TEMP_SCHEMA.fetch_add(1, Ordering::Relaxed);
        SessionShared {
            currvals: Mutex::new(HashMap::new()),
            last_sequence: Mutex::new(None),
            settings: Mutex::new(Settings::new(user)),
            backend_pid: AtomicI32::new(0),
            temp_schema: format!("{TEMP_SCHEMA_PREFIX}{number}"),
            temp_claimed: AtomicBool::new(false),
            temp_on_commit: Mutex::new(Vec::new()),
        }
    }

    pub fn uses_temp_schema(&self) -> bool {
        self.temp_claimed.load(Ordering::Acquire)
    }
}

impl fmt::Debug for SessionShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionShared")
    }
}
