//! CREATE TABLE: columns and their options, table constraints, serial and identity
//! sequences, and CREATE TABLE … AS.
//!
//! Constraint names follow PostgreSQL (`t_pkey`, `t_a_key`, `t_a_check`, `t_a_fkey`,
//! numbered when taken), because clients and error messages show them.

use std::collections::HashSet;

use bytedata_catalog::descriptor::{
    CheckConstraint, ColumnDescriptor, ForeignKey, Identity, IndexDescriptor, KeyColumn,
    ReferentialAction, SequenceDescriptor, TableDescriptor,
};
use bytedata_catalog::keycode::Direction;
use bytedata_pgtypes::DataType as SqlType;
use datafusion::common::DFSchema;
use datafusion::sql::sqlparser::ast::{
    self, ColumnOption, CreateTable, CreateTableOptions, GeneratedAs, IndexColumn, TableConstraint,
};

use super::Ddl;
use super::sequence::apply_sequence_options;
use crate::context::result::QueryResult;
use crate::error::{Result, SqlError};
use crate::syntax::typename::column_type;
use crate::syntax::{ident_name, object_name};

/// A table being defined: what CREATE TABLE (or ALTER TABLE ADD …) collects before the
/// descriptor is written.
/// A named (or to be named) key: its columns with their directions.
pub(crate) type NamedKey = (Option<String>, Vec<(String, Direction)>);

#[derive(Default)]
pub(crate) struct Definition {
    pub columns: Vec<ColumnDescriptor>,
    pub primary_key: Option<NamedKey>,
    pub uniques: Vec<NamedKey>,
    pub checks: Vec<(Option<String>, ast::Expr)>,
    pub foreign_keys: Vec<ast::ForeignKeyConstraint>,
    /// Columns that need a sequence: name, type, identity kind (`None` for serial), options.
    pub sequences: Vec<(
        String,
        SqlType,
        Option<GeneratedAs>,
        Vec<ast::SequenceOptions>,
    )>,
}

fn key_columns(columns: &[IndexColumn]) -> Result<Vec<(String, Direction)>> {
    columns
        .iter()
        .map(|c| {
            let name = match &c.column.expr {
                ast::Expr::Identifier(ident) => ident_name(ident),
                other => {
                    return Err(SqlError::unsupported(format!(
                        "index on expression {other}"
                    )));
                }
            };
            if c.operator_class.is_some() {
                return Err(SqlError::unsupported("operator classes"));
            }
            let direction = if c.column.options.asc == Some(false) {
                Direction::Desc
            } else {
                Direction::Asc
            };
            // NULL order is fixed by the key encoding: PostgreSQL's default for the direction.
            if let Some(nulls_first) = c.column.options.nulls_first
                && nulls_first != (direction == Direction::Desc)
            {
                return Err(SqlError::unsupported(
                    "NULLS FIRST/LAST other than the direction's default",
                ));
            }
            Ok((name, direction))
        })
        .collect()
}

