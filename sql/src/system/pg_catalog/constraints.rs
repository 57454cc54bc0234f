//! `pg_index` and `pg_constraint`: primary keys, secondary indexes, CHECK and foreign-key
//! constraints.

use crate::system::columns::{Cell, Columns, Kind::*, row};
use crate::system::snapshot::{Constraint, Snapshot, action_code, attnum};

pub(super) const PG_INDEX: Columns = &[
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

pub(super) fn pg_index(s: &Snapshot) -> Vec<Vec<Cell>> {
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

pub(super) const PG_CONSTRAINT: Columns = &[
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

pub(super) fn pg_constraint(s: &Snapshot) -> Vec<Vec<Cell>> {
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
                    crate::system::snapshot::derived_oid(c.table.id, 0).unwrap_or(0),
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
