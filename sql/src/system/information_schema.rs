//! The SQL standard's `information_schema` views that tools read: schemata, tables,
//! columns, views, sequences and the constraint views — computed like `pg_catalog`'s from
//! the statement's snapshot. Column types follow PostgreSQL's domains: `sql_identifier`
//! as `name`, `cardinal_number` as `integer`, `character_data` and `yes_or_no` as text.

use bytedata_catalog::descriptor::{Identity, RelationKind};
use bytedata_pgtypes::DataType;

use super::columns::{Cell, Columns, Kind::*, row};
use super::pg_catalog::SystemTable;
use super::snapshot::{Constraint, Snapshot, attnum, attributes};

const fn view(name: &'static str, columns: Columns, rows: super::pg_catalog::Rows) -> SystemTable {
    SystemTable {
        name,
        columns,
        rows: Some(rows),
        live: None,
    }
}

pub const TABLES: &[SystemTable] = &[
    view("schemata", SCHEMATA, schemata),
    view("tables", TABLES_COLUMNS, tables),
    view("columns", COLUMNS, columns),
    view("views", VIEWS, views),
    view("sequences", SEQUENCES, sequences),
    view("table_constraints", TABLE_CONSTRAINTS, table_constraints),
    view("key_column_usage", KEY_COLUMN_USAGE, key_column_usage),
    view(
        "referential_constraints",
        REFERENTIAL_CONSTRAINTS,
        referential_constraints,
    ),
    view("check_constraints", CHECK_CONSTRAINTS, check_constraints),
];

fn yes_no(value: bool) -> &'static str {
    if value { "YES" } else { "NO" }
}

const SCHEMATA: Columns = &[
    ("catalog_name", Name),
    ("schema_name", Name),
    ("schema_owner", Name),
    ("default_character_set_catalog", Name),
    ("default_character_set_schema", Name),
    ("default_character_set_name", Name),
    ("sql_path", Text),
];

fn schemata(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.schemas
        .iter()
        .map(|n| {
            row![
                &s.database.name,
                &n.name,
                &n.owner,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Null,
            ]
        })
        .collect()
}

const TABLES_COLUMNS: Columns = &[
    ("table_catalog", Name),
    ("table_schema", Name),
    ("table_name", Name),
    ("table_type", Text),
    ("self_referencing_column_name", Name),
    ("reference_generation", Text),
    ("user_defined_type_catalog", Name),
    ("user_defined_type_schema", Name),
    ("user_defined_type_name", Name),
    ("is_insertable_into", Text),
    ("is_typed", Text),
    ("commit_action", Text),
];

fn tables(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.tables
        .iter()
        .map(|t| {
            let (kind, insertable) = match t.kind {
                RelationKind::Table => ("BASE TABLE", true),
                RelationKind::View { .. } => ("VIEW", false),
            };
            row![
                &s.database.name,
                s.schema_name(t.schema_id),
                &t.name,
                kind,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                yes_no(insertable),
                "NO",
                Cell::Null,
            ]
        })
        .collect()
}

const COLUMNS: Columns = &[
    ("table_catalog", Name),
    ("table_schema", Name),
    ("table_name", Name),
    ("column_name", Name),
    ("ordinal_position", Int4),
    ("column_default", Text),
    ("is_nullable", Text),
    ("data_type", Text),
    ("character_maximum_length", Int4),
    ("character_octet_length", Int4),
    ("numeric_precision", Int4),
    ("numeric_precision_radix", Int4),
    ("numeric_scale", Int4),
    ("datetime_precision", Int4),
    ("interval_type", Text),
    ("interval_precision", Int4),
    ("character_set_catalog", Name),
    ("character_set_schema", Name),
    ("character_set_name", Name),
    ("collation_catalog", Name),
    ("collation_schema", Name),
    ("collation_name", Name),
    ("domain_catalog", Name),
    ("domain_schema", Name),
    ("domain_name", Name),
    ("udt_catalog", Name),
    ("udt_schema", Name),
    ("udt_name", Name),
    ("scope_catalog", Name),
    ("scope_schema", Name),
    ("scope_name", Name),
    ("maximum_cardinality", Int4),
    ("dtd_identifier", Name),
    ("is_self_referencing", Text),
    ("is_identity", Text),
    ("identity_generation", Text),
    ("identity_start", Text),
    ("identity_increment", Text),
    ("identity_maximum", Text),
    ("identity_minimum", Text),
    ("identity_cycle", Text),
    ("is_generated", Text),
    ("generation_expression", Text),
    ("is_updatable", Text),
];

