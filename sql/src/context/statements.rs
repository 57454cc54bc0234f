//! Statement statistics (`pg_stat_statements`): calls, time and rows per normalised
//! statement, per role and database.
//!
//! A statement is normalised once per parse: its constants become `$n` placeholders
//! (numbered after any the statement already has), so `WHERE id = 5` and `WHERE id = 7`
//! count as one statement, as PostgreSQL counts them. The text is the parse printed
//! back, not the client's spelling. The query id is a stable 64-bit hash of that text.
//! Utility statements (SET, DDL, transaction control) are kept as written, constants
//! and all, as PostgreSQL keeps them.
//!
//! The table holds at most `MAX_STATEMENTS` entries (PostgreSQL's default for
//! `pg_stat_statements.max`); when a new statement finds it full, the least-called
//! twentieth is dropped first.

use std::collections::HashMap;
use std::hash::Hash;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use datafusion::sql::sqlparser::ast::{
    Expr, Statement, UnaryOperator, Value, visit_expressions_mut,
};
use parking_lot::Mutex;

/// Most statements kept (PostgreSQL's `pg_stat_statements.max`).
pub const MAX_STATEMENTS: usize = 5000;

/// A statement as the statistics know it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormalizedStatement {
    pub query_id: i64,
    pub text: Arc<str>,
}

impl NormalizedStatement {
    pub fn of(statement: &Statement) -> Self {
        let text = match statement {
            Statement::Query(_)
            | Statement::Insert(_)
            | Statement::Update(_)
            | Statement::Delete(_)
            | Statement::Merge(_) => normalize(statement),
            other => other.to_string(),
        };
        NormalizedStatement {
            query_id: query_id(&text),
            text: Arc::from(text),
        }
    }
}

/// The statement printed with its constants replaced by `$n`.
fn normalize(statement: &Statement) -> String {
    let mut highest = 0u32;
    let mut statement = statement.clone();
    let _ = visit_expressions_mut(&mut statement, |expr: &mut Expr| {
        if let Expr::Value(value) = expr
            && let Value::Placeholder(name) = &value.value
            && let Some(n) = name.strip_prefix('$').and_then(|n| n.parse::<u32>().ok())
        {
            highest = highest.max(n);
        }
        ControlFlow::<()>::Continue(())
    });
    let mut next = highest;
    // Expressions are visited children first: the placeholder a number just became is
    // what a `-` around it sees next.
    let mut last_number: Option<String> = None;
    let _ = visit_expressions_mut(&mut statement, |expr: &mut Expr| {
        // `-5` is one constant, as PostgreSQL's grammar folds it.
        let folded = match expr {
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr: inner,
            } => match &**inner {
                Expr::Value(v) => match &v.value {
                    Value::Placeholder(name) if last_number.as_deref() == Some(name) => {
                        Some(name.clone())
                    }
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        if let Some(name) = folded {
            *expr = Expr::value(Value::Placeholder(name));
            return ControlFlow::<()>::Continue(());
        }
        let replace = match expr {
            Expr::Value(value) => is_constant(&value.value),
            Expr::TypedString(_) => true,
            _ => false,
        };
        if replace {
            let number = matches!(expr, Expr::Value(v) if matches!(v.value, Value::Number(..)));
            next += 1;
            let name = format!("${next}");
            last_number = number.then(|| name.clone());
            *expr = Expr::value(Value::Placeholder(name));
        }
        ControlFlow::<()>::Continue(())
    });
    statement.to_string()
}

fn is_constant(value: &Value) -> bool {
    !matches!(
        value,
        Value::Placeholder(_) | Value::Null | Value::Boolean(_)
    )
}

/// A 64-bit hash of the text that is the same in every run and on every machine.
fn query_id(text: &str) -> i64 {
    // FNV-1a: tiny, stable, and good enough to tell statements apart.
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = text.bytes().fold(OFFSET, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    });
    hash as i64
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    user: String,
    database_id: u32,
    query_id: i64,
}

/// One row of `pg_stat_statements`.
#[derive(Clone, Debug)]
pub struct StatementEntry {
    pub user: String,
    pub database_id: u32,
    pub query_id: i64,
    pub text: Arc<str>,
    pub calls: u64,
    pub rows: u64,
    pub total_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    /// For the standard deviation: the sum of squared differences from the mean
    /// (Welford's running form, which stays accurate over many calls).
    sum_squares_ms: f64,
    mean_ms: f64,
}

impl StatementEntry {
    pub fn mean_ms(&self) -> f64 {
        self.mean_ms
    }

    /// The population standard deviation, as PostgreSQL reports it.
    pub fn stddev_ms(&self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            (self.sum_squares_ms / self.calls as f64).sqrt()
        }
    }

    fn add(&mut self, elapsed_ms: f64, rows: u64) {
        self.calls += 1;
        self.rows += rows;
        self.total_ms += elapsed_ms;
        if self.calls == 1 {
            self.min_ms = elapsed_ms;
            self.max_ms = elapsed_ms;
        } else {
            self.min_ms = self.min_ms.min(elapsed_ms);
            self.max_ms = self.max_ms.max(elapsed_ms);
        }
        let delta = elapsed_ms - self.mean_ms;
        self.mean_ms += delta / self.calls as f64;
        self.sum_squares_ms += delta * (elapsed_ms - self.mean_ms);
    }
}

#[derive(Default)]
pub struct StatementStats {
    entries: Mutex<HashMap<Key, StatementEntry>>,
}

