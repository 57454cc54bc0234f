//! `COPY … FROM STDIN` as the session runs it: checked and begun here, fed by the server
//! (`copy::CopyIn`), then loaded all or nothing in the statement's transaction.
//! `COPY … FROM 'file'` (superusers only, as in PostgreSQL) is the same load fed from a
//! file the server reads itself.

use bytedata_mvcc::Transaction;
use datafusion::sql::sqlparser::ast::{self, Statement};

use super::Session;
use crate::context::result::QueryResult;
use crate::copy::{CopyIn, CopyLoader, CopyOptions, Received, TypedLoad};
use crate::error::{Result, SqlError};

/// How much of a `COPY … FROM 'file'` is read at a time.
const FILE_CHUNK_BYTES: usize = 1 << 20;

impl Session {
    /// Runs a COPY statement: `FROM 'file'` to the end here, `FROM STDIN` up to the
    /// `CopyIn` the server feeds.
    pub(super) async fn copy(&mut self, mut statement: Statement) -> Result<QueryResult> {
        let Statement::Copy {
            to: false,
            target: target @ ast::CopyTarget::File { .. },
            ..
        } = &mut statement
        else {
            return self.start_copy(statement);
        };
        let ast::CopyTarget::File { filename } = std::mem::replace(target, ast::CopyTarget::Stdin)
        else {
            return Err(SqlError::internal("COPY target changed"));
        };
        if !self.settings.get("is_superuser").is_ok_and(|v| v == "on") {
            return Err(SqlError::new(
                "42501",
                "must be superuser or have privileges of the pg_read_server_files role to COPY from a file",
            )
            .with_hint(
                "Anyone can COPY to stdout or from stdin. psql's \\copy command also works for anyone.",
            ));
        }
        let path = std::path::Path::new(&filename);
        if !path.is_absolute() {
            return Err(SqlError::new(
                "42602",
                format!("relative path not allowed for COPY from file \"{filename}\""),
            ));
        }
        let mut file = std::fs::File::open(path).map_err(|e| file_error(&filename, &e))?;
        let QueryResult::CopyIn(mut copy) = self.start_copy(statement)? else {
            return Err(SqlError::internal("COPY FROM did not start a load"));
        };
        let mut chunk = vec![0u8; FILE_CHUNK_BYTES];
        loop {
            let read = match std::io::Read::read(&mut file, &mut chunk) {
                Ok(0) => break,
                Ok(read) => read,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.fail_copy(copy, file_error(&filename, &e))),
            };
            if let Err(error) = copy.feed(&chunk[..read]).await {
                return Err(self.fail_copy(copy, error));
            }
        }
        self.finish_copy(copy).await
    }

    /// Starts a `COPY … FROM STDIN`: checks the table and options, and returns the
    /// `CopyIn` that collects the data.
    pub(super) fn start_copy(&mut self, statement: Statement) -> Result<QueryResult> {
        let Statement::Copy {
            source,
            to,
            target,
            options,
            legacy_options,
            values,
        } = statement
        else {
            return Err(SqlError::internal("not a COPY statement"));
        };
        if to {
            return Err(SqlError::unsupported("COPY TO"));
        }
        if !matches!(target, ast::CopyTarget::Stdin) {
            return Err(SqlError::new(
                "42501",
                "COPY from a program is not allowed; use COPY FROM STDIN",
            ));
        }
        let ast::CopySource::Table {
            table_name,
            columns,
        } = source
        else {
            return Err(SqlError::unsupported("COPY from a query"));
        };
        if !values.is_empty() {
            return Err(SqlError::unsupported("COPY with inline data"));
        }
        let options = CopyOptions::from_statement(&options, &legacy_options)?;
        let (txn, autocommit) = match &self.transaction {
            Some(active) => (active.txn.clone(), false),
            None => (self.begin_transaction(None, None), true),
        };
        let targets = txn.new_statement().map_err(SqlError::from).and_then(|()| {
            let planner = self.planner(&txn);
            let names: Vec<ast::ObjectName> = columns
                .iter()
                .map(|c| ast::ObjectName::from(vec![c.clone()]))
                .collect();
            let targets = crate::dml::copy_targets(&planner, &table_name, &names)?;
            // Lines that fill every column are written as they arrive, by a loader
            // that takes the statement's planner along.
            let typed = if targets.complete {
                let row_id = targets.row_id;
                Some(TypedLoad {
                    loader: CopyLoader::start(move |receiver| {
                        crate::dml::load_rows(planner, targets.table, row_id, receiver)
                    })?,
                    positions: targets.positions,
                    row_width: targets.row_width,
                })
            } else {
                None
            };
            Ok((targets.columns, typed))
        });
        match targets {
            Ok((targets, typed)) => Ok(QueryResult::CopyIn(Box::new(CopyIn::new(
                table_name,
                columns,
                targets,
                self.input_options(),
                options,
                txn,
                autocommit,
                typed,
            )))),
            Err(error) => Err(self.end_copy_with(txn, autocommit, error)),
        }
    }

    /// Loads what a `COPY … FROM STDIN` received, all or nothing (`COPY n`).
    pub async fn finish_copy(&mut self, mut copy: Box<CopyIn>) -> Result<QueryResult> {
        let loaded = match copy.finish_input().await {
            Ok(Received::Loaded(count)) => Ok(count),
            Ok(Received::Text(schema, batches)) => {
                crate::dml::copy_rows(&self.planner(&copy.txn), &copy, schema, batches).await
            }
            Err(error) => Err(error),
        };
        match loaded {
            Ok(count) => {
                if copy.autocommit {
                    copy.txn.commit()?;
                }
                Ok(QueryResult::command(format!("COPY {count}")))
            }
            Err(error) => {
                let error = copy.abort(error);
                Err(self.end_copy_with(copy.txn.clone(), copy.autocommit, error))
            }
        }
    }

    /// Abandons a `COPY … FROM STDIN` (bad data, or the client's CopyFail): nothing is
    /// loaded, and the error is returned to be reported.
    pub fn fail_copy(&mut self, mut copy: Box<CopyIn>, error: SqlError) -> SqlError {
        let error = copy.abort(error);
        self.end_copy_with(copy.txn.clone(), copy.autocommit, error)
    }

    pub(super) fn end_copy_with(
        &mut self,
        txn: Transaction,
        autocommit: bool,
        error: SqlError,
    ) -> SqlError {
        if autocommit {
            let _ = txn.rollback();
        } else if let Some(active) = &mut self.transaction {
            active.failed = true;
        }
        error
    }
}

/// PostgreSQL's words for a file COPY cannot read.
fn file_error(filename: &str, error: &std::io::Error) -> SqlError {
    let code = match error.kind() {
        std::io::ErrorKind::NotFound => "58P01",
        std::io::ErrorKind::PermissionDenied => "42501",
        _ => "58030",
    };
    let reason = match error.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".to_owned(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".to_owned(),
        _ => error.to_string(),
    };
    SqlError::new(
        code,
        format!("could not open file \"{filename}\" for reading: {reason}"),
    )
}