/// The standard's name of a type (`information_schema.columns.data_type`).
fn standard_type_name(ty: &DataType) -> String {
    match ty {
        DataType::Array(_) => "ARRAY".into(),
        DataType::Varchar(_) => "character varying".into(),
        DataType::Char(_) => "character".into(),
        DataType::Numeric { .. } => "numeric".into(),
        other => other.display_name(),
    }
}

/// (precision, radix, scale) of a numeric type.
fn numeric_shape(ty: &DataType) -> (Option<u32>, Option<u32>, Option<u32>) {
    match ty {
        DataType::Int2 => (Some(16), Some(2), Some(0)),
        DataType::Int4 => (Some(32), Some(2), Some(0)),
        DataType::Int8 => (Some(64), Some(2), Some(0)),
        DataType::Float4 => (Some(24), Some(2), None),
        DataType::Float8 => (Some(53), Some(2), None),
        DataType::Numeric { precision, scale } => {
            (*precision, Some(10), precision.map(|_| scale.unwrap_or(0)))
        }
        _ => (None, None, None),
    }
}

fn columns(s: &Snapshot) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for t in &s.tables {
        let mut position = 0i32;
        for (num, c) in attributes(t) {
            if c.is_dropped() {
                continue;
            }
            position += 1;
            debug_assert!(i32::from(num) >= position);
            let length = match &c.data_type {
                DataType::Varchar(length) => *length,
                DataType::Char(length) => Some(*length),
                _ => None,
            };
            let (precision, radix, scale) = numeric_shape(&c.data_type);
            let datetime = matches!(
                c.data_type,
                DataType::Date
                    | DataType::Time
                    | DataType::Timestamp
                    | DataType::TimestampTz
                    | DataType::Interval
            )
            .then_some(if c.data_type == DataType::Date { 0 } else { 6 });
            let udt = super::types::by_oid(i64::from(c.data_type.oid())).map(|t| t.name);
            let (is_identity, generation) = match c.identity {
                Some(Identity::Always { .. }) => ("YES", Some("ALWAYS")),
                Some(Identity::ByDefault { .. }) => ("YES", Some("BY DEFAULT")),
                None => ("NO", None),
            };
            let nullable = c.nullable && !t.is_key_column(c.id);
            rows.push(row![
                &s.database.name,
                s.schema_name(t.schema_id),
                &t.name,
                &c.name,
                position,
                c.default.as_deref().filter(|_| c.identity.is_none()),
                yes_no(nullable),
                standard_type_name(&c.data_type),
                length,
                length.map(|l| l.saturating_mul(4)),
                precision,
                radix,
                scale,
                datetime,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                &s.database.name,
                "pg_catalog",
                udt,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                num.to_string(),
                "NO",
                is_identity,
                generation,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Null,
                if c.identity.is_some() {
                    Some("NO")
                } else {
                    None
                },
                "NEVER",
                Cell::Null,
                yes_no(t.kind == RelationKind::Table),
            ]);
        }
    }
    rows
}

const VIEWS: Columns = &[
    ("table_catalog", Name),
    ("table_schema", Name),
    ("table_name", Name),
    ("view_definition", Text),
    ("check_option", Text),
    ("is_updatable", Text),
    ("is_insertable_into", Text),
    ("is_trigger_updatable", Text),
    ("is_trigger_deletable", Text),
    ("is_trigger_insertable_into", Text),
];

fn views(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.tables
        .iter()
        .filter_map(|t| match &t.kind {
            RelationKind::View { definition } => Some(row![
                &s.database.name,
                s.schema_name(t.schema_id),
                &t.name,
                definition,
                "NONE",
                "NO",
                "NO",
                "NO",
                "NO",
                "NO",
            ]),
            RelationKind::Table => None,
        })
        .collect()
}

const SEQUENCES: Columns = &[
    ("sequence_catalog", Name),
    ("sequence_schema", Name),
    ("sequence_name", Name),
    ("data_type", Text),
    ("numeric_precision", Int4),
    ("numeric_precision_radix", Int4),
    ("numeric_scale", Int4),
    ("start_value", Text),
    ("minimum_value", Text),
    ("maximum_value", Text),
    ("increment", Text),
    ("cycle_option", Text),
];

