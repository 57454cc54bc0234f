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