impl StatementStats {
    /// Counts one finished execution.
    pub fn record(
        &self,
        user: &str,
        database_id: u32,
        statement: &NormalizedStatement,
        elapsed: Duration,
        rows: u64,
    ) {
        let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
        let mut entries = self.entries.lock();
        // The common case — a statement seen before — allocates nothing but the key.
        let key = Key {
            user: user.to_owned(),
            database_id,
            query_id: statement.query_id,
        };
        if let Some(entry) = entries.get_mut(&key) {
            entry.add(elapsed_ms, rows);
            return;
        }
        if entries.len() >= MAX_STATEMENTS {
            evict_least_called(&mut entries);
        }
        let mut entry = StatementEntry {
            user: user.to_owned(),
            database_id,
            query_id: statement.query_id,
            text: statement.text.clone(),
            calls: 0,
            rows: 0,
            total_ms: 0.0,
            min_ms: 0.0,
            max_ms: 0.0,
            sum_squares_ms: 0.0,
            mean_ms: 0.0,
        };
        entry.add(elapsed_ms, rows);
        entries.insert(key, entry);
        debug_assert!(entries.len() <= MAX_STATEMENTS);
    }

    pub fn entries(&self) -> Vec<StatementEntry> {
        self.entries.lock().values().cloned().collect()
    }

    /// `pg_stat_statements_reset(userid, dbid, queryid)`: forgets the entries that match
    /// every given filter (all of them when none is given).
    pub fn reset(&self, user: Option<&str>, database_id: Option<u32>, query_id: Option<i64>) {
        self.entries.lock().retain(|key, _| {
            let matches = user.is_none_or(|u| key.user == u)
                && database_id.is_none_or(|d| key.database_id == d)
                && query_id.is_none_or(|q| key.query_id == q);
            !matches
        });
    }
}

fn evict_least_called(entries: &mut HashMap<Key, StatementEntry>) {
    let mut calls: Vec<(u64, Key)> = entries
        .iter()
        .map(|(key, entry)| (entry.calls, key.clone()))
        .collect();
    calls.sort_by_key(|(calls, _)| *calls);
    let drop = (MAX_STATEMENTS / 20).max(1);
    for (_, key) in calls.into_iter().take(drop) {
        entries.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn normalized(sql: &str) -> NormalizedStatement {
        let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).expect("parses");
        NormalizedStatement::of(&statements[0])
    }

    #[test]
    fn constants_become_placeholders() {
        for (sql, expected) in [
            (
                "select c from t where id = 5",
                "SELECT c FROM t WHERE id = $1",
            ),
            (
                "SELECT c FROM t WHERE id BETWEEN 10 AND 10 + 99 AND s = 'x'",
                "SELECT c FROM t WHERE id BETWEEN $1 AND $2 + $3 AND s = $4",
            ),
            (
                "UPDATE t SET k = k + 1 WHERE id = $1",
                "UPDATE t SET k = k + $2 WHERE id = $1",
            ),
            (
                "INSERT INTO t VALUES (-3, NULL)",
                "INSERT INTO t VALUES ($1, NULL)",
            ),
            (
                "SELECT * FROM t WHERE d > DATE '2026-01-01'",
                "SELECT * FROM t WHERE d > $1",
            ),
        ] {
            assert_eq!(&*normalized(sql).text, expected, "{sql}");
        }
    }

    #[test]
    fn the_same_shape_has_the_same_id() {
        let a = normalized("SELECT c FROM t WHERE id = 1");
        let b = normalized("SELECT c FROM t WHERE id = 2");
        let c = normalized("SELECT c FROM t WHERE k = 2");
        assert_eq!(a, b);
        assert_ne!(a.query_id, c.query_id);
    }

    #[test]
    fn utility_statements_keep_their_constants() {
        assert_eq!(&*normalized("SET work_mem = 64").text, "SET work_mem = 64");
    }

    #[test]
    fn records_calls_time_and_rows() {
        let stats = StatementStats::default();
        let statement = normalized("SELECT 1");
        for ms in [1u64, 3] {
            stats.record("alice", 1, &statement, Duration::from_millis(ms), 1);
        }
        stats.record("bob", 1, &statement, Duration::from_millis(5), 1);
        let mut entries = stats.entries();
        entries.sort_by(|a, b| a.user.cmp(&b.user));
        let alice = &entries[0];
        assert_eq!((alice.calls, alice.rows), (2, 2));
        assert!((alice.total_ms - 4.0).abs() < 1e-9);
        assert!((alice.mean_ms() - 2.0).abs() < 1e-9);
        assert!((alice.min_ms - 1.0).abs() < 1e-9 && (alice.max_ms - 3.0).abs() < 1e-9);
        assert!((alice.stddev_ms() - 1.0).abs() < 1e-9);
        stats.reset(Some("alice"), None, None);
        let left: Vec<String> = stats.entries().into_iter().map(|e| e.user).collect();
        assert_eq!(left, ["bob"]);
    }

    #[test]
    fn a_full_table_drops_the_least_called() {
        let stats = StatementStats::default();
        let frequent = normalized("SELECT 'frequent'");
        stats.record("u", 1, &frequent, Duration::ZERO, 0);
        stats.record("u", 1, &frequent, Duration::ZERO, 0);
        for i in 0..MAX_STATEMENTS {
            let statement = NormalizedStatement {
                query_id: i as i64 + 1_000_000,
                text: Arc::from(format!("q{i}")),
            };
            stats.record("u", 1, &statement, Duration::ZERO, 0);
        }
        let entries = stats.entries();
        assert!(entries.len() <= MAX_STATEMENTS);
        assert!(entries.iter().any(|e| e.query_id == frequent.query_id));
    }
}
