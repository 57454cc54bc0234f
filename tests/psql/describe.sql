-- psql's \d family over tables with composite keys, defaults, indexes, checks and
-- foreign keys, a view and a sequence.
CREATE TABLE accounts (id int PRIMARY KEY, region text NOT NULL, balance numeric(12,2) DEFAULT 0, note varchar(40));
CREATE TABLE orders (region text, id bigint, account int REFERENCES accounts(id) ON DELETE CASCADE, amount float8 CHECK (amount > 0), placed timestamptz, PRIMARY KEY (region, id));
CREATE INDEX orders_account ON orders (account);
CREATE UNIQUE INDEX accounts_note ON accounts (note);
CREATE TABLE events (id serial PRIMARY KEY, at date, tags text[]);
CREATE VIEW big_orders AS SELECT region, id, amount FROM orders WHERE amount > 100;
CREATE SEQUENCE tickets START 100;
CREATE SCHEMA audit;
CREATE TABLE audit.log (msg text);
\d
\dt
\d accounts
\d orders
\d events
\d audit.log
\di
\ds
\dv
\dn
\du
\l
\d nonexistent
\dt audit.*
