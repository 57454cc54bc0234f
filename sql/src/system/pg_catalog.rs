//! The `pg_catalog` tables clients read: psql's `\d` family, drivers' metadata calls,
//! pgbench's start-up checks. Each is computed from the statement's catalog snapshot with
//! PostgreSQL's column names and types, in PostgreSQL's column order (for `SELECT *`),
//! though only the columns clients are known to read carry more than a fixed value.
//!
//! Tables for features ByteData does not have (triggers, policies, publications,
//! inheritance, partitioning, …) exist with their columns and no rows, so the queries
//! that look for such things find none instead of failing.

use bytedata_catalog::catalog::PG_CATALOG_SCHEMA;
use bytedata_catalog::descriptor::RelationKind;

use super::columns::{Cell, Columns, Kind::*, row};
use super::snapshot::{
    BOOTSTRAP_SUPERUSER_OID, BTREE_AM_OID, Constraint, DEFAULT_TABLESPACE_OID, HEAP_AM_OID,
    Snapshot, action_code, attnum, attributes,
};
use super::types::BUILTIN_TYPES;

/// Computes a system table's rows.
pub type Rows = fn(&Snapshot) -> Vec<Vec<Cell>>;

pub struct SystemTable {
    pub name: &'static str,
    pub columns: Columns,
    /// `None` for a table that never has rows.
    pub rows: Option<Rows>,
}

const fn table(name: &'static str, columns: Columns, rows: Rows) -> SystemTable {
    SystemTable {
        name,
        columns,
        rows: Some(rows),
    }
}

const fn empty(name: &'static str, columns: Columns) -> SystemTable {
    SystemTable {
        name,
        columns,
        rows: None,
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
    TABLES.iter().any(|t| t.name == name && t.rows.is_none())
}

const PG_NAMESPACE: Columns = &[
    ("oid", Oid),
    ("nspname", Name),
    ("nspowner", Oid),
    ("nspacl", TextArray),
];

fn pg_namespace(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.schemas
        .iter()
        .map(|n| row![n.id, &n.name, s.role_oid(&n.owner), Cell::Null])
        .collect()
}

const PG_CLASS: Columns = &[
    ("oid", Oid),
    ("relname", Name),
    ("relnamespace", Oid),
    ("reltype", Oid),
    ("reloftype", Oid),
    ("relowner", Oid),
    ("relam", Oid),
    ("relfilenode", Oid),
    ("reltablespace", Oid),
    ("relpages", Int4),
    ("reltuples", Float4),
    ("relallvisible", Int4),
    ("reltoastrelid", Oid),
    ("relhasindex", Bool),
    ("relisshared", Bool),
    ("relpersistence", Char),
    ("relkind", Char),
    ("relnatts", Int2),
    ("relchecks", Int2),
    ("relhasrules", Bool),
    ("relhastriggers", Bool),
    ("relhassubclass", Bool),
    ("relrowsecurity", Bool),
    ("relforcerowsecurity", Bool),
    ("relispopulated", Bool),
    ("relreplident", Char),
    ("relispartition", Bool),
    ("relrewrite", Oid),
    ("relacl", TextArray),
    ("reloptions", TextArray),
    ("relpartbound", Text),
];

#[allow(clippy::too_many_arguments)]
fn class_row(
    oid: u32,
    name: &str,
    namespace: u32,
    owner: u32,
    am: u32,
    has_index: bool,
    has_triggers: bool,
    kind: char,
    natts: usize,
    checks: usize,
    options: Option<Vec<String>>,
) -> Vec<Cell> {
    row![
        oid,
        name,
        namespace,
        0u32,
        0u32,
        owner,
        am,
        oid,
        0u32,
        0i32,
        -1.0f64,
        0i32,
        0u32,
        has_index,
        false,
        'p',
        kind,
        natts,
        checks,
        false,
        has_triggers,
        false,
        false,
        false,
        true,
        'd',
        false,
        0u32,
        Cell::Null,
        options,
        Cell::Null,
    ]
}

fn pg_class(s: &Snapshot) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for t in &s.tables {
        let (kind, am) = match t.kind {
            RelationKind::Table => ('r', HEAP_AM_OID),
            RelationKind::View { .. } => ('v', 0),
        };
        let has_index = kind == 'r' && (!t.has_hidden_row_id() || !t.indexes.is_empty());
        let options = (!t.options.is_empty())
            .then(|| t.options.iter().map(|(k, v)| format!("{k}={v}")).collect());
        rows.push(class_row(
            t.id,
            &t.name,
            t.schema_id,
            s.role_oid(&t.owner),
            am,
            has_index,
            // PostgreSQL checks foreign keys with triggers on both tables, and psql
            // looks for foreign keys only where this is set.
            !t.foreign_keys.is_empty() || !t.referenced_by.is_empty(),
            kind,
            attributes(t).count(),
            t.checks.len(),
            options,
        ));
    }
    for index in s.indexes() {
        rows.push(class_row(
            index.oid,
            index.name,
            index.table.schema_id,
            s.role_oid(&index.table.owner),
            BTREE_AM_OID,
            false,
            false,
            'i',
            index.columns.len(),
            0,
            None,
        ));
    }
    for q in &s.sequences {
        rows.push(class_row(
            q.id,
            &q.name,
            q.schema_id,
            s.role_oid(&q.owner),
            0,
            false,
            false,
            'S',
            3,
            0,
            None,
        ));
    }
    rows
}

