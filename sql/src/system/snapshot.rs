//! The catalog snapshot (`context::snapshot`: the catalog as one statement's transaction
//! sees it) as the system tables and catalog functions read it: relations by OID and
//! name, indexes and constraints as rows, their definitions as PostgreSQL prints them.
//!
//! Tables, views, sequences and non-primary indexes have object ids that double as their
//! OIDs. The objects PostgreSQL gives OIDs of their own and our catalog does not — the
//! primary key's index and each constraint — get OIDs derived from their table's id and
//! their position (`derived_oid`): stable while the table's definition is, and in a range
//! the object-id counter does not reach.

use bytedata_catalog::descriptor::{
    CheckConstraint, ColumnDescriptor, ForeignKey, KeyColumn, ReferentialAction, RelationKind,
    TableDescriptor,
};
use bytedata_catalog::keycode::Direction;
use bytedata_catalog::keys::FIRST_OBJECT_ID;

pub use crate::context::snapshot::Snapshot;

/// Derived OIDs start here: far above what the object-id counter hands out in practice.
const DERIVED_OID_BASE: u32 = 0xC000_0000;
/// Derived OIDs per table: slot 0 is the primary key's index, slots 1.. its constraints.
/// A table with more constraints than this shows only the first ones in `pg_constraint`.
pub const DERIVED_SLOTS_PER_TABLE: u32 = 256;

/// The OID of the `slot`th derived object of `table`, if it fits the derived range.
pub fn derived_oid(table: u32, slot: u32) -> Option<u32> {
    if slot >= DERIVED_SLOTS_PER_TABLE {
        return None;
    }
    table
        .checked_sub(FIRST_OBJECT_ID)?
        .checked_mul(DERIVED_SLOTS_PER_TABLE)?
        .checked_add(slot)?
        .checked_add(DERIVED_OID_BASE)
}

/// The bootstrap superuser's OID, as in PostgreSQL; also the owner of what no role owns.
pub const BOOTSTRAP_SUPERUSER_OID: u32 = 10;
pub const BTREE_AM_OID: u32 = 403;
pub const HEAP_AM_OID: u32 = 2;
pub const DEFAULT_TABLESPACE_OID: u32 = 1663;

/// A constraint, as `pg_constraint` lists it.
pub enum Constraint<'a> {
    PrimaryKey(&'a [KeyColumn]),
    Check(&'a CheckConstraint),
    ForeignKey(&'a ForeignKey),
}

pub struct ConstraintRow<'a> {
    pub oid: u32,
    pub name: &'a str,
    pub table: &'a TableDescriptor,
    pub constraint: Constraint<'a>,
}

impl ConstraintRow<'_> {
    pub fn contype(&self) -> char {
        match self.constraint {
            Constraint::PrimaryKey(_) => 'p',
            Constraint::Check(_) => 'c',
            Constraint::ForeignKey(_) => 'f',
        }
    }
}

/// An index, as `pg_index` lists it (the primary key's among them).
pub struct IndexRow<'a> {
    pub oid: u32,
    pub name: &'a str,
    pub table: &'a TableDescriptor,
    pub unique: bool,
    pub primary: bool,
    pub columns: &'a [KeyColumn],
}

impl Snapshot {
    /// A role's OID by name (the bootstrap superuser's for a name no role has).
    pub fn role_oid(&self, name: &str) -> u32 {
        self.roles
            .iter()
            .find(|r| r.name == name)
            .map_or(BOOTSTRAP_SUPERUSER_OID, |r| r.id)
    }

    pub fn role_name(&self, oid: i64) -> Option<&str> {
        self.roles
            .iter()
            .find(|r| i64::from(r.id) == oid)
            .map(|r| r.name.as_str())
            .or_else(|| (oid == i64::from(BOOTSTRAP_SUPERUSER_OID)).then_some("bytedata"))
    }

    pub fn schema_name(&self, id: u32) -> &str {
        self.schemas
            .iter()
            .find(|s| s.id == id)
            .map_or("?", |s| s.name.as_str())
    }

    pub fn table(&self, oid: i64) -> Option<&TableDescriptor> {
        self.tables.iter().find(|t| i64::from(t.id) == oid)
    }

    /// Whether an unqualified name finds this relation (its schema is the first on the
    /// search path holding a relation of that name).
    pub fn is_visible(&self, schema_id: u32, name: &str) -> bool {
        self.search_path
            .iter()
            .find(|&&searched| self.relation_oid(searched, name).is_some())
            .is_some_and(|&found| found == schema_id)
    }

    /// The OID of the relation (table, view, sequence or index) named `name` in a schema.
    pub fn relation_oid(&self, schema_id: u32, name: &str) -> Option<u32> {
        self.tables
            .iter()
            .find(|t| t.schema_id == schema_id && t.name == name)
            .map(|t| t.id)
            .or_else(|| {
                self.sequences
                    .iter()
                    .find(|s| s.schema_id == schema_id && s.name == name)
                    .map(|s| s.id)
            })
            .or_else(|| {
                self.indexes()
                    .find(|i| i.table.schema_id == schema_id && i.name == name)
                    .map(|i| i.oid)
            })
    }