fn sequences(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.sequences
        .iter()
        .map(|q| {
            let (precision, radix, scale) = numeric_shape(&q.data_type);
            row![
                &s.database.name,
                s.schema_name(q.schema_id),
                &q.name,
                q.data_type.display_name(),
                precision,
                radix,
                scale,
                q.start.to_string(),
                q.min_value.to_string(),
                q.max_value.to_string(),
                q.increment.to_string(),
                yes_no(q.cycle),
            ]
        })
        .collect()
}

const TABLE_CONSTRAINTS: Columns = &[
    ("constraint_catalog", Name),
    ("constraint_schema", Name),
    ("constraint_name", Name),
    ("table_catalog", Name),
    ("table_schema", Name),
    ("table_name", Name),
    ("constraint_type", Text),
    ("is_deferrable", Text),
    ("initially_deferred", Text),
    ("enforced", Text),
    ("nulls_distinct", Text),
];

fn table_constraints(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.constraints()
        .map(|c| {
            let kind = match c.constraint {
                Constraint::PrimaryKey(_) => "PRIMARY KEY",
                Constraint::Check(_) => "CHECK",
                Constraint::ForeignKey(_) => "FOREIGN KEY",
            };
            let schema = s.schema_name(c.table.schema_id);
            row![
                &s.database.name,
                schema,
                c.name,
                &s.database.name,
                schema,
                &c.table.name,
                kind,
                "NO",
                "NO",
                "YES",
                Cell::Null,
            ]
        })
        .collect()
}

const KEY_COLUMN_USAGE: Columns = &[
    ("constraint_catalog", Name),
    ("constraint_schema", Name),
    ("constraint_name", Name),
    ("table_catalog", Name),
    ("table_schema", Name),
    ("table_name", Name),
    ("column_name", Name),
    ("ordinal_position", Int4),
    ("position_in_unique_constraint", Int4),
];

fn key_column_usage(s: &Snapshot) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for c in s.constraints() {
        let (columns, foreign): (Vec<u32>, bool) = match &c.constraint {
            Constraint::PrimaryKey(keys) => (keys.iter().map(|k| k.column).collect(), false),
            Constraint::ForeignKey(f) => (f.columns.clone(), true),
            Constraint::Check(_) => continue,
        };
        let schema = s.schema_name(c.table.schema_id);
        for (position, id) in (1i32..).zip(columns) {
            let Some(column) = c.table.column_by_id(id) else {
                continue;
            };
            debug_assert!(attnum(c.table, id).is_some());
            rows.push(row![
                &s.database.name,
                schema,
                c.name,
                &s.database.name,
                schema,
                &c.table.name,
                &column.name,
                position,
                foreign.then_some(position),
            ]);
        }
    }
    rows
}

const REFERENTIAL_CONSTRAINTS: Columns = &[
    ("constraint_catalog", Name),
    ("constraint_schema", Name),
    ("constraint_name", Name),
    ("unique_constraint_catalog", Name),
    ("unique_constraint_schema", Name),
    ("unique_constraint_name", Name),
    ("match_option", Text),
    ("update_rule", Text),
    ("delete_rule", Text),
];

fn rule(action: bytedata_catalog::descriptor::ReferentialAction) -> &'static str {
    use bytedata_catalog::descriptor::ReferentialAction::*;
    match action {
        NoAction => "NO ACTION",
        Restrict => "RESTRICT",
        Cascade => "CASCADE",
        SetNull => "SET NULL",
        SetDefault => "SET DEFAULT",
    }
}

fn referential_constraints(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.constraints()
        .filter_map(|c| {
            let Constraint::ForeignKey(f) = c.constraint else {
                return None;
            };
            let referenced = s.table(i64::from(f.referenced_table));
            let schema = s.schema_name(c.table.schema_id);
            Some(row![
                &s.database.name,
                schema,
                c.name,
                &s.database.name,
                referenced.map(|t| s.schema_name(t.schema_id)),
                referenced.map(|t| t.primary_key.name.as_str()),
                "NONE",
                rule(f.on_update),
                rule(f.on_delete),
            ])
        })
        .collect()
}

const CHECK_CONSTRAINTS: Columns = &[
    ("constraint_catalog", Name),
    ("constraint_schema", Name),
    ("constraint_name", Name),
    ("check_clause", Text),
];

fn check_constraints(s: &Snapshot) -> Vec<Vec<Cell>> {
    s.constraints()
        .filter_map(|c| match c.constraint {
            Constraint::Check(check) => Some(row![
                &s.database.name,
                s.schema_name(c.table.schema_id),
                c.name,
                &check.expression,
            ]),
            _ => None,
        })
        .collect()
}
