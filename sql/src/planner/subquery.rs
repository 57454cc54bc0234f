//! Subqueries DataFusion cannot turn into joins — correlated ones whose correlation is
//! not an equality (`WHERE x.c > t1.c`), and some others — evaluated row by row.
//!
//! DataFusion's optimizer decorrelates what it can into joins; whatever subquery
//! expression survives would make physical planning fail. The last optimizer rule,
//! `SubqueryRule`, replaces each survivor with a call of a `SubqueryFunction` whose
//! arguments are the outer columns the subquery reads. For each distinct tuple of outer
//! values, the function puts the values in place of the outer references, plans and runs
//! the subquery, and keeps the result. This is a nested loop — as PostgreSQL itself runs
//! such subqueries (a "SubPlan") — and it is exact: scalar subqueries returning several
//! rows fail with 21000, IN follows SQL's three-valued logic.
//!
//! A subquery inside a subquery is rewritten first; its references to columns further
//! out stay outer references, so the enclosing subquery's substitution fills them in.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchemaRef};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::expr::{Exists, InSubquery, ScalarFunction};
use datafusion::logical_expr::{
    ColumnarValue, Expr, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Subquery, TypeSignature, Volatility, lit,
};
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};
use datafusion::scalar::ScalarValue;
use parking_lot::Mutex;

use crate::error::{SqlError, into_datafusion};
use datafusion::config::ConfigOptions;
use std::sync::atomic::AtomicU64;

/// Distinct outer tuples whose results one subquery keeps.
const MAX_CACHED_RESULTS: usize = 65_536;

#[derive(Clone, Debug)]
enum Kind {
    Scalar,
    Exists { negated: bool },
    In { negated: bool },
}

struct SubqueryFunction {
    name: String,
    kind: Kind,
    /// The subquery, with outer references in it.
    plan: LogicalPlan,
    /// The outer columns, as the subquery names them (argument order; for IN, after the
    /// tested value).
    outer: Vec<(Column, DataType)>,
    returns: DataType,
    signature: Signature,
    cache: Mutex<HashMap<Vec<ScalarValue>, ScalarValue>>,
}

impl std::fmt::Debug for SubqueryFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl PartialEq for SubqueryFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for SubqueryFunction {}

impl Hash for SubqueryFunction {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

/// Runs a future to completion from synchronous code inside the runtime.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| handle.block_on(future))
        }
        _ => futures::executor::block_on(future),
    }
}

impl SubqueryFunction {
    /// The subquery with `values` in place of its outer references.
    fn bind(&self, values: &[ScalarValue]) -> DfResult<LogicalPlan> {
        let substitute = |expr: Expr| -> DfResult<Transformed<Expr>> {
            expr.transform_up(|e| match &e {
                Expr::OuterReferenceColumn(_, column) => {
                    match self.outer.iter().position(|(c, _)| c == column) {
                        Some(i) => Ok(Transformed::yes(lit(values[i].clone()))),
                        None => Ok(Transformed::no(e)),
                    }
                }
                _ => Ok(Transformed::no(e)),
            })
        };
        let plan = self
            .plan
            .clone()
            .transform_up_with_subqueries(|node| node.map_expressions(substitute))?
            .data;
        // Schemas computed with outer references may now be stale.
        plan.recompute_schema()
    }

