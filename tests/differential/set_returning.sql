-- generate_series in an expression makes one row per element, beside the rest of the
-- select list; in FROM it is a table.
SELECT generate_series(1, 3);
SELECT generate_series(1, 10, 3) AS x, 'a' AS y;
SELECT generate_series(3, 1);
SELECT a, generate_series(1, a) FROM (VALUES (1), (2), (3)) v(a) ORDER BY 1, 2;
SELECT generate_series(1, 3) + 1 AS next;
SELECT * FROM (SELECT generate_series(1, 3) AS g) s WHERE g > 1;
SELECT generate_series(1, 2) UNION ALL SELECT generate_series(5, 6) ORDER BY 1;
SELECT count(*), sum(g) FROM generate_series(1, 100) g;
SELECT generate_series('2024-01-01'::timestamp, '2024-01-03'::timestamp, interval '1 day');
CREATE TABLE series_source (id int PRIMARY KEY, n int);
INSERT INTO series_source VALUES (1, 2), (2, 0), (3, 1);
SELECT id, generate_series(1, n) AS k FROM series_source ORDER BY id, k;
SELECT x FROM pg_catalog.unnest(ARRAY['a', 'b']) x ORDER BY x;
SELECT array(SELECT 'toast.' || x FROM unnest(ARRAY['a', 'b']) x ORDER BY 1) AS options;
SELECT * FROM unnest(ARRAY[3, 1, 2]) AS u ORDER BY u;