const PG_ATTRIBUTE: Columns = &[
    ("attrelid", Oid),
    ("attname", Name),
    ("atttypid", Oid),
    ("attstattarget", Int4),
    ("attlen", Int2),
    ("attnum", Int2),
    ("attndims", Int4),
    ("attcacheoff", Int4),
    ("atttypmod", Int4),
    ("attbyval", Bool),
    ("attalign", Char),
    ("attstorage", Char),
    ("attcompression", Char),
    ("attnotnull", Bool),
    ("atthasdef", Bool),
    ("atthasmissing", Bool),
    ("attidentity", Char),
    ("attgenerated", Char),
    ("attisdropped", Bool),
    ("attislocal", Bool),
    ("attinhcount", Int4),
    ("attcollation", Oid),
    ("attacl", TextArray),
    ("attoptions", TextArray),
    ("attfdwoptions", TextArray),
    ("attmissingval", TextArray),
];

fn pg_attribute(s: &Snapshot) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for t in &s.tables {
        for (num, c) in attributes(t) {
            let dropped = c.is_dropped();
            let name = if dropped {
                format!("........pg.dropped.{num}........")
            } else {
                c.name.clone()
            };
            let identity = match c.identity {
                Some(bytedata_catalog::descriptor::Identity::Always { .. }) => "a",
                Some(bytedata_catalog::descriptor::Identity::ByDefault { .. }) => "d",
                None => "",
            };
            let collation = if super::types::is_collatable(c.data_type.oid()) {
                100u32
            } else {
                0
            };
            let dims = i32::from(matches!(c.data_type, bytedata_pgtypes::DataType::Array(_)));
            rows.push(row![
                t.id,
                name,
                if dropped { 0 } else { c.data_type.oid() },
                -1i32,
                c.data_type.byte_length(),
                num,
                dims,
                -1i32,
                c.data_type.typmod(),
                c.data_type.byte_length() > 0 && c.data_type.byte_length() <= 8,
                'i',
                'p',
                "",
                !c.nullable || t.is_key_column(c.id),
                c.default.is_some(),
                c.missing.is_some(),
                identity,
                "",
                dropped,
                true,
                0i32,
                collation,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Null,
            ]);
        }
    }
    rows
}

const PG_ATTRDEF: Columns = &[
    ("oid", Oid),
    ("adrelid", Oid),
    ("adnum", Int2),
    ("adbin", Text),
];

fn pg_attrdef(s: &Snapshot) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for t in &s.tables {
        for (num, c) in attributes(t) {
            if let Some(default) = &c.default {
                let oid = super::snapshot::derived_oid(t.id, 128 + u32::from(num.unsigned_abs()));
                rows.push(row![oid, t.id, num, default]);
            }
        }
    }
    rows
}

const PG_TYPE: Columns = &[
    ("oid", Oid),
    ("typname", Name),
    ("typnamespace", Oid),
    ("typowner", Oid),
    ("typlen", Int2),
    ("typbyval", Bool),
    ("typtype", Char),
    ("typcategory", Char),
    ("typispreferred", Bool),
    ("typisdefined", Bool),
    ("typdelim", Char),
    ("typrelid", Oid),
    ("typsubscript", Text),
    ("typelem", Oid),
    ("typarray", Oid),
    ("typinput", Text),
    ("typoutput", Text),
    ("typreceive", Text),
    ("typsend", Text),
    ("typmodin", Text),
    ("typmodout", Text),
    ("typanalyze", Text),
    ("typalign", Char),
    ("typstorage", Char),
    ("typnotnull", Bool),
    ("typbasetype", Oid),
    ("typtypmod", Int4),
    ("typndims", Int4),
    ("typcollation", Oid),
    ("typdefaultbin", Text),
    ("typdefault", Text),
    ("typacl", TextArray),
];

