//! A session: one client connection's state — its database, settings, transaction — and
//! the entry point for SQL (`execute`).
//!
//! Transactions: outside `BEGIN … COMMIT` every statement runs in a transaction of its
//! own (autocommit); a query string of several statements runs as one implicit
//! transaction, as PostgreSQL does. Inside a block, an error fails the block: every
//! statement then fails with 25P02 until `ROLLBACK` (or `ROLLBACK TO SAVEPOINT`).
//!
//! Statements go three ways: transaction control and settings are handled here; DDL and
//! DML in `ddl` and `dml`, which use DataFusion to evaluate expressions and queries; and
//! queries go to DataFusion, whose scans read the kv store through `provider`.

pub mod describe;
pub mod interrupt;
pub mod prepared;
pub mod settings;
mod unblocking;

use std::collections::HashMap;
use std::sync::Arc;

use bytedata_mvcc::{IsolationLevel, Transaction, TxnOptions};
use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionConfig;
use datafusion::scalar::ScalarValue;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    self, Statement, TransactionAccessMode, TransactionIsolationLevel, TransactionMode,
};
use parking_lot::Mutex;

use crate::cluster::{Cluster, Database};
use crate::error::{Result, SqlError};
use crate::provider::{SEARCH_PATH_SCHEMA, StatementContext};
use crate::result::{QueryResult, Rows};
use bytedata_pgtypes::TextOptions;
use interrupt::{Canceller, Interrupt};
pub use prepared::{Parsed, PreparedStatement};
use prepared::{PlanKey, Source, TextCache};
use settings::{Settings, isolation_name, parse_isolation};

struct ActiveTransaction {
    txn: Transaction,
    /// Begun with `BEGIN` (else implicit, for a multi-statement query string).
    explicit: bool,
    failed: bool,
    /// Whether it changed the catalog (caches refresh after it commits).
    changed_catalog: bool,
    /// When it began: `now()` for every statement in it.
    started_at: chrono::DateTime<chrono::Utc>,
    /// The settings when it began: a rollback restores them (SET is transactional in
    /// PostgreSQL), and a commit restores those changed by `SET LOCAL`.
    settings_at_begin: Settings,
    set_local: Vec<String>,
}

/// Session state shared with functions DataFusion calls (nextval, currval…).
pub struct SessionShared {
    pub currvals: Mutex<HashMap<u32, i64>>,
    pub last_sequence: Mutex<Option<u32>>,
    /// The statement running, and the settings it runs with.
    pub context: Mutex<Option<Arc<StatementContext>>>,
    pub settings: Mutex<Settings>,
    /// Numbers the functions that run subqueries row by row (`subquery`).
    pub next_subquery: std::sync::atomic::AtomicU64,
    /// The process id the server gave the connection (`pg_backend_pid()`).
    pub backend_pid: std::sync::atomic::AtomicI32,
}

impl std::fmt::Debug for SessionShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionShared")
    }
}

pub struct Session {
    cluster: Arc<Cluster>,
    database: Arc<Database>,
    user: String,
    settings: Settings,
    base: SessionState,
    transaction: Option<ActiveTransaction>,
    /// The start of the running statement's transaction (what `now()` returns).
    clock: chrono::DateTime<chrono::Utc>,
    interrupt: Arc<Interrupt>,
    pub(crate) shared: Arc<SessionShared>,
    /// Tables the fast path resolved (`fast::tables`).
    fast_tables: crate::fast::tables::TableCache,
    /// Query texts of the simple protocol, parsed (`prepared`).
    texts: TextCache,
    /// Statements the fast path ran to completion (or to an error of its own).
    fast_runs: u64,
    /// Executions that reused a kept logical plan.
    plans_reused: u64,
}

impl Session {
    /// A session of `user` on `database` (3D000 if it does not exist).
    pub fn new(cluster: Arc<Cluster>, database: &str, user: &str) -> Result<Self> {
        let database = cluster.database(database)?;
        let mut config = SessionConfig::new()
            .with_default_catalog_and_schema(database.descriptor.name.clone(), SEARCH_PATH_SCHEMA)
            .with_create_default_catalog_and_schema(false)
            .with_information_schema(false)
            .with_target_partitions(1);
        let options = config.options_mut();
        options.sql_parser.parse_float_as_decimal = true;
        options.sql_parser.dialect = datafusion::config::Dialect::PostgreSQL;
        options.execution.batch_size =
            datafusion::config::ConfigNonZeroUsize::try_new(crate::provider::scan::BATCH_ROWS)?;
        let shared = Arc::new(SessionShared {
            currvals: Mutex::new(HashMap::new()),
            last_sequence: Mutex::new(None),
            context: Mutex::new(None),
            settings: Mutex::new(Settings::new(user)),
            next_subquery: std::sync::atomic::AtomicU64::new(0),
            backend_pid: std::sync::atomic::AtomicI32::new(0),
        });
        let mut analyzer_rules: Vec<Arc<dyn datafusion::optimizer::AnalyzerRule + Send + Sync>> =
            vec![Arc::new(crate::pgtypes::PgLiterals::new(shared.clone()))];
        analyzer_rules.extend(datafusion::optimizer::Analyzer::new().rules);
        analyzer_rules.push(Arc::new(crate::pgtypes::CheckedArithmetic::default()));
        let mut base = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .with_analyzer_rules(analyzer_rules)
            .with_type_planner(Arc::new(crate::pgtypes::PgTypes))
            .with_optimizer_rule(Arc::new(crate::subquery::SubqueryRule::new(shared.clone())))
            .build();
        crate::functions::register(&mut base, &shared);
        crate::system::functions::register(&mut base, &shared);
        crate::single_row::register(&mut base);
        crate::json_build::register(&mut base);
        crate::to_char::register(&mut base);
        datafusion::execution::FunctionRegistry::register_expr_planner(
            &mut base,
            Arc::new(crate::json::JsonOperators),
        )?;
        let superuser = cluster.login_role(user)?.is_some_and(|role| role.superuser);
        let mut settings = Settings::new(user);
        settings.set_superuser(superuser);
        Ok(Session {
            settings,
            cluster,
            database,
            user: user.to_owned(),
            base,
            transaction: None,
            clock: chrono::Utc::now(),
            interrupt: Arc::new(Interrupt::default()),
            shared,
            fast_tables: Default::default(),
            texts: Default::default(),
            fast_runs: 0,
            plans_reused: 0,
        })
    }

