//! Interrupt checks between the operators of a physical plan.
//!
//! DataFusion's operators compute synchronously inside `poll_next`: a join or an aggregate
//! can run for seconds before the stream it feeds returns. To stop such a statement soon
//! after a cancel request or its `statement_timeout`, `interruptible` puts a thin node above
//! every operator that checks the statement's `Interrupt` before passing each batch on —
//! an atomic load (and a clock read while a deadline is set) per batch per operator.
//! EXPLAIN plans without them.

use std::fmt;
use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::Result as DfResult;
use datafusion::execution::context::SessionState;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::StreamExt;

use crate::context::StatementContext;
use crate::error::into_datafusion;

/// The physical plan of `plan`, interruptible.
pub async fn physical_plan(
    state: &SessionState,
    plan: &LogicalPlan,
) -> DfResult<Arc<dyn ExecutionPlan>> {
    interruptible(state.create_physical_plan(plan).await?)
}

/// The plan with a check above each operator.
pub fn interruptible(plan: Arc<dyn ExecutionPlan>) -> DfResult<Arc<dyn ExecutionPlan>> {
    Ok(plan
        .transform_up(|node| {
            let checked: Arc<dyn ExecutionPlan> = Arc::new(CheckedExec { input: node });
            Ok(Transformed::yes(checked))
        })?
        .data)
}

#[derive(Debug)]
struct CheckedExec {
    input: Arc<dyn ExecutionPlan>,
}

impl DisplayAs for CheckedExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("CheckedExec")
    }
}

impl ExecutionPlan for CheckedExec {
    fn name(&self) -> &str {
        "CheckedExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(
            &Arc<dyn datafusion::physical_expr::PhysicalExpr>,
        ) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        match (children.pop(), children.is_empty()) {
            (Some(input), true) => Ok(Arc::new(CheckedExec { input })),
            _ => Err(datafusion::error::DataFusionError::Internal(
                "CheckedExec takes exactly one input".into(),
            )),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let interrupt = context
            .session_config()
            .get_extension::<StatementContext>()
            .map(|statement| statement.interrupt.clone());
        let input = self.input.execute(partition, context)?;
        let Some(interrupt) = interrupt else {
            return Ok(input);
        };
        let schema = input.schema();
        let checked = input.map(move |batch| {
            interrupt.check().map_err(into_datafusion)?;
            batch
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, checked)))
    }
}