    /// The result for one tuple of outer values (and the tested value, for IN).
    fn evaluate(
        &self,
        options: &ConfigOptions,
        tested: Option<ScalarValue>,
        values: Vec<ScalarValue>,
    ) -> DfResult<ScalarValue> {
        let mut key = values.clone();
        if let Some(tested) = &tested {
            key.push(tested.clone());
        }
        if let Some(result) = self.cache.lock().get(&key) {
            return Ok(result.clone());
        }
        let plan = self.bind(&values)?;
        let context = crate::context::linked_context(options)?;
        let state = crate::provider::session_state(&context);
        let batches = block_on(async {
            let physical = crate::planner::checked::physical_plan(&state, &plan).await?;
            datafusion::physical_plan::collect(physical, state.task_ctx()).await
        })?;
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        let first_column = || {
            batches
                .iter()
                .filter(|b| b.num_rows() > 0)
                .map(|b| b.column(0).clone())
        };
        let result = match &self.kind {
            Kind::Scalar => {
                if rows > 1 {
                    return Err(into_datafusion(SqlError::new(
                        "21000",
                        "more than one row returned by a subquery used as an expression",
                    )));
                }
                match first_column().next() {
                    Some(array) => ScalarValue::try_from_array(&array, 0)?,
                    None => ScalarValue::try_from(&self.returns)?,
                }
            }
            Kind::Exists { negated } => ScalarValue::Boolean(Some((rows > 0) != *negated)),
            Kind::In { negated } => {
                let tested = tested.unwrap_or(ScalarValue::Null);
                let outcome = in_list(&tested, first_column())?;
                ScalarValue::Boolean(outcome.map(|found| found != *negated))
            }
        };
        let mut cache = self.cache.lock();
        if cache.len() < MAX_CACHED_RESULTS {
            cache.insert(key, result.clone());
        }
        Ok(result)
    }
}

/// SQL's `x IN (values)`: true if some value equals x, NULL if none does but x or a value
/// is NULL, else false.
fn in_list(tested: &ScalarValue, arrays: impl Iterator<Item = ArrayRef>) -> DfResult<Option<bool>> {
    let mut saw_null = tested.is_null();
    let mut any = false;
    for array in arrays {
        any = true;
        if tested.is_null() {
            break;
        }
        let tested_array =
            datafusion::arrow::compute::cast(&tested.to_array()?, array.data_type())?;
        let tested_value = ScalarValue::try_from_array(&tested_array, 0)?;
        for row in 0..array.len() {
            if array.is_null(row) {
                saw_null = true;
                continue;
            }
            if ScalarValue::try_from_array(&array, row)? == tested_value {
                return Ok(Some(true));
            }
        }
    }
    if !any {
        return Ok(Some(false));
    }
    Ok(if saw_null { None } else { Some(false) })
}

impl ScalarUDFImpl for SubqueryFunction {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(self.returns.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        if args.number_rows == 0 {
            return Ok(ColumnarValue::Array(
                datafusion::arrow::array::new_empty_array(&self.returns),
            ));
        }
        let rows = args.number_rows;
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<DfResult<Vec<_>>>()?;
        let tested_offset = usize::from(matches!(self.kind, Kind::In { .. }));
        let mut results = Vec::with_capacity(rows);
        for row in 0..rows {
            let tested = (tested_offset == 1)
                .then(|| ScalarValue::try_from_array(&arrays[0], row))
                .transpose()?;
            let values = arrays[tested_offset..]
                .iter()
                .map(|a| ScalarValue::try_from_array(a, row))
                .collect::<DfResult<Vec<_>>>()?;
            results.push(self.evaluate(&args.config_options, tested, values)?);
        }
        let array = ScalarValue::iter_to_array(results)?;
        let array = if array.data_type() == &self.returns {
            array
        } else {
            datafusion::arrow::compute::cast(&array, &self.returns)?
        };
        Ok(ColumnarValue::Array(array))
    }
}

/// The optimizer rule that replaces surviving subquery expressions (see the module
/// documentation). It runs last.
pub struct SubqueryRule;

impl std::fmt::Debug for SubqueryRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubqueryRule")
    }
}

