//! Functions that need the session: sequences (`nextval`, `currval`, `setval`,
//! `lastval`), `version()`, `current_database()`, `current_schema()`,
//! `current_setting()`, and the hidden row ids of tables without a primary key.
//!
//! These are built once for every connection; each call finds its statement (and through
//! it the session's sequence values and settings) in the config options DataFusion hands
//! it (`StatementLink`).

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use bytedata_catalog::Relation;
use bytedata_catalog::descriptor::SequenceDescriptor;
use datafusion::arrow::array::{Array, ArrayRef, Int64Array, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::{as_boolean_array, as_int64_array};
use datafusion::error::Result as DfResult;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion::scalar::ScalarValue;

use crate::context::{StatementContext, linked_context};
use crate::error::{SqlError, into_datafusion};
use datafusion::config::ConfigOptions;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Nextval,
    Currval,
    Setval,
    Lastval,
    NextRowId,
    Version,
    CurrentDatabase,
    CurrentSchema,
    CurrentSetting,
}

struct SessionFunction {
    kind: Kind,
    name: &'static str,
    signature: Signature,
    returns: DataType,
}

impl std::fmt::Debug for SessionFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for SessionFunction {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

impl Eq for SessionFunction {}

impl Hash for SessionFunction {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
    }
}

fn text_arg(args: &[ColumnarValue], i: usize, rows: usize) -> DfResult<Vec<Option<String>>> {
    let array = args[i].to_array(rows)?;
    let array = datafusion::arrow::compute::cast(&array, &DataType::Utf8)?;
    let strings = array
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("cast to Utf8");
    Ok((0..rows)
        .map(|r| strings.is_valid(r).then(|| strings.value(r).to_owned()))
        .collect())
}

impl SessionFunction {
    /// The sequence a `regclass` argument names (`'seq'`, `'schema.seq'`).
    fn sequence(&self, context: &StatementContext, name: &str) -> DfResult<SequenceDescriptor> {
        // The text is a (possibly qualified) name: unquoted parts fold to lower case.
        let dialect = datafusion::sql::sqlparser::dialect::PostgreSqlDialect {};
        let parsed = datafusion::sql::sqlparser::parser::Parser::new(&dialect)
            .try_with_sql(name)
            .and_then(|mut p| p.parse_object_name(false))
            .map_err(|_| {
                into_datafusion(SqlError::new(
                    "42602",
                    format!("invalid name syntax: \"{name}\""),
                ))
            })?;
        let (schema, relation) = crate::syntax::object_name(&parsed).map_err(into_datafusion)?;
        let schemas = match &schema {
            Some(schema) => vec![
                context
                    .database
                    .catalog
                    .schema(&context.txn, schema)
                    .map_err(|e| into_datafusion(e.into()))?,
            ],
            None => context
                .search_schemas()
                .map_err(into_datafusion)?
                .into_iter()
                .map(Some)
                .collect(),
        };
        for schema in schemas.into_iter().flatten() {
            if let Some(Relation::Sequence(sequence)) = context
                .database
                .catalog
                .relation(&context.txn, schema.id, &relation)
                .map_err(|e| into_datafusion(e.into()))?
            {
                return Ok(sequence);
            }
        }
        Err(into_datafusion(SqlError::undefined_table(name)))
    }

