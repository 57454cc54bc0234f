-- FETCH FIRST … ROWS ONLY and WITH TIES; names of columns of subqueries in FROM and WITH.
CREATE TABLE fetch_rows (k int PRIMARY KEY, g int, s text);
INSERT INTO fetch_rows VALUES (1, 1, 'a'), (2, 1, 'b'), (3, 2, 'c'), (4, 2, 'd'), (5, 2, 'e'), (6, 3, 'f');
select k from fetch_rows order by k fetch first 2 rows only;
select k from fetch_rows order by k fetch first row only;
select k from fetch_rows order by k offset 1 rows fetch next 2 rows only;
select g, s from fetch_rows order by g fetch first 1 rows with ties;
select g as grp, s from fetch_rows order by grp fetch first 3 rows with ties;
select g, count(*) from fetch_rows group by g order by 2 desc fetch first 1 rows with ties;
select * from fetch_rows order by g offset 2 fetch first 1 row with ties;
select * from fetch_rows fetch first 1 row with ties;
with w as (select * from fetch_rows where k > 1) select s from w order by g desc fetch first 1 rows with ties;
select * from (select k from fetch_rows order by g fetch first 2 rows with ties) x order by k;
select * from (select g, count(*), sum(k), k+1 from fetch_rows group by g, k) x order by 1, 4;
select * from (select 1) x;
select x.count from (select count(*) from fetch_rows) x;
with w as (select g, max(k) from fetch_rows group by g) select * from w order by g;
select * from (select 1 union select 2) u order by 1;
select * from (select g::text, k from fetch_rows) s order by k;
