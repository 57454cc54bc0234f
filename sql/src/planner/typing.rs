//! PostgreSQL's typing where DataFusion's differs, applied while planning:
//!
//! - type names in casts (`::numeric`, `::varchar(20)`, `::timestamptz`, `::uuid`) map as
//!   our columns do (`types::arrow_type`), with the PostgreSQL type in the field metadata,
//!   so `x::numeric` keeps its digits and `'…'::varchar(3)` reports `varchar(3)`;
//! - an integer literal is `int4` when it fits, as in PostgreSQL (DataFusion makes every
//!   integer literal `bigint`), so `SELECT 1` is an `integer`;
//! - integer `+`, `-`, `*` fail on overflow (22003) instead of wrapping;
//! - a cast of text (`'…'::interval`) reads it with PostgreSQL's input function;
//! - a decimal literal cast to a float (`1e100::float8`) is read from its digits.

use std::sync::Arc;

use datafusion::arrow::compute::kernels::numeric;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::DFSchema;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::expr::{BinaryExpr, ScalarFunction};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::planner::TypePlanner;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, LogicalPlan, Operator, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, TypeSignature, Volatility, lit,
};
use datafusion::optimizer::AnalyzerRule;
use datafusion::scalar::ScalarValue;
use datafusion::sql::sqlparser::ast;

use bytedata_pgtypes::DataType as SqlType;

use crate::bridge::field;
use crate::error::{SqlError, into_datafusion};
use crate::syntax::typename::column_type;

/// Maps SQL type names as our columns store them.
#[derive(Debug)]
pub struct PgTypes;

impl TypePlanner for PgTypes {
    fn plan_type_field(&self, sql_type: &ast::DataType) -> DfResult<Option<FieldRef>> {
        // The catalog's own types, which columns cannot have but casts can name.
        if let ast::DataType::Custom(name, modifiers) = sql_type
            && modifiers.is_empty()
            && let Some(ident) = name.0.last().and_then(|p| p.as_ident())
        {
            let catalog_type = match ident.value.to_lowercase().as_str() {
                "oid" | "regproc" | "xid" | "cid" => Some((DataType::Int64, 26)),
                "name" => Some((DataType::Utf8, 19)),
                "char" if ident.quote_style.is_some() => Some((DataType::Utf8, 18)),
                _ => None,
            };
            if let Some((arrow, oid)) = catalog_type {
                return Ok(Some(Arc::new(
                    datafusion::arrow::datatypes::Field::new("", arrow, true).with_metadata(
                        std::collections::HashMap::from([(
                            crate::bridge::types::PG_TYPE_KEY.to_owned(),
                            oid.to_string(),
                        )]),
                    ),
                )));
            }
        }
        // Types we do not map fall back to DataFusion's own mapping (or its error).
        Ok(match column_type(sql_type) {
            Ok(declared) if !declared.serial => {
                Some(Arc::new(field("", &declared.data_type, true)))
            }
            _ => None,
        })
    }
}

/// Rewrites each expression of a plan node, keeping the output names the expressions had
/// (so the node's schema stays stable) and recomputing the schema if anything changed.
pub(crate) fn rewrite_expressions(
    node: LogicalPlan,
    mut rewrite: impl FnMut(Expr) -> DfResult<Transformed<Expr>>,
) -> DfResult<Transformed<LogicalPlan>> {
    let names = NamePreserver::new(&node);
    let rewritten = node.map_expressions(|expr| {
        let saved = names.save(&expr);
        let rewritten = rewrite(expr)?;
        Ok(if rewritten.transformed {
            Transformed::yes(saved.restore(rewritten.data))
        } else {
            rewritten
        })
    })?;
    if rewritten.transformed {
        Ok(Transformed::yes(rewritten.data.recompute_schema()?))
    } else {
        Ok(rewritten)
    }
}

/// Integer `+`, `-` and `*` that fail on overflow (22003), as PostgreSQL's do; Arrow's
/// wrap. Runs after type coercion, so both sides have one integer type.
#[derive(Debug)]
pub struct CheckedArithmetic {
    add: Arc<ScalarUDF>,
    subtract: Arc<ScalarUDF>,
    multiply: Arc<ScalarUDF>,
}

impl Default for CheckedArithmetic {
    fn default() -> Self {
        let udf = |op| Arc::new(ScalarUDF::new_from_impl(CheckedOp::new(op)));
        CheckedArithmetic {
            add: udf(Operator::Plus),
            subtract: udf(Operator::Minus),
            multiply: udf(Operator::Multiply),
        }
    }
}

