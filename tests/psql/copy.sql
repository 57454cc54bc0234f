-- COPY in both directions, text and CSV, through psql.
CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(8,2), added date);
COPY items FROM STDIN;
1	apple	0.50	2024-01-01
2	pear	\N	2024-01-02
3	tab\there	1.25	\N
\.
COPY items (id, name) FROM STDIN WITH (FORMAT csv, HEADER true);
id,name
4,"quoted, with comma"
5,
\.
SELECT * FROM items ORDER BY id;
COPY items TO STDOUT;
COPY items TO STDOUT WITH (FORMAT csv, HEADER true, NULL 'none');
COPY (SELECT id, name FROM items WHERE id > 3) TO STDOUT WITH (FORMAT csv, DELIMITER '|');
-- A bad row fails the COPY with its line number, and nothing of it is loaded.
COPY items FROM STDIN;
6	fig	1.00	2024-01-06
seven	kiwi	1.00	2024-01-07
\.
SELECT count(*) FROM items;