    pub fn database(&self) -> &Arc<Database> {
        &self.database
    }

    /// The process id clients know this session by (`pg_backend_pid()`).
    pub fn set_backend_pid(&self, pid: i32) {
        self.shared
            .backend_pid
            .store(pid, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn cluster(&self) -> &Arc<Cluster> {
        &self.cluster
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }

    pub fn text_options(&self) -> TextOptions {
        TextOptions {
            extra_float_digits: self.settings.extra_float_digits(),
            time_zone: self.settings.time_zone(),
        }
    }

    /// `I` idle, `T` in a transaction block, `E` in a failed one (ReadyForQuery status).
    pub fn transaction_status(&self) -> u8 {
        match &self.transaction {
            Some(active)
                if active.explicit && (active.failed || self.interrupt.stream_failed()) =>
            {
                b'E'
            }
            Some(active) if active.explicit => b'T',
            _ => b'I',
        }
    }

    fn begin_transaction(
        &self,
        isolation: Option<IsolationLevel>,
        read_only: Option<bool>,
    ) -> Transaction {
        let mut options =
            TxnOptions::isolation(isolation.unwrap_or_else(|| self.settings.default_isolation()));
        options.read_only = read_only.unwrap_or_else(|| self.settings.default_read_only());
        if let Some(timeout) = self.settings.lock_timeout() {
            options.lock_wait = bytedata_mvcc::LockWait::Timeout(timeout);
        }
        self.database.engine().begin(options)
    }

    /// Runs a query string (one or more statements) and returns a result per statement.
    /// Execution stops at the first error.
    pub async fn execute(&mut self, sql: &str) -> Result<Vec<QueryResult>> {
        let statements = self.parse_cached(sql)?;
        let implicit = self.begin_query_string(&statements)?;
        let mut results = Vec::with_capacity(statements.len());
        for statement in statements.iter() {
            match self.execute_prepared(statement, &[]).await {
                Ok(result) => results.push(materialize_in_implicit(result, implicit).await?),
                Err(error) => {
                    self.end_query_string(implicit, false)?;
                    return Err(error);
                }
            }
        }
        self.end_query_string(implicit, true)?;
        Ok(results)
    }

    /// Starts a query string of `statements` (the simple query protocol): several
    /// statements without transaction control run in one implicit transaction, as in
    /// PostgreSQL. Returns whether one was begun; pass that to `end_query_string` after
    /// running the statements (and consuming their rows) in order.
    pub fn begin_query_string(&mut self, statements: &[Arc<PreparedStatement>]) -> Result<bool> {
        let mut each = statements.iter().map(|p| p.statement());
        if statements.len() > 1 && each.clone().any(is_copy_from_stdin) {
            return Err(SqlError::unsupported(
                "COPY FROM STDIN in a query string of several statements",
            ));
        }
        let implicit =
            statements.len() > 1 && self.transaction.is_none() && !each.any(is_transaction_control);
        if implicit {
            self.transaction = Some(ActiveTransaction {
                txn: self.begin_transaction(None, None),
                explicit: false,
                failed: false,
                changed_catalog: false,
                started_at: chrono::Utc::now(),
                settings_at_begin: self.settings.clone(),
                set_local: Vec::new(),
            });
        }
        Ok(implicit)
    }

    /// Ends a query string begun by `begin_query_string`: commits its implicit
    /// transaction if every statement succeeded, else rolls it back.
    pub fn end_query_string(&mut self, implicit: bool, succeeded: bool) -> Result<()> {
        if !implicit {
            return Ok(());
        }
        // Rows that failed while being read fail the whole string.
        let rows_failed = self.interrupt.take_stream_failed();
        self.end_transaction(succeeded && !rows_failed)
    }

    /// A query text parsed, from the session's cache of texts it has seen.
    pub fn parse_cached(&mut self, sql: &str) -> Result<Parsed> {
        self.texts.parse(sql)
    }

    /// Runs one parsed statement with parameter values (for `$1`…).
    pub async fn execute_statement(
        &mut self,
        statement: Statement,
        params: &[ScalarValue],
    ) -> Result<QueryResult> {
        self.execute_source(Source::Owned(Box::new(statement)), params)
            .await
    }

    /// Runs a prepared statement with parameter values: on the fast path if it is one of
    /// its shapes (`fast`), else as `execute_statement`.
    pub async fn execute_prepared(
        &mut self,
        prepared: &PreparedStatement,
        params: &[ScalarValue],
    ) -> Result<QueryResult> {
        self.execute_source(Source::Prepared(prepared), params)
            .await
    }

    async fn execute_source(
        &mut self,
        source: Source<'_>,
        params: &[ScalarValue],
    ) -> Result<QueryResult> {
        // The rows of the previous statement failed while they were read.
        if self.interrupt.take_stream_failed()
            && let Some(active) = &mut self.transaction
        {
            active.failed = true;
        }
        let statement = source.statement();
        if is_transaction_control(statement) {
            return self.transaction_control(source.into_statement());
        }
        if let Some(active) = &self.transaction
            && active.failed
        {
            return Err(SqlError::in_failed_transaction());
        }
        if let Some(result) = self.utility(statement)? {
            return Ok(result);
        }
        if let Statement::Copy { .. } = statement {
            return self.start_copy(source.into_statement());
        }
        if let Statement::CreateDatabase { .. }
        | Statement::Drop {
            object_type: ast::ObjectType::Database,
            ..
        } = statement
            && self.transaction.as_ref().is_some_and(|t| t.explicit)
        {
            return Err(SqlError::new(
                "25001",
                "CREATE DATABASE and DROP DATABASE cannot run inside a transaction block",
            ));
        }
        let autocommit = self.transaction.is_none();
        let txn = match &self.transaction {
            Some(active) => {
                self.clock = active.started_at;
                active.txn.clone()
            }
            None => {
                self.clock = chrono::Utc::now();
                self.begin_transaction(None, None)
            }
        };
        txn.new_statement()?;
        let outcome = self.run_guarded(source, params, &txn).await;
        match (outcome, autocommit) {
            (Ok((result, changed_catalog)), true) => {
                // A query's rows stream from the transaction's snapshot: it ends when
                // they are consumed. Anything else commits now.
                if !matches!(
                    result,
                    QueryResult::Rows {
                        rows: Rows::Stream(_),
                        ..
                    }
                ) {
                    txn.commit()?;
                    if changed_catalog {
                        self.database.catalog.bump_version();
                    }
                }
                Ok(result)
            }
            (Ok((result, changed_catalog)), false) => {
                if let Some(active) = &mut self.transaction {
                    active.changed_catalog |= changed_catalog;
                }
                Ok(result)
            }
            (Err(error), true) => {
                let _ = txn.rollback();
                Err(error)
            }
            (Err(error), false) => {
                if let Some(active) = &mut self.transaction {
                    active.failed = true;
                }
                Err(error)
            }
        }
    }

    /// Runs a statement under the session's interrupt: cancel requests and
    /// `statement_timeout` stop it with 57014, and a panic inside it becomes an error
    /// (XX000) instead of taking the connection down.
    async fn run_guarded(
        &mut self,
        source: Source<'_>,
        params: &[ScalarValue],
        txn: &Transaction,
    ) -> Result<(QueryResult, bool)> {
        use futures::FutureExt;
        let timeout = self.settings.statement_timeout();
        self.interrupt.start(txn.cancel_handle(), timeout);
        // Lock waits block a thread and watch only the transaction's cancel flag: a
        // timer sets it when the deadline passes.
        let timer = match (
            self.interrupt.deadline(),
            tokio::runtime::Handle::try_current(),
        ) {
            (Some(deadline), Ok(runtime)) => {
                let interrupt = self.interrupt.clone();
                Some(runtime.spawn(async move {
                    tokio::time::sleep_until(deadline.into()).await;
                    interrupt.expire();
                }))
            }
            _ => None,
        };
        let outcome = std::panic::AssertUnwindSafe(self.run(source, params, txn))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| Err(crate::result::panic_error(panic)));
        if let Some(timer) = timer {
            timer.abort();
        }
        match outcome {
            Ok((result, changed_catalog)) => Ok((
                crate::result::guard_rows(result, self.interrupt.clone()),
                changed_catalog,
            )),
            // However it surfaced (a lock wait, a scan, an expression), a stopped
            // statement reports why it was stopped.
            Err(error) => Err(self.interrupt.cause().unwrap_or(error)),
        }
    }

    /// Starts a `COPY … FROM STDIN`: checks the table and options, and returns the
    /// `CopyIn` that collects the data.
    fn start_copy(&mut self, statement: Statement) -> Result<QueryResult> {
        let Statement::Copy {
            source,
            to,
            target,
            options,
            legacy_options,
            values,
        } = statement
        else {
            return Err(SqlError::internal("not a COPY statement"));
        };
        if to {
            return Err(SqlError::unsupported("COPY TO"));
        }
        if !matches!(target, ast::CopyTarget::Stdin) {
            return Err(SqlError::new(
                "42501",
                "COPY from a file or program is not allowed; use COPY FROM STDIN",
            ));
        }
        let ast::CopySource::Table {
            table_name,
            columns,
        } = source
        else {
            return Err(SqlError::unsupported("COPY from a query"));
        };
        if !values.is_empty() {
            return Err(SqlError::unsupported("COPY with inline data"));
        }
        let options = crate::copy::CopyOptions::from_statement(&options, &legacy_options)?;
        let (txn, autocommit) = match &self.transaction {
            Some(active) => (active.txn.clone(), false),
            None => (self.begin_transaction(None, None), true),
        };
        let targets = txn.new_statement().map_err(SqlError::from).and_then(|()| {
            let (context, state) = self.statement_state(&txn);
            let names: Vec<ast::ObjectName> = columns
                .iter()
                .map(|c| ast::ObjectName::from(vec![c.clone()]))
                .collect();
            crate::dml::copy_targets(&context, &state, &table_name, &names)
        });
        match targets {
            Ok(targets) => Ok(QueryResult::CopyIn(Box::new(crate::copy::CopyIn::new(
                table_name,
                columns,
                targets,
                self.settings.time_zone(),
                options,
                txn,
                autocommit,
            )))),
            Err(error) => Err(self.end_copy_with(txn, autocommit, error)),
        }
    }

    /// Loads what a `COPY … FROM STDIN` received, all or nothing (`COPY n`).
    pub async fn finish_copy(&mut self, mut copy: Box<crate::copy::CopyIn>) -> Result<QueryResult> {
        let loaded = match copy.finish_input() {
            Ok(batches) => crate::dml::copy_rows(self, &copy, batches).await,
            Err(error) => Err(error),
        };
        match loaded {
            Ok(count) => {
                if copy.autocommit {
                    copy.txn.commit()?;
                }
                Ok(QueryResult::command(format!("COPY {count}")))
            }
            Err(error) => Err(self.end_copy_with(copy.txn.clone(), copy.autocommit, error)),
        }
    }

    /// Abandons a `COPY … FROM STDIN` (bad data, or the client's CopyFail): nothing is
    /// loaded, and the error is returned to be reported.
    pub fn fail_copy(&mut self, copy: Box<crate::copy::CopyIn>, error: SqlError) -> SqlError {
        self.end_copy_with(copy.txn.clone(), copy.autocommit, error)
    }

    fn end_copy_with(&mut self, txn: Transaction, autocommit: bool, error: SqlError) -> SqlError {
        if autocommit {
            let _ = txn.rollback();
        } else if let Some(active) = &mut self.transaction {
            active.failed = true;
        }
        error
    }

    /// What another connection uses to cancel this session's running statement.
    pub fn canceller(&self) -> Canceller {
        self.interrupt.clone()
    }

    /// The per-statement context and DataFusion state.
    pub(crate) fn statement_state(
        &self,
        txn: &Transaction,
    ) -> (Arc<StatementContext>, SessionState) {
        self.statement_state_with(txn, HashMap::new())
    }

    /// The per-statement context and DataFusion state, with some tables read from
    /// elsewhere (see `StatementContext::overrides`).
    pub(crate) fn statement_state_with(
        &self,
        txn: &Transaction,
        overrides: HashMap<u32, Arc<dyn datafusion::catalog::TableProvider>>,
    ) -> (Arc<StatementContext>, SessionState) {
        let context = Arc::new(StatementContext {
            database: self.database.clone(),
            txn: txn.clone(),
            search_path: self.settings.search_path(),
            overrides,
            planner: self.base.clone(),
            view_depth: 0,
            now: self.clock,
            interrupt: self.interrupt.clone(),
            cluster: self.cluster.clone(),
            user: self.user.clone(),
            system: Arc::default(),
        });
        *self.shared.context.lock() = Some(context.clone());
        *self.shared.settings.lock() = self.settings.clone();
        let state = context.state();
        (context, state)
    }

    async fn run(
        &mut self,
        source: Source<'_>,
        params: &[ScalarValue],
        txn: &Transaction,
    ) -> Result<(QueryResult, bool)> {
        if let Some(shape) = source.shape()
            && self.settings.fast_path()
            && let Some(result) = self.run_fast(shape, params, txn)?
        {
            return Ok((result, false));
        }
        if let Source::Prepared(prepared) = &source
            && let Statement::Query(_) = prepared.statement()
        {
            return Ok((self.query_prepared(prepared, params, txn).await?, false));
        }
        match source.into_statement() {
            statement @ Statement::Query(_) => {
                Ok((self.query(statement, params, txn).await?, false))
            }
            Statement::Explain {
                statement: inner,
                analyze,
                ..
            } => Ok((self.explain(*inner, analyze, params, txn).await?, false)),
            Statement::Insert(insert) => {
                Ok((crate::dml::insert(self, insert, params, txn).await?, false))
            }
            Statement::Update(update) => {
                Ok((crate::dml::update(self, update, params, txn).await?, false))
            }
            Statement::Delete(delete) => {
                Ok((crate::dml::delete(self, delete, params, txn).await?, false))
            }
            other => Ok((crate::ddl::execute(self, other, txn).await?, true)),
        }
    }

    /// Runs a statement the fast path recognised; `None` if it declines (the general path
    /// then runs it).
    fn run_fast(
        &mut self,
        shape: &crate::fast::Shape,
        params: &[ScalarValue],
        txn: &Transaction,
    ) -> Result<Option<QueryResult>> {
        let Some(writer) = self.fast_table(shape.table(), txn)? else {
            return Ok(None);
        };
        let zone = self.settings.time_zone();
        let inputs = crate::fast::Inputs {
            params,
            now: self.clock,
            zone: &zone,
        };
        let outcome = crate::fast::execute(shape, &writer, &self.database.catalog, txn, &inputs);
        if !matches!(outcome, Ok(Err(crate::fast::Decline))) {
            self.fast_runs += 1;
        }
        Ok(outcome?.ok())
    }

    /// How many statements the fast path has run in this session (tests and diagnosis).
    pub fn fast_path_runs(&self) -> u64 {
        self.fast_runs
    }

    /// The writer of a table the fast path may use, from the session's cache.
    fn fast_table(
        &mut self,
        name: &crate::fast::TableName,
        txn: &Transaction,
    ) -> Result<Option<Arc<crate::dml::writer::TableWriter>>> {
        // A transaction's own DDL does not change the version until it commits.
        let cacheable = !self.transaction.as_ref().is_some_and(|t| t.changed_catalog);
        let version = self.database.catalog.version();
        let search_path = self.settings.search_path();
        if cacheable && let Some(hit) = self.fast_tables.get(name, version, &search_path) {
            return Ok(hit);
        }
        let table = crate::fast::tables::resolve(&self.database, txn, &search_path, name)?;
        let writer = match table {
            None => None,
            Some(table) => {
                let (_, state) = self.statement_state(txn);
                let catalog = &self.database.catalog;
                Some(crate::dml::writer::Writers::new(txn, &state, catalog).writer(&table)?)
            }
        };
        if cacheable {
            self.fast_tables
                .insert(name.clone(), version, search_path, writer.clone());
        }
        Ok(writer)
    }

    /// Plans a query with DataFusion.
    pub(crate) async fn plan_query(
        &self,
        statement: Statement,
        params: &[ScalarValue],
        state: &SessionState,
    ) -> Result<LogicalPlan> {
        bind(self.logical_plan(statement, state).await?, params)
    }

    /// The logical plan of a query, its parameters unbound.
    async fn logical_plan(
        &self,
        mut statement: Statement,
        state: &SessionState,
    ) -> Result<LogicalPlan> {
        crate::naming::disambiguate(&mut statement);
        crate::naming::name_function_columns(&mut statement);
        Ok(state
            .statement_to_plan(DfStatement::Statement(Box::new(statement)))
            .await?)
    }

    /// What a plan made now is planned under; `None` while the transaction has changed
    /// the catalog (its own DDL is not in the version yet), when no plan may be kept.
    fn plan_key(&self) -> Option<PlanKey> {
        if self.transaction.as_ref().is_some_and(|t| t.changed_catalog) {
            return None;
        }
        Some(PlanKey {
            catalog_version: self.database.catalog.version(),
            settings: self.settings.clone(),
        })
    }

    /// Runs a prepared query with the logical plan kept from an earlier execution when it
    /// is still valid (see `prepared`), else plans it and keeps the plan.
    async fn query_prepared(
        &mut self,
        prepared: &PreparedStatement,
        params: &[ScalarValue],
        txn: &Transaction,
    ) -> Result<QueryResult> {
        let key = self.plan_key();
        let (_, state) = self.statement_state(txn);
        let plan = match key.as_ref().and_then(|key| prepared.cached_plan(key)) {
            Some(plan) => {
                self.plans_reused += 1;
                plan
            }
            None => match self
                .logical_plan(prepared.statement().clone(), &state)
                .await
            {
                Ok(plan) => {
                    if let Some(key) = key {
                        prepared.keep_plan(key, &plan);
                    }
                    plan
                }
                // The general route tries what it can for queries DataFusion cannot plan.
                Err(_) => return self.query(prepared.statement().clone(), params, txn).await,
            },
        };
        let names = crate::naming::output_names(prepared.statement());
        match crate::provider::checked::physical_plan(&state, &bind(plan, params)?).await {
            Ok(physical) => stream_result(physical, &state, names.as_deref()),
            Err(_) => self.query(prepared.statement().clone(), params, txn).await,
        }
    }

    /// How many executions reused a kept logical plan (tests and diagnosis).
    pub fn plans_reused(&self) -> u64 {
        self.plans_reused
    }

    async fn query(
        &self,
        statement: Statement,
        params: &[ScalarValue],
        txn: &Transaction,
    ) -> Result<QueryResult> {
        let names = crate::naming::output_names(&statement);
        let (_, state) = self.statement_state(txn);
        // A catalog query over tables that never have rows is answered empty, though its
        // select list may use what ByteData cannot plan.
        let fallback =
            crate::system::rewrite::reads_empty_table(&statement).then(|| statement.clone());
        let physical = match self.physical_plan(statement, params, &state).await {
            Ok(physical) => physical,
            Err(error) => {
                let Some(mut statement) = fallback else {
                    return Err(error);
                };
                if !crate::system::rewrite::answer_empty(&mut statement) {
                    return Err(error);
                }
                self.physical_plan(statement, params, &state).await?
            }
        };
        stream_result(physical, &state, names.as_deref())
    }

    async fn physical_plan(
        &self,
        statement: Statement,
        params: &[ScalarValue],
        state: &SessionState,
    ) -> Result<Arc<dyn datafusion::physical_plan::ExecutionPlan>> {
        let plan = self.plan_query(statement, params, state).await?;
        Ok(crate::provider::checked::physical_plan(state, &plan).await?)
    }

    async fn explain(
        &self,
        statement: Statement,
        analyze: bool,
        params: &[ScalarValue],
        txn: &Transaction,
    ) -> Result<QueryResult> {
        if analyze {
            return Err(SqlError::unsupported("EXPLAIN ANALYZE"));
        }
        let (_, state) = self.statement_state(txn);
        let plan = self.plan_query(statement, params, &state).await?;
        let physical = state.create_physical_plan(&plan).await?;
        let text = datafusion::physical_plan::displayable(physical.as_ref())
            .indent(false)
            .to_string();
        let lines: Vec<&str> = text.lines().collect();
        let schema = Arc::new(Schema::new(vec![Field::new(
            "QUERY PLAN",
            ArrowType::Utf8,
            false,
        )]));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(lines))])?;
        Ok(QueryResult::Rows {
            schema,
            rows: Rows::Batches(vec![batch]),
            tag: None,
        })
    }

    /// SET, SHOW, RESET and statements accepted without doing anything.
    fn utility(&mut self, statement: &Statement) -> Result<Option<QueryResult>> {
        Ok(Some(match statement {
            Statement::Set(set) => self.set(set)?,
            Statement::ShowVariable { variable } => {
                let name = variable
                    .iter()
                    .map(|i| i.value.clone())
                    .collect::<Vec<_>>()
                    .join(" ");
                self.show(&name)?
            }
            Statement::Reset(reset) => {
                match &reset.reset {
                    ast::Reset::ALL => self.settings.reset_all(),
                    ast::Reset::ConfigurationParameter(name) => {
                        self.settings.reset(&name.to_string())?;
                    }
                }
                QueryResult::command("RESET")
            }
            Statement::Discard { .. } => {
                self.settings.reset_all();
                QueryResult::command("DISCARD ALL")
            }
            Statement::Analyze(_) => QueryResult::command("ANALYZE"),
            Statement::Vacuum(_) => {
                if self.transaction.as_ref().is_some_and(|t| t.explicit) {
                    return Err(SqlError::new(
                        "25001",
                        "VACUUM cannot run inside a transaction block",
                    ));
                }
                QueryResult::command("VACUUM")
            }
            _ => return Ok(None),
        }))
    }

    fn set(&mut self, set: &ast::Set) -> Result<QueryResult> {
        let value_text = |values: &[ast::Expr]| -> String {
            values
                .iter()
                .map(|v| match v {
                    ast::Expr::Value(value) => match &value.value {
                        ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => {
                            s.clone()
                        }
                        other => other.to_string(),
                    },
                    ast::Expr::Identifier(ident) => ident.value.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        match set {
            ast::Set::SingleAssignment {
                variable,
                values,
                scope,
                ..
            } => {
                let name = variable.to_string();
                let value = value_text(values);
                if matches!(scope, Some(ast::ContextModifier::Local)) {
                    // Outside a block SET LOCAL has no effect (PostgreSQL warns).
                    let Some(active) = &mut self.transaction else {
                        self.settings.clone().set(&name, &value)?;
                        return Ok(QueryResult::command("SET"));
                    };
                    active.set_local.push(name.clone());
                }
                if value.eq_ignore_ascii_case("default") {
                    self.settings.reset(&name)?;
                } else if name.eq_ignore_ascii_case("transaction_isolation")
                    || name.eq_ignore_ascii_case("transaction_read_only")
                {
                    return Err(SqlError::unsupported(format!(
                        "SET {name}; use SET TRANSACTION"
                    )));
                } else {
                    self.settings.set(&name, &value)?;
                }
            }
            ast::Set::SetTimeZone { value, .. } => {
                self.settings
                    .set("TimeZone", &value_text(std::slice::from_ref(value)))?;
            }
            ast::Set::SetNames { charset_name, .. } => {
                self.settings.set("client_encoding", &charset_name.value)?;
            }
            ast::Set::SetTransaction { modes, session, .. } => {
                let (isolation, read_only) = transaction_modes(modes)?;
                if *session {
                    if let Some(level) = isolation {
                        self.settings
                            .set("default_transaction_isolation", isolation_name(level))?;
                    }
                    if let Some(read_only) = read_only {
                        self.settings.set(
                            "default_transaction_read_only",
                            if read_only { "on" } else { "off" },
                        )?;
                    }
                } else {
                    let Some(active) = &mut self.transaction else {
                        return Err(SqlError::new(
                            "25P01",
                            "SET TRANSACTION can only be used in transaction blocks",
                        ));
                    };
                    if active.txn.has_writes() {
                        return Err(SqlError::new(
                            "25001",
                            "SET TRANSACTION ISOLATION LEVEL must be called before any query",
                        ));
                    }
                    let level = isolation.unwrap_or_else(|| active.txn.isolation());
                    let read_only = read_only.unwrap_or_else(|| active.txn.is_read_only());
                    let txn = self.begin_transaction(Some(level), Some(read_only));
                    if let Some(active) = &mut self.transaction {
                        let _ = active.txn.rollback();
                        active.txn = txn;
                    }
                }
            }
            other => return Err(SqlError::unsupported(format!("{other}"))),
        }
        Ok(QueryResult::command("SET"))
    }

    fn show(&self, name: &str) -> Result<QueryResult> {
        let (column, rows): (String, Vec<(String, String)>) =
            match name.to_ascii_lowercase().as_str() {
                "all" => (
                    "setting".into(),
                    self.settings
                        .all()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                ),
                "transaction isolation level" | "transaction_isolation" => {
                    let level = self
                        .transaction
                        .as_ref()
                        .map_or_else(|| self.settings.default_isolation(), |t| t.txn.isolation());
                    (
                        "transaction_isolation".into(),
                        vec![(String::new(), isolation_name(level).to_owned())],
                    )
                }
                "transaction_read_only" => {
                    let read_only = self.transaction.as_ref().map_or_else(
                        || self.settings.default_read_only(),
                        |t| t.txn.is_read_only(),
                    );
                    (
                        "transaction_read_only".into(),
                        vec![(
                            String::new(),
                            if read_only { "on" } else { "off" }.to_owned(),
                        )],
                    )
                }
                _ => {
                    let value = self.settings.get(name)?;
                    (name.to_ascii_lowercase(), vec![(String::new(), value)])
                }
            };
        let all = name.eq_ignore_ascii_case("all");
        let schema = if all {
            Arc::new(Schema::new(vec![
                Field::new("name", ArrowType::Utf8, false),
                Field::new("setting", ArrowType::Utf8, false),
            ]))
        } else {
            Arc::new(Schema::new(vec![Field::new(
                column,
                ArrowType::Utf8,
                false,
            )]))
        };
        let values: Vec<&str> = rows.iter().map(|(_, v)| v.as_str()).collect();
        let columns: Vec<Arc<dyn datafusion::arrow::array::Array>> = if all {
            let names: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
            vec![
                Arc::new(StringArray::from(names)),
                Arc::new(StringArray::from(values)),
            ]
        } else {
            vec![Arc::new(StringArray::from(values))]
        };
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        Ok(QueryResult::Rows {
            schema,
            rows: Rows::Batches(vec![batch]),
            tag: Some("SHOW".into()),
        })
    }

    fn transaction_control(&mut self, statement: Statement) -> Result<QueryResult> {
        match statement {
            Statement::StartTransaction { modes, .. } => {
                let (isolation, read_only) = transaction_modes(&modes)?;
                if let Some(active) = &mut self.transaction {
                    if active.explicit {
                        // PostgreSQL warns and carries on.
                        return Ok(QueryResult::command("BEGIN"));
                    }
                    active.explicit = true;
                    return Ok(QueryResult::command("BEGIN"));
                }
                self.transaction = Some(ActiveTransaction {
                    txn: self.begin_transaction(isolation, read_only),
                    explicit: true,
                    failed: false,
                    changed_catalog: false,
                    started_at: chrono::Utc::now(),
                    settings_at_begin: self.settings.clone(),
                    set_local: Vec::new(),
                });
                Ok(QueryResult::command("BEGIN"))
            }
            Statement::Commit { .. } => {
                let failed = self.transaction.as_ref().is_some_and(|t| t.failed);
                self.end_transaction(!failed)?;
                // Committing a failed block rolls it back, and says so.
                Ok(QueryResult::command(if failed {
                    "ROLLBACK"
                } else {
                    "COMMIT"
                }))
            }
            Statement::Rollback {
                savepoint: Some(name),
                ..
            } => {
                let Some(active) = &mut self.transaction else {
                    return Err(SqlError::new(
                        "25P01",
                        "ROLLBACK TO SAVEPOINT can only be used in transaction blocks",
                    ));
                };
                active.txn.rollback_to_savepoint(&name.value)?;
                active.failed = false;
                Ok(QueryResult::command("ROLLBACK"))
            }
            Statement::Rollback { .. } => {
                self.end_transaction(false)?;
                Ok(QueryResult::command("ROLLBACK"))
            }
            Statement::Savepoint { name } => {
                let Some(active) = &self.transaction else {
                    return Err(SqlError::new(
                        "25P01",
                        "SAVEPOINT can only be used in transaction blocks",
                    ));
                };
                if active.failed {
                    return Err(SqlError::in_failed_transaction());
                }
                active.txn.savepoint(&name.value)?;
                Ok(QueryResult::command("SAVEPOINT"))
            }
            Statement::ReleaseSavepoint { name } => {
                let Some(active) = &self.transaction else {
                    return Err(SqlError::new(
                        "25P01",
                        "RELEASE SAVEPOINT can only be used in transaction blocks",
                    ));
                };
                if active.failed {
                    return Err(SqlError::in_failed_transaction());
                }
                active.txn.release_savepoint(&name.value)?;
                Ok(QueryResult::command("RELEASE"))
            }
            other => Err(SqlError::unsupported(other.to_string())),
        }
    }

    /// Ends the current transaction (if any) by committing or rolling back.
    fn end_transaction(&mut self, commit: bool) -> Result<()> {
        let Some(active) = self.transaction.take() else {
            return Ok(());
        };
        if !commit {
            self.settings = active.settings_at_begin.clone();
        } else {
            for name in &active.set_local {
                self.settings.restore(&active.settings_at_begin, name);
            }
        }
        if commit {
            active.txn.commit()?;
            if active.changed_catalog {
                self.database.catalog.bump_version();
            }
        } else {
            active.txn.rollback()?;
        }
        Ok(())
    }

    /// Marks an open transaction block failed: an error happened that the session did
    /// not see (a statement that did not parse, a bad Bind), and PostgreSQL fails the
    /// block for any error in it.
    pub fn mark_failed(&mut self) {
        if let Some(active) = &mut self.transaction
            && active.explicit
        {
            active.failed = true;
        }
    }

    /// Rolls back anything open (the connection is going away).
    pub fn terminate(&mut self) {
        let _ = self.end_transaction(false);
    }

    /// The cancel flag of the current transaction, for CancelRequest and timeouts.
    pub fn cancel_handle(&self) -> Option<bytedata_mvcc::CancelHandle> {
        self.transaction.as_ref().map(|t| t.txn.cancel_handle())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.terminate();
        // The last statement's context refers to the session's DataFusion state, whose
        // functions refer to `shared`: break the cycle.
        *self.shared.context.lock() = None;
    }
}

/// In an implicit transaction, rows must be read before the transaction commits.
/// A plan's parameters bound to `params` (none: the plan as it is).
fn bind(plan: LogicalPlan, params: &[ScalarValue]) -> Result<LogicalPlan> {
    if params.is_empty() {
        Ok(plan)
    } else {
        Ok(plan.with_param_values(params.to_vec())?)
    }
}

/// The rows of a physical plan as they stream, columns named as the query names them.
fn stream_result(
    physical: Arc<dyn datafusion::physical_plan::ExecutionPlan>,
    state: &SessionState,
    names: Option<&[String]>,
) -> Result<QueryResult> {
    let stream = datafusion::physical_plan::execute_stream(physical, state.task_ctx())?;
    let schema = crate::naming::rename(stream.schema(), names);
    let stream = crate::naming::renamed_stream(stream, schema.clone());
    Ok(QueryResult::Rows {
        schema,
        rows: Rows::Stream(stream),
        tag: None,
    })
}

async fn materialize_in_implicit(result: QueryResult, implicit: bool) -> Result<QueryResult> {
    match result {
        QueryResult::Rows {
            schema,
            rows: Rows::Stream(stream),
            tag,
        } if implicit => Ok(QueryResult::Rows {
            schema,
            rows: Rows::Batches(Rows::Stream(stream).collect().await?),
            tag,
        }),
        other => Ok(other),
    }
}

fn is_copy_from_stdin(statement: &Statement) -> bool {
    matches!(
        statement,
        Statement::Copy {
            to: false,
            target: ast::CopyTarget::Stdin,
            ..
        }
    )
}

pub fn is_transaction_control(statement: &Statement) -> bool {
    matches!(
        statement,
        Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. }
            | Statement::Savepoint { .. }
            | Statement::ReleaseSavepoint { .. }
    )
}

fn transaction_modes(modes: &[TransactionMode]) -> Result<(Option<IsolationLevel>, Option<bool>)> {
    let mut isolation = None;
    let mut read_only = None;
    for mode in modes {
        match mode {
            TransactionMode::IsolationLevel(level) => {
                isolation = Some(match level {
                    TransactionIsolationLevel::ReadUncommitted
                    | TransactionIsolationLevel::ReadCommitted => IsolationLevel::ReadCommitted,
                    TransactionIsolationLevel::RepeatableRead => IsolationLevel::RepeatableRead,
                    TransactionIsolationLevel::Serializable => IsolationLevel::Serializable,
                    other => parse_isolation(&other.to_string())
                        .ok_or_else(|| SqlError::unsupported(format!("isolation level {other}")))?,
                });
            }
            TransactionMode::AccessMode(TransactionAccessMode::ReadOnly) => read_only = Some(true),
            TransactionMode::AccessMode(TransactionAccessMode::ReadWrite) => {
                read_only = Some(false)
            }
        }
    }
    Ok((isolation, read_only))
}

#[cfg(test)]
mod tests;
