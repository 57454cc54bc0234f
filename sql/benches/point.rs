//! Criterion benchmarks of the SQL layer's hot pieces: key encoding, row decoding into
//! Arrow, point and range statements on the fast path beside the same statements planned
//! by DataFusion (`SET bytedata.fast_path = off`), measured in one run, and statements
//! over many rows (a whole-table aggregate, a bulk INSERT … SELECT), and what a new
//! connection costs. Run with
//! `cargo bench -p bytedata-sql`; the table in docs/benchmarks.md comes from this file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;

use bytedata_catalog::descriptor::{ColumnDescriptor, TableDescriptor};
use bytedata_catalog::keycode::Direction;
use bytedata_catalog::table::TableCodec;
use bytedata_pgtypes::DataType;
use bytedata_pgtypes::Value;
use bytedata_sql::PreparedStatement;
use bytedata_sql::{Cluster, ClusterOptions, QueryResult, Session};
use bytedata_sql::{ColumnBuilder, finish_column};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datafusion::scalar::ScalarValue;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROWS: i32 = 10_000;

/// pgbench_accounts' shape: (aid int primary key, bid int, abalance int, filler char(84)).
fn accounts() -> TableDescriptor {
    let columns = vec![
        ColumnDescriptor::new(1, "aid", DataType::Int4),
        ColumnDescriptor::new(2, "bid", DataType::Int4),
        ColumnDescriptor::new(3, "abalance", DataType::Int4),
        ColumnDescriptor::new(4, "filler", DataType::Char(84)),
    ];
    TableDescriptor::new(
        16_384,
        2200,
        "accounts",
        "bytedata",
        columns,
        Some((
            "accounts_pkey".to_owned(),
            vec![("aid".to_owned(), Direction::Asc)],
        )),
    )
    .expect("a valid table")
}

fn row(i: i32) -> Vec<Value> {
    vec![
        Value::Int4(i),
        Value::Int4(i % 10),
        Value::Int4(0),
        Value::Text(format!("{:<84}", "")),
    ]
}

fn codec(c: &mut Criterion) {
    let table = accounts();
    let codec = TableCodec::new(&table);
    let mut group = c.benchmark_group("codec");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("encode int4 primary key", |b| {
        b.iter(|| {
            i = (i + 7919) % ROWS;
            black_box(codec.encode_key_prefix(&[Value::Int4(i)]).unwrap())
        })
    });
    let stored: Vec<(Vec<u8>, Vec<u8>)> = (0..1000)
        .map(|i| {
            let row = row(i);
            (
                codec.encode_key(&row).unwrap(),
                codec.encode_value(&row).unwrap(),
            )
        })
        .collect();
    group.bench_function("decode a row", |b| {
        b.iter(|| {
            i = (i + 7919) % 1000;
            let (key, value) = &stored[i as usize];
            black_box(codec.decode(key, value).unwrap())
        })
    });
    group.throughput(Throughput::Elements(1000));
    group.bench_function("decode 1000 rows into Arrow columns", |b| {
        b.iter(|| {
            let columns = codec.columns();
            let mut builders: Vec<ColumnBuilder> = columns
                .iter()
                .map(|c| ColumnBuilder::new(&c.data_type, stored.len()))
                .collect();
            for (key, value) in &stored {
                let row = codec.decode(key, value).unwrap();
                for (builder, value) in builders.iter_mut().zip(&row) {
                    builder.append(value).unwrap();
                }
            }
            black_box(builders.iter_mut().map(finish_column).count())
        })
    });
    group.finish();
}

async fn run(session: &mut Session, prepared: &PreparedStatement, params: &[ScalarValue]) -> usize {
    match session.execute_prepared(prepared, params).await.unwrap() {
        QueryResult::Rows { rows, .. } => rows.collect().await.unwrap().len(),
        QueryResult::Command { tag } => tag.len(),
        QueryResult::CopyIn(_) => 0,
    }
}