    /// The schema and name of the relation with this OID.
    pub fn relation(&self, oid: i64) -> Option<(u32, String)> {
        if let Some(table) = self.table(oid) {
            Some((table.schema_id, table.name.clone()))
        } else if let Some(sequence) = self.sequences.iter().find(|s| i64::from(s.id) == oid) {
            Some((sequence.schema_id, sequence.name.clone()))
        } else {
            self.index(oid)
                .map(|index| (index.table.schema_id, index.name.to_owned()))
        }
    }

    /// A relation's name as `regclass` prints it: qualified unless visible.
    pub fn relation_name(&self, oid: i64) -> Option<String> {
        let (schema_id, name) = self.relation(oid)?;
        Some(if self.is_visible(schema_id, &name) {
            quote_ident(&name)
        } else {
            format!(
                "{}.{}",
                quote_ident(self.schema_name(schema_id)),
                quote_ident(&name)
            )
        })
    }

    /// Every index: each table's primary key (unless it is a hidden row id) and its
    /// secondary indexes.
    pub fn indexes(&self) -> impl Iterator<Item = IndexRow<'_>> {
        self.tables
            .iter()
            .filter(|t| t.kind == RelationKind::Table)
            .flat_map(|table| {
                let primary = (!table.has_hidden_row_id())
                    .then(|| derived_oid(table.id, 0))
                    .flatten()
                    .map(|oid| IndexRow {
                        oid,
                        name: &table.primary_key.name,
                        table,
                        unique: true,
                        primary: true,
                        columns: &table.primary_key.columns,
                    });
                primary
                    .into_iter()
                    .chain(table.indexes.iter().map(move |index| IndexRow {
                        oid: index.oid,
                        name: &index.name,
                        table,
                        unique: index.unique,
                        primary: false,
                        columns: &index.columns,
                    }))
            })
    }

    pub fn index(&self, oid: i64) -> Option<IndexRow<'_>> {
        self.indexes().find(|i| i64::from(i.oid) == oid)
    }

    /// Every constraint: primary keys, checks and foreign keys, each table's in that order.
    pub fn constraints(&self) -> impl Iterator<Item = ConstraintRow<'_>> {
        self.tables.iter().flat_map(|table| {
            let primary =
                (!table.has_hidden_row_id() && table.kind == RelationKind::Table).then(|| {
                    (
                        table.primary_key.name.as_str(),
                        Constraint::PrimaryKey(&table.primary_key.columns[..]),
                    )
                });
            let checks = table
                .checks
                .iter()
                .map(|c| (c.name.as_str(), Constraint::Check(c)));
            let foreign = table
                .foreign_keys
                .iter()
                .map(|f| (f.name.as_str(), Constraint::ForeignKey(f)));
            primary
                .into_iter()
                .chain(checks)
                .chain(foreign)
                .enumerate()
                .filter_map(move |(i, (name, constraint))| {
                    let oid = derived_oid(table.id, u32::try_from(i).ok()?.checked_add(1)?)?;
                    Some(ConstraintRow {
                        oid,
                        name,
                        table,
                        constraint,
                    })
                })
        })
    }

    pub fn constraint(&self, oid: i64) -> Option<ConstraintRow<'_>> {
        self.constraints().find(|c| i64::from(c.oid) == oid)
    }

    /// `pg_get_indexdef`: the CREATE INDEX statement that makes the index.
    pub fn index_definition(&self, index: &IndexRow) -> String {
        format!(
            "CREATE {}INDEX {} ON {}.{} USING btree ({})",
            if index.unique { "UNIQUE " } else { "" },
            quote_ident(index.name),
            quote_ident(self.schema_name(index.table.schema_id)),
            quote_ident(&index.table.name),
            key_list(index.table, index.columns),
        )
    }

    /// `pg_get_constraintdef`: the constraint as a table constraint clause.
    pub fn constraint_definition(&self, constraint: &ConstraintRow) -> String {
        match &constraint.constraint {
            Constraint::PrimaryKey(columns) => {
                format!("PRIMARY KEY ({})", key_list(constraint.table, columns))
            }
            Constraint::Check(check) => format!("CHECK ({})", check.expression),
            Constraint::ForeignKey(foreign) => {
                let referenced = self.table(i64::from(foreign.referenced_table));
                let target = self
                    .relation_name(i64::from(foreign.referenced_table))
                    .unwrap_or_else(|| "?".into());
                let mut text = format!(
                    "FOREIGN KEY ({}) REFERENCES {target}({})",
                    column_list(Some(constraint.table), &foreign.columns),
                    column_list(referenced, &foreign.referenced_columns),
                );
                for (clause, action) in [
                    ("ON UPDATE", foreign.on_update),
                    ("ON DELETE", foreign.on_delete),
                ] {
                    if let Some(action) = action_words(action) {
                        text.push_str(&format!(" {clause} {action}"));
                    }
                }
                text
            }
        }
    }
}