fn pg_type(_: &Snapshot) -> Vec<Vec<Cell>> {
    BUILTIN_TYPES
        .iter()
        .map(|t| {
            let collation = if super::types::is_collatable(t.oid) {
                100u32
            } else {
                0
            };
            row![
                t.oid,
                t.name,
                PG_CATALOG_SCHEMA,
                BOOTSTRAP_SUPERUSER_OID,
                t.len,
                t.len > 0 && t.len <= 8,
                t.kind,
                t.category,
                t.preferred,
                true,
                ',',
                0u32,
                if t.element != 0 {
                    "array_subscript_handler"
                } else {
                    "-"
                },
                t.element,
                t.array,
                format!("{}in", t.io),
                format!("{}out", t.io),
                format!("{}recv", t.io),
                format!("{}send", t.io),
                "-",
                "-",
                "-",
                if t.len == 8 || t.len == -1 { 'd' } else { 'i' },
                if t.len == -1 { 'x' } else { 'p' },
                false,
                0u32,
                -1i32,
                0i32,
                collation,
                Cell::Null,
                Cell::Null,
                Cell::Null,
            ]
        })
        .collect()
}

const PG_INDEX: Columns = &[
    ("indexrelid", Oid),
    ("indrelid", Oid),
    ("indnatts", Int2),
    ("indnkeyatts", Int2),
    ("indisunique", Bool),
    ("indnullsnotdistinct", Bool),
    ("indisprimary", Bool),
    ("indisexclusion", Bool),
    ("indimmediate", Bool),
    ("indisclustered", Bool),
    ("indisvalid", Bool),
    ("indcheckxmin", Bool),
    ("indisready", Bool),
    ("indislive", Bool),
    ("indisreplident", Bool),
    ("indkey", Int2Vector),
    ("indcollation", OidVector),
    ("indclass", OidVector),
    ("indoption", Int2Vector),
    ("indexprs", Text),
    ("indpred", Text),
];

fn pg_index(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.indexes()
        .map(|i| {
            let keys: Vec<i64> = i
                .columns
                .iter()
                .map(|k| attnum(i.table, k.column).map_or(0, i64::from))
                .collect();
            let options: Vec<i64> = i
                .columns
                .iter()
                .map(|k| match k.direction {
                    bytedata_catalog::keycode::Direction::Asc => 0,
                    bytedata_catalog::keycode::Direction::Desc => 3,
                })
                .collect();
            let zeros = vec![0i64; keys.len()];
            row![
                i.oid,
                i.table.id,
                keys.len(),
                keys.len(),
                i.unique,
                false,
                i.primary,
                false,
                true,
                false,
                true,
                false,
                true,
                true,
                false,
                keys,
                zeros.clone(),
                zeros,
                options,
                Cell::Null,
                Cell::Null,
            ]
        })
        .collect()
}

const PG_CONSTRAINT: Columns = &[
    ("oid", Oid),
    ("conname", Name),
    ("connamespace", Oid),
    ("contype", Char),
    ("condeferrable", Bool),
    ("condeferred", Bool),
    ("convalidated", Bool),
    ("conrelid", Oid),
    ("contypid", Oid),
    ("conindid", Oid),
    ("conparentid", Oid),
    ("confrelid", Oid),
    ("confupdtype", Char),
    ("confdeltype", Char),
    ("confmatchtype", Char),
    ("conislocal", Bool),
    ("coninhcount", Int4),
    ("connoinherit", Bool),
    ("conkey", Int2Array),
    ("confkey", Int2Array),
    ("conpfeqop", OidArray),
    ("conppeqop", OidArray),
    ("conffeqop", OidArray),
    ("confdelsetcols", Int2Array),
    ("conexclop", OidArray),
    ("conbin", Text),
];

