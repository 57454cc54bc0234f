//! The catalog functions clients call: `format_type`, `pg_get_indexdef`,
//! `pg_get_constraintdef`, `pg_get_userbyid`, `pg_table_is_visible`, `current_user`, the
//! privilege checks, and the name ↔ OID lookups behind `::regclass` and its kin (see
//! `rewrite`). They read the statement's catalog snapshot, like the system tables.
//!
//! Arguments are taken as they come — an OID as any integer, a name as any text — and
//! cast here, so catalog queries need no exact signatures. Every role is allowed
//! everything (there are no grants yet), so the privilege checks answer true.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Int32Array, Int64Array, ListBuilder, StringArray, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::error::Result as DfResult;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::Snapshot;
use super::types;
use crate::context::linked_context;
use crate::error::{SqlError, into_datafusion};
use datafusion::config::ConfigOptions;

/// The object-identifier types `::reg…` casts look up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Reg {
    Class,
    Type,
    Namespace,
    Role,
}

/// What `bytedata_reg…` returns: the OID for a name, the name for an OID (`Either`), or
/// one of them whatever the argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum RegResult {
    Either,
    Name,
    Oid,
    /// `to_regclass(text)` and its kin: the OID, or NULL when nothing has the name.
    OidOrNull,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    FormatType,
    GetUserById,
    TableIsVisible,
    AlwaysTrue,
    GetIndexdef,
    GetConstraintdef,
    GetExpr,
    GetViewdef,
    NoDescription,
    EncodingToChar,
    CurrentSchemas,
    CurrentUser,
    BackendPid,
    Reg(Reg, RegResult),
    PartitionAncestors,
    AlwaysFalse,
    GetSerialSequence,
    SizePretty,
    /// `bytedata_subscripts(array, dim)`: the array's subscripts, 1 to its length (what
    /// `generate_subscripts` yields, as a list to unnest).
    Subscripts,
    /// `bytedata_expandarray(array)`: the elements with their subscripts, as a list of
    /// `(x, n)` structs to unnest.
    ExpandArray,
    /// A relation's size in bytes: the keys and values of its rows, its indexes' entries,
    /// or both — what the statement's snapshot holds, measured by a scan.
    RelationSize(SizeOf),
    /// A database's bytes on disk (every file of its store), by name or OID.
    DatabaseSize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SizeOf {
    /// The rows (`pg_table_size`, `pg_relation_size`).
    Rows,
    /// The secondary indexes (`pg_indexes_size`).
    Indexes,
    /// Both (`pg_total_relation_size`).
    Total,
}

struct CatalogFunction {
    kind: Kind,
    name: String,
    signature: Signature,
}

impl std::fmt::Debug for CatalogFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl PartialEq for CatalogFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for CatalogFunction {}

