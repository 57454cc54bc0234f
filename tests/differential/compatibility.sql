-- Everyday SQL PostgreSQL users rely on, with PostgreSQL's results and errors.
SELECT mod(7, 3), mod(-7, 3), mod(7::bigint, 3), mod(7.5, 2), mod(10, 2::smallint);
SELECT mod(1, 0);
SELECT mod('10', 4);
SELECT mod('a', 1);
SELECT mod(true, 1);
SELECT gen_random_uuid() IS NOT NULL, length(gen_random_uuid()::text);
SELECT count(DISTINCT gen_random_uuid()) FROM generate_series(1, 50);
SELECT 'a_c' LIKE 'a#_c' ESCAPE '#', 'abc' LIKE 'a#_c' ESCAPE '#', 'a\c' LIKE 'a\c' ESCAPE '';
SELECT 'A%C' ILIKE 'a!%c' ESCAPE '!', 'ABC' ILIKE 'a!%c' ESCAPE '!';
SELECT 1e300::float8, -1e-300::float8, 1e300::float8 = '1e300'::float8;
SELECT nosuch(1);
-- A quoted literal in INSERT … VALUES is read as its column's type, whatever the other rows hold.
CREATE TABLE typed (a int, d date, n numeric(5,2), b bool, t varchar(3));
INSERT INTO typed VALUES (1, '2020-01-01', '1.234', 't', 'abc'), ('x', '2020-01-02', 1, 'f', 'de');
INSERT INTO typed VALUES (1, '2020-01-01', '1.234', 't', 'abc'), (2, 'soon', 1, 'f', 'de');
INSERT INTO typed VALUES ('  7  ', '2020-01-03', '3.145', 'yes', 'x'), (8, NULL, DEFAULT, NULL, NULL);
INSERT INTO typed VALUES (9, '2020-01-04', 1, true, 'toolong');
SELECT * FROM typed ORDER BY a;
-- Interval times and divided by a number, fractions cascading as PostgreSQL's do.
SELECT interval '1 day' * 2, 3 * interval '1 day', interval '1 month' * 1.5, interval '1 day 01:00:00' * 0.5;
SELECT interval '3 mons 4 days 05:06:07' * 0.3, interval '1 hour' * -2.5, interval '1 month' / 4, interval '10 days' / 3;
SELECT interval '1 day' * 1.5::float8, interval '1 day' / 0;
CREATE TABLE spans (id int PRIMARY KEY, span interval, factor float8);
INSERT INTO spans VALUES (1, '1 mon 2 days', 2), (2, '36 hours', 0.25), (3, NULL, 1), (4, '1 day', NULL);
SELECT id, span * factor, span / 2 FROM spans ORDER BY id;
SELECT U&'d\0061t\+000061', E'a\tb';
-- Output names may repeat, as PostgreSQL allows.
CREATE TABLE pairs (k int PRIMARY KEY, v int, w int);
INSERT INTO pairs VALUES (1, 10, 100), (2, 20, 200);
SELECT k AS c, v AS c FROM pairs ORDER BY k;
SELECT v + w AS c, 54 AS c, v AS "C" FROM pairs ORDER BY k;
UPDATE pairs SET v = v WHERE k = 1;
UPDATE pairs SET v = w, w = v WHERE k = 2;
UPDATE pairs SET v = v, w = w;
SELECT * FROM pairs ORDER BY k;
-- FROM ONLY: no table inherits here, so it is the table itself.
SELECT count(*) FROM ONLY pairs;
UPDATE ONLY pairs SET w = w + 1 WHERE k = 1;
SELECT w FROM ONLY pairs WHERE k = 1;
-- to_char of numbers with PostgreSQL's templates.
SELECT to_char(1234.5, '9G999D99'), to_char(-12::int, 'S999'), to_char(3.14159::float8, 'FM9.999'), to_char(42, 'FM99th'), to_char(-0.1, '9.9'), to_char(7, 'RN');
SELECT to_char(4567890123456789::bigint, '9G999G999G999G999G999'), to_char(-4567890123456789::bigint, 'FM9999999999999999THPR'), to_char(12345678901234::bigint, '9.99EEEE');
SELECT to_char(x, '999.99'), to_char(x, 'FM0999.990'), to_char(x, 'MI9999.9') FROM (VALUES (1.5), (-2.25), (1000), (NULL)) t(x) ORDER BY x;
SELECT to_char(1, 'PR9');
SELECT to_char(1.5, '9.9.9');
SELECT round(variance(x::float8)::numeric, 10), round(var_samp(x::float8)::numeric, 10) FROM (VALUES (1), (2), (4)) t(x);
-- format() and the quoting functions.
SELECT format('Hello %s, %1$s', 'World'), format('%s %s', 1.5, true), format('%I.%I', 'public', 'My Table'), format('%L', 'it''s'), format('%-5s|%5s|', 'ab', 'cd');
SELECT format('%s', date '2020-01-02'), quote_ident('select'), quote_literal('a\b'), quote_nullable(NULL), quote_nullable(42), format(NULL, 1) IS NULL, format('x');
SELECT format('%s %s', 'a');
SELECT format('%I', NULL);
SELECT format('%2$s|%*s|', 3, 'x');
-- make_timestamp[tz], justify_*, width_bucket, num_nulls.
SELECT make_timestamp(2014, 12, 28, 6, 30, 45.887), make_timestamptz(1973, 07, 15, 08, 15, 55.33), make_timestamptz(2014, 12, 10, 0, 0, 0, 'Europe/Prague'), make_timestamp(-44, 3, 15, 12, 30, 15);
SELECT make_timestamp(0, 7, 15, 12, 30, 15);
SELECT make_timestamp(2013, 2, 30, 12, 30, 15);
SELECT justify_hours(interval '27 hours'), justify_days(interval '35 days'), justify_interval(interval '1 mon -1 hour'), justify_interval(interval '-1 mon 1 hour');
SELECT width_bucket(5.35, 0.024, 10.06, 5), width_bucket(-1, 0, 10, 5), width_bucket(10, 0, 10, 5), width_bucket(3, 10, 0, 4), num_nulls(1, NULL, 'a', NULL), num_nonnulls(1, NULL, 'a');
SELECT width_bucket(1, 0, 0, 5);
SELECT width_bucket(1, 0, 1, 0);
-- VALUES rows typed by a cast in one row and bare in the others.
SELECT * FROM (VALUES (0::float8), (0.1), (1)) v(p);
SELECT * FROM (VALUES (1::int8), (2), (NULL)) v(p);
SELECT * FROM (VALUES ('a'::text), ('b')) v(p);
SELECT * FROM (VALUES (1.5), (2::numeric)) v(p);
VALUES ('2020-01-01'::date, 1), ('2021-01-01', 2);
SELECT (p * 2)::float8 FROM (VALUES (1::int), (2.5)) v(p);
-- date_part / EXTRACT / date_trunc with centuries, decades, millennia and Julian days.
SELECT extract(century from date '2020-05-01'), extract(century from timestamp '2000-12-31 23:00'), date_part('decade', timestamp '2020-05-01'), date_part('millennium', date '2001-01-01'), extract(millennium from date '2000-12-31'), extract(julian from date '2020-05-01');
SELECT date_trunc('century', timestamp '2020-05-01 10:00'), date_trunc('decade', timestamp '2029-05-01 10:00'), date_trunc('millennium', timestamp '2020-05-01 10:00'), date_trunc('year', timestamp '2020-05-01 10:00');
SELECT d, extract(century from d), extract(decade from d) FROM (VALUES (date '1900-01-01'), (date '1901-01-01'), (NULL)) t(d) ORDER BY d;
SELECT unistr('\0064at\+0000610'), unistr('d\u0061t\U000000610'), unistr('a\\b'), unistr('\D83D\DE00');
SELECT unistr('wrong: \db99');
SELECT unistr('wrong: \+2FFFFF');
SELECT unistr('wrong: \xyz');
-- CREATE TABLE … (LIKE source): names, types and NOT NULL; defaults when asked.
CREATE TABLE like_source (id int PRIMARY KEY, name varchar(20) NOT NULL DEFAULT 'x', n numeric(8,2));
CREATE TABLE like_plain (LIKE like_source);
INSERT INTO like_plain VALUES (1, 'a', 1.5), (1, 'b', 2);
SELECT * FROM like_plain ORDER BY name;
INSERT INTO like_plain (id) VALUES (3);
CREATE TABLE like_defaults (LIKE like_source INCLUDING DEFAULTS);
INSERT INTO like_defaults (id) VALUES (3);
SELECT * FROM like_defaults;
SELECT column_name, data_type, is_nullable, character_maximum_length FROM information_schema.columns WHERE table_name = 'like_plain' ORDER BY ordinal_position;
CREATE TABLE like_missing (LIKE no_such_table);
-- SELECT … INTO is CREATE TABLE AS.
SELECT id, name INTO TABLE select_into_rows FROM like_plain WHERE id = 1;
SELECT * FROM select_into_rows ORDER BY name;
SELECT 1 AS one INTO select_into_rows;
CHECKPOINT;
-- age() in years, months and days; encode/decode in hex, base64 and escape.
select age(timestamp '2001-04-10', timestamp '1957-06-13');
select age(timestamptz '2001-04-10 00:00+00', timestamptz '1957-06-13 00:00+00');
select age(timestamp '2001-03-01', timestamp '2001-01-31'), age(timestamp '2001-01-31', timestamp '2001-03-01');
select age(null::timestamp, timestamp '2001-01-01');
select age(timestamp '2000-03-01 10:00', timestamp '2000-02-28 12:30:00.5');
select encode('\x00ff41'::bytea, 'escape'), decode('a\000b\\c', 'escape'), encode(E'\\x5c'::bytea, 'escape');
select encode('abc', 'hex'), encode('abc'::bytea, 'base64'), decode('YWJj', 'base64'), decode('616263', 'hex');
select decode('zz', 'hex');
select encode(null::bytea, 'hex'), decode('00', null);
select encode('x', 'rot13');
-- UPDATE … SET (a, b) = (SELECT …): one row's columns into several.
create table set_rows_target (k int primary key, a int, b text);
create table set_rows_source (k int primary key, x int, y text);
insert into set_rows_target values (1, 0, 'a'), (2, 0, 'b'), (3, 0, 'c');
insert into set_rows_source values (1, 10, 'ten'), (2, 20, 'twenty');
update set_rows_target set (a, b) = (select x, y from set_rows_source where set_rows_source.k = set_rows_target.k) where k < 3;
select * from set_rows_target order by k;
update set_rows_target set (a, b) = (select x + 1, y || '!' from set_rows_source where set_rows_source.k = set_rows_target.k);
select * from set_rows_target order by k;
update set_rows_target set (a, b) = (select x from set_rows_source where set_rows_source.k = set_rows_target.k);
update set_rows_target set (a) = (select x from set_rows_source);
update set_rows_target set (a, b) = (1, 'one') where k = 1;
select * from set_rows_target order by k;
-- bytea input shares decode's readers: PostgreSQL's errors for bad escapes and hex.
SELECT '\9'::bytea;
SELECT '\x4'::bytea;
SELECT '\x 41 42'::bytea, '\101\\'::bytea;
