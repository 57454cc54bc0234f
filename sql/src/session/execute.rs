//! Running statements: a query string (simple protocol) or one prepared statement
//! (extended protocol), each in its transaction — the session's block, an implicit one
//! for a query string of several statements, or its own (autocommit) — under the
//! session's interrupt, then routed: transaction control, utility statements, COPY, the
//! fast path, a planned query, DML, or DDL.

use std::sync::Arc;

use bytedata_mvcc::Transaction;
use datafusion::scalar::ScalarValue;
use datafusion::sql::sqlparser::ast::{self, Statement};

use super::Session;
use super::prepared::{Parsed, PreparedStatement, Source};
use super::transaction::{ActiveTransaction, is_transaction_control};
use crate::context::result::{QueryResult, Rows, guard_rows, panic_error};
use crate::error::{Result, SqlError};

impl Session {
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

    pub(super) async fn execute_source(
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
            return self.copy(source.into_statement()).await;
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
                    let changed_catalog = match self.temp_before_commit(&txn) {
                        Ok(changed) => changed || changed_catalog,
                        Err(error) => {
                            let _ = txn.rollback();
                            return Err(error);
                        }
                    };
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
                self.temp_after_rollback();
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
    pub(super) async fn run_guarded(
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
            .unwrap_or_else(|panic| Err(panic_error(panic)));
        if let Some(timer) = timer {
            timer.abort();
        }
        match outcome {
            Ok((result, changed_catalog)) => {
                Ok((guard_rows(result, self.interrupt.clone()), changed_catalog))
            }
            // However it surfaced (a lock wait, a scan, an expression), a stopped
            // statement reports why it was stopped.
            Err(error) => Err(self.interrupt.cause().unwrap_or(error)),
        }
    }

    pub(super) async fn run(
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
            Statement::Insert(insert) => Ok((
                crate::dml::insert(&self.planner(txn), insert, params).await?,
                false,
            )),
            Statement::Update(update) => Ok((
                crate::dml::update(&self.planner(txn), update, params).await?,
                false,
            )),
            Statement::Delete(delete) => Ok((
                crate::dml::delete(&self.planner(txn), delete, params).await?,
                false,
            )),
            other => Ok((crate::ddl::execute(&self.planner(txn), other).await?, true)),
        }
    }
}

/// In an implicit transaction, rows must be read before the transaction commits: a
/// query's stream is collected here.
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
