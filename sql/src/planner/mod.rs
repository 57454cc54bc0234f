//! DataFusion, assembled to plan PostgreSQL, and the planner each statement runs with.
//!
//! `base` builds DataFusion's state once for the process, shared by every connection:
//! PostgreSQL's dialect and typing rules where DataFusion's differ (`typing`), the
//! functions that need the session (`functions`, and the catalog's in
//! `system::functions`), json operators and builders, `to_char`, the single-row aggregate,
//! row-by-row subqueries (`subquery`). Building it costs a third of a millisecond, which a
//! connection no longer pays; settings stay per session.
//!
//! A `Planner` is one statement's: its `StatementContext` (database, transaction, role,
//! clock, time zone) and a copy of the base state that resolves names through it. It is
//! all that DML, DDL and the fast path get from their session — they cannot reach the
//! session's transaction control or settings, only plan and read within the statement.
//!
//! Invariant: the state a planner plans with carries its context in its config options
//! (`StatementLink`), and so does every physical expression made from it: functions
//! DataFusion calls while the plan runs (`nextval`, a row-by-row subquery) run in that
//! statement, whatever else the session has started since.

pub mod checked;
pub mod date_part;
pub mod datetime_functions;
pub mod format;
pub mod functions;
pub mod interval_arith;
pub mod json;
pub mod json_build;
pub mod regexp;
pub mod scalar_functions;
pub mod single_row;
pub mod subquery;
pub mod to_char;
pub mod typing;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use bytedata_mvcc::Transaction;
use datafusion::catalog::TableProvider;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::optimizer::AnalyzerRule;
use datafusion::prelude::SessionConfig;
use datafusion::scalar::ScalarValue;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Statement;

use crate::context::StatementContext;
use crate::error::{Result, SEARCH_PATH_SCHEMA};

/// DataFusion's state before any statement, built once and shared by every connection:
/// what each statement's `Planner` starts from. Nothing in it belongs to a session — the
/// database (the default catalog) is set per statement, and the functions and rules that
/// need the session find it through the statement's config (`StatementLink`).
pub fn base() -> Result<Arc<SessionState>> {
    static BASE: OnceLock<Arc<SessionState>> = OnceLock::new();
    if let Some(base) = BASE.get() {
        return Ok(base.clone());
    }
    // Two first connections may both build it; one copy is kept.
    let built = Arc::new(fresh_state()?);
    Ok(BASE.get_or_init(|| built).clone())
}

/// DataFusion's state as `base` builds it, built anew — what every connection paid when
/// each had its own (`sql/benches` measures the two side by side).
pub fn fresh_state() -> Result<SessionState> {
    let mut config = SessionConfig::new()
        .with_default_catalog_and_schema("", SEARCH_PATH_SCHEMA)
        .with_create_default_catalog_and_schema(false)
        .with_information_schema(false)
        .with_target_partitions(1);
    let options = config.options_mut();
    options.sql_parser.parse_float_as_decimal = true;
    options.sql_parser.dialect = datafusion::config::Dialect::PostgreSQL;
    // `now()` and `current_timestamp` are timestamptz, as in PostgreSQL: an instant,
    // shown in the session's zone when it is printed.
    options.execution.time_zone = Some("+00:00".to_owned());
    options.execution.batch_size =
        datafusion::config::ConfigNonZeroUsize::try_new(crate::provider::scan::BATCH_ROWS)?;
    // Literals are typed as PostgreSQL types them before DataFusion's coercion runs;
    // integer arithmetic is checked after it, when both sides have one type.
    let mut analyzer_rules: Vec<Arc<dyn AnalyzerRule + Send + Sync>> =
        vec![Arc::new(typing::PgLiterals)];
    analyzer_rules.extend(datafusion::optimizer::Analyzer::new().rules);
    analyzer_rules.push(Arc::new(typing::CheckedArithmetic::default()));
    let mut base = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .with_analyzer_rules(analyzer_rules)
        .with_type_planner(Arc::new(typing::PgTypes))
        .with_optimizer_rule(Arc::new(subquery::SubqueryRule))
        .build();
    functions::register(&mut base);
    crate::system::functions::register(&mut base);
    crate::system::activity_functions::register(&mut base);
    single_row::register(&mut base);
    json_build::register(&mut base);
    to_char::register(&mut base);
    scalar_functions::register(&mut base);
    format::register(&mut base);
    regexp::register(&mut base);
    datetime_functions::register(&mut base);
    date_part::register(&mut base);
    datafusion::execution::FunctionRegistry::register_expr_planner(
        &mut base,
        Arc::new(json::JsonOperators),
    )?;
    datafusion::execution::FunctionRegistry::register_expr_planner(
        &mut base,
        Arc::new(interval_arith::IntervalArithmetic),
    )?;
    Ok(base)
}

/// One statement's planner: its context and the DataFusion state that plans with it.
pub struct Planner {
    pub context: Arc<StatementContext>,
    pub state: SessionState,
}

impl Planner {
    /// The planner of a statement running with `context`.
    pub fn new(context: StatementContext) -> Planner {
        let context = Arc::new(context);
        let state = crate::provider::session_state(&context);
        Planner { context, state }
    }

    /// A planner for the same statement that reads some tables from elsewhere (see
    /// `StatementContext::overrides`), published in place of this one.
    pub fn with_overrides(&self, overrides: HashMap<u32, Arc<dyn TableProvider>>) -> Planner {
        let context = StatementContext {
            overrides,
            system: Arc::default(),
            ..(*self.context).clone()
        };
        Planner::new(context)
    }

    pub fn txn(&self) -> &Transaction {
        &self.context.txn
    }

    /// Plans a query with DataFusion, its parameters bound to `params`.
    pub async fn plan_query(
        &self,
        statement: Statement,
        params: &[ScalarValue],
    ) -> Result<LogicalPlan> {
        bind(logical_plan(statement, &self.state).await?, params)
    }
}

/// The logical plan of a query, its parameters unbound; output columns named as
/// PostgreSQL names them.
pub async fn logical_plan(mut statement: Statement, state: &SessionState) -> Result<LogicalPlan> {
    crate::syntax::naming::name_nested_columns(&mut statement);
    crate::syntax::naming::disambiguate(&mut statement);
    crate::syntax::naming::name_function_columns(&mut statement);
    crate::syntax::values::untag_mixed_casts(&mut statement);
    crate::syntax::extract::extract_as_date_part(&mut statement);
    crate::syntax::similar::rewrite(&mut statement);
    Ok(state
        .statement_to_plan(DfStatement::Statement(Box::new(statement)))
        .await?)
}

/// A plan's parameters bound to `params` (none: the plan as it is).
pub fn bind(plan: LogicalPlan, params: &[ScalarValue]) -> Result<LogicalPlan> {
    if params.is_empty() {
        Ok(plan)
    } else {
        Ok(plan.with_param_values(params.to_vec())?)
    }
}
