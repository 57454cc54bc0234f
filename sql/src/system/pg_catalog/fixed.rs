//! `pg_type`, `pg_am`, `pg_tablespace`, `pg_collation`: catalogs whose rows are fixed.

use bytedata_catalog::catalog::PG_CATALOG_SCHEMA;

use crate::system::columns::{Cell, Columns, Kind::*, row};
use crate::system::snapshot::{
    BOOTSTRAP_SUPERUSER_OID, BTREE_AM_OID, DEFAULT_TABLESPACE_OID, HEAP_AM_OID, Snapshot,
};
use crate::system::types::BUILTIN_TYPES;

pub(super) const PG_TYPE: Columns = &[
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

pub(super) fn pg_type(_: &Snapshot) -> Vec<Vec<Cell>> {
    BUILTIN_TYPES
        .iter()
        .map(|t| {
            let collation = if crate::system::types::is_collatable(t.oid) {
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

pub(super) const PG_AM: Columns = &[
    ("oid", Oid),
    ("amname", Name),
    ("amhandler", Text),
    ("amtype", Char),
];

pub(super) fn pg_am(_: &Snapshot) -> Vec<Vec<Cell>> {
    vec![
        row![HEAP_AM_OID, "heap", "heap_tableam_handler", 't'],
        row![BTREE_AM_OID, "btree", "bthandler", 'i'],
    ]
}

pub(super) const PG_TABLESPACE: Columns = &[
    ("oid", Oid),
    ("spcname", Name),
    ("spcowner", Oid),
    ("spcacl", TextArray),
    ("spcoptions", TextArray),
];

pub(super) fn pg_tablespace(_: &Snapshot) -> Vec<Vec<Cell>> {
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

pub(super) const PG_COLLATION: Columns = &[
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

pub(super) fn pg_collation(_: &Snapshot) -> Vec<Vec<Cell>> {
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