impl Hash for CatalogFunction {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

fn is_text(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

fn ints(args: &[ArrayRef], i: usize) -> DfResult<Vec<Option<i64>>> {
    let Some(array) = args.get(i) else {
        return Ok(vec![None; args.first().map_or(1, |a| a.len())]);
    };
    let array = datafusion::arrow::compute::cast(array, &DataType::Int64)?;
    let array = datafusion::common::cast::as_int64_array(&array)?;
    Ok(array.iter().collect())
}

fn texts(args: &[ArrayRef], i: usize) -> DfResult<Vec<Option<String>>> {
    let Some(array) = args.get(i) else {
        return Ok(vec![None; args.first().map_or(1, |a| a.len())]);
    };
    let array = datafusion::arrow::compute::cast(array, &DataType::Utf8)?;
    let array = datafusion::common::cast::as_string_array(&array)?;
    Ok(array.iter().map(|v| v.map(str::to_owned)).collect())
}

fn bools(args: &[ArrayRef], i: usize) -> DfResult<Vec<Option<bool>>> {
    let Some(array) = args.get(i) else {
        return Ok(vec![None; args.first().map_or(1, |a| a.len())]);
    };
    let array = datafusion::arrow::compute::cast(array, &DataType::Boolean)?;
    let array = datafusion::common::cast::as_boolean_array(&array)?;
    Ok(array.iter().collect())
}

/// A name as `regclass` input reads it: `schema.name`, each part folded to lower case
/// unless quoted.
fn parse_name(text: &str) -> Result<(Option<String>, String), SqlError> {
    let dialect = datafusion::sql::sqlparser::dialect::PostgreSqlDialect {};
    let name = datafusion::sql::sqlparser::parser::Parser::new(&dialect)
        .try_with_sql(text)
        .and_then(|mut p| p.parse_object_name(false))
        .map_err(|_| SqlError::new("42602", format!("invalid name syntax: \"{text}\"")))?;
    crate::syntax::object_name(&name)
}

impl CatalogFunction {
    /// The catalog as the calling statement sees it.
    fn snapshot(options: &ConfigOptions) -> DfResult<Arc<Snapshot>> {
        Snapshot::shared(linked_context(options)?.as_ref()).map_err(into_datafusion)
    }

    /// The OID a `reg…` input names; an error naming it if nothing has that name.
    fn reg_oid(&self, snapshot: &Snapshot, reg: Reg, text: &str) -> Result<i64, SqlError> {
        let trimmed = text.trim();
        if let Ok(number) = trimmed.parse::<i64>() {
            return Ok(number);
        }
        let missing = |what: &str, code: &'static str| {
            SqlError::new(code, format!("{what} \"{trimmed}\" does not exist"))
        };
        match reg {
            Reg::Class => {
                let (schema, name) = parse_name(trimmed)?;
                if schema.as_deref().is_none_or(|s| s == "pg_catalog")
                    && let Some(oid) = super::pg_catalog::catalog_table_oid(&name)
                {
                    return Ok(i64::from(oid));
                }
                let schemas: Vec<u32> = match &schema {
                    Some(schema) => snapshot
                        .schemas
                        .iter()
                        .filter(|s| &s.name == schema)
                        .map(|s| s.id)
                        .collect(),
                    None => snapshot.search_path.clone(),
                };
                schemas
                    .into_iter()
                    .find_map(|schema| snapshot.relation_oid(schema, &name))
                    .map(i64::from)
                    .ok_or_else(|| missing("relation", "42P01"))
            }
            Reg::Type => types::oid_by_name(trimmed)
                .map(i64::from)
                .ok_or_else(|| missing("type", "42704")),
            Reg::Namespace => {
                let (_, name) = parse_name(trimmed)?;
                snapshot
                    .schemas
                    .iter()
                    .find(|s| s.name == name)
                    .map(|s| i64::from(s.id))
                    .ok_or_else(|| missing("schema", "3F000"))
            }
            Reg::Role => {
                let (_, name) = parse_name(trimmed)?;
                snapshot
                    .roles
                    .iter()
                    .find(|r| r.name == name)
                    .map(|r| i64::from(r.id))
                    .ok_or_else(|| missing("role", "42704"))
            }
        }
    }

    /// The name a `reg…` value prints as; the number itself for an OID nothing has.
    fn reg_name(snapshot: &Snapshot, reg: Reg, oid: i64) -> String {
        let name = match reg {
            Reg::Class => snapshot
                .relation_name(oid)
                .or_else(|| super::pg_catalog::catalog_table_name(oid).map(str::to_owned)),
            Reg::Type => types::format_type(oid, None),
            Reg::Namespace => snapshot
                .schemas
                .iter()
                .find(|s| i64::from(s.id) == oid)
                .map(|s| super::snapshot::quote_ident(&s.name)),
            Reg::Role => snapshot.role_name(oid).map(str::to_owned),
        };
        name.unwrap_or_else(|| oid.to_string())
    }

    fn invoke(
        &self,
        options: &ConfigOptions,
        args: &[ArrayRef],
        rows: usize,
    ) -> DfResult<ArrayRef> {
        let text_column = |values: Vec<Option<String>>| Arc::new(StringArray::from(values)) as _;
        Ok(match self.kind {
            Kind::FormatType => {
                let oids = ints(args, 0)?;
                let mods = ints(args, 1)?;
                text_column(
                    oids.into_iter()
                        .zip(mods)
                        .map(|(oid, typmod)| {
                            oid.map(|oid| {
                                types::format_type(oid, typmod).unwrap_or_else(|| "???".into())
                            })
                        })
                        .collect(),
                )
            }
            Kind::GetUserById => {
                let snapshot = Self::snapshot(options)?;
                text_column(
                    ints(args, 0)?
                        .into_iter()
                        .map(|oid| {
                            oid.map(|oid| {
                                snapshot
                                    .role_name(oid)
                                    .map_or_else(|| format!("unknown (OID={oid})"), str::to_owned)
                            })
                        })
                        .collect(),
                )
            }
            Kind::TableIsVisible => {
                let snapshot = Self::snapshot(options)?;
                let visible: BooleanArray = ints(args, 0)?
                    .into_iter()
                    .map(|oid| {
                        let (schema, name) = snapshot.relation(oid?)?;
                        Some(snapshot.is_visible(schema, &name))
                    })
                    .collect();
                Arc::new(visible)
            }
            Kind::AlwaysTrue => Arc::new(BooleanArray::from(vec![true; rows])),
            Kind::AlwaysFalse => Arc::new(BooleanArray::from(vec![false; rows])),
            Kind::GetIndexdef => {
                let snapshot = Self::snapshot(options)?;
                let columns = ints(args, 1)?;
                text_column(
                    ints(args, 0)?
                        .into_iter()
                        .zip(columns)
                        .map(|(oid, column)| {
                            let index = snapshot.index(oid?)?;
                            match column.unwrap_or(0) {
                                0 => Some(snapshot.index_definition(&index)),
                                n => {
                                    let key = index.columns.get(usize::try_from(n - 1).ok()?)?;
                                    index.table.column_by_id(key.column).map(|c| c.name.clone())
                                }
                            }
                        })
                        .collect(),
                )
            }
            Kind::GetConstraintdef => {
                let snapshot = Self::snapshot(options)?;
                text_column(
                    ints(args, 0)?
                        .into_iter()
                        .map(|oid| {
                            let constraint = snapshot.constraint(oid?)?;
                            Some(snapshot.constraint_definition(&constraint))
                        })
                        .collect(),
                )
            }
            Kind::GetExpr => text_column(texts(args, 0)?),
            Kind::GetViewdef => {
                let snapshot = Self::snapshot(options)?;
                text_column(
                    ints(args, 0)?
                        .into_iter()
                        .map(|oid| match &snapshot.table(oid?)?.kind {
                            bytedata_catalog::descriptor::RelationKind::View { definition } => {
                                Some(definition.clone())
                            }
                            _ => None,
                        })
                        .collect(),
                )
            }
            Kind::NoDescription => text_column(vec![None; rows]),
            Kind::EncodingToChar => text_column(
                ints(args, 0)?
                    .into_iter()
                    .map(|encoding| {
                        encoding.map(|e| match e {
                            0 => "SQL_ASCII".to_owned(),
                            6 => "UTF8".to_owned(),
                            _ => String::new(),
                        })
                    })
                    .collect(),
            ),
            Kind::CurrentSchemas => {
                let snapshot = Self::snapshot(options)?;
                let implicit = bools(args, 0)?;
                let mut builder = ListBuilder::new(StringBuilder::new());
                for include in implicit {
                    let Some(include) = include else {
                        builder.append_null();
                        continue;
                    };
                    for &id in &snapshot.search_path {
                        if include || id != bytedata_catalog::catalog::PG_CATALOG_SCHEMA {
                            builder.values().append_value(snapshot.schema_name(id));
                        }
                    }
                    builder.append(true);
                }
                Arc::new(builder.finish())
            }
            Kind::CurrentUser => {
                let user = linked_context(options).ok().map(|c| c.user.clone());
                text_column(vec![user; rows])
            }
            Kind::BackendPid => {
                let pid = linked_context(options)?
                    .shared
                    .backend_pid
                    .load(std::sync::atomic::Ordering::Relaxed);
                Arc::new(Int32Array::from(vec![pid; rows]))
            }
            Kind::Reg(reg, result) => {
                let snapshot = Self::snapshot(options)?;
                let input = args.first().map(|a| a.data_type().clone());
                let by_name = input.as_ref().is_some_and(is_text);
                let oids: Vec<Option<i64>> = if result == RegResult::OidOrNull {
                    texts(args, 0)?
                        .into_iter()
                        .map(|t| t.and_then(|t| self.reg_oid(&snapshot, reg, &t).ok()))
                        .collect()
                } else if by_name {
                    texts(args, 0)?
                        .into_iter()
                        .map(|t| t.map(|t| self.reg_oid(&snapshot, reg, &t)).transpose())
                        .collect::<Result<_, _>>()
                        .map_err(into_datafusion)?
                } else {
                    ints(args, 0)?
                };
                let as_name = match result {
                    RegResult::Either => !by_name,
                    RegResult::Name => true,
                    RegResult::Oid | RegResult::OidOrNull => false,
                };
                if as_name {
                    text_column(
                        oids.into_iter()
                            .map(|oid| oid.map(|oid| Self::reg_name(&snapshot, reg, oid)))
                            .collect(),
                    )
                } else {
                    Arc::new(Int64Array::from(oids))
                }
            }
            Kind::PartitionAncestors => Arc::new(Int64Array::from(vec![None; rows])),
            Kind::RelationSize(of) => {
                let snapshot = Self::snapshot(options)?;
                let context = linked_context(options)?;
                let sizes = ints(args, 0)?
                    .into_iter()
                    .map(|oid| match oid.and_then(|oid| snapshot.table(oid)) {
                        Some(table) => super::sizes::relation_bytes(&context, table, of).map(Some),
                        None => Ok(None),
                    })
                    .collect::<Result<Vec<_>, SqlError>>()
                    .map_err(into_datafusion)?;
                Arc::new(Int64Array::from(sizes))
            }
            Kind::DatabaseSize => {
                let context = linked_context(options)?;
                let snapshot = Self::snapshot(options)?;
                let by_name = args.first().is_some_and(|a| is_text(a.data_type()));
                // As PostgreSQL: an unknown name is an error, an unknown OID is NULL.
                let ids: Vec<Option<u32>> = if by_name {
                    texts(args, 0)?
                        .into_iter()
                        .map(|name| {
                            let Some(name) = name else { return Ok(None) };
                            match snapshot.databases.iter().find(|d| d.name == name) {
                                Some(database) => Ok(Some(database.id)),
                                None => Err(into_datafusion(SqlError::new(
                                    "3D000",
                                    format!("database \"{name}\" does not exist"),
                                ))),
                            }
                        })
                        .collect::<DfResult<_>>()?
                } else {
                    ints(args, 0)?
                        .into_iter()
                        .map(|oid| {
                            let oid = oid?;
                            snapshot
                                .databases
                                .iter()
                                .find(|d| i64::from(d.id) == oid)
                                .map(|d| d.id)
                        })
                        .collect()
                };
                Arc::new(Int64Array::from(
                    ids.into_iter()
                        .map(|id| {
                            id.map(|id| {
                                let bytes = context.cluster.database_disk_bytes(id);
                                i64::try_from(bytes).unwrap_or(i64::MAX)
                            })
                        })
                        .collect::<Vec<_>>(),
                ))
            }
            Kind::Subscripts => {
                let lengths: Vec<Option<i64>> = match args.first() {
                    Some(array) => match array.data_type() {
                        DataType::List(_) => {
                            let lists = datafusion::common::cast::as_list_array(array)?;
                            (0..lists.len())
                                .map(|i| {
                                    lists.is_valid(i).then(|| i64::from(lists.value_length(i)))
                                })
                                .collect()
                        }
                        _ => vec![None; rows],
                    },
                    None => vec![None; rows],
                };
                let dims = ints(args, 1)?;
                let mut builder = ListBuilder::new(datafusion::arrow::array::Int32Builder::new());
                for (length, dim) in lengths.into_iter().zip(dims) {
                    match (length, dim) {
                        (Some(length), Some(1)) => {
                            for i in 1..=length {
                                builder.values().append_value(i as i32);
                            }
                            builder.append(true);
                        }
                        _ => builder.append_null(),
                    }
                }
                Arc::new(builder.finish())
            }
            Kind::ExpandArray => expand_array(args.first(), rows)?,
            Kind::SizePretty => text_column(
                ints(args, 0)?
                    .into_iter()
                    .map(|size| size.map(size_pretty))
                    .collect(),
            ),
            Kind::GetSerialSequence => {
                let snapshot = Self::snapshot(options)?;
                let tables = texts(args, 0)?;
                let columns = texts(args, 1)?;
                let mut out = Vec::with_capacity(rows);
                for (table, column) in tables.into_iter().zip(columns) {
                    let (Some(table), Some(column)) = (table, column) else {
                        out.push(None);
                        continue;
                    };
                    let oid = self
                        .reg_oid(&snapshot, Reg::Class, &table)
                        .map_err(into_datafusion)?;
                    let table = snapshot
                        .table(oid)
                        .ok_or_else(|| into_datafusion(SqlError::undefined_table(&table)))?;
                    let column = table
                        .column(&column)
                        .ok_or_else(|| into_datafusion(SqlError::undefined_column(&column)))?;
                    out.push(
                        snapshot
                            .sequences
                            .iter()
                            .find(|s| s.owned_by == Some((table.id, column.id)))
                            .map(|s| {
                                format!(
                                    "{}.{}",
                                    super::snapshot::quote_ident(snapshot.schema_name(s.schema_id)),
                                    super::snapshot::quote_ident(&s.name)
                                )
                            }),
                    );
                }
                text_column(out)
            }
        })
    }
}

fn expanded_type(array: Option<&DataType>) -> DataType {
    let element = match array {
        Some(DataType::List(field)) => field.data_type().clone(),
        _ => DataType::Int64,
    };
    DataType::List(Arc::new(Field::new(
        "item",
        DataType::Struct(
            vec![
                Field::new("x", element, true),
                Field::new("n", DataType::Int32, false),
            ]
            .into(),
        ),
        true,
    )))
}

fn expand_array(array: Option<&ArrayRef>, rows: usize) -> DfResult<ArrayRef> {
    use datafusion::arrow::array::{Int32Array, ListArray, StructArray};
    use datafusion::arrow::buffer::OffsetBuffer;
    let Some(array) = array.filter(|a| matches!(a.data_type(), DataType::List(_))) else {
        return Ok(datafusion::arrow::array::new_null_array(
            &expanded_type(None),
            rows,
        ));
    };
    let lists = datafusion::common::cast::as_list_array(array)?;
    let DataType::List(item) = expanded_type(Some(array.data_type())) else {
        unreachable!("expanded_type returns a list")
    };
    let DataType::Struct(fields) = item.data_type().clone() else {
        unreachable!("expanded_type holds structs")
    };
    let values = lists.values().clone();
    // Subscripts restart at 1 in each row's list.
    let mut subscripts = Vec::with_capacity(values.len());
    for row in 0..lists.len() {
        subscripts.extend(1..=lists.value_length(row));
    }
    let offsets = lists.offsets().clone();
    let first = usize::try_from(offsets[0]).unwrap_or(0);
    let last = usize::try_from(offsets[offsets.len() - 1]).unwrap_or(0);
    let values = values.slice(first, last - first);
    let structs = StructArray::try_new(
        fields,
        vec![values, Arc::new(Int32Array::from(subscripts))],
        None,
    )?;
    let rebased: Vec<i32> = offsets.iter().map(|o| o - offsets[0]).collect();
    Ok(Arc::new(ListArray::try_new(
        item,
        OffsetBuffer::new(rebased.into()),
        Arc::new(structs),
        lists.nulls().cloned(),
    )?))
}

/// `pg_size_pretty`: bytes in the largest unit that keeps at least 10 of it, rounded
/// half away from zero, as PostgreSQL prints them.
fn size_pretty(bytes: i64) -> String {
    const UNITS: &[(&str, u32)] = &[("kB", 10), ("MB", 20), ("GB", 30), ("TB", 40), ("PB", 50)];
    const BYTES_LIMIT: i64 = 10 * 1024;
    const UNIT_LIMIT: i64 = 20 * 1024 - 1;
    if bytes.unsigned_abs() < BYTES_LIMIT.unsigned_abs() {
        return format!("{bytes} bytes");
    }
    let half_rounded = |x: i64| (x + if x < 0 { -1 } else { 1 }) / 2;
    // One bit more than the unit keeps, for rounding.
    let mut size = bytes >> (UNITS[0].1 - 1);
    for (i, (name, bits)) in UNITS.iter().enumerate() {
        let last = i + 1 == UNITS.len();
        if last || size.unsigned_abs() < UNIT_LIMIT.unsigned_abs() {
            return format!("{} {name}", half_rounded(size));
        }
        size >>= UNITS[i + 1].1 - bits;
    }
    unreachable!("the last unit returns")
}

impl ScalarUDFImpl for CatalogFunction {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(match self.kind {
            Kind::TableIsVisible | Kind::AlwaysTrue | Kind::AlwaysFalse => DataType::Boolean,
            Kind::BackendPid => DataType::Int32,
            Kind::PartitionAncestors | Kind::RelationSize(_) | Kind::DatabaseSize => {
                DataType::Int64
            }
            Kind::CurrentSchemas => {
                DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
            }
            Kind::ExpandArray => expanded_type(arg_types.first()),
            Kind::Subscripts => DataType::List(Arc::new(Field::new("item", DataType::Int32, true))),
            Kind::Reg(_, RegResult::Either) => {
                if arg_types.first().is_some_and(is_text) {
                    DataType::Int64
                } else {
                    DataType::Utf8
                }
            }
            Kind::Reg(_, RegResult::Oid | RegResult::OidOrNull) => DataType::Int64,
            _ => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let options = args.config_options.clone();
        crate::bridge::invoke_on_arrays(&args, |arrays, rows| self.invoke(&options, arrays, rows))
    }
}

/// Registers the catalog functions in a session's DataFusion state.
pub fn register(state: &mut SessionState) {
    let any = || Signature::variadic_any(Volatility::Stable);
    let none = || Signature::exact(vec![], Volatility::Stable);
    let mut functions: Vec<(String, Kind, Signature)> = [
        ("format_type", Kind::FormatType, any()),
        ("pg_get_userbyid", Kind::GetUserById, any()),
        ("pg_table_is_visible", Kind::TableIsVisible, any()),
        ("pg_type_is_visible", Kind::AlwaysTrue, any()),
        ("pg_function_is_visible", Kind::AlwaysTrue, any()),
        ("pg_collation_is_visible", Kind::AlwaysTrue, any()),
        ("pg_get_indexdef", Kind::GetIndexdef, any()),
        ("pg_get_constraintdef", Kind::GetConstraintdef, any()),
        ("pg_get_expr", Kind::GetExpr, any()),
        ("pg_get_viewdef", Kind::GetViewdef, any()),
        ("obj_description", Kind::NoDescription, any()),
        ("col_description", Kind::NoDescription, any()),
        ("shobj_description", Kind::NoDescription, any()),
        ("pg_encoding_to_char", Kind::EncodingToChar, any()),
        ("current_schemas", Kind::CurrentSchemas, any()),
        ("current_user", Kind::CurrentUser, none()),
        ("session_user", Kind::CurrentUser, none()),
        ("user", Kind::CurrentUser, none()),
        ("current_role", Kind::CurrentUser, none()),
        ("pg_backend_pid", Kind::BackendPid, none()),
        ("pg_partition_ancestors", Kind::PartitionAncestors, any()),
        ("pg_relation_is_publishable", Kind::AlwaysFalse, any()),
        ("pg_is_in_recovery", Kind::AlwaysFalse, none()),
        ("pg_get_serial_sequence", Kind::GetSerialSequence, any()),
        ("pg_size_pretty", Kind::SizePretty, any()),
        ("bytedata_subscripts", Kind::Subscripts, any()),
        ("bytedata_expandarray", Kind::ExpandArray, any()),
        ("pg_table_size", Kind::RelationSize(SizeOf::Rows), any()),
        ("pg_relation_size", Kind::RelationSize(SizeOf::Rows), any()),
        (
            "pg_total_relation_size",
            Kind::RelationSize(SizeOf::Total),
            any(),
        ),
        (
            "pg_indexes_size",
            Kind::RelationSize(SizeOf::Indexes),
            any(),
        ),
        ("pg_database_size", Kind::DatabaseSize, any()),
    ]
    .into_iter()
    .map(|(name, kind, signature)| (name.to_owned(), kind, signature))
    .collect();
    for privilege in [
        "has_table_privilege",
        "has_schema_privilege",
        "has_database_privilege",
        "has_column_privilege",
        "has_sequence_privilege",
        "has_function_privilege",
        "has_any_column_privilege",
        "pg_has_role",
    ] {
        functions.push((privilege.to_owned(), Kind::AlwaysTrue, any()));
    }
    for (reg, name) in [
        (Reg::Class, "regclass"),
        (Reg::Type, "regtype"),
        (Reg::Namespace, "regnamespace"),
        (Reg::Role, "regrole"),
    ] {
        for (result, suffix) in [
            (RegResult::Either, ""),
            (RegResult::Name, "_name"),
            (RegResult::Oid, "_oid"),
        ] {
            functions.push((
                format!("bytedata_{name}{suffix}"),
                Kind::Reg(reg, result),
                any(),
            ));
        }
        functions.push((
            format!("to_{name}"),
            Kind::Reg(reg, RegResult::OidOrNull),
            Signature::exact(vec![DataType::Utf8], Volatility::Stable),
        ));
    }
    for (name, kind, signature) in functions {
        let function = CatalogFunction {
            kind,
            name,
            signature,
        };
        let _ = datafusion::execution::FunctionRegistry::register_udf(
            state,
            Arc::new(ScalarUDF::new_from_impl(function)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::size_pretty;

    #[test]
    fn sizes_print_as_postgres_prints_them() {
        assert_eq!(size_pretty(0), "0 bytes");
        assert_eq!(size_pretty(10 * 1024 - 1), "10239 bytes");
        assert_eq!(size_pretty(10 * 1024), "10 kB");
        assert_eq!(size_pretty(8192 * 1024), "8192 kB");
        assert_eq!(size_pretty(20 * 1024 * 1024), "20 MB");
        assert_eq!(size_pretty(20 * 1024 * 1024 - 1), "20 MB");
        assert_eq!(size_pretty(-10 * 1024 * 1024), "-10 MB");
        assert_eq!(size_pretty(-10 * 1024), "-10 kB");
        assert_eq!(size_pretty(i64::MAX), "8192 PB");
    }
}