impl Definition {
    /// Adds a column definition with its inline constraints.
    pub fn add_column(&mut self, def: &ast::ColumnDef) -> Result<()> {
        let name = ident_name(&def.name);
        if self.columns.iter().any(|c| c.name == name) {
            return Err(SqlError::new(
                "42701",
                format!("column \"{name}\" specified more than once"),
            ));
        }
        let declared = column_type(&def.data_type)?;
        let mut column = ColumnDescriptor::new(0, &name, declared.data_type.clone());
        if declared.serial {
            column.nullable = false;
            self.sequences
                .push((name.clone(), declared.data_type.clone(), None, Vec::new()));
        }
        let mut nullability: Option<bool> = None;
        for option in &def.options {
            let constraint_name = option.name.as_ref().map(ident_name);
            match &option.option {
                ColumnOption::Null | ColumnOption::NotNull => {
                    let nullable = matches!(option.option, ColumnOption::Null);
                    if nullability.is_some_and(|n| n != nullable) {
                        return Err(SqlError::syntax(format!(
                            "conflicting NULL/NOT NULL declarations for column \"{name}\""
                        )));
                    }
                    nullability = Some(nullable);
                }
                ColumnOption::Default(expr) => {
                    if column.default.is_some() || declared.serial {
                        return Err(SqlError::syntax(format!(
                            "multiple default values specified for column \"{name}\""
                        )));
                    }
                    column.default = Some(expr.to_string());
                }
                ColumnOption::PrimaryKey(_) => {
                    if self.primary_key.is_some() {
                        return Err(SqlError::new(
                            "42P16",
                            "multiple primary keys for table are not allowed",
                        ));
                    }
                    self.primary_key =
                        Some((constraint_name, vec![(name.clone(), Direction::Asc)]));
                }
                ColumnOption::Unique(unique) => {
                    if unique.nulls_distinct == ast::NullsDistinctOption::NotDistinct {
                        return Err(SqlError::unsupported("UNIQUE NULLS NOT DISTINCT"));
                    }
                    self.uniques
                        .push((constraint_name, vec![(name.clone(), Direction::Asc)]));
                }
                ColumnOption::ForeignKey(fk) => {
                    let mut fk = fk.clone();
                    fk.columns = vec![def.name.clone()];
                    fk.name = option.name.clone().or(fk.name);
                    self.foreign_keys.push(fk);
                }
                ColumnOption::Check(check) => self.checks.push((
                    constraint_name.or(check.name.as_ref().map(ident_name)),
                    (*check.expr).clone(),
                )),
                ColumnOption::Generated {
                    generated_as,
                    sequence_options,
                    generation_expr: None,
                    ..
                } => {
                    if !matches!(
                        declared.data_type,
                        SqlType::Int2 | SqlType::Int4 | SqlType::Int8
                    ) || declared.serial
                    {
                        return Err(SqlError::new(
                            "22023",
                            "identity column type must be smallint, integer, or bigint",
                        ));
                    }
                    column.nullable = false;
                    self.sequences.push((
                        name.clone(),
                        declared.data_type.clone(),
                        Some(*generated_as),
                        sequence_options.clone().unwrap_or_default(),
                    ));
                }
                ColumnOption::Generated { .. } => {
                    return Err(SqlError::unsupported("generated columns"));
                }
                ColumnOption::Collation(collation) => {
                    let collation = collation.to_string().trim_matches('"').to_lowercase();
                    if collation != "c" && collation != "posix" && collation != "default" {
                        return Err(SqlError::unsupported(format!(
                            "collation \"{collation}\" (text compares bytewise, as the C collation)"
                        )));
                    }
                }
                ColumnOption::Comment(_) => {}
                other => return Err(SqlError::unsupported(format!("column option {other}"))),
            }
        }
        if let Some(nullable) = nullability {
            if nullable && !column.nullable {
                return Err(SqlError::syntax(format!(
                    "conflicting NULL/NOT NULL declarations for column \"{name}\""
                )));
            }
            column.nullable = nullable;
        }
        self.columns.push(column);
        Ok(())
    }

    /// Adds a table constraint.
    pub fn add_constraint(&mut self, constraint: &TableConstraint) -> Result<()> {
        match constraint {
            TableConstraint::PrimaryKey(pk) => {
                if self.primary_key.is_some() {
                    return Err(SqlError::new(
                        "42P16",
                        "multiple primary keys for table are not allowed",
                    ));
                }
                self.primary_key =
                    Some((pk.name.as_ref().map(ident_name), key_columns(&pk.columns)?));
            }
            TableConstraint::Unique(unique) => {
                if unique.nulls_distinct == ast::NullsDistinctOption::NotDistinct {
                    return Err(SqlError::unsupported("UNIQUE NULLS NOT DISTINCT"));
                }
                self.uniques.push((
                    unique.name.as_ref().map(ident_name),
                    key_columns(&unique.columns)?,
                ));
            }
            TableConstraint::ForeignKey(fk) => self.foreign_keys.push(fk.clone()),
            TableConstraint::Check(check) => self
                .checks
                .push((check.name.as_ref().map(ident_name), (*check.expr).clone())),
            other => return Err(SqlError::unsupported(format!("constraint {other}"))),
        }
        Ok(())
    }
}

/// `base`, or `base` followed by the first number that makes it unused.
pub(crate) fn unique_name(base: String, taken: &HashSet<String>) -> String {
    if !taken.contains(&base) {
        return base;
    }
    (1..)
        .map(|n| format!("{base}{n}"))
        .find(|name| !taken.contains(name))
        .unwrap_or(base)
}

/// The names a table's constraints and indexes already use.
pub(crate) fn constraint_names(table: &TableDescriptor) -> HashSet<String> {
    let mut names: HashSet<String> = table.indexes.iter().map(|i| i.name.clone()).collect();
    names.extend(table.checks.iter().map(|c| c.name.clone()));
    names.extend(table.foreign_keys.iter().map(|f| f.name.clone()));
    if !table.primary_key.name.is_empty() {
        names.insert(table.primary_key.name.clone());
    }
    names
}