fn pg_constraint(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.constraints()
        .map(|c| {
            let attnums = |table: Option<&bytedata_catalog::descriptor::TableDescriptor>,
                           ids: &mut dyn Iterator<Item = u32>| {
                ids.map(|id| table.and_then(|t| attnum(t, id)).map_or(0, i64::from))
                    .collect::<Vec<i64>>()
            };
            let (index, key, foreign_table, foreign_key, update, delete, bin) = match &c.constraint
            {
                Constraint::PrimaryKey(columns) => (
                    super::snapshot::derived_oid(c.table.id, 0).unwrap_or(0),
                    Some(attnums(
                        Some(c.table),
                        &mut columns.iter().map(|k| k.column),
                    )),
                    0,
                    None,
                    ' ',
                    ' ',
                    None,
                ),
                Constraint::Check(check) => {
                    (0, None, 0, None, ' ', ' ', Some(check.expression.clone()))
                }
                Constraint::ForeignKey(f) => {
                    let referenced = s.table(i64::from(f.referenced_table));
                    (
                        0,
                        Some(attnums(Some(c.table), &mut f.columns.iter().copied())),
                        f.referenced_table,
                        Some(attnums(
                            referenced,
                            &mut f.referenced_columns.iter().copied(),
                        )),
                        action_code(f.on_update),
                        action_code(f.on_delete),
                        None,
                    )
                }
            };
            row![
                c.oid,
                c.name,
                c.table.schema_id,
                c.contype(),
                false,
                false,
                true,
                c.table.id,
                0u32,
                index,
                0u32,
                foreign_table,
                update,
                delete,
                if foreign_table == 0 { ' ' } else { 's' },
                true,
                0i32,
                false,
                key,
                foreign_key,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                bin,
            ]
        })
        .collect()
}

const PG_DATABASE: Columns = &[
    ("oid", Oid),
    ("datname", Name),
    ("datdba", Oid),
    ("encoding", Int4),
    ("datlocprovider", Char),
    ("datistemplate", Bool),
    ("datallowconn", Bool),
    ("datconnlimit", Int4),
    ("dattablespace", Oid),
    ("datcollate", Text),
    ("datctype", Text),
    ("daticulocale", Text),
    ("datcollversion", Text),
    ("datacl", TextArray),
];

/// PostgreSQL's number for UTF8 (`pg_encoding_to_char(6)`).
pub const UTF8_ENCODING: i32 = 6;

fn pg_database(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.databases
        .iter()
        .map(|d| {
            row![
                d.id,
                &d.name,
                s.role_oid(&d.owner),
                UTF8_ENCODING,
                'c',
                false,
                true,
                -1i32,
                DEFAULT_TABLESPACE_OID,
                "C",
                "C",
                Cell::Null,
                Cell::Null,
                Cell::Null,
            ]
        })
        .collect()
}

const PG_ROLES: Columns = &[
    ("rolname", Name),
    ("rolsuper", Bool),
    ("rolinherit", Bool),
    ("rolcreaterole", Bool),
    ("rolcreatedb", Bool),
    ("rolcanlogin", Bool),
    ("rolreplication", Bool),
    ("rolconnlimit", Int4),
    ("rolpassword", Text),
    ("rolvaliduntil", TimestampTz),
    ("rolbypassrls", Bool),
    ("rolconfig", TextArray),
    ("oid", Oid),
];

fn pg_roles(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.roles
        .iter()
        .map(|r| {
            row![
                &r.name,
                r.superuser,
                true,
                r.create_role || r.superuser,
                r.create_db || r.superuser,
                r.login,
                false,
                r.connection_limit,
                "********",
                Cell::Null,
                r.superuser,
                Cell::Null,
                r.id,
            ]
        })
        .collect()
}

const PG_USER: Columns = &[
    ("usename", Name),
    ("usesysid", Oid),
    ("usecreatedb", Bool),
    ("usesuper", Bool),
    ("userepl", Bool),
    ("usebypassrls", Bool),
    ("passwd", Text),
    ("valuntil", TimestampTz),
    ("useconfig", TextArray),
];

fn pg_user(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.roles
        .iter()
        .filter(|r| r.login)
        .map(|r| {
            row![
                &r.name,
                r.id,
                r.create_db || r.superuser,
                r.superuser,
                false,
                r.superuser,
                "********",
                Cell::Null,
                Cell::Null,
            ]
        })
        .collect()
}

const PG_AM: Columns = &[
    ("oid", Oid),
    ("amname", Name),
    ("amhandler", Text),
    ("amtype", Char),
];

fn pg_am(_: &Snapshot) -> Vec<Vec<Cell>> {
    vec![
        row![HEAP_AM_OID, "heap", "heap_tableam_handler", 't'],
        row![BTREE_AM_OID, "btree", "bthandler", 'i'],
    ]
}

const PG_TABLESPACE: Columns = &[
    ("oid", Oid),
    ("spcname", Name),
    ("spcowner", Oid),
    ("spcacl", TextArray),
    ("spcoptions", TextArray),
];

