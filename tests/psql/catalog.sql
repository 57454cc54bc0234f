-- Catalog functions and queries drivers and tools send.
CREATE TABLE t (a int PRIMARY KEY, b text NOT NULL DEFAULT 'x', c numeric(10,3));
SELECT current_user, session_user, current_database(), current_schema, current_schemas(true);
SELECT 't'::regclass::oid = (SELECT oid FROM pg_class WHERE relname = 't') AS same_oid, 't'::regclass::text AS name;
SELECT 'integer'::regtype::oid, 23::regtype, 'varchar'::regtype::oid, format_type(1700, 655367);
SELECT attname, format_type(atttypid, atttypmod), attnotnull, atthasdef
  FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 ORDER BY attnum;
SELECT pg_get_indexdef(indexrelid), indisprimary FROM pg_index WHERE indrelid = 't'::regclass;
SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 't'::regclass;
SELECT pg_get_userbyid(relowner), pg_table_is_visible(oid), has_table_privilege(oid, 'SELECT')
  FROM pg_class WHERE relname = 't';
SELECT table_name, column_name, ordinal_position, is_nullable, data_type, numeric_precision, numeric_scale
  FROM information_schema.columns WHERE table_schema = 'public' ORDER BY ordinal_position;
SELECT constraint_name, constraint_type FROM information_schema.table_constraints WHERE table_name = 't';
SELECT schema_name FROM information_schema.schemata ORDER BY 1;
SELECT typname, typlen, typarray FROM pg_type WHERE oid IN (16, 23, 25, 1700) ORDER BY oid;
SELECT pg_encoding_to_char(encoding), datname FROM pg_database ORDER BY datname;
SELECT pg_size_pretty(123456789::bigint), obj_description('t'::regclass, 'pg_class');
SELECT 'nonexistent'::regclass;
SELECT to_regclass('nonexistent') IS NULL AS missing;
-- pgbench's start-up check: where the table is on the search path, and its partitioning.
select o.n, p.partstrat, pg_catalog.count(i.inhparent) from pg_catalog.pg_class as c join pg_catalog.pg_namespace as n on (n.oid = c.relnamespace) cross join lateral (select pg_catalog.array_position(pg_catalog.current_schemas(true), n.nspname)) as o(n) left join pg_catalog.pg_partitioned_table as p on (p.partrelid = c.oid) left join pg_catalog.pg_inherits as i on (c.oid = i.inhparent) where c.relname = 't' and o.n is not null group by 1, 2 order by 1 asc limit 1;
