//! Statements the session answers itself: SET, SHOW, RESET, DISCARD, and those accepted
//! without doing anything (ANALYZE, VACUUM).

use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema};
use datafusion::sql::sqlparser::ast::{self, Statement};

use super::Session;
use super::transaction::transaction_modes;
use crate::context::result::{QueryResult, Rows};
use crate::context::settings::{Settings, isolation_name};
use crate::error::{Result, SqlError};

impl Session {
    /// SET, SHOW, RESET and statements accepted without doing anything.
    pub(super) fn utility(&mut self, statement: &Statement) -> Result<Option<QueryResult>> {
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
            statement if crate::syntax::is_checkpoint(statement) => {
                if !self.settings.get("is_superuser").is_ok_and(|v| v == "on") {
                    return Err(SqlError::new(
                        "42501",
                        "must be superuser or have privileges of pg_checkpoint to do CHECKPOINT",
                    ));
                }
                self.cluster.checkpoint()?;
                QueryResult::command("CHECKPOINT")
            }
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

    pub(super) fn set(&mut self, set: &ast::Set) -> Result<QueryResult> {
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

    pub(super) fn show(&self, name: &str) -> Result<QueryResult> {
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
                    (Settings::display_name(name), vec![(String::new(), value)])
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
}