/// A column's `attnum`: its place among the table's columns, dropped ones counted, the
/// hidden row id not (PostgreSQL numbers system columns below zero).
pub fn attnum(table: &TableDescriptor, column_id: u32) -> Option<i16> {
    attributes(table)
        .find(|(_, c)| c.id == column_id)
        .map(|(n, _)| n)
}

/// The table's columns with their `attnum`s, dropped ones included.
pub fn attributes(table: &TableDescriptor) -> impl Iterator<Item = (i16, &ColumnDescriptor)> {
    table
        .columns
        .iter()
        .filter(|c| !c.hidden)
        .zip(1i16..)
        .map(|(c, n)| (n, c))
}

fn column_name(table: Option<&TableDescriptor>, id: u32) -> String {
    table
        .and_then(|t| t.column_by_id(id))
        .map_or_else(|| "?".into(), |c| quote_ident(&c.name))
}

fn column_list(table: Option<&TableDescriptor>, ids: &[u32]) -> String {
    ids.iter()
        .map(|&id| column_name(table, id))
        .collect::<Vec<_>>()
        .join(", ")
}

fn key_list(table: &TableDescriptor, columns: &[KeyColumn]) -> String {
    columns
        .iter()
        .map(|k| {
            let name = column_name(Some(table), k.column);
            match k.direction {
                Direction::Asc => name,
                Direction::Desc => format!("{name} DESC"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn action_words(action: ReferentialAction) -> Option<&'static str> {
    match action {
        ReferentialAction::NoAction => None,
        ReferentialAction::Restrict => Some("RESTRICT"),
        ReferentialAction::Cascade => Some("CASCADE"),
        ReferentialAction::SetNull => Some("SET NULL"),
        ReferentialAction::SetDefault => Some("SET DEFAULT"),
    }
}

/// The single-letter code `pg_constraint` uses for a referential action.
pub fn action_code(action: ReferentialAction) -> char {
    match action {
        ReferentialAction::NoAction => 'a',
        ReferentialAction::Restrict => 'r',
        ReferentialAction::Cascade => 'c',
        ReferentialAction::SetNull => 'n',
        ReferentialAction::SetDefault => 'd',
    }
}

/// An identifier as PostgreSQL prints it: bare when that reads back the same.
pub fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !is_reserved(name);
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn is_reserved(word: &str) -> bool {
    matches!(
        word,
        "all"
            | "analyse"
            | "analyze"
            | "and"
            | "any"
            | "array"
            | "as"
            | "asc"
            | "both"
            | "case"
            | "cast"
            | "check"
            | "collate"
            | "column"
            | "constraint"
            | "create"
            | "current_date"
            | "current_role"
            | "current_time"
            | "current_timestamp"
            | "current_user"
            | "default"
            | "desc"
            | "distinct"
            | "do"
            | "else"
            | "end"
            | "except"
            | "false"
            | "fetch"
            | "for"
            | "foreign"
            | "from"
            | "grant"
            | "group"
            | "having"
            | "in"
            | "initially"
            | "intersect"
            | "into"
            | "leading"
            | "limit"
            | "localtime"
            | "localtimestamp"
            | "not"
            | "null"
            | "offset"
            | "on"
            | "only"
            | "or"
            | "order"
            | "placing"
            | "primary"
            | "references"
            | "returning"
            | "select"
            | "session_user"
            | "some"
            | "symmetric"
            | "table"
            | "then"
            | "to"
            | "trailing"
            | "true"
            | "union"
            | "unique"
            | "user"
            | "using"
            | "variadic"
            | "when"
            | "where"
            | "window"
            | "with"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_oids_are_distinct_and_bounded() {
        let a = derived_oid(FIRST_OBJECT_ID, 0).unwrap();
        let b = derived_oid(FIRST_OBJECT_ID, 1).unwrap();
        let c = derived_oid(FIRST_OBJECT_ID + 1, 0).unwrap();
        assert!(a >= DERIVED_OID_BASE && a < b && b < c);
        assert_eq!(derived_oid(FIRST_OBJECT_ID, DERIVED_SLOTS_PER_TABLE), None);
        assert_eq!(derived_oid(FIRST_OBJECT_ID - 1, 0), None);
        assert_eq!(derived_oid(u32::MAX, 0), None);
    }

    #[test]
    fn identifiers_are_quoted_only_when_needed() {
        assert_eq!(quote_ident("accounts"), "accounts");
        assert_eq!(quote_ident("Mixed"), "\"Mixed\"");
        assert_eq!(quote_ident("two words"), "\"two words\"");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
