//! Functions over the live connections and statistics: `pg_cancel_backend`,
//! `pg_terminate_backend`, `pg_stat_statements_reset`, `pg_stat_reset`.
//!
//! They act on other sessions, so each checks the caller's role first, with PostgreSQL's
//! rules and words: a superuser may signal anyone; another role only its own sessions,
//! and never a superuser's. Resetting statistics is for superusers. The functions that
//! return `void` in PostgreSQL return an empty text here (printed the same way).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, Int64Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result as DfResult;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

use crate::context::{StatementContext, linked_context};
use crate::error::{SqlError, into_datafusion};
use datafusion::config::ConfigOptions;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Cancel,
    Terminate,
    ResetStatements,
    ResetDatabase,
}

#[derive(Debug)]
struct ActivityFunction {
    kind: Kind,
    name: &'static str,
    signature: Signature,
}

impl PartialEq for ActivityFunction {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

impl Eq for ActivityFunction {}

impl std::hash::Hash for ActivityFunction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

fn is_superuser(context: &StatementContext) -> bool {
    context
        .cluster
        .login_role(&context.user)
        .ok()
        .flatten()
        .is_some_and(|role| role.superuser)
}

fn role_is_superuser(context: &StatementContext, name: &str) -> bool {
    context
        .cluster
        .login_role(name)
        .ok()
        .flatten()
        .is_some_and(|role| role.superuser)
}

/// The integer argument `i` of each row (`None` for null or a missing argument).
fn ints(args: &[ArrayRef], i: usize, rows: usize) -> DfResult<Vec<Option<i64>>> {
    let Some(array) = args.get(i) else {
        return Ok(vec![None; rows]);
    };
    let array = cast(array, &DataType::Int64)?;
    let array = array
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| into_datafusion(SqlError::internal("an integer argument")))?;
    Ok((0..array.len())
        .map(|row| (!array.is_null(row)).then(|| array.value(row)))
        .collect())
}

impl ActivityFunction {
    /// Signals the backend `pid`: true if it exists and was signalled.
    fn signal(&self, context: &StatementContext, pid: i64) -> Result<bool, SqlError> {
        let Some(backend) = i32::try_from(pid)
            .ok()
            .and_then(|pid| context.cluster.activity().backend(pid))
        else {
            // PostgreSQL warns "PID n is not a PostgreSQL backend process" and answers false.
            return Ok(false);
        };
        let terminate = self.kind == Kind::Terminate;
        if !is_superuser(context) {
            let (superuser_words, role_words) = if terminate {
                (
                    "must be a superuser to terminate superuser process",
                    "must be a member of the role whose process is being terminated or member of pg_signal_backend",
                )
            } else {
                (
                    "must be a superuser to cancel superuser query",
                    "must be a member of the role whose query is being canceled or member of pg_signal_backend",
                )
            };
            if role_is_superuser(context, &backend.info.user) {
                return Err(SqlError::new("42501", superuser_words));
            }
            if backend.info.user != context.user {
                return Err(SqlError::new("42501", role_words));
            }
        }
        if terminate {
            context
                .cluster
                .activity()
                .database(backend.info.database_id)
                .sessions_killed
                .fetch_add(1, Ordering::Relaxed);
            backend.terminate();
        } else {
            backend.cancel();
        }
        Ok(true)
    }

    fn require_superuser(&self, context: &StatementContext) -> Result<(), SqlError> {
        if is_superuser(context) {
            Ok(())
        } else {
            Err(SqlError::new(
                "42501",
                format!("permission denied for function {}", self.name),
            ))
        }
    }

    fn invoke(
        &self,
        options: &ConfigOptions,
        args: &[ArrayRef],
        rows: usize,
    ) -> DfResult<ArrayRef> {
        let context = linked_context(options)?;
        let empty = || Arc::new(StringArray::from(vec![Some(""); rows])) as ArrayRef;
        Ok(match self.kind {
            Kind::Cancel | Kind::Terminate => {
                let signalled = ints(args, 0, rows)?
                    .into_iter()
                    .map(|pid| pid.map(|pid| self.signal(&context, pid)).transpose())
                    .collect::<Result<BooleanArray, SqlError>>()
                    .map_err(into_datafusion)?;
                Arc::new(signalled)
            }
            Kind::ResetStatements => {
                self.require_superuser(&context).map_err(into_datafusion)?;
                let (users, databases, queries) = (
                    ints(args, 0, rows)?,
                    ints(args, 1, rows)?,
                    ints(args, 2, rows)?,
                );
                let activity = context.cluster.activity();
                for row in 0..rows {
                    // 0 (the default) means "any", as in PostgreSQL.
                    let user_oid = users[row].filter(|&oid| oid != 0);
                    let user = match user_oid {
                        Some(oid) => match role_name(&context, oid) {
                            Some(name) => Some(name),
                            None => continue,
                        },
                        None => None,
                    };
                    let database = databases[row]
                        .filter(|&oid| oid != 0)
                        .map(|oid| u32::try_from(oid).unwrap_or(u32::MAX));
                    let query = queries[row].filter(|&id| id != 0);
                    activity.statements.reset(user.as_deref(), database, query);
                }
                empty()
            }
            Kind::ResetDatabase => {
                self.require_superuser(&context).map_err(into_datafusion)?;
                context
                    .cluster
                    .activity()
                    .reset_database(context.database.descriptor.id);
                empty()
            }
        })
    }
}

fn role_name(context: &StatementContext, oid: i64) -> Option<String> {
    let snapshot = crate::system::Snapshot::shared(context).ok()?;
    snapshot.role_name(oid).map(str::to_owned)
}

impl ScalarUDFImpl for ActivityFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(match self.kind {
            Kind::Cancel | Kind::Terminate => DataType::Boolean,
            Kind::ResetStatements | Kind::ResetDatabase => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let options = args.config_options.clone();
        crate::bridge::invoke_on_arrays(&args, |arrays, rows| self.invoke(&options, arrays, rows))
    }
}

/// Registers the functions in a session's DataFusion state.
pub fn register(state: &mut SessionState) {
    // Arguments are cast here, so any integer type is taken (a `$n` in their place is
    // described with PostgreSQL's types: `session::describe`).
    let any = || Signature::variadic_any(Volatility::Volatile);
    let none_or_any = || {
        Signature::one_of(
            vec![TypeSignature::Nullary, TypeSignature::VariadicAny],
            Volatility::Volatile,
        )
    };
    let functions = [
        ("pg_cancel_backend", Kind::Cancel, any()),
        ("pg_terminate_backend", Kind::Terminate, any()),
        (
            "pg_stat_statements_reset",
            Kind::ResetStatements,
            none_or_any(),
        ),
        ("pg_stat_reset", Kind::ResetDatabase, none_or_any()),
    ];
    for (name, kind, signature) in functions {
        let function = ActivityFunction {
            kind,
            name,
            signature,
        };
        let _ = datafusion::execution::FunctionRegistry::register_udf(
            state,
            Arc::new(ScalarUDF::new_from_impl(function)),
        );
    }
}
