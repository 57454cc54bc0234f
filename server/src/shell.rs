//! `bytedata sql`: runs statements against a server and prints each result as a table —
//! for a user without psql at hand.

use std::io::Read;
use std::process::ExitCode;

use tokio_postgres::{NoTls, SimpleQueryMessage};

#[derive(Clone, Debug, clap::Args)]
pub struct SqlArgs {
    /// Server host.
    #[arg(long, short = 'H', env = "PGHOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Server port.
    #[arg(long, short = 'p', env = "PGPORT", default_value_t = crate::config::DEFAULT_PORT)]
    pub port: u16,
    /// Role to connect as.
    #[arg(long, short = 'U', env = "PGUSER", default_value = "bytedata")]
    pub user: String,
    /// Database to connect to.
    #[arg(long, short = 'd', env = "PGDATABASE", default_value = "bytedata")]
    pub database: String,
    /// Password (for scram-sha-256).
    #[arg(long, env = "PGPASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// SQL to run (repeatable); without -c or -f, SQL is read from standard input.
    #[arg(long = "command", short = 'c')]
    pub commands: Vec<String>,
    /// A file of SQL to run.
    #[arg(long = "file", short = 'f')]
    pub file: Option<std::path::PathBuf>,
}

/// Renders rows as an aligned table with a header and a row count, like psql.
pub fn render_table(columns: &[String], rows: &[Vec<Option<String>>]) -> String {
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for row in rows {
        for (i, value) in row.iter().enumerate() {
            let len = value.as_deref().unwrap_or("").chars().count();
            widths[i] = widths[i].max(len);
        }
    }
    let mut out = String::new();
    let cells: Vec<String> = columns
        .iter()
        .zip(&widths)
        .map(|(c, w)| format!(" {c:^w$} "))
        .collect();
    out.push_str(cells.join("|").trim_end());
    out.push('\n');
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(w + 2)).collect();
    out.push_str(&rule.join("+"));
    out.push('\n');
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!(" {:<w$} ", v.as_deref().unwrap_or("")))
            .collect();
        out.push_str(cells.join("|").trim_end());
        out.push('\n');
    }
    let n = rows.len();
    out.push_str(&format!("({n} row{})\n", if n == 1 { "" } else { "s" }));
    out
}

async fn run_script(args: &SqlArgs, script: &str) -> Result<(), String> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(&args.host)
        .port(args.port)
        .user(&args.user)
        .dbname(&args.database)
        .application_name("bytedata sql");
    if let Some(password) = &args.password {
        config.password(password);
    }
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| format!("cannot connect to {}:{}: {e}", args.host, args.port))?;
    let driver = tokio::spawn(connection);
    let messages = client
        .simple_query(script)
        .await
        .map_err(|e| match e.as_db_error() {
            Some(db) => format!("ERROR:  {} ({})", db.message(), db.code().code()),
            None => e.to_string(),
        });
    let mut columns: Vec<String> = Vec::new();
    let mut rows: Vec<Vec<Option<String>>> = Vec::new();
    let mut printed = String::new();
    for message in messages.as_deref().unwrap_or_default() {
        match message {
            SimpleQueryMessage::RowDescription(description) => {
                columns = description.iter().map(|c| c.name().to_owned()).collect();
                rows.clear();
            }
            SimpleQueryMessage::Row(row) => {
                if columns.is_empty() {
                    columns = row.columns().iter().map(|c| c.name().to_owned()).collect();
                }
                rows.push(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_owned))
                        .collect(),
                );
            }
            SimpleQueryMessage::CommandComplete(_) => {
                if !columns.is_empty() {
                    printed.push_str(&render_table(&columns, &rows));
                    printed.push('\n');
                }
                columns.clear();
                rows.clear();
            }
            _ => {}
        }
    }
    print!("{printed}");
    drop(client);
    let _ = driver.await;
    messages.map(|_| ())
}

pub fn run(args: SqlArgs) -> ExitCode {
    let mut scripts = args.commands.clone();
    if let Some(path) = &args.file {
        match std::fs::read_to_string(path) {
            Ok(text) => scripts.push(text),
            Err(error) => {
                eprintln!("bytedata sql: cannot read {}: {error}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    if scripts.is_empty() {
        let mut text = String::new();
        if let Err(error) = std::io::stdin().read_to_string(&mut text) {
            eprintln!("bytedata sql: cannot read standard input: {error}");
            return ExitCode::from(2);
        }
        scripts.push(text);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("bytedata sql: {error}");
            return ExitCode::FAILURE;
        }
    };
    for script in scripts {
        if let Err(error) = runtime.block_on(run_script(&args, &script)) {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_like_psql() {
        let table = render_table(
            &["id".into(), "name".into()],
            &[
                vec![Some("1".into()), Some("alpha".into())],
                vec![Some("22".into()), None],
            ],
        );
        assert_eq!(
            table,
            " id | name\n----+-------\n 1  | alpha\n 22 |\n(2 rows)\n"
        );
    }
}