/// PostgreSQL's name for a CHECK constraint: `<table>_<first column>_check`.
pub(crate) fn check_name_for(table: &str, expr: &ast::Expr, taken: &HashSet<String>) -> String {
    let mut first_column = None;
    let _ = ast::visit_expressions(expr, |e| {
        if let ast::Expr::Identifier(ident) = e
            && first_column.is_none()
        {
            first_column = Some(ident_name(ident));
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    let base = match first_column {
        Some(column) => format!("{table}_{column}_check"),
        None => format!("{table}_check"),
    };
    unique_name(base, taken)
}

/// Checks that a column's default is an expression without column references whose type
/// can be stored in the column.
pub(crate) fn default_expression(ddl: &Ddl, column: &ColumnDescriptor) -> Result<()> {
    let Some(text) = &column.default else {
        return Ok(());
    };
    let expr = ddl
        .state
        .create_logical_expr(text, &DFSchema::empty())
        .map_err(|e| {
            let error = SqlError::from(e);
            if error.code == "42703" {
                SqlError::new("0A000", "cannot use column reference in DEFAULT expression")
            } else {
                error
            }
        })?;
    let ty = datafusion::logical_expr::ExprSchemable::to_field(&expr, &DFSchema::empty())?
        .1
        .data_type()
        .clone();
    let target = crate::bridge::arrow_type(&column.data_type);
    if !ty.is_null() && !datafusion::arrow::compute::can_cast_types(&ty, &target) {
        return Err(SqlError::new(
            "42804",
            format!(
                "column \"{}\" is of type {} but default expression is of type {ty}",
                column.name,
                column.data_type.display_name()
            ),
        ));
    }
    Ok(())
}

/// Checks a CHECK condition against the table's columns.
pub(crate) fn check_expression(ddl: &Ddl, table: &TableDescriptor, expr: &ast::Expr) -> Result<()> {
    let schema = Ddl::df_schema(table)?;
    let planned = ddl.state.create_logical_expr(&expr.to_string(), &schema)?;
    let ty = datafusion::logical_expr::ExprSchemable::to_field(&planned, &schema)?
        .1
        .data_type()
        .clone();
    if ty != datafusion::arrow::datatypes::DataType::Boolean {
        return Err(SqlError::new(
            "42804",
            format!("argument of CHECK must be type boolean, not type {ty}"),
        ));
    }
    Ok(())
}

/// The descriptor of a column defined by itself (ALTER TABLE ADD COLUMN).
pub(crate) fn column_descriptor(def: &ast::ColumnDef) -> Result<(ColumnDescriptor, Definition)> {
    let mut definition = Definition::default();
    definition.add_column(def)?;
    let column = definition
        .columns
        .pop()
        .ok_or_else(|| SqlError::internal("column definition vanished"))?;
    Ok((column, definition))
}

fn referential_action(action: Option<ast::ReferentialAction>) -> Result<ReferentialAction> {
    Ok(match action {
        None | Some(ast::ReferentialAction::NoAction) => ReferentialAction::NoAction,
        Some(ast::ReferentialAction::Restrict) => ReferentialAction::Restrict,
        Some(ast::ReferentialAction::Cascade) => ReferentialAction::Cascade,
        Some(ast::ReferentialAction::SetNull) => ReferentialAction::SetNull,
        Some(ast::ReferentialAction::SetDefault) => {
            return Err(SqlError::unsupported("ON DELETE/UPDATE SET DEFAULT"));
        }
    })
}

/// Resolves a FOREIGN KEY against the referenced table (`table` itself when it refers to
/// itself): the referenced columns must be its primary key or a unique index, with
/// matching types. Returns the constraint and the referenced table, if another one.
pub(crate) fn resolve_foreign_key(
    ddl: &Ddl,
    table: &TableDescriptor,
    fk: &ast::ForeignKeyConstraint,
    taken: &HashSet<String>,
) -> Result<(ForeignKey, Option<TableDescriptor>)> {
    let (schema, name) = object_name(&fk.foreign_table)?;
    let self_reference = name == table.name
        && schema.as_deref().is_none_or(|s| {
            ddl.catalog()
                .schema(ddl.txn, s)
                .ok()
                .flatten()
                .is_some_and(|s| s.id == table.schema_id)
        });
    let referenced = if self_reference {
        table.clone()
    } else {
        ddl.table(&fk.foreign_table)?
    };
    let columns: Vec<&ColumnDescriptor> = fk
        .columns
        .iter()
        .map(|c| {
            let name = ident_name(c);
            table.column(&name).ok_or_else(|| {
                SqlError::new(
                    "42703",
                    format!(
                        "column \"{name}\" referenced in foreign key constraint does not exist"
                    ),
                )
            })
        })
        .collect::<Result<_>>()?;
    let referenced_columns: Vec<&ColumnDescriptor> = if fk.referred_columns.is_empty() {
        if referenced.has_hidden_row_id() {
            return Err(SqlError::new(
                "42830",
                format!(
                    "there is no primary key for referenced table \"{}\"",
                    referenced.name
                ),
            ));
        }
        referenced
            .primary_key
            .columns
            .iter()
            .filter_map(|k| referenced.column_by_id(k.column))
            .collect()
    } else {
        fk.referred_columns
            .iter()
            .map(|c| {
                let name = ident_name(c);
                referenced.column(&name).ok_or_else(|| {
                    SqlError::new(
                        "42703",
                        format!(
                            "column \"{name}\" referenced in foreign key constraint does not exist"
                        ),
                    )
                })
            })
            .collect::<Result<_>>()?
    };
    if columns.len() != referenced_columns.len() {
        return Err(SqlError::new(
            "42830",
            "number of referencing and referenced columns for foreign key disagree",
        ));
    }
    let wanted: HashSet<u32> = referenced_columns.iter().map(|c| c.id).collect();
    let matches = |keys: &[KeyColumn]| {
        keys.len() == wanted.len() && keys.iter().all(|k| wanted.contains(&k.column))
    };
    let is_key = (!referenced.has_hidden_row_id() && matches(&referenced.primary_key.columns))
        || referenced
            .indexes
            .iter()
            .any(|i| i.unique && matches(&i.columns));
    if !is_key {
        return Err(SqlError::new(
            "42830",
            format!(
                "there is no unique constraint matching given keys for referenced table \"{}\"",
                referenced.name
            ),
        ));
    }
    for (column, target) in columns.iter().zip(&referenced_columns) {
        if !comparable(&column.data_type, &target.data_type) {
            return Err(SqlError::new(
                "42804",
                format!(
                    "foreign key constraint cannot be implemented: key columns \"{}\" and \"{}\" are of incompatible types: {} and {}",
                    column.name,
                    target.name,
                    column.data_type.display_name(),
                    target.data_type.display_name()
                ),
            ));
        }
    }
    let name = match &fk.name {
        Some(name) => ident_name(name),
        None => unique_name(
            format!(
                "{}_{}_fkey",
                table.name,
                columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join("_")
            ),
            taken,
        ),
    };
    let constraint = ForeignKey {
        name,
        columns: columns.iter().map(|c| c.id).collect(),
        referenced_table: referenced.id,
        referenced_columns: referenced_columns.iter().map(|c| c.id).collect(),
        on_delete: referential_action(fk.on_delete)?,
        on_update: referential_action(fk.on_update)?,
    };
    Ok((constraint, (!self_reference).then_some(referenced)))
}

/// Whether values of the two types compare as keys (same family of type).
fn comparable(a: &SqlType, b: &SqlType) -> bool {
    use SqlType as T;
    let family = |t: &SqlType| match t {
        T::Int2 | T::Int4 | T::Int8 | T::Numeric { .. } | T::Float4 | T::Float8 => 1,
        T::Text | T::Varchar(_) | T::Char(_) => 2,
        T::Timestamp | T::TimestampTz => 3,
        _ => 0,
    };
    a == b || (family(a) != 0 && family(a) == family(b))
}

/// Builds the descriptor of a new table from a definition, claims its id, and records the
/// sequences its columns need; returns it with the sequences (not yet written).
pub(crate) fn build_table(
    ddl: &Ddl,
    schema_id: u32,
    name: &str,
    mut definition: Definition,
) -> Result<(TableDescriptor, Vec<SequenceDescriptor>)> {
    let catalog = ddl.catalog();
    let table_id = catalog.next_object_id()?;
    let schema_name = catalog
        .schema_by_id(ddl.txn, schema_id)?
        .map(|s| s.name)
        .unwrap_or_default();
    let mut sequences = Vec::new();
    for (column_name, ty, identity, options) in std::mem::take(&mut definition.sequences) {
        let sequence_name = format!("{name}_{column_name}_seq");
        let mut sequence = SequenceDescriptor::new(
            catalog.next_object_id()?,
            schema_id,
            &sequence_name,
            ddl.owner(),
            ty,
            1,
        );
        apply_sequence_options(&mut sequence, &options)?;
        let column = definition
            .columns
            .iter_mut()
            .find(|c| c.name == column_name)
            .ok_or_else(|| SqlError::internal("sequence for a missing column"))?;
        match identity {
            None => {
                column.default = Some(format!(
                    "nextval({})",
                    crate::syntax::sql_text::regclass_literal(&schema_name, &sequence_name)
                ))
            }
            Some(GeneratedAs::Always) => {
                column.identity = Some(Identity::Always {
                    sequence: sequence.id,
                })
            }
            Some(_) => {
                column.identity = Some(Identity::ByDefault {
                    sequence: sequence.id,
                })
            }
        }
        sequences.push((column_name, sequence));
    }
    let primary_key = definition.primary_key.take().map(|(constraint, columns)| {
        (
            constraint.unwrap_or_else(|| format!("{name}_pkey")),
            columns,
        )
    });
    let mut table = TableDescriptor::new(
        table_id,
        schema_id,
        name,
        ddl.owner(),
        definition.columns,
        primary_key,
    )?;
    for (column_name, sequence) in &mut sequences {
        let column = table
            .column(column_name)
            .ok_or_else(|| SqlError::internal("sequence for a missing column"))?;
        sequence.owned_by = Some((table.id, column.id));
    }
    for column in table.visible_columns() {
        default_expression(ddl, column)?;
    }
    let mut taken = constraint_names(&table);
    for (constraint, columns) in definition.uniques {
        let index_name = match constraint {
            Some(name) => name,
            None => unique_name(
                format!(
                    "{name}_{}_key",
                    columns
                        .iter()
                        .map(|(c, _)| c.as_str())
                        .collect::<Vec<_>>()
                        .join("_")
                ),
                &taken,
            ),
        };
        add_index(
            &mut table,
            catalog.next_object_id()?,
            &index_name,
            true,
            &columns,
        )?;
        taken.insert(index_name);
    }
    for (constraint, expr) in definition.checks {
        check_expression(ddl, &table, &expr)?;
        let check_name = constraint.unwrap_or_else(|| check_name_for(name, &expr, &taken));
        taken.insert(check_name.clone());
        table.checks.push(CheckConstraint {
            name: check_name,
            expression: expr.to_string(),
        });
    }
    for fk in &definition.foreign_keys {
        let (constraint, referenced) = resolve_foreign_key(ddl, &table, fk, &taken)?;
        taken.insert(constraint.name.clone());
        table.foreign_keys.push(constraint);
        if let Some(mut referenced) = referenced {
            let old = referenced.clone();
            if !referenced.referenced_by.contains(&table.id) {
                referenced.referenced_by.push(table.id);
                catalog.update_table(ddl.txn, &old, &referenced)?;
            }
        } else if !table.referenced_by.contains(&table.id) {
            table.referenced_by.push(table.id);
        }
    }
    Ok((table, sequences.into_iter().map(|(_, s)| s).collect()))
}

/// Adds a secondary index over named columns (a new index id and the given oid).
pub(crate) fn add_index(
    table: &mut TableDescriptor,
    oid: u32,
    name: &str,
    unique: bool,
    columns: &[(String, Direction)],
) -> Result<IndexDescriptor> {
    let mut keys = Vec::with_capacity(columns.len());
    for (column_name, direction) in columns {
        let column = table.column(column_name).ok_or_else(|| {
            SqlError::new(
                "42703",
                format!("column \"{column_name}\" named in key does not exist"),
            )
        })?;
        if !column.data_type.is_key_type() {
            return Err(SqlError::new(
                "42704",
                format!(
                    "data type {} has no default operator class for access method \"btree\"",
                    column.data_type.display_name()
                ),
            ));
        }
        keys.push(KeyColumn {
            column: column.id,
            direction: *direction,
        });
    }
    let index = IndexDescriptor {
        id: table.next_index_id,
        oid,
        name: name.to_owned(),
        unique,
        columns: keys,
    };
    table.next_index_id += 1;
    table.indexes.push(index.clone());
    Ok(index)
}

pub async fn create_table(ddl: &Ddl<'_>, mut create: CreateTable) -> Result<QueryResult> {
    if create.clone.is_some() || create.inherits.is_some() || create.partition_of.is_some() {
        return Err(SqlError::unsupported(
            "CREATE TABLE … INHERITS/PARTITION OF",
        ));
    }
    if let Some(
        ast::CreateTableLikeKind::Parenthesized(like) | ast::CreateTableLikeKind::Plain(like),
    ) = create.like.take()
    {
        let mut columns = like_columns(ddl, &like)?;
        columns.append(&mut create.columns);
        create.columns = columns;
    }
    let (schema_name, name) = object_name(&create.name)?;
    let schema = if create.temporary {
        super::temp::temp_schema(ddl, schema_name.as_deref())?
    } else {
        if create.on_commit.is_some() {
            return Err(SqlError::new(
                "42P16",
                "ON COMMIT can only be used on temporary tables",
            ));
        }
        ddl.creation_schema(schema_name.as_deref())?
    };
    if ddl.catalog().relation(ddl.txn, schema.id, &name)?.is_some() {
        if create.if_not_exists {
            return Ok(QueryResult::command("CREATE TABLE"));
        }
        return Err(SqlError::new(
            "42P07",
            format!("relation \"{name}\" already exists"),
        ));
    }
    if create.temporary {
        super::temp::remember_on_commit(ddl, &schema, &name, create.on_commit);
    }
    if let Some(query) = create.query {
        return super::create_table_as::create_table_as(
            ddl,
            schema.id,
            &name,
            &create.columns,
            *query,
        )
        .await;
    }
    let mut definition = Definition::default();
    for column in &create.columns {
        definition.add_column(column)?;
    }
    for constraint in &create.constraints {
        definition.add_constraint(constraint)?;
    }
    let (mut table, sequences) = build_table(ddl, schema.id, &name, definition)?;
    table.options = table_options(&create.table_options)?;
    ddl.catalog().create_table(ddl.txn, &table)?;
    for sequence in &sequences {
        ddl.catalog().create_sequence(ddl.txn, sequence)?;
    }
    Ok(QueryResult::command("CREATE TABLE"))
}

/// `LIKE source [INCLUDING DEFAULTS]`: the source's columns with their names, types
/// and NOT NULL, and their defaults when asked — as PostgreSQL copies them by default,
/// without keys, indexes or CHECK constraints.
fn like_columns(ddl: &Ddl<'_>, like: &ast::CreateTableLike) -> Result<Vec<ast::ColumnDef>> {
    let source = ddl.table(&like.name)?;
    let with_defaults = like.defaults == Some(ast::CreateTableLikeDefaults::Including);
    let definitions: Vec<String> = source
        .visible_columns()
        .map(|column| {
            let mut text = format!(
                "{} {}",
                crate::syntax::sql_text::quote_ident(&column.name),
                column.data_type.display_name()
            );
            if !column.nullable {
                text.push_str(" NOT NULL");
            }
            if let Some(default) = column.default.as_ref().filter(|_| with_defaults) {
                text.push_str(" DEFAULT ");
                text.push_str(default);
            }
            text
        })
        .collect();
    if definitions.is_empty() {
        return Ok(Vec::new());
    }
    let text = format!("CREATE TABLE like_source ({})", definitions.join(", "));
    match crate::syntax::parse(&text)?.pop() {
        Some(ast::Statement::CreateTable(parsed)) => Ok(parsed.columns),
        _ => Err(SqlError::new(
            "XX000",
            format!("columns of {} do not read back", like.name),
        )),
    }
}

/// `WITH (fillfactor = 70, …)`: storage parameters PostgreSQL knows are accepted and
/// recorded (they tune its heap, which we do not have).
fn table_options(options: &CreateTableOptions) -> Result<Vec<(String, String)>> {
    let list = match options {
        CreateTableOptions::None => return Ok(Vec::new()),
        CreateTableOptions::With(list) => list,
        _ => return Err(SqlError::unsupported("table options other than WITH (…)")),
    };
    const KNOWN: &[&str] = &[
        "fillfactor",
        "autovacuum_enabled",
        "toast_tuple_target",
        "parallel_workers",
        "vacuum_truncate",
        "user_catalog_table",
    ];
    list.iter()
        .map(|option| match option {
            ast::SqlOption::KeyValue { key, value } => {
                let key = ident_name(key);
                if !KNOWN.contains(&key.as_str())
                    && !key.starts_with("autovacuum_")
                    && !key.starts_with("toast.")
                {
                    return Err(SqlError::new(
                        "22023",
                        format!("unrecognized parameter \"{key}\""),
                    ));
                }
                Ok((key, value.to_string()))
            }
            other => Err(SqlError::new(
                "22023",
                format!("unrecognized parameter \"{other}\""),
            )),
        })
        .collect()
}
