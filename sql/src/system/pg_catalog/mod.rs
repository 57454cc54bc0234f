//! The `pg_catalog` tables clients read: psql's `\d` family, drivers' metadata calls,
//! pgbench's start-up checks. Each is computed from the statement's catalog snapshot with
//! PostgreSQL's column names and types, in PostgreSQL's column order (for `SELECT *`),
//! though only the columns clients are known to read carry more than a fixed value.
//!
//! Tables for features ByteData does not have (triggers, policies, publications,
//! inheritance, partitioning, …) exist with their columns and no rows, so the queries
//! that look for such things find none instead of failing.

mod constraints;
mod empty;
mod fixed;
mod relations;
mod roles;
mod stats;
mod views;

use super::columns::{Cell, Columns};
use super::snapshot::Snapshot;
use crate::context::StatementContext;
use constraints::*;
use empty::*;
use fixed::*;
use relations::*;
use roles::*;
use stats::*;
use views::*;

/// Computes a system table's rows from the catalog.
pub type Rows = fn(&Snapshot) -> Vec<Vec<Cell>>;
/// Computes a statistics view's rows from the cluster's live figures.
pub type LiveRows = fn(&StatementContext, &Snapshot) -> Vec<Vec<Cell>>;

pub struct SystemTable {
    pub name: &'static str,
    pub columns: Columns,
    /// `None` for a table that never has rows (or whose rows are `live`).
    pub rows: Option<Rows>,
    pub live: Option<LiveRows>,
}

const fn table(name: &'static str, columns: Columns, rows: Rows) -> SystemTable {
    SystemTable {
        name,
        columns,
        rows: Some(rows),
        live: None,
    }
}

const fn empty(name: &'static str, columns: Columns) -> SystemTable {
    SystemTable {
        name,
        columns,
        rows: None,
        live: None,
    }
}

const fn live(name: &'static str, columns: Columns, rows: LiveRows) -> SystemTable {
    SystemTable {
        name,
        columns,
        rows: None,
        live: Some(rows),
    }
}

pub const TABLES: &[SystemTable] = &[
    table("pg_namespace", PG_NAMESPACE, pg_namespace),
    table("pg_class", PG_CLASS, pg_class),
    table("pg_attribute", PG_ATTRIBUTE, pg_attribute),
    table("pg_attrdef", PG_ATTRDEF, pg_attrdef),
    table("pg_type", PG_TYPE, pg_type),
    table("pg_index", PG_INDEX, pg_index),
    table("pg_constraint", PG_CONSTRAINT, pg_constraint),
    table("pg_database", PG_DATABASE, pg_database),
    table("pg_roles", PG_ROLES, pg_roles),
    table("pg_authid", PG_ROLES, pg_roles),
    table("pg_user", PG_USER, pg_user),
    table("pg_am", PG_AM, pg_am),
    table("pg_tablespace", PG_TABLESPACE, pg_tablespace),
    table("pg_collation", PG_COLLATION, pg_collation),
    table("pg_sequence", PG_SEQUENCE, pg_sequence),
    table("pg_tables", PG_TABLES, pg_tables),
    table("pg_views", PG_VIEWS, pg_views),
    table("pg_indexes", PG_INDEXES, pg_indexes),
    table("pg_sequences", PG_SEQUENCES, pg_sequences),
    live("pg_stat_activity", PG_STAT_ACTIVITY, pg_stat_activity),
    live("pg_stat_statements", PG_STAT_STATEMENTS, pg_stat_statements),
    live("pg_stat_database", PG_STAT_DATABASE, pg_stat_database),
    empty("pg_proc", PG_PROC),
    empty("pg_inherits", PG_INHERITS),
    empty("pg_partitioned_table", PG_PARTITIONED_TABLE),
    empty("pg_description", PG_DESCRIPTION),
    empty("pg_enum", PG_ENUM),
    empty("pg_extension", PG_EXTENSION),
    empty("pg_trigger", PG_TRIGGER),
    empty("pg_policy", PG_POLICY),
    empty("pg_rewrite", PG_REWRITE),
    empty("pg_depend", PG_DEPEND),
    empty("pg_auth_members", PG_AUTH_MEMBERS),
    empty("pg_statistic_ext", PG_STATISTIC_EXT),
    empty("pg_publication", PG_PUBLICATION),
    empty("pg_publication_rel", PG_PUBLICATION_REL),
    empty("pg_publication_namespace", PG_PUBLICATION_NAMESPACE),
    empty("pg_foreign_table", PG_FOREIGN_TABLE),
    empty("pg_range", PG_RANGE),
    empty("pg_opclass", PG_OPCLASS),
];

/// The OIDs PostgreSQL gives its catalog tables (they name object classes, as in
/// `pg_description.classoid = 'pg_class'::regclass`).
const CATALOG_OIDS: &[(&str, u32)] = &[
    ("pg_type", 1247),
    ("pg_attribute", 1249),
    ("pg_proc", 1255),
    ("pg_class", 1259),
    ("pg_authid", 1260),
    ("pg_database", 1262),
    ("pg_attrdef", 2604),
    ("pg_constraint", 2606),
    ("pg_inherits", 2611),
    ("pg_index", 2610),
    ("pg_description", 2609),
    ("pg_namespace", 2615),
    ("pg_trigger", 2620),
    ("pg_am", 2601),
    ("pg_rewrite", 2618),
    ("pg_depend", 2608),
    ("pg_tablespace", 1213),
    ("pg_collation", 3456),
    ("pg_sequence", 2224),
    ("pg_enum", 3501),
    ("pg_extension", 3079),
];

pub fn catalog_table_oid(name: &str) -> Option<u32> {
    CATALOG_OIDS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, oid)| *oid)
}

pub fn catalog_table_name(oid: i64) -> Option<&'static str> {
    CATALOG_OIDS
        .iter()
        .find(|(_, o)| i64::from(*o) == oid)
        .map(|(n, _)| *n)
}

/// Whether a table always has no rows (so a query that needs it can be answered empty).
pub fn always_empty(name: &str) -> bool {
    TABLES
        .iter()
        .any(|t| t.name == name && t.rows.is_none() && t.live.is_none())
}