fn is_integer_expr(expr: &Expr, schema: &DFSchema) -> bool {
    expr.get_type(schema)
        .is_ok_and(|t| matches!(t, DataType::Int16 | DataType::Int32 | DataType::Int64))
}

impl AnalyzerRule for CheckedArithmetic {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> DfResult<LogicalPlan> {
        Ok(plan
            .transform_up_with_subqueries(|node| {
                // Expressions are typed against the node's inputs (a join's, merged).
                let Some(schema) = input_schema(&node) else {
                    return Ok(Transformed::no(node));
                };
                rewrite_expressions(node, |expr| {
                    expr.transform_up(|e| match &e {
                        Expr::BinaryExpr(BinaryExpr { left, op, right })
                            if matches!(
                                op,
                                Operator::Plus | Operator::Minus | Operator::Multiply
                            ) && is_integer_expr(left, &schema)
                                && is_integer_expr(right, &schema)
                                && left.get_type(&schema).ok() == right.get_type(&schema).ok() =>
                        {
                            let udf = match op {
                                Operator::Plus => &self.add,
                                Operator::Minus => &self.subtract,
                                _ => &self.multiply,
                            };
                            Ok(Transformed::yes(Expr::ScalarFunction(
                                ScalarFunction::new_udf(
                                    udf.clone(),
                                    vec![(**left).clone(), (**right).clone()],
                                ),
                            )))
                        }
                        // floor and ceil of a numeric are integral numerics: scale 0.
                        Expr::ScalarFunction(function)
                            if matches!(function.name(), "floor" | "ceil")
                                && function.args.len() == 1 =>
                        {
                            match function.args[0].get_type(&schema) {
                                Ok(DataType::Decimal128(precision, scale)) if scale > 0 => {
                                    Ok(Transformed::yes(Expr::Cast(
                                        datafusion::logical_expr::Cast::new(
                                            Box::new(e.clone()),
                                            DataType::Decimal128(precision, 0),
                                        ),
                                    )))
                                }
                                Ok(DataType::Decimal256(precision, scale)) if scale > 0 => {
                                    Ok(Transformed::yes(Expr::Cast(
                                        datafusion::logical_expr::Cast::new(
                                            Box::new(e.clone()),
                                            DataType::Decimal256(precision, 0),
                                        ),
                                    )))
                                }
                                _ => Ok(Transformed::no(e)),
                            }
                        }
                        _ => Ok(Transformed::no(e)),
                    })
                })
            })?
            .data)
    }

    fn name(&self) -> &str {
        "bytedata_checked_arithmetic"
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct CheckedOp {
    op: Operator,
    name: &'static str,
    signature: Signature,
}

impl CheckedOp {
    fn new(op: Operator) -> Self {
        let name = match op {
            Operator::Plus => "int_add",
            Operator::Minus => "int_sub",
            _ => "int_mul",
        };
        let signature = Signature::one_of(
            [DataType::Int16, DataType::Int32, DataType::Int64]
                .into_iter()
                .map(|t| TypeSignature::Exact(vec![t.clone(), t]))
                .collect(),
            Volatility::Immutable,
        );
        CheckedOp {
            op,
            name,
            signature,
        }
    }
}

impl ScalarUDFImpl for CheckedOp {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(arg_types[0].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let scalar = crate::bridge::all_scalar(&args.args);
        let rows = if scalar { 1 } else { args.number_rows };
        let left = args.args[0].to_array(rows)?;
        let right = args.args[1].to_array(rows)?;
        let result = match self.op {
            Operator::Plus => numeric::add(&left, &right),
            Operator::Minus => numeric::sub(&left, &right),
            _ => numeric::mul(&left, &right),
        };
        let array = result.map_err(|_| {
            let what = match left.data_type() {
                DataType::Int16 => "smallint out of range",
                DataType::Int64 => "bigint out of range",
                _ => "integer out of range",
            };
            into_datafusion(SqlError::new("22003", what))
        })?;
        crate::bridge::function_result(array, scalar)
    }
}

/// A cast of text to another type, as PostgreSQL's input function for that type reads
/// it (`'1 day 04:05:06'::interval`, `'\x01'::bytea`, zone-less timestamptz text in the
/// session time zone). Arrow's casts read fewer forms, and some differently.
#[derive(Debug)]
pub struct TextCast {
    target: SqlType,
    field: FieldRef,
    signature: Signature,
}

impl PartialEq for TextCast {
    fn eq(&self, other: &Self) -> bool {
        self.target == other.target
    }
}

impl Eq for TextCast {}

impl std::hash::Hash for TextCast {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.target.hash(state);
    }
}

impl ScalarUDFImpl for TextCast {
    fn name(&self) -> &str {
        "text_cast"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(self.field.data_type().clone())
    }

