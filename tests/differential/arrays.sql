-- Array literals read as arrays (casts and stored columns); subscripts and slices named as PostgreSQL names them.
select (array[1,2,3])[2];
select (array[1,2,3])[1:2];
select '{1,2,3}'::int[];
select cast('{a,b}' as text[]);
select array[1,2] || 3;
CREATE TABLE array_rows (k int PRIMARY KEY, a int[], t text[]);
insert into array_rows values (1, '{1,2,3}', '{x,y}'), (2, array[4,5], array['z']);
select a[1], t[2], a[2:3] from array_rows order by k;
select array_length(a, 1), cardinality(a) from array_rows order by k;
select k from array_rows where 2 = any(a);
select unnest(a) from array_rows order by 1;
select array_agg(k order by k) from array_rows;
