//! `pg_namespace`, `pg_class`, `pg_attribute`, `pg_attrdef`: schemas, relations and
//! their columns.

use bytedata_catalog::descriptor::RelationKind;

use crate::system::columns::{Cell, Columns, Kind::*, row};
use crate::system::snapshot::{BTREE_AM_OID, HEAP_AM_OID, Snapshot, attributes};

pub(super) const PG_NAMESPACE: Columns = &[
    ("oid", Oid),
    ("nspname", Name),
    ("nspowner", Oid),
    ("nspacl", TextArray),
];

pub(super) fn pg_namespace(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.schemas
        .iter()
        .map(|n| row![n.id, &n.name, s.role_oid(&n.owner), Cell::Null])
        .collect()
}

pub(super) const PG_CLASS: Columns = &[
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
pub(super) fn class_row(
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

pub(super) fn pg_class(s: &Snapshot) -> Vec<Vec<Cell>> {
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

pub(super) const PG_ATTRIBUTE: Columns = &[
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

pub(super) fn pg_attribute(s: &Snapshot) -> Vec<Vec<Cell>> {
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
            let collation = if crate::system::types::is_collatable(c.data_type.oid()) {
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

pub(super) const PG_ATTRDEF: Columns = &[
    ("oid", Oid),
    ("adrelid", Oid),
    ("adnum", Int2),
    ("adbin", Text),
];

pub(super) fn pg_attrdef(s: &Snapshot) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for t in &s.tables {
        for (num, c) in attributes(t) {
            if let Some(default) = &c.default {
                let oid =
                    crate::system::snapshot::derived_oid(t.id, 128 + u32::from(num.unsigned_abs()));
                rows.push(row![oid, t.id, num, default]);
            }
        }
    }
    rows
}
