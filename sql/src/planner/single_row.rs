//! `bytedata_single_row`, the aggregate a non-aggregating scalar subquery's item is wrapped
//! in (`syntax::single_row`): the value of the only row, NULL for no rows, and error 21000
//! for more — a scalar subquery's meaning in a form DataFusion can decorrelate.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::error::Result as DfResult;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};
use datafusion::scalar::ScalarValue;

use crate::error::{SqlError, into_datafusion};
use crate::syntax::single_row::SINGLE_ROW;

/// The aggregate a scalar subquery's item is wrapped in.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SingleRow {
    signature: Signature,
}

impl AggregateUDFImpl for SingleRow {
    fn name(&self) -> &str {
        SINGLE_ROW
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Null))
    }

    fn return_field(&self, arg_fields: &[FieldRef]) -> DfResult<FieldRef> {
        // The item keeps its PostgreSQL type (the metadata of its field).
        match arg_fields.first() {
            Some(field) => Ok(Arc::new(
                field
                    .as_ref()
                    .clone()
                    .with_name(SINGLE_ROW)
                    .with_nullable(true),
            )),
            None => Ok(Arc::new(datafusion::arrow::datatypes::Field::new(
                SINGLE_ROW,
                DataType::Null,
                true,
            ))),
        }
    }

    fn accumulator(&self, args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(SingleRowAccumulator {
            value: ScalarValue::try_from(args.return_field.data_type())?,
            rows: 0,
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(args.return_field.as_ref().clone().with_name("value")),
            Arc::new(datafusion::arrow::datatypes::Field::new(
                "rows",
                DataType::Int64,
                true,
            )),
        ])
    }
}

#[derive(Debug)]
struct SingleRowAccumulator {
    value: ScalarValue,
    rows: i64,
}

fn too_many_rows() -> datafusion::error::DataFusionError {
    into_datafusion(SqlError::new(
        "21000",
        "more than one row returned by a subquery used as an expression",
    ))
}

impl SingleRowAccumulator {
    fn add(&mut self, value: ScalarValue, rows: i64) -> DfResult<()> {
        if rows == 0 {
            return Ok(());
        }
        if self.rows + rows > 1 {
            return Err(too_many_rows());
        }
        self.rows += rows;
        self.value = value;
        Ok(())
    }
}

impl Accumulator for SingleRowAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let array = &values[0];
        if array.len() > 1 {
            return Err(too_many_rows());
        }
        if array.len() == 1 {
            self.add(ScalarValue::try_from_array(array, 0)?, 1)?;
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let counts = datafusion::common::cast::as_int64_array(&states[1])?;
        for row in 0..states[0].len() {
            let rows = if counts.is_valid(row) {
                counts.value(row)
            } else {
                0
            };
            self.add(ScalarValue::try_from_array(&states[0], row)?, rows)?;
        }
        Ok(())
    }

    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        Ok(vec![
            self.value.clone(),
            ScalarValue::Int64(Some(self.rows)),
        ])
    }

    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        Ok(self.value.clone())
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.value.size()
    }
}

pub fn register(state: &mut SessionState) {
    let _ = datafusion::execution::FunctionRegistry::register_udaf(
        state,
        Arc::new(AggregateUDF::new_from_impl(SingleRow {
            signature: Signature::any(1, Volatility::Immutable),
        })),
    );
}