    fn invoke(
        &self,
        options: &ConfigOptions,
        args: &[ColumnarValue],
        rows: usize,
    ) -> DfResult<ArrayRef> {
        let rows = rows.max(1);
        if self.kind == Kind::Version {
            // The one function that needs no statement.
            let version = format!(
                "PostgreSQL {} on {}-linux, compiled by rustc, 64-bit",
                crate::context::settings::SERVER_VERSION,
                std::env::consts::ARCH
            );
            return Ok(std::sync::Arc::new(StringArray::from(vec![version; rows])));
        }
        let context = linked_context(options)?;
        let catalog_error = |e: bytedata_catalog::CatalogError| into_datafusion(e.into());
        Ok(match self.kind {
            Kind::Nextval | Kind::Currval => {
                let names = text_arg(args, 0, rows)?;
                let mut out = Vec::with_capacity(rows);
                for name in names {
                    let Some(name) = name else {
                        out.push(None);
                        continue;
                    };
                    let sequence = self.sequence(&context, &name)?;
                    let value = if self.kind == Kind::Nextval {
                        let value = context
                            .database
                            .catalog
                            .nextval(&sequence)
                            .map_err(catalog_error)?;
                        context.shared.currvals.lock().insert(sequence.id, value);
                        *context.shared.last_sequence.lock() = Some(sequence.id);
                        value
                    } else {
                        *context.shared.currvals.lock().get(&sequence.id).ok_or_else(|| {
                            into_datafusion(SqlError::new(
                                "55000",
                                format!("currval of sequence \"{}\" is not yet defined in this session", sequence.name),
                            ))
                        })?
                    };
                    out.push(Some(value));
                }
                std::sync::Arc::new(Int64Array::from(out))
            }
            Kind::Setval => {
                let names = text_arg(args, 0, rows)?;
                let values_array =
                    datafusion::arrow::compute::cast(&args[1].to_array(rows)?, &DataType::Int64)?;
                let values = as_int64_array(&values_array)?;
                let called_array = match args.get(2) {
                    Some(arg) => Some(datafusion::arrow::compute::cast(
                        &arg.to_array(rows)?,
                        &DataType::Boolean,
                    )?),
                    None => None,
                };
                let mut out = Vec::with_capacity(rows);
                for (row, name) in names.into_iter().enumerate() {
                    let (Some(name), true) = (name, values.is_valid(row)) else {
                        out.push(None);
                        continue;
                    };
                    let is_called = match &called_array {
                        Some(array) => as_boolean_array(array)?.value(row),
                        None => true,
                    };
                    let sequence = self.sequence(&context, &name)?;
                    context
                        .database
                        .catalog
                        .setval(&sequence, values.value(row), is_called)
                        .map_err(catalog_error)?;
                    if is_called {
                        context
                            .shared
                            .currvals
                            .lock()
                            .insert(sequence.id, values.value(row));
                    }
                    out.push(Some(values.value(row)));
                }
                std::sync::Arc::new(Int64Array::from(out))
            }
            Kind::Lastval => {
                let last = context.shared.last_sequence.lock().ok_or_else(|| {
                    into_datafusion(SqlError::new(
                        "55000",
                        "lastval is not yet defined in this session",
                    ))
                })?;
                let value = context.shared.currvals.lock().get(&last).copied();
                std::sync::Arc::new(Int64Array::from(vec![value; rows]))
            }
            Kind::NextRowId => {
                let ids_array =
                    datafusion::arrow::compute::cast(&args[0].to_array(rows)?, &DataType::Int64)?;
                let ids = as_int64_array(&ids_array)?;
                let mut out = Vec::with_capacity(rows);
                for row in 0..rows {
                    let table = u32::try_from(ids.value(row))
                        .map_err(|_| into_datafusion(SqlError::internal("bad table id")))?;
                    out.push(
                        context
                            .database
                            .catalog
                            .next_row_id(table)
                            .map_err(catalog_error)?,
                    );
                }
                std::sync::Arc::new(Int64Array::from(out))
            }
            Kind::Version => {
                return Err(into_datafusion(SqlError::internal(
                    "version() without a plan",
                )));
            }
            Kind::CurrentDatabase => {
                let name = context.database.descriptor.name.clone();
                std::sync::Arc::new(StringArray::from(vec![name; rows]))
            }
            Kind::CurrentSchema => {
                let schema = context
                    .search_schemas()
                    .map_err(into_datafusion)?
                    .into_iter()
                    .next()
                    .map(|s| s.name);
                std::sync::Arc::new(StringArray::from(vec![schema; rows]))
            }
            Kind::CurrentSetting => {
                let names = text_arg(args, 0, rows)?;
                // current_setting(name, missing_ok): NULL instead of 42704.
                let missing_ok = match args.get(1) {
                    Some(flag) => {
                        let flag = flag.to_array(rows)?;
                        let flag = as_boolean_array(&flag)?;
                        (0..rows)
                            .map(|i| flag.is_valid(i) && flag.value(i))
                            .collect()
                    }
                    None => vec![false; rows],
                };
                let settings = context.shared.settings.lock().clone();
                let values = names
                    .into_iter()
                    .zip(missing_ok)
                    .map(|(name, missing_ok)| match name.map(|n| settings.get(&n)) {
                        Some(Err(error)) if missing_ok && error.code == "42704" => Ok(None),
                        other => other.transpose(),
                    })
                    .collect::<Result<Vec<_>, SqlError>>()
                    .map_err(into_datafusion)?;
                std::sync::Arc::new(StringArray::from(values))
            }
        })
    }
}

impl ScalarUDFImpl for SessionFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(self.returns.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let scalar = crate::bridge::all_scalar(&args.args);
        let rows = if scalar
            && matches!(
                self.kind,
                Kind::Version
                    | Kind::CurrentDatabase
                    | Kind::CurrentSchema
                    | Kind::CurrentSetting
                    | Kind::Currval
                    | Kind::Lastval
            ) {
            1
        } else {
            args.number_rows
        };
        let array = self.invoke(&args.config_options, &args.args, rows)?;
        if rows == 1 && scalar && args.number_rows <= 1 {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &array, 0,
            )?));
        }
        Ok(ColumnarValue::Array(array))
    }
}