fn statements(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cluster = Cluster::open(ClusterOptions::memory()).unwrap();
    let mut session = Session::new(Arc::clone(&cluster), "bytedata", "bytedata").unwrap();
    runtime.block_on(async {
        session
            .execute("CREATE TABLE accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84))")
            .await
            .unwrap();
        session
            .execute(&format!(
                "INSERT INTO accounts SELECT g, g % 10, 0, '' FROM generate_series(1, {ROWS}) g"
            ))
            .await
            .unwrap();
    });
    let parse = |sql: &str| {
        let mut statements = bytedata_sql::parse(sql).unwrap();
        PreparedStatement::new(statements.pop().unwrap())
    };
    let select = parse("SELECT abalance FROM accounts WHERE aid = $1");
    let update = parse("UPDATE accounts SET abalance = abalance + $1 WHERE aid = $2");
    let range = parse("SELECT filler FROM accounts WHERE aid BETWEEN $1 AND $1 + 99");
    let range_sum = parse("SELECT sum(bid) FROM accounts WHERE aid BETWEEN $1 AND $1 + 99");
    let range_order =
        parse("SELECT bid FROM accounts WHERE aid BETWEEN $1 AND $1 + 99 ORDER BY bid DESC, aid");
    let multi_key =
        parse("SELECT filler FROM accounts WHERE aid IN ($1, $1 + 7, $1 + 13, $1 + 101, $1 + 977)");
    for statement in [
        &select,
        &update,
        &range,
        &range_sum,
        &range_order,
        &multi_key,
    ] {
        assert!(statement.is_fast(), "{:?}", statement.statement());
    }
    let mut group = c.benchmark_group("short statement");
    group.throughput(Throughput::Elements(1));
    for fast in [true, false] {
        let path = if fast { "fast path" } else { "DataFusion" };
        runtime.block_on(async {
            let setting = if fast { "on" } else { "off" };
            session
                .execute(&format!("SET bytedata.fast_path = {setting}"))
                .await
                .unwrap();
        });
        let mut i = 0;
        group.bench_function(format!("SELECT by key, prepared, {path}"), |b| {
            b.iter(|| {
                i = i % ROWS + 1;
                runtime.block_on(run(&mut session, &select, &[ScalarValue::Int32(Some(i))]))
            })
        });
        let ranged = [
            ("100-row range", &range),
            ("100-row range, sum", &range_sum),
            ("100-row range, ORDER BY", &range_order),
            ("five-key IN list", &multi_key),
        ];
        for (name, statement) in ranged {
            group.bench_function(format!("{name}, prepared, {path}"), |b| {
                b.iter(|| {
                    i = i % (ROWS - 1000) + 1;
                    runtime.block_on(run(&mut session, statement, &[ScalarValue::Int32(Some(i))]))
                })
            });
        }
        group.bench_function(format!("UPDATE by key, prepared, {path}"), |b| {
            b.iter(|| {
                i = i % ROWS + 1;
                let params = [ScalarValue::Int32(Some(1)), ScalarValue::Int32(Some(i))];
                runtime.block_on(run(&mut session, &update, &params))
            })
        });
    }
    group.finish();
}

/// Statements over many rows: an aggregate reading the whole table through the scan's
/// decoder, and INSERT … SELECT writing through the bulk path.
fn bulk_statements(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cluster = Cluster::open(ClusterOptions::memory()).unwrap();
    let mut session = Session::new(Arc::clone(&cluster), "bytedata", "bytedata").unwrap();
    let mut execute = |sql: &str| {
        runtime.block_on(async {
            let mut results = session.execute(sql).await.unwrap();
            match results.pop().unwrap() {
                QueryResult::Rows { rows, .. } => rows.collect().await.unwrap().len(),
                QueryResult::Command { tag } => tag.len(),
                QueryResult::CopyIn(_) => 0,
            }
        })
    };
    execute("CREATE TABLE t (a int PRIMARY KEY, b int, c text)");
    let load =
        format!("INSERT INTO t SELECT g, g % 100, md5(g::text) FROM generate_series(1, {ROWS}) g");
    execute(&load);
    let mut group = c.benchmark_group("bulk statement");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("SELECT count(*), sum(b) over the table", |b| {
        b.iter(|| execute("SELECT count(*), sum(b) FROM t"))
    });
    group.bench_function("INSERT … SELECT into an empty table", |b| {
        b.iter_custom(|iterations| {
            let mut measured = std::time::Duration::ZERO;
            for _ in 0..iterations {
                execute("TRUNCATE t");
                let start = std::time::Instant::now();
                black_box(execute(&load));
                measured += start.elapsed();
            }
            measured
        })
    });
    group.finish();
}

/// What a connection costs the SQL layer: a session over the DataFusion state every
/// connection shares, beside building that state for one connection alone (what each
/// connection paid before it was shared).
fn connections(c: &mut Criterion) {
    let cluster = Cluster::open(ClusterOptions::memory()).unwrap();
    // The shared state is built once, by the first session.
    drop(Session::new(Arc::clone(&cluster), "bytedata", "bytedata").unwrap());
    let mut group = c.benchmark_group("connection");
    group.throughput(Throughput::Elements(1));
    group.bench_function("a new session, DataFusion state shared", |b| {
        b.iter(|| black_box(Session::new(Arc::clone(&cluster), "bytedata", "bytedata").unwrap()))
    });
    group.bench_function("a DataFusion state built for one connection", |b| {
        b.iter(|| black_box(bytedata_sql::fresh_state().unwrap()))
    });
    group.finish();
}

criterion_group!(benches, codec, statements, bulk_statements, connections);
criterion_main!(benches);