fn pg_tablespace(_: &Snapshot) -> Vec<Vec<Cell>> {
    vec![
        row![
            DEFAULT_TABLESPACE_OID,
            "pg_default",
            BOOTSTRAP_SUPERUSER_OID,
            Cell::Null,
            Cell::Null
        ],
        row![
            1664u32,
            "pg_global",
            BOOTSTRAP_SUPERUSER_OID,
            Cell::Null,
            Cell::Null
        ],
    ]
}

const PG_COLLATION: Columns = &[
    ("oid", Oid),
    ("collname", Name),
    ("collnamespace", Oid),
    ("collowner", Oid),
    ("collprovider", Char),
    ("collisdeterministic", Bool),
    ("collencoding", Int4),
    ("collcollate", Text),
    ("collctype", Text),
];

fn pg_collation(_: &Snapshot) -> Vec<Vec<Cell>> {
    [
        (100u32, "default", 'd', ""),
        (950, "C", 'c', "C"),
        (951, "POSIX", 'c', "POSIX"),
    ]
    .into_iter()
    .map(|(oid, name, provider, locale)| {
        row![
            oid,
            name,
            PG_CATALOG_SCHEMA,
            BOOTSTRAP_SUPERUSER_OID,
            provider,
            true,
            -1i32,
            locale,
            locale,
        ]
    })
    .collect()
}

const PG_SEQUENCE: Columns = &[
    ("seqrelid", Oid),
    ("seqtypid", Oid),
    ("seqstart", Int8),
    ("seqincrement", Int8),
    ("seqmax", Int8),
    ("seqmin", Int8),
    ("seqcache", Int8),
    ("seqcycle", Bool),
];

fn pg_sequence(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.sequences
        .iter()
        .map(|q| {
            row![
                q.id,
                q.data_type.oid(),
                q.start,
                q.increment,
                q.max_value,
                q.min_value,
                q.cache,
                q.cycle,
            ]
        })
        .collect()
}

const PG_SEQUENCES: Columns = &[
    ("schemaname", Name),
    ("sequencename", Name),
    ("sequenceowner", Name),
    ("data_type", Text),
    ("start_value", Int8),
    ("min_value", Int8),
    ("max_value", Int8),
    ("increment_by", Int8),
    ("cycle", Bool),
    ("cache_size", Int8),
];

fn pg_sequences(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.sequences
        .iter()
        .map(|q| {
            row![
                s.schema_name(q.schema_id),
                &q.name,
                &q.owner,
                q.data_type.display_name(),
                q.start,
                q.min_value,
                q.max_value,
                q.increment,
                q.cycle,
                q.cache,
            ]
        })
        .collect()
}

const PG_TABLES: Columns = &[
    ("schemaname", Name),
    ("tablename", Name),
    ("tableowner", Name),
    ("tablespace", Name),
    ("hasindexes", Bool),
    ("hasrules", Bool),
    ("hastriggers", Bool),
    ("rowsecurity", Bool),
];

fn pg_tables(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.tables
        .iter()
        .filter(|t| t.kind == RelationKind::Table)
        .map(|t| {
            row![
                s.schema_name(t.schema_id),
                &t.name,
                &t.owner,
                Cell::Null,
                !t.has_hidden_row_id() || !t.indexes.is_empty(),
                false,
                false,
                false,
            ]
        })
        .collect()
}

const PG_VIEWS: Columns = &[
    ("schemaname", Name),
    ("viewname", Name),
    ("viewowner", Name),
    ("definition", Text),
];

fn pg_views(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.tables
        .iter()
        .filter_map(|t| match &t.kind {
            RelationKind::View { definition } => Some(row![
                s.schema_name(t.schema_id),
                &t.name,
                &t.owner,
                definition,
            ]),
            RelationKind::Table => None,
        })
        .collect()
}

const PG_INDEXES: Columns = &[
    ("schemaname", Name),
    ("tablename", Name),
    ("indexname", Name),
    ("tablespace", Name),
    ("indexdef", Text),
];

fn pg_indexes(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.indexes()
        .map(|i| {
            row![
                s.schema_name(i.table.schema_id),
                &i.table.name,
                i.name,
                Cell::Null,
                s.index_definition(&i),
            ]
        })
        .collect()
}

