//! Runs SQL against a fresh in-memory database and prints the results: a scratch pad for
//! trying the engine without a server.
//!
//! ```text
//! cargo run -p bytedata-sql --example sql -- "CREATE TABLE t (a int); INSERT INTO t VALUES (1)" "SELECT * FROM t"
//! ```
//!
//! Each argument is one query string (which may hold several statements).

use bytedata_pgtypes::TextOptions;
use bytedata_sql::{Cluster, ClusterOptions, QueryResult, Session};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cluster = Cluster::open(ClusterOptions::memory())?;
    let mut session = Session::new(cluster, "bytedata", "bytedata")?;
    for sql in std::env::args().skip(1) {
        println!("> {sql}");
        match session.execute(&sql).await {
            Err(error) => {
                println!("ERROR {}: {}", error.code, error.message);
                if let Some(detail) = &error.detail {
                    println!("DETAIL: {detail}");
                }
            }
            Ok(results) => {
                for result in results {
                    match result {
                        QueryResult::Command { tag } => println!("{tag}"),
                        QueryResult::CopyIn(copy) => {
                            let error = bytedata_sql::SqlError::new(
                                "0A000",
                                "COPY FROM STDIN needs a client that sends data",
                            );
                            let error = session.fail_copy(copy, error);
                            println!("ERROR {}: {}", error.code, error.message);
                        }
                        QueryResult::Rows { schema, rows, tag } => {
                            let names: Vec<&str> =
                                schema.fields().iter().map(|f| f.name().as_str()).collect();
                            println!("{}", names.join(" | "));
                            match rows.collect().await {
                                Ok(batches) => {
                                    let rows =
                                        bytedata_sql::text_rows(&batches, &TextOptions::default());
                                    for row in &rows {
                                        let cells: Vec<String> = row
                                            .iter()
                                            .map(|v| v.clone().unwrap_or_else(|| "NULL".into()))
                                            .collect();
                                        println!("{}", cells.join(" | "));
                                    }
                                    println!(
                                        "({})",
                                        tag.unwrap_or_else(|| format!("SELECT {}", rows.len()))
                                    );
                                }
                                Err(error) => println!("ERROR {}: {}", error.code, error.message),
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}
