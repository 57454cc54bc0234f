//! Queries DataFusion plans: planned (or a kept plan reused, see `prepared`), made
//! interruptible, and streamed; EXPLAIN.

use std::sync::Arc;

use bytedata_mvcc::Transaction;
use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::scalar::ScalarValue;
use datafusion::sql::sqlparser::ast::Statement;

use super::Session;
use super::prepared::{KeptPlan, PlanKey, PreparedStatement};
use crate::context::result::{QueryResult, Rows};
use crate::error::{Result, SqlError};
use crate::planner::checked::physical_plan;
use crate::planner::{Planner, bind, logical_plan};

impl Session {
    /// What a plan made now is planned under; `None` while the transaction has changed
    /// the catalog (its own DDL is not in the version yet), when no plan may be kept.
    pub(super) fn plan_key(&self) -> Option<PlanKey> {
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
    pub(super) async fn query_prepared(
        &mut self,
        prepared: &PreparedStatement,
        params: &[ScalarValue],
        txn: &Transaction,
    ) -> Result<QueryResult> {
        let key = self.plan_key();
        let planner = self.planner(txn);
        let state = &planner.state;
        let kept = match key.as_ref().and_then(|key| prepared.cached_plan(key)) {
            Some(kept) => {
                self.plans_reused += 1;
                kept
            }
            None => match logical_plan(prepared.statement().clone(), state).await {
                Ok(planned) => {
                    let analyzed = analyze(state, &planned);
                    let kept = KeptPlan { planned, analyzed };
                    if let Some(key) = key {
                        prepared.keep_plan(key, &kept);
                    }
                    kept
                }
                // The general route tries what it can for queries DataFusion cannot plan.
                Err(_) => return self.query(prepared.statement().clone(), params, txn).await,
            },
        };
        let names = crate::syntax::naming::output_names(prepared.statement());
        if let Some(analyzed) = &kept.analyzed
            && binds_exactly(analyzed, params)
            && let Ok(physical) =
                physical_plan_analyzed(state, bind(analyzed.clone(), params)?).await
        {
            return stream_result(physical, state, names.as_deref());
        }
        match physical_plan(state, &bind(kept.planned, params)?).await {
            Ok(physical) => stream_result(physical, state, names.as_deref()),
            Err(_) => self.query(prepared.statement().clone(), params, txn).await,
        }
    }

    pub(super) async fn query(
        &self,
        statement: Statement,
        params: &[ScalarValue],
        txn: &Transaction,
    ) -> Result<QueryResult> {
        let names = crate::syntax::naming::output_names(&statement);
        let planner = self.planner(txn);
        // A catalog query over tables that never have rows is answered empty, though its
        // select list may use what ByteData cannot plan.
        let fallback = crate::syntax::catalog_queries::reads_empty_table(
            &statement,
            crate::system::pg_catalog::always_empty,
        )
        .then(|| statement.clone());
        let physical = match checked_plan(&planner, statement, params).await {
            Ok(physical) => physical,
            Err(error) => {
                let Some(mut statement) = fallback else {
                    return Err(error);
                };
                if !crate::syntax::catalog_queries::answer_empty(
                    &mut statement,
                    crate::system::pg_catalog::always_empty,
                ) {
                    return Err(error);
                }
                checked_plan(&planner, statement, params).await?
            }
        };
        stream_result(physical, &planner.state, names.as_deref())
    }

    pub(super) async fn explain(
        &self,
        statement: Statement,
        analyze: bool,
        params: &[ScalarValue],
        txn: &Transaction,
    ) -> Result<QueryResult> {
        if analyze {
            return Err(SqlError::unsupported("EXPLAIN ANALYZE"));
        }
        let planner = self.planner(txn);
        let plan = planner.plan_query(statement, params).await?;
        let physical = planner.state.create_physical_plan(&plan).await?;
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
}

/// `plan` through DataFusion's analyzer (name resolution, type coercion, PostgreSQL's
/// literal typing), its placeholders still unbound; `None` if it cannot be analyzed so.
fn analyze(state: &SessionState, plan: &LogicalPlan) -> Option<LogicalPlan> {
    state
        .analyzer()
        .execute_and_check(plan.clone(), state.config_options(), |_, _| {})
        .ok()
}

/// Whether binding `params` into the analyzed `plan` leaves it as analysis would have
/// made it: every placeholder typed, each value of its placeholder's type.
fn binds_exactly(plan: &LogicalPlan, params: &[ScalarValue]) -> bool {
    let Ok(fields) = plan.get_parameter_fields() else {
        return false;
    };
    fields.len() == params.len()
        && fields.iter().all(|(name, field)| {
            let value = name
                .strip_prefix('$')
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| params.get(n.checked_sub(1)?));
            matches!((field, value), (Some(field), Some(value))
                if field.data_type() == &value.data_type())
        })
}

/// The physical plan of an analyzed plan: optimized (not analyzed again), interruptible.
async fn physical_plan_analyzed(
    state: &SessionState,
    plan: LogicalPlan,
) -> Result<Arc<dyn ExecutionPlan>> {
    let optimized = state.optimizer().optimize(plan, state, |_, _| {})?;
    let physical = state
        .query_planner()
        .create_physical_plan(&optimized, state)
        .await?;
    Ok(crate::planner::checked::interruptible(physical)?)
}

/// A query planned and made interruptible.
async fn checked_plan(
    planner: &Planner,
    statement: Statement,
    params: &[ScalarValue],
) -> Result<Arc<dyn ExecutionPlan>> {
    let plan = planner.plan_query(statement, params).await?;
    Ok(physical_plan(&planner.state, &plan).await?)
}

/// The rows of a physical plan as they stream, columns named as the query names them.
fn stream_result(
    physical: Arc<dyn ExecutionPlan>,
    state: &SessionState,
    names: Option<&[String]>,
) -> Result<QueryResult> {
    let stream = datafusion::physical_plan::execute_stream(physical, state.task_ctx())?;
    let schema = crate::syntax::naming::rename(stream.schema(), names);
    let stream = crate::syntax::naming::renamed_stream(stream, schema.clone());
    Ok(QueryResult::Rows {
        schema,
        rows: Rows::Stream(stream),
        tag: None,
    })
}