const PG_PROC: Columns = &[
    ("oid", Oid),
    ("proname", Name),
    ("pronamespace", Oid),
    ("proowner", Oid),
    ("prolang", Oid),
    ("prokind", Char),
    ("proretset", Bool),
    ("pronargs", Int2),
    ("prorettype", Oid),
    ("proargtypes", OidVector),
    ("proargnames", TextArray),
    ("prosrc", Text),
];
const PG_INHERITS: Columns = &[
    ("inhrelid", Oid),
    ("inhparent", Oid),
    ("inhseqno", Int4),
    ("inhdetachpending", Bool),
];
const PG_PARTITIONED_TABLE: Columns = &[
    ("partrelid", Oid),
    ("partstrat", Char),
    ("partnatts", Int2),
    ("partdefid", Oid),
    ("partattrs", Int2Array),
];
const PG_DESCRIPTION: Columns = &[
    ("objoid", Oid),
    ("classoid", Oid),
    ("objsubid", Int4),
    ("description", Text),
];
const PG_ENUM: Columns = &[
    ("oid", Oid),
    ("enumtypid", Oid),
    ("enumsortorder", Float4),
    ("enumlabel", Name),
];
const PG_EXTENSION: Columns = &[
    ("oid", Oid),
    ("extname", Name),
    ("extowner", Oid),
    ("extnamespace", Oid),
    ("extrelocatable", Bool),
    ("extversion", Text),
];
const PG_TRIGGER: Columns = &[
    ("oid", Oid),
    ("tgrelid", Oid),
    ("tgparentid", Oid),
    ("tgname", Name),
    ("tgfoid", Oid),
    ("tgtype", Int2),
    ("tgenabled", Char),
    ("tgisinternal", Bool),
    ("tgconstrrelid", Oid),
    ("tgconstrindid", Oid),
    ("tgconstraint", Oid),
    ("tgdeferrable", Bool),
    ("tginitdeferred", Bool),
    ("tgnargs", Int2),
];
const PG_POLICY: Columns = &[
    ("oid", Oid),
    ("polname", Name),
    ("polrelid", Oid),
    ("polcmd", Char),
    ("polpermissive", Bool),
    ("polroles", OidArray),
    ("polqual", Text),
    ("polwithcheck", Text),
];
const PG_REWRITE: Columns = &[
    ("oid", Oid),
    ("rulename", Name),
    ("ev_class", Oid),
    ("ev_type", Char),
    ("ev_enabled", Char),
    ("is_instead", Bool),
];
const PG_DEPEND: Columns = &[
    ("classid", Oid),
    ("objid", Oid),
    ("objsubid", Int4),
    ("refclassid", Oid),
    ("refobjid", Oid),
    ("refobjsubid", Int4),
    ("deptype", Char),
];
const PG_AUTH_MEMBERS: Columns = &[
    ("oid", Oid),
    ("roleid", Oid),
    ("member", Oid),
    ("grantor", Oid),
    ("admin_option", Bool),
];
const PG_STATISTIC_EXT: Columns = &[
    ("oid", Oid),
    ("stxrelid", Oid),
    ("stxname", Name),
    ("stxnamespace", Oid),
    ("stxowner", Oid),
    ("stxstattarget", Int4),
    ("stxkeys", Int2Array),
    ("stxkind", TextArray),
];
const PG_PUBLICATION: Columns = &[
    ("oid", Oid),
    ("pubname", Name),
    ("pubowner", Oid),
    ("puballtables", Bool),
    ("pubinsert", Bool),
    ("pubupdate", Bool),
    ("pubdelete", Bool),
    ("pubtruncate", Bool),
    ("pubviaroot", Bool),
];
const PG_PUBLICATION_REL: Columns = &[
    ("oid", Oid),
    ("prpubid", Oid),
    ("prrelid", Oid),
    ("prqual", Text),
    ("prattrs", Int2Array),
];
const PG_PUBLICATION_NAMESPACE: Columns = &[("oid", Oid), ("pnpubid", Oid), ("pnnspid", Oid)];
const PG_FOREIGN_TABLE: Columns = &[
    ("ftrelid", Oid),
    ("ftserver", Oid),
    ("ftoptions", TextArray),
];
const PG_OPCLASS: Columns = &[
    ("oid", Oid),
    ("opcmethod", Oid),
    ("opcname", Name),
    ("opcnamespace", Oid),
    ("opcowner", Oid),
    ("opcfamily", Oid),
    ("opcintype", Oid),
    ("opcdefault", Bool),
    ("opckeytype", Oid),
];
const PG_RANGE: Columns = &[
    ("rngtypid", Oid),
    ("rngsubtype", Oid),
    ("rngmultitypid", Oid),
];
