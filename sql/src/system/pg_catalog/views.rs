//! PostgreSQL's convenience views over the catalog — `pg_tables`, `pg_views`,
//! `pg_indexes`, `pg_sequences` — and `pg_sequence`.

use bytedata_catalog::descriptor::RelationKind;

use crate::system::columns::{Cell, Columns, Kind::*, row};
use crate::system::snapshot::Snapshot;

pub(super) const PG_SEQUENCE: Columns = &[
    ("seqrelid", Oid),
    ("seqtypid", Oid),
    ("seqstart", Int8),
    ("seqincrement", Int8),
    ("seqmax", Int8),
    ("seqmin", Int8),
    ("seqcache", Int8),
    ("seqcycle", Bool),
];

pub(super) fn pg_sequence(s: &Snapshot) -> Vec<Vec<Cell>> {
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

pub(super) const PG_SEQUENCES: Columns = &[
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

pub(super) fn pg_sequences(s: &Snapshot) -> Vec<Vec<Cell>> {
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

pub(super) const PG_TABLES: Columns = &[
    ("schemaname", Name),
    ("tablename", Name),
    ("tableowner", Name),
    ("tablespace", Name),
    ("hasindexes", Bool),
    ("hasrules", Bool),
    ("hastriggers", Bool),
    ("rowsecurity", Bool),
];

pub(super) fn pg_tables(s: &Snapshot) -> Vec<Vec<Cell>> {
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

pub(super) const PG_VIEWS: Columns = &[
    ("schemaname", Name),
    ("viewname", Name),
    ("viewowner", Name),
    ("definition", Text),
];

pub(super) fn pg_views(s: &Snapshot) -> Vec<Vec<Cell>> {
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

pub(super) const PG_INDEXES: Columns = &[
    ("schemaname", Name),
    ("tablename", Name),
    ("indexname", Name),
    ("tablespace", Name),
    ("indexdef", Text),
];

pub(super) fn pg_indexes(s: &Snapshot) -> Vec<Vec<Cell>> {
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