/// Registers the session's functions in its DataFusion state.
pub fn register(state: &mut SessionState) {
    let text = || TypeSignature::Exact(vec![DataType::Utf8]);
    let functions = [
        (
            Kind::Nextval,
            "nextval",
            Signature::one_of(vec![text()], Volatility::Volatile),
            DataType::Int64,
        ),
        (
            Kind::Currval,
            "currval",
            Signature::one_of(vec![text()], Volatility::Volatile),
            DataType::Int64,
        ),
        (
            Kind::Setval,
            "setval",
            Signature::one_of(
                vec![
                    TypeSignature::Exact(vec![DataType::Utf8, DataType::Int64]),
                    TypeSignature::Exact(vec![DataType::Utf8, DataType::Int64, DataType::Boolean]),
                ],
                Volatility::Volatile,
            ),
            DataType::Int64,
        ),
        (
            Kind::Lastval,
            "lastval",
            Signature::exact(vec![], Volatility::Volatile),
            DataType::Int64,
        ),
        (
            Kind::NextRowId,
            "bytedata_next_rowid",
            Signature::exact(vec![DataType::Int64], Volatility::Volatile),
            DataType::Int64,
        ),
        (
            Kind::Version,
            "version",
            Signature::exact(vec![], Volatility::Stable),
            DataType::Utf8,
        ),
        (
            Kind::CurrentDatabase,
            "current_database",
            Signature::exact(vec![], Volatility::Stable),
            DataType::Utf8,
        ),
        (
            Kind::CurrentSchema,
            "current_schema",
            Signature::exact(vec![], Volatility::Stable),
            DataType::Utf8,
        ),
        (
            Kind::CurrentSetting,
            "current_setting",
            Signature::one_of(
                vec![
                    text(),
                    TypeSignature::Exact(vec![DataType::Utf8, DataType::Boolean]),
                ],
                Volatility::Stable,
            ),
            DataType::Utf8,
        ),
    ];
    for (kind, name, signature, returns) in functions {
        let function = SessionFunction {
            kind,
            name,
            signature,
            returns,
        };
        let _ = datafusion::execution::FunctionRegistry::register_udf(
            state,
            Arc::new(ScalarUDF::new_from_impl(function)),
        );
    }
    let _ = datafusion::execution::FunctionRegistry::register_udf(
        state,
        Arc::new(ScalarUDF::new_from_impl(TypeOf {
            signature: Signature::any(1, Volatility::Immutable),
        })),
    );
    for name in ["generate_series", "range"] {
        if let Some(inner) = state
            .table_functions()
            .get(name)
            .map(|f| f.function().clone())
        {
            state.register_udtf(name, Arc::new(PlainLiteralArgs { inner }));
        }
    }
}

/// A table function whose literal arguments lose their field metadata first: our casts
/// tag values with the PostgreSQL type they came from (`'2024-01-01'::timestamp`), and
/// DataFusion's `generate_series` accepts only untagged, nanosecond timestamp literals.
#[derive(Debug)]
struct PlainLiteralArgs {
    inner: Arc<dyn datafusion::catalog::TableFunctionImpl>,
}

impl datafusion::catalog::TableFunctionImpl for PlainLiteralArgs {
    fn call_with_args(
        &self,
        args: datafusion::catalog::TableFunctionArgs,
    ) -> datafusion::error::Result<Arc<dyn datafusion::catalog::TableProvider>> {
        let exprs: Vec<datafusion::logical_expr::Expr> = args
            .exprs()
            .iter()
            .map(|expr| match expr {
                datafusion::logical_expr::Expr::Literal(value, _) => {
                    datafusion::logical_expr::Expr::Literal(nanosecond_timestamp(value), None)
                }
                other => other.clone(),
            })
            .collect();
        self.inner
            .call_with_args(datafusion::catalog::TableFunctionArgs::new(
                &exprs,
                args.session(),
            ))
    }
}

fn nanosecond_timestamp(value: &ScalarValue) -> ScalarValue {
    let scaled = |v: &Option<i64>, factor: i64| v.and_then(|v| v.checked_mul(factor));
    match value {
        ScalarValue::TimestampMicrosecond(v, tz) => {
            ScalarValue::TimestampNanosecond(scaled(v, 1_000), tz.clone())
        }
        ScalarValue::TimestampMillisecond(v, tz) => {
            ScalarValue::TimestampNanosecond(scaled(v, 1_000_000), tz.clone())
        }
        ScalarValue::TimestampSecond(v, tz) => {
            ScalarValue::TimestampNanosecond(scaled(v, 1_000_000_000), tz.clone())
        }
        other => other.clone(),
    }
}

/// `pg_typeof(x)`: the PostgreSQL type of its argument, by name (`integer`,
/// `character varying`), read from the argument's field as planned.
#[derive(Debug, PartialEq, Eq, Hash)]
struct TypeOf {
    signature: Signature,
}

/// The name PostgreSQL's `regtype` output gives a type OID.
fn type_name(oid: u32) -> String {
    match oid {
        26 => "oid".into(),
        18 => "\"char\"".into(),
        705 => "unknown".into(),
        2206 => "regtype".into(),
        2205 => "regclass".into(),
        _ => bytedata_pgtypes::DataType::from_oid(oid)
            .map_or_else(|| "text".into(), |ty| ty.display_name()),
    }
}

impl ScalarUDFImpl for TypeOf {
    fn name(&self) -> &str {
        "pg_typeof"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let field = args
            .arg_fields
            .first()
            .ok_or_else(|| into_datafusion(SqlError::internal("pg_typeof without an argument")))?;
        let (oid, _) = crate::bridge::types::pg_type_of(field);
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(type_name(
            oid,
        )))))
    }
}
