//! The fast path's query pipeline against the general path, on generated queries: a
//! table with a composite key, a secondary index and NULLs, and a few thousand queries
//! drawn from the shapes the pipeline runs (ranges, IN lists, index terms, residual
//! filters, aggregates, GROUP BY, DISTINCT, ORDER BY, LIMIT/OFFSET), each run by a session
//! with the fast path and by one without it. Column names, types and every value must
//! agree; rows in order where the query's ORDER BY makes the order total, as sorted lists
//! otherwise. Some queries are prepared and run with parameters, as drivers send them.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use bytedata_sql::{Cluster, ClusterOptions, PreparedStatement, QueryResult, Session};
use datafusion::scalar::ScalarValue;

const QUERIES: usize = 1500;
const ROWS: i32 = 1200;

#[derive(Debug, PartialEq)]
enum Outcome {
    Rows {
        columns: Vec<(String, u32, i32)>,
        rows: Vec<Vec<Option<String>>>,
    },
    Error(String),
}

async fn outcome(session: &mut Session, result: bytedata_sql::Result<QueryResult>) -> Outcome {
    let result = match result {
        Ok(result) => result,
        Err(error) => return Outcome::Error(error.code.to_owned()),
    };
    let QueryResult::Rows { schema, rows, .. } = result else {
        panic!("a query answered with a command");
    };
    let batches = match rows.collect().await {
        Ok(batches) => batches,
        Err(error) => return Outcome::Error(error.code.to_owned()),
    };
    let columns = schema
        .fields()
        .iter()
        .map(|f| {
            let (oid, typmod) = bytedata_sql::pg_type_of(f);
            (f.name().clone(), oid, typmod)
        })
        .collect();
    Outcome::Rows {
        columns,
        rows: bytedata_sql::text_rows(&batches, &session.text_options()),
    }
}

async fn run_text(session: &mut Session, sql: &str) -> Outcome {
    let result = session
        .execute(sql)
        .await
        .map(|mut results| results.remove(0));
    outcome(session, result).await
}

fn sorted(outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Rows { columns, mut rows } => {
            rows.sort();
            Outcome::Rows { columns, rows }
        }
        other => other,
    }
}

struct Generator {
    rng: fastrand::Rng,
}

impl Generator {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.usize(..items.len())]
    }

    fn key(&mut self) -> i32 {
        self.rng.i32(-5..ROWS / 10 + 5)
    }

    /// One WHERE conjunct; the `$1` form when `param` is set (at most once per query).
    fn term(&mut self, param: &mut Option<i32>) -> String {
        let a = self.key();
        match self.rng.u8(..11) {
            0 => format!("a = {a}"),
            1 => {
                if param.is_none() {
                    *param = Some(a);
                    format!("a BETWEEN $1 AND $1 + {}", self.rng.i32(0..15))
                } else {
                    format!("a BETWEEN {a} AND {a} + {}", self.rng.i32(0..15))
                }
            }
            2 => {
                let n = self.rng.usize(1..6);
                let list: Vec<String> = (0..n).map(|_| self.key().to_string()).collect();
                format!("a IN ({})", list.join(", "))
            }
            3 => format!("a {} {a}", self.pick(&["<", "<=", ">", ">=", "<>"])),
            4 => format!(
                "b {} {}",
                self.pick(&["=", "<", ">=", "<>"]),
                self.rng.i32(0..10)
            ),
            5 => format!("d = {}", self.rng.i32(0..30)),
            6 => {
                let d = self.rng.i32(0..30);
                format!("d BETWEEN {d} AND {}", d + self.rng.i32(0..4))
            }
            7 => format!("c >= 'c{}'", self.rng.u8(..10)),
            8 => format!("b IN ({}, {})", self.rng.i32(0..10), self.rng.i32(0..10)),
            9 => format!("{a} <= a"),
            _ => format!("d IN ({}, {})", self.rng.i32(0..30), self.rng.i32(0..30)),
        }
    }

    /// A query, its parameter, and whether its ORDER BY orders its rows totally.
    fn query(&mut self) -> (String, Option<i32>, bool) {
        let mut param = None;
        let terms: Vec<String> = (0..self.rng.usize(1..4))
            .map(|_| self.term(&mut param))
            .collect();
        let filter = terms.join(" AND ");
        match self.rng.u8(..4) {
            // Aggregates, grouped or not.
            0 => {
                let group = self.pick(&["", "d", "c", "b", "e"]);
                let aggregates = [
                    "count(*)",
                    "count(c)",
                    "sum(d)",
                    "min(c)",
                    "max(a)",
                    "avg(d)",
                    "sum(b) AS s",
                ];
                // Distinct items: the general path refuses two of the same name.
                let mut aggregates = aggregates.to_vec();
                self.rng.shuffle(&mut aggregates);
                let n = self.rng.usize(1..4);
                let mut items: Vec<String> =
                    aggregates[..n].iter().map(|a| (*a).to_owned()).collect();
                let mut sql = String::new();
                if !group.is_empty() {
                    items.insert(0, group.to_owned());
                }
                sql.push_str(&format!(
                    "SELECT {} FROM r WHERE {filter}",
                    items.join(", ")
                ));
                if !group.is_empty() {
                    sql.push_str(&format!(" GROUP BY {group} ORDER BY {group} NULLS FIRST"));
                    (sql, param, true)
                } else {
                    (sql, param, true)
                }
            }
            // DISTINCT.
            1 => {
                let columns = self.pick(&["c", "d", "b, d", "e", "c, e"]);
                let order = self.rng.bool();
                let mut sql = format!("SELECT DISTINCT {columns} FROM r WHERE {filter}");
                if order {
                    sql.push_str(&format!(" ORDER BY {columns}"));
                }
                (sql, param, false)
            }
            // Rows, ordered totally, with a limit.
            2 => {
                let columns = self.pick(&["a, b, c", "*", "c, d", "a AS x, e"]);
                let first = self.pick(&["c", "d DESC", "e", "b", "d NULLS FIRST"]);
                let mut sql = format!(
                    "SELECT {columns} FROM r WHERE {filter} ORDER BY {first}, a, b LIMIT {}",
                    self.rng.u8(..20)
                );
                if self.rng.bool() {
                    sql.push_str(&format!(" OFFSET {}", self.rng.u8(..5)));
                }
                (sql, param, true)
            }
            // Rows.
            _ => {
                let columns = self.pick(&["a, b", "c", "*", "d, e, a", "r.c, r.d"]);
                (
                    format!("SELECT {columns} FROM r WHERE {filter}"),
                    param,
                    false,
                )
            }
        }
    }
}