impl SubqueryRule {
    fn function(
        &self,
        kind: Kind,
        subquery: &Subquery,
        tested: Option<Expr>,
        input_schemas: &[DFSchemaRef],
    ) -> DfResult<Expr> {
        let plan = self.rewrite_plan(subquery.subquery.as_ref().clone())?;
        let returns = match &kind {
            Kind::Scalar => plan.schema().field(0).data_type().clone(),
            _ => DataType::Boolean,
        };
        let mut outer = Vec::new();
        let mut args: Vec<Expr> = tested.into_iter().collect();
        for reference in &subquery.outer_ref_columns {
            if let Expr::OuterReferenceColumn(field, column) = reference {
                if outer.iter().any(|(c, _)| c == column) {
                    continue;
                }
                outer.push((column.clone(), field.data_type().clone()));
                // A column of this level is an argument; one from further out stays an outer
                // reference, bound when the enclosing subquery runs.
                let here = input_schemas.iter().any(|schema| schema.has_column(column));
                args.push(if here {
                    Expr::Column(column.clone())
                } else {
                    reference.clone()
                });
            }
        }
        // The names need only differ within a plan; one counter serves every session.
        static NEXT_SUBQUERY: AtomicU64 = AtomicU64::new(0);
        let id = NEXT_SUBQUERY.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let function = SubqueryFunction {
            name: format!("subquery_{id}"),
            kind,
            plan,
            outer,
            returns,
            signature: Signature::one_of(
                vec![TypeSignature::Nullary, TypeSignature::VariadicAny],
                Volatility::Volatile,
            ),
            cache: Mutex::new(HashMap::new()),
        };
        Ok(Expr::ScalarFunction(ScalarFunction::new_udf(
            Arc::new(ScalarUDF::new_from_impl(function)),
            args,
        )))
    }

    fn rewrite_plan(&self, plan: LogicalPlan) -> DfResult<LogicalPlan> {
        Ok(plan
            .transform_up(|node| {
                let input_schemas: Vec<DFSchemaRef> =
                    node.inputs().iter().map(|i| i.schema().clone()).collect();
                // Output names stay what they were (the optimizer checks the schema).
                crate::planner::typing::rewrite_expressions(node, |expr| {
                    expr.transform_up(|e| match e {
                        Expr::ScalarSubquery(subquery) => Ok(Transformed::yes(self.function(
                            Kind::Scalar,
                            &subquery,
                            None,
                            &input_schemas,
                        )?)),
                        Expr::Exists(Exists { subquery, negated }) => {
                            Ok(Transformed::yes(self.function(
                                Kind::Exists { negated },
                                &subquery,
                                None,
                                &input_schemas,
                            )?))
                        }
                        Expr::InSubquery(InSubquery {
                            expr,
                            subquery,
                            negated,
                        }) => Ok(Transformed::yes(self.function(
                            Kind::In { negated },
                            &subquery,
                            Some(*expr),
                            &input_schemas,
                        )?)),
                        other => Ok(Transformed::no(other)),
                    })
                })
            })?
            .data)
    }
}

fn has_subquery(plan: &LogicalPlan) -> bool {
    let mut found = false;
    let _ = plan.apply(|node| {
        let _ = node.apply_expressions(|expr| {
            found |= expr.exists(|e| {
                Ok(matches!(
                    e,
                    Expr::ScalarSubquery(_) | Expr::Exists(_) | Expr::InSubquery(_)
                ))
            })?;
            Ok(if found {
                datafusion::common::tree_node::TreeNodeRecursion::Stop
            } else {
                datafusion::common::tree_node::TreeNodeRecursion::Continue
            })
        });
        Ok(if found {
            datafusion::common::tree_node::TreeNodeRecursion::Stop
        } else {
            datafusion::common::tree_node::TreeNodeRecursion::Continue
        })
    });
    found
}

impl OptimizerRule for SubqueryRule {
    fn name(&self) -> &str {
        "bytedata_subqueries"
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> DfResult<Transformed<LogicalPlan>> {
        if !has_subquery(&plan) {
            return Ok(Transformed::no(plan));
        }
        Ok(Transformed::yes(self.rewrite_plan(plan)?))
    }
}