    fn return_field_from_args(
        &self,
        _args: datafusion::logical_expr::ReturnFieldArgs,
    ) -> DfResult<FieldRef> {
        Ok(self.field.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let rows = if scalar { 1 } else { args.number_rows };
        let input =
            datafusion::arrow::compute::cast(&args.args[0].to_array(rows)?, &DataType::Utf8)?;
        let input = datafusion::arrow::array::AsArray::as_string::<i32>(&input);
        let context = crate::context::linked_context(&args.config_options)?;
        let options = &context.input;
        let mut builder = crate::bridge::ColumnBuilder::new(&self.target, rows);
        for row in 0..rows {
            let value = if datafusion::arrow::array::Array::is_null(input, row) {
                bytedata_pgtypes::Value::Null
            } else {
                bytedata_pgtypes::input::parse_text(input.value(row), &self.target, options)
                    .map_err(|e| into_datafusion(e.into()))?
            };
            builder.append(&value).map_err(into_datafusion)?;
        }
        let array = crate::bridge::finish_column(&mut builder);
        crate::bridge::function_result(array, scalar)
    }
}

/// Literals and casts as PostgreSQL types them (see the module documentation); runs
/// before type coercion.
#[derive(Debug)]
pub struct PgLiterals;

impl PgLiterals {
    fn rewrite(&self, expr: Expr, schema: Option<&DFSchema>) -> DfResult<Transformed<Expr>> {
        expr.transform_up(|e| match e {
            Expr::Literal(ScalarValue::Int64(Some(v)), metadata) if i32::try_from(v).is_ok() => Ok(
                Transformed::yes(Expr::Literal(ScalarValue::Int32(Some(v as i32)), metadata)),
            ),
            Expr::Cast(cast) => {
                let target = cast.field.data_type().clone();
                let source = match schema {
                    Some(schema) => cast.expr.get_type(schema).ok(),
                    None => match cast.expr.as_ref() {
                        Expr::Literal(value, _) => Some(value.data_type()),
                        _ => None,
                    },
                };
                // A decimal literal as a float: read from its digits, exactly rounded.
                if let (Expr::Literal(value, _), DataType::Float32 | DataType::Float64) =
                    (cast.expr.as_ref(), &target)
                    && let Some(text) = decimal_text(value)
                    && let Ok(parsed) = text.parse::<f64>()
                {
                    let literal = if target == DataType::Float32 {
                        ScalarValue::Float32(Some(parsed as f32))
                    } else {
                        ScalarValue::Float64(Some(parsed))
                    };
                    return Ok(Transformed::yes(Expr::Literal(literal, None)));
                }
                let text = matches!(
                    source,
                    Some(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
                );
                if text
                    && let Some(sql_type) = crate::bridge::types::sql_type_of_field(&cast.field)
                    && bytedata_pgtypes::input::reads_text(&sql_type)
                {
                    let field = Arc::new(field("", &sql_type, true));
                    let udf = ScalarUDF::new_from_impl(TextCast {
                        target: sql_type,
                        field,
                        signature: Signature::any(1, Volatility::Stable),
                    });
                    return Ok(Transformed::yes(Expr::ScalarFunction(
                        ScalarFunction::new_udf(Arc::new(udf), vec![*cast.expr]),
                    )));
                }
                // An explicit cast to varchar(n) or char(n) cuts the text to n characters
                // (and char pads it), where storing it would fail instead.
                let (length, pad) = match crate::bridge::types::sql_type_of_field(&cast.field) {
                    Some(SqlType::Varchar(Some(n))) => (Some(n), false),
                    Some(SqlType::Char(n)) => (Some(n), true),
                    _ => (None, false),
                };
                if let Some(n) = length {
                    let as_text = datafusion::logical_expr::cast(*cast.expr, DataType::Utf8);
                    let mut cut =
                        datafusion::functions::unicode::expr_fn::left(as_text, lit(i64::from(n)));
                    if pad {
                        cut = datafusion::functions::unicode::expr_fn::rpad(vec![
                            cut,
                            lit(i64::from(n)),
                        ]);
                    }
                    return Ok(Transformed::yes(Expr::Cast(
                        datafusion::logical_expr::Cast::new_from_field(Box::new(cut), cast.field),
                    )));
                }
                Ok(Transformed::no(Expr::Cast(cast)))
            }
            other => Ok(Transformed::no(other)),
        })
    }
}

/// The digits of a decimal literal as a float string (`12345e-2`).
fn decimal_text(value: &ScalarValue) -> Option<String> {
    match value {
        ScalarValue::Decimal128(Some(v), _, scale) => Some(format!("{v}e{}", -i32::from(*scale))),
        ScalarValue::Decimal256(Some(v), _, scale) => Some(format!("{v}e{}", -i32::from(*scale))),
        _ => None,
    }
}

/// VALUES rows whose retyped literals no longer agree within a column (`VALUES (1),
/// ('2')`: an `int4` literal above text read as `int8`) cast to the type DataFusion gave
/// the column, so every row of a column has one type and no type tag of its own.
fn agree_by_column(mut rows: Vec<Vec<Expr>>, planned: &DFSchema) -> DfResult<Vec<Vec<Expr>>> {
    let empty = DFSchema::empty();
    let columns = rows.first().map_or(0, Vec::len);
    for column in 0..columns {
        let fields = rows
            .iter()
            .map(|row| row[column].to_field(&empty).map(|(_, field)| field))
            .collect::<DfResult<Vec<_>>>()?;
        let agree = fields.windows(2).all(|pair| {
            pair[0].data_type() == pair[1].data_type() && pair[0].metadata() == pair[1].metadata()
        });
        if agree {
            continue;
        }
        // One explicit field for every row: a cast to a bare type would keep each
        // row's own tag.
        let target = planned.field(column).data_type().clone();
        let oid = crate::bridge::types::pg_oid_of_arrow(&target);
        let field = Arc::new(
            datafusion::arrow::datatypes::Field::new("", target, true).with_metadata(
                std::collections::HashMap::from([(
                    crate::bridge::types::PG_TYPE_KEY.to_owned(),
                    oid.to_string(),
                )]),
            ),
        );
        for row in rows.iter_mut() {
            let expr = std::mem::replace(&mut row[column], Expr::Literal(ScalarValue::Null, None));
            row[column] = Expr::Cast(datafusion::logical_expr::Cast::new_from_field(
                Box::new(expr),
                field.clone(),
            ));
        }
    }
    Ok(rows)
}

fn input_schema(node: &LogicalPlan) -> Option<DFSchema> {
    let inputs = node.inputs();
    let (first, rest) = inputs.split_first()?;
    let mut merged = first.schema().as_ref().clone();
    for other in rest {
        merged.merge(other.schema());
    }
    Some(merged)
}

impl AnalyzerRule for PgLiterals {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> DfResult<LogicalPlan> {
        // A recursive CTE's types were fixed when its work table was planned: retyping
        // the literals of its first term would no longer match the recursive term. Such
        // a query keeps DataFusion's literal types (bigint for integers).
        let mut recursive = false;
        plan.apply_with_subqueries(|node| {
            recursive |= matches!(node, LogicalPlan::RecursiveQuery(_));
            Ok(if recursive {
                TreeNodeRecursion::Stop
            } else {
                TreeNodeRecursion::Continue
            })
        })?;
        if recursive {
            return Ok(plan);
        }
        Ok(plan
            .transform_up_with_subqueries(|node| {
                // LIMIT and OFFSET take bigint; their literals stay as they are.
                if matches!(node, LogicalPlan::Limit(_)) {
                    return Ok(Transformed::no(node));
                }
                // VALUES keeps its schema: build it again from the rewritten rows.
                if let LogicalPlan::Values(values) = &node {
                    let mut changed = false;
                    let rows = values
                        .values
                        .iter()
                        .map(|row| {
                            row.iter()
                                .map(|e| {
                                    let rewritten = self.rewrite(e.clone(), None)?;
                                    changed |= rewritten.transformed;
                                    Ok(rewritten.data)
                                })
                                .collect::<DfResult<Vec<_>>>()
                        })
                        .collect::<DfResult<Vec<_>>>()?;
                    if !changed {
                        return Ok(Transformed::no(node));
                    }
                    let rows = agree_by_column(rows, values.schema.as_ref())?;
                    return Ok(Transformed::yes(
                        datafusion::logical_expr::LogicalPlanBuilder::values(rows)?.build()?,
                    ));
                }
                let schema = input_schema(&node);
                rewrite_expressions(node, |expr| self.rewrite(expr, schema.as_ref()))
            })?
            .data)
    }

    fn name(&self) -> &str {
        "bytedata_literals"
    }
}