fn session(cluster: &Arc<Cluster>) -> Session {
    Session::new(cluster.clone(), "bytedata", "bytedata").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fast_path_answers_queries_as_the_general_path() {
    let cluster: Arc<Cluster> = Cluster::open(ClusterOptions::memory()).unwrap();
    let mut fast = session(&cluster);
    let mut general = session(&cluster);
    general
        .execute("SET bytedata.fast_path = off")
        .await
        .unwrap();
    let setup = [
        "CREATE TABLE r (a int, b int, c text, d int, e char(3), PRIMARY KEY (a, b))".to_owned(),
        format!(
            "INSERT INTO r SELECT g / 10, g % 10, \
             CASE WHEN g % 13 = 0 THEN NULL ELSE 'c' || (g * 7 % 97) END, \
             CASE WHEN g % 17 = 0 THEN NULL ELSE g % 31 END, \
             'e' || (g % 4) FROM generate_series(0, {}) g",
            ROWS - 1
        ),
        "CREATE INDEX r_d ON r (d)".to_owned(),
    ];
    for sql in &setup {
        fast.execute(sql).await.unwrap();
    }
    let mut generator = Generator {
        rng: fastrand::Rng::with_seed(20261207),
    };
    let mut differences = Vec::new();
    for _ in 0..QUERIES {
        let (sql, param, total) = generator.query();
        let (expected, actual) = match param {
            None => (
                run_text(&mut general, &sql).await,
                run_text(&mut fast, &sql).await,
            ),
            Some(value) => {
                let statement = bytedata_sql::parse(&sql).unwrap().remove(0);
                let prepared = PreparedStatement::new(statement);
                let params = [ScalarValue::Int32(Some(value))];
                let expected = general.execute_prepared(&prepared, &params).await;
                let expected = outcome(&mut general, expected).await;
                let actual = fast.execute_prepared(&prepared, &params).await;
                (expected, outcome(&mut fast, actual).await)
            }
        };
        let (expected, actual) = if total {
            (expected, actual)
        } else {
            (sorted(expected), sorted(actual))
        };
        if expected != actual {
            differences.push(format!(
                "{sql} (param {param:?})\n  general: {expected:?}\n  fast:    {actual:?}"
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {QUERIES} queries differ:\n\n{}",
        differences.len(),
        differences
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    assert_eq!(general.fast_path_runs(), 0, "the fast path ran while off");
    // Most generated queries are shapes the pipeline runs (the rest: floats, bpchar
    // comparisons, and so on, which decline).
    assert!(
        fast.fast_path_runs() >= QUERIES as u64 * 2 / 3,
        "only {} of {QUERIES} queries took the fast path",
        fast.fast_path_runs()
    );
}
