-- Many-row inserts into a table whose only unique constraint is its primary key are
-- written a batch at a time; what they do must be what writing row after row does.
CREATE TABLE bulk (a int PRIMARY KEY, b int NOT NULL, c text);
INSERT INTO bulk SELECT g, g % 7, md5(g::text) FROM generate_series(1, 20000) g;
SELECT count(*), sum(b), min(a), max(a), max(c) FROM bulk;
-- A taken key fails the whole statement.
INSERT INTO bulk SELECT g, 0, NULL FROM generate_series(19990, 20010) g;
SELECT count(*) FROM bulk;
INSERT INTO bulk SELECT g, 0, 'x' FROM generate_series(19995, 20005) g ON CONFLICT DO NOTHING RETURNING a, c;
INSERT INTO bulk SELECT g, 0, 'y' FROM generate_series(20004, 20008) g ON CONFLICT (a) DO NOTHING;
-- Duplicates within one statement: the first row wins.
INSERT INTO bulk SELECT g % 3 + 30000, g, 'dup' FROM generate_series(1, 9) g ON CONFLICT DO NOTHING RETURNING a;
SELECT a, b FROM bulk WHERE a >= 30000 ORDER BY a;
INSERT INTO bulk SELECT g % 3 + 31000, g, 'dup' FROM generate_series(1, 9) g;
-- The first failing row decides the error: a taken key before a NULL…
INSERT INTO bulk VALUES (40000, 1, 'a'), (1, 1, 'taken'), (40001, NULL, 'null');
-- …a NULL before a taken key…
INSERT INTO bulk VALUES (40000, 1, 'a'), (40001, NULL, 'null'), (1, 1, 'taken');
-- …and DO NOTHING passes over the taken key, not the NULL.
INSERT INTO bulk VALUES (1, 1, 'taken'), (40001, NULL, 'null') ON CONFLICT DO NOTHING;
SELECT count(*) FROM bulk WHERE a >= 40000;
-- Every row gets its secondary index entry.
CREATE TABLE indexed (a int PRIMARY KEY, b int);
CREATE INDEX indexed_b ON indexed (b);
INSERT INTO indexed SELECT g, g % 10 FROM generate_series(1, 10000) g;
SELECT count(*), min(a), max(a) FROM indexed WHERE b = 3;
-- Every row's foreign key is checked.
CREATE TABLE parent (id int PRIMARY KEY);
INSERT INTO parent SELECT g FROM generate_series(1, 100) g;
CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent);
INSERT INTO child SELECT g, g FROM generate_series(1, 101) g;
INSERT INTO child SELECT g, g FROM generate_series(1, 100) g;
SELECT count(*) FROM child;
-- A failed bulk statement rolled back to a savepoint leaves no row and no lock behind.
BEGIN;
SAVEPOINT before_load;
INSERT INTO bulk SELECT g, 1, 'tx' FROM generate_series(50000, 60000) g UNION ALL SELECT 1, 1, 'taken';
ROLLBACK TO SAVEPOINT before_load;
INSERT INTO bulk SELECT g, 1, 'tx' FROM generate_series(50000, 50010) g;
COMMIT;
SELECT count(*), min(a), max(a) FROM bulk WHERE a >= 50000;
-- CREATE TABLE AS writes through the same path, its rows keyed by hidden row ids.
CREATE TABLE copied AS SELECT a, b FROM bulk WHERE a <= 5000;
SELECT count(*), sum(b) FROM copied;
-- ADD PRIMARY KEY writes every row again under its new key, a batch at a time.
CREATE TABLE loose (id int, grp int, note text);
INSERT INTO loose SELECT g, g % 10, md5(g::text) FROM generate_series(1, 10000) g;
CREATE INDEX loose_grp ON loose (grp);
ALTER TABLE loose ADD PRIMARY KEY (id);
SELECT count(*), min(id), max(id) FROM loose WHERE grp = 4;
SELECT note FROM loose WHERE id = 777;
INSERT INTO loose VALUES (777, 0, 'again');
-- A duplicate is the error even after a NULL; a NULL alone is one too.
CREATE TABLE dupes (id int, note text);
INSERT INTO dupes SELECT g, 'x' FROM generate_series(1, 5000) g;
INSERT INTO dupes VALUES (NULL, 'null'), (4999, 'again');
ALTER TABLE dupes ADD PRIMARY KEY (id);
DELETE FROM dupes WHERE note = 'again';
ALTER TABLE dupes ADD PRIMARY KEY (id);
DELETE FROM dupes WHERE id IS NULL;
ALTER TABLE dupes ADD PRIMARY KEY (id);
SELECT count(*) FROM dupes WHERE id BETWEEN 100 AND 199;
