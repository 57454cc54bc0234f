"""One scripted session each through psycopg 3 and SQLAlchemy 2 against a running server.

Usage: python_session.py DSN   (a libpq connection string)
Exits non-zero, with the failing check, if anything differs from what PostgreSQL does.
"""

import sys

import psycopg
from psycopg import errors
import sqlalchemy as sa


def check(label, got, want):
    if got != want:
        raise SystemExit(f"{label}: got {got!r}, want {want!r}")
    print(f"ok - {label}")


def psycopg_session(dsn):
    with psycopg.connect(dsn, autocommit=False) as conn:
        cur = conn.cursor()
        cur.execute("DROP TABLE IF EXISTS py_readings")
        cur.execute(
            "CREATE TABLE py_readings (sensor text, at int, value float8 NOT NULL, "
            "note text, PRIMARY KEY (sensor, at))"
        )
        cur.executemany(
            "INSERT INTO py_readings VALUES (%s, %s, %s, %s)",
            [("a", i, i * 1.5, None if i % 2 else f"n{i}") for i in range(10)]
            + [("b", i, -i, "b") for i in range(5)],
        )
        conn.commit()
        cur.execute(
            "SELECT at, value, note FROM py_readings WHERE sensor = %s AND at >= %s "
            "AND at < %s ORDER BY at",
            ("a", 3, 6),
        )
        check("psycopg range select", cur.fetchall(), [(3, 4.5, None), (4, 6.0, "n4"), (5, 7.5, None)])
        # Binary parameters and results too.
        bcur = conn.cursor(binary=True)
        bcur.execute("SELECT count(*), sum(value) FROM py_readings WHERE sensor = %s", ("b",))
        check("psycopg binary aggregate", bcur.fetchone(), (5, -10.0))
        conn.commit()

        cur.execute("DELETE FROM py_readings WHERE sensor = 'a'")
        check("psycopg delete count", cur.rowcount, 10)
        conn.rollback()
        cur.execute("SELECT count(*) FROM py_readings")
        check("psycopg rollback keeps rows", cur.fetchone()[0], 15)
        conn.commit()

        try:
            cur.execute("INSERT INTO py_readings VALUES ('a', 1, 0, 'dup')")
            raise SystemExit("duplicate key was accepted")
        except errors.UniqueViolation as e:
            check("psycopg unique violation sqlstate", e.sqlstate, "23505")
        conn.rollback()
        try:
            cur.execute("SELECT * FROM no_such_table")
            raise SystemExit("missing table was accepted")
        except errors.UndefinedTable as e:
            check("psycopg undefined table sqlstate", e.sqlstate, "42P01")
        conn.rollback()
        cur.execute("SELECT current_user, current_database(), version()")
        user, database, version = cur.fetchone()
        check("psycopg server version parses", conn.info.server_version >= 150000, True)
        check("psycopg current_database", database, conn.info.dbname)


def sqlalchemy_session(dsn):
    engine = sa.create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn))
    meta = sa.MetaData()
    orders = sa.Table(
        "sa_orders",
        meta,
        sa.Column("region", sa.Text, primary_key=True),
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("note", sa.String(40)),
    )
    sa.Index("sa_orders_amount", orders.c.amount)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS sa_orders"))
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            orders.insert(),
            [{"region": r, "id": i, "amount": i * 10, "note": None} for r in ("eu", "us") for i in range(1, 6)],
        )
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(orders.c.id, orders.c.amount)
            .where(orders.c.region == "us", orders.c.id.between(2, 4))
            .order_by(orders.c.id)
        ).all()
        check("sqlalchemy range select", [(r.id, int(r.amount)) for r in rows], [(2, 20), (3, 30), (4, 40)])
        conn.commit()
        trans = conn.begin()
        conn.execute(orders.delete().where(orders.c.region == "eu"))
        trans.rollback()
        count = conn.execute(sa.select(sa.func.count()).select_from(orders)).scalar_one()
        check("sqlalchemy rollback", count, 10)
        conn.commit()
        try:
            with conn.begin():
                conn.execute(orders.insert(), {"region": "eu", "id": 1, "amount": 1})
            raise SystemExit("duplicate key was accepted")
        except sa.exc.IntegrityError as e:
            check("sqlalchemy integrity error sqlstate", e.orig.sqlstate, "23505")

    inspector = sa.inspect(engine)
    check("sqlalchemy has sa_orders", "sa_orders" in inspector.get_table_names(), True)
    columns = {c["name"]: c for c in inspector.get_columns("sa_orders")}
    check("sqlalchemy column names", list(columns), ["region", "id", "amount", "note"])
    check("sqlalchemy numeric type", str(columns["amount"]["type"]), "NUMERIC(12, 2)")
    check("sqlalchemy varchar type", str(columns["note"]["type"]), "VARCHAR(40)")
    check("sqlalchemy nullability", (columns["amount"]["nullable"], columns["note"]["nullable"]), (False, True))
    pk = inspector.get_pk_constraint("sa_orders")
    check("sqlalchemy primary key", (pk["name"], pk["constrained_columns"]), ("sa_orders_pkey", ["region", "id"]))
    indexes = inspector.get_indexes("sa_orders")
    check(
        "sqlalchemy indexes",
        [(i["name"], i["column_names"], i["unique"]) for i in indexes],
        [("sa_orders_amount", ["amount"], False)],
    )


if __name__ == "__main__":
    dsn = sys.argv[1]
    psycopg_session(dsn)
    sqlalchemy_session(dsn)
    print("python clients: all checks passed")
