// One scripted session through node-postgres (`pg`) against a running server.
// Usage: node node_session.js PORT   (connects as bytedata to database bytedata on 127.0.0.1)
// Exits non-zero, naming the failing check, if anything differs from what PostgreSQL does.

const { Client } = require('pg');

function check(label, got, want) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) {
    console.error(`${label}: got ${g}, want ${w}`);
    process.exit(1);
  }
  console.log(`ok - ${label}`);
}

async function expectError(label, promise, sqlstate) {
  try {
    await promise;
  } catch (e) {
    check(label, e.code, sqlstate);
    return;
  }
  console.error(`${label}: no error`);
  process.exit(1);
}

async function main() {
  const client = new Client({
    host: '127.0.0.1',
    port: Number(process.argv[2]),
    user: 'bytedata',
    database: 'bytedata',
  });
  await client.connect();
  await client.query('DROP TABLE IF EXISTS node_events');
  await client.query(
    'CREATE TABLE node_events (tenant int, seq bigint, kind text NOT NULL, payload jsonb, ' +
      'PRIMARY KEY (tenant, seq))',
  );
  for (let tenant = 1; tenant <= 2; tenant++) {
    for (let seq = 1; seq <= 5; seq++) {
      await client.query('INSERT INTO node_events VALUES ($1, $2, $3, $4)', [
        tenant,
        seq,
        seq % 2 ? 'odd' : 'even',
        { seq },
      ]);
    }
  }
  // A named prepared statement, executed twice with different parameters.
  const range = {
    name: 'events_range',
    text: 'SELECT seq, kind, payload FROM node_events WHERE tenant = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq',
  };
  let res = await client.query({ ...range, values: [2, 2, 4] });
  check(
    'node range select',
    res.rows.map((r) => [Number(r.seq), r.kind, r.payload]),
    [
      [2, 'even', { seq: 2 }],
      [3, 'odd', { seq: 3 }],
      [4, 'even', { seq: 4 }],
    ],
  );
  res = await client.query({ ...range, values: [1, 5, 9] });
  check('node prepared statement reused', res.rowCount, 1);

  await client.query('BEGIN');
  res = await client.query('DELETE FROM node_events WHERE tenant = 1');
  check('node delete count', res.rowCount, 5);
  await client.query('ROLLBACK');
  res = await client.query('SELECT count(*)::int AS n FROM node_events');
  check('node rollback keeps rows', res.rows[0].n, 10);

  await expectError(
    'node not-null violation sqlstate',
    client.query('INSERT INTO node_events (tenant, seq) VALUES (3, 1)'),
    '23502',
  );
  await client.query('BEGIN');
  await expectError('node division by zero sqlstate', client.query('SELECT 1 / 0'), '22012');
  await expectError(
    'node aborted transaction sqlstate',
    client.query('SELECT 1'),
    '25P02',
  );
  await client.query('ROLLBACK');
  res = await client.query('SELECT current_user AS u, current_database() AS d');
  check('node session identity', [res.rows[0].u, res.rows[0].d], ['bytedata', 'bytedata']);
  await client.end();
  console.log('node client: all checks passed');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
