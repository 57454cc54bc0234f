//! PostgreSQL's regular-expression functions over `pgtypes::regex`: `regexp_match`,
//! `regexp_matches`, `regexp_split_to_array`, `regexp_replace` (with PostgreSQL 15's
//! start and N), `regexp_substr`, `regexp_instr`, `regexp_count`, `regexp_like`,
//! `similar_to_escape`, and two that the syntax rewrites call: `pg_similar_to` (what
//! `x SIMILAR TO p ESCAPE e` becomes) and `pg_substring_regex` (`substring(x FROM p)` and
//! `substring(x FROM p FOR e)`).
//!
//! These replace DataFusion's functions of the same names, which take the `regex`
//! crate's syntax and defaults (`.` not matching a newline) as they are. The
//! set-returning ones return lists here — every match for `regexp_matches`, the pieces
//! for `regexp_split_to_table` — which `syntax::set_returning` unnests into rows.
//!
//! A pattern is compiled once per call when it is a constant, and otherwise once per
//! distinct consecutive (pattern, flags) pair.

use std::sync::Arc;

use bytedata_pgtypes::regex::{Flags, Regex};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Int32Builder, ListBuilder, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type};
use datafusion::common::exec_err;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::error::{SqlError, into_datafusion};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Match,
    Matches,
    SplitToArray,
    Replace,
    Substr,
    Instr,
    Count,
    Like,
    SimilarToEscape,
    SimilarTo,
    SubstringRegex,
}

/// An argument's type: text or integer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Arg {
    Text,
    Int,
}

use Arg::{Int, Text};

impl Kind {
    const ALL: [Kind; 11] = [
        Kind::Match,
        Kind::Matches,
        Kind::SplitToArray,
        Kind::Replace,
        Kind::Substr,
        Kind::Instr,
        Kind::Count,
        Kind::Like,
        Kind::SimilarToEscape,
        Kind::SimilarTo,
        Kind::SubstringRegex,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Match => "regexp_match",
            Kind::Matches => "regexp_matches",
            Kind::SplitToArray => "regexp_split_to_array",
            Kind::Replace => "regexp_replace",
            Kind::Substr => "regexp_substr",
            Kind::Instr => "regexp_instr",
            Kind::Count => "regexp_count",
            Kind::Like => "regexp_like",
            Kind::SimilarToEscape => "similar_to_escape",
            Kind::SimilarTo => "pg_similar_to",
            Kind::SubstringRegex => "pg_substring_regex",
        }
    }

    /// The argument types of the overload taking `arg_types`, as PostgreSQL declares
    /// them; `None` if there is none.
    fn overload(self, arg_types: &[DataType]) -> Option<&'static [Arg]> {
        let count = arg_types.len();
        let fourth_is_int = arg_types.get(3).is_some_and(DataType::is_integer);
        let overloads: &[&'static [Arg]] = match self {
            Kind::Match | Kind::Matches | Kind::SplitToArray | Kind::Like => {
                &[&[Text, Text], &[Text, Text, Text]]
            }
            Kind::Replace if count == 4 && !fourth_is_int => &[&[Text, Text, Text, Text]],
            Kind::Replace => &[
                &[Text, Text, Text],
                &[Text, Text, Text, Int],
                &[Text, Text, Text, Int, Int],
                &[Text, Text, Text, Int, Int, Text],
            ],
            Kind::Substr => &[
                &[Text, Text],
                &[Text, Text, Int],
                &[Text, Text, Int, Int],
                &[Text, Text, Int, Int, Text],
                &[Text, Text, Int, Int, Text, Int],
            ],
            Kind::Instr => &[
                &[Text, Text],
                &[Text, Text, Int],
                &[Text, Text, Int, Int],
                &[Text, Text, Int, Int, Int],
                &[Text, Text, Int, Int, Int, Text],
                &[Text, Text, Int, Int, Int, Text, Int],
            ],
            Kind::Count => &[&[Text, Text], &[Text, Text, Int], &[Text, Text, Int, Text]],
            Kind::SimilarToEscape => &[&[Text], &[Text, Text]],
            Kind::SimilarTo | Kind::SubstringRegex => &[&[Text, Text], &[Text, Text, Text]],
        };
        overloads.iter().copied().find(|o| o.len() == count)
    }

    fn return_type(self) -> DataType {
        let text_list = DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
        match self {
            Kind::Match | Kind::SplitToArray => text_list,
            Kind::Matches => DataType::List(Arc::new(Field::new("item", text_list, true))),
            Kind::Replace | Kind::Substr | Kind::SimilarToEscape | Kind::SubstringRegex => {
                DataType::Utf8
            }
            Kind::Instr | Kind::Count => DataType::Int32,
            Kind::Like | Kind::SimilarTo => DataType::Boolean,
        }
    }
}

pub fn register(state: &mut SessionState) {
    for kind in Kind::ALL {
        let function = ScalarUDF::new_from_impl(RegexpFunction {
            kind,
            signature: Signature::user_defined(Volatility::Immutable),
        });
        let _ = datafusion::execution::FunctionRegistry::register_udf(state, Arc::new(function));
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RegexpFunction {
    kind: Kind,
    signature: Signature,
}

impl ScalarUDFImpl for RegexpFunction {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> DfResult<Vec<DataType>> {
        let Some(overload) = self.kind.overload(arg_types) else {
            // Worded as `error.rs` recognises it, which adds PostgreSQL's hint.
            let types: Vec<String> = arg_types.iter().map(type_name).collect();
            return Err(DataFusionError::Plan(format!(
                "function {}({}) does not exist",
                self.kind.name(),
                types.join(", ")
            )));
        };
        Ok(overload
            .iter()
            .map(|arg| match arg {
                Text => DataType::Utf8,
                Int => DataType::Int64,
            })
            .collect())
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(self.kind.return_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let kind = self.kind;
        let Some(overload) = kind.overload(
            &args
                .args
                .iter()
                .map(ColumnarValue::data_type)
                .collect::<Vec<_>>(),
        ) else {
            return exec_err!("{} called with unexpected arguments", kind.name());
        };
        crate::bridge::invoke_on_arrays(&args, |arrays, rows| {
            let columns = Columns::new(arrays, overload)?;
            evaluate(kind, &columns, rows).map_err(into_datafusion)
        })
    }
}

fn type_name(ty: &DataType) -> String {
    if ty == &DataType::Null {
        return "unknown".to_owned();
    }
    super::scalar_functions::type_name(ty)
}

/// The arguments of one call, typed.
struct Columns<'a> {
    arrays: &'a [ArrayRef],
    overload: &'static [Arg],
}

impl<'a> Columns<'a> {
    fn new(arrays: &'a [ArrayRef], overload: &'static [Arg]) -> DfResult<Columns<'a>> {
        for (array, arg) in arrays.iter().zip(overload) {
            let expected = match arg {
                Text => DataType::Utf8,
                Int => DataType::Int64,
            };
            if array.data_type() != &expected {
                return exec_err!(
                    "argument of type {} where {expected} was coerced",
                    array.data_type()
                );
            }
        }
        Ok(Columns { arrays, overload })
    }

    fn len(&self) -> usize {
        self.overload.len()
    }

    fn is_null(&self, column: usize, row: usize) -> bool {
        self.arrays.get(column).is_some_and(|a| a.is_null(row))
    }

    fn text(&self, column: usize, row: usize) -> &'a str {
        self.arrays[column].as_string::<i32>().value(row)
    }

    fn int(&self, column: usize, row: usize) -> i64 {
        self.arrays[column].as_primitive::<Int64Type>().value(row)
    }

    /// Argument `column` if the call has it, else `default`.
    fn int_or(&self, column: usize, row: usize, default: i64) -> i64 {
        if column < self.len() {
            self.int(column, row)
        } else {
            default
        }
    }

    fn text_or(&self, column: usize, row: usize, default: &'a str) -> &'a str {
        if column < self.len() {
            self.text(column, row)
        } else {
            default
        }
    }
}

/// The last pattern compiled, kept for the next row.
#[derive(Default)]
struct Compiled {
    key: Option<(String, String)>,
    regex: Option<Regex>,
}

impl Compiled {
    fn get(
        &mut self,
        pattern: &str,
        flags: &str,
        make: impl FnOnce() -> Result<Regex, SqlError>,
    ) -> Result<&Regex, SqlError> {
        let fresh = self
            .key
            .as_ref()
            .is_none_or(|(p, f)| p != pattern || f != flags);
        if fresh || self.regex.is_none() {
            self.regex = Some(make()?);
            self.key = Some((pattern.to_owned(), flags.to_owned()));
        }
        match self.regex.as_ref() {
            Some(regex) => Ok(regex),
            None => Err(SqlError::new("XX000", "regular expression cache is empty")),
        }
    }
}

/// Where a function keeps its flags, if it takes them.
fn flags_column(kind: Kind, columns: &Columns) -> Option<usize> {
    match kind {
        Kind::Match | Kind::Matches | Kind::SplitToArray | Kind::Like => Some(2),
        Kind::Replace if columns.overload.get(3) == Some(&Text) => Some(3),
        Kind::Replace => Some(5),
        Kind::Substr => Some(4),
        Kind::Instr => Some(5),
        Kind::Count => Some(3),
        _ => None,
    }
}

/// The pattern of row `row`, compiled (or the last one again, if it is the same).
fn regex_of<'c>(
    compiled: &'c mut Compiled,
    kind: Kind,
    columns: &Columns,
    row: usize,
) -> Result<&'c Regex, SqlError> {
    let pattern = columns.text(1, row);
    let similar = kind == Kind::SimilarTo || (kind == Kind::SubstringRegex && columns.len() == 3);
    if similar {
        let escape = (columns.len() == 3).then(|| columns.text(2, row));
        return compiled.get(pattern, escape.unwrap_or("\\"), || {
            Ok(Regex::similar(pattern, escape)?)
        });
    }
    let flags_text = flags_column(kind, columns).map_or("", |c| columns.text_or(c, row, ""));
    compiled.get(pattern, flags_text, || {
        let flags = match kind {
            Kind::Matches | Kind::Replace => Flags::parse(flags_text)?,
            _ => Flags::parse_single(flags_text, kind.name())?,
        };
        Ok(Regex::new(pattern, &flags)?)
    })
}

fn evaluate(kind: Kind, columns: &Columns, rows: usize) -> Result<ArrayRef, SqlError> {
    let mut compiled = Compiled::default();
    let flags_column = flags_column(kind, columns);
    let null_row = |row: usize| (0..columns.len()).any(|c| columns.is_null(c, row));
    Ok(match kind {
        Kind::Match | Kind::Matches => {
            let global = kind == Kind::Matches;
            let mut outer = ListBuilder::new(ListBuilder::new(StringBuilder::new()));
            let mut single = ListBuilder::new(StringBuilder::new());
            for row in 0..rows {
                if null_row(row) {
                    outer.append_null();
                    single.append_null();
                    continue;
                }
                let text = columns.text(0, row);
                let global = global && Flags::parse(columns.text_or(2, row, ""))?.global;
                let regex = regex_of(&mut compiled, kind, columns, row)?;
                let found = regex.matches(text, global);
                if kind == Kind::Match {
                    match found.first() {
                        Some(groups) => {
                            single.values().extend(groups.iter().cloned());
                            single.append(true);
                        }
                        None => single.append_null(),
                    }
                } else {
                    for groups in &found {
                        outer.values().values().extend(groups.iter().cloned());
                        outer.values().append(true);
                    }
                    outer.append(true);
                }
            }
            if kind == Kind::Match {
                Arc::new(single.finish())
            } else {
                Arc::new(outer.finish())
            }
        }
        Kind::SplitToArray => {
            let mut out = ListBuilder::new(StringBuilder::new());
            for row in 0..rows {
                if null_row(row) {
                    out.append_null();
                    continue;
                }
                let pieces =
                    regex_of(&mut compiled, kind, columns, row)?.split(columns.text(0, row));
                out.values().extend(pieces.into_iter().map(Some));
                out.append(true);
            }
            Arc::new(out.finish())
        }
        Kind::Replace | Kind::Substr | Kind::SimilarToEscape | Kind::SubstringRegex => {
            let mut out = StringBuilder::with_capacity(rows, rows * 16);
            for row in 0..rows {
                if null_row(row) {
                    out.append_null();
                    continue;
                }
                let value = match kind {
                    Kind::Replace => {
                        let text = columns.text(0, row);
                        let replacement = columns.text(2, row);
                        let with_start = columns.overload.get(3) == Some(&Int);
                        let start = if with_start { columns.int(3, row) } else { 1 };
                        let global =
                            Flags::parse(flags_column.map_or("", |c| columns.text_or(c, row, "")))?
                                .global;
                        let default_n = if global { 0 } else { 1 };
                        let n = if with_start {
                            columns.int_or(4, row, default_n)
                        } else {
                            default_n
                        };
                        Some(regex_of(&mut compiled, kind, columns, row)?.replace(
                            text,
                            replacement,
                            start,
                            n,
                        )?)
                    }
                    Kind::Substr => regex_of(&mut compiled, kind, columns, row)?.substr(
                        columns.text(0, row),
                        columns.int_or(2, row, 1),
                        columns.int_or(3, row, 1),
                        columns.int_or(5, row, 0),
                    )?,
                    Kind::SimilarToEscape => {
                        let escape = (columns.len() == 2).then(|| columns.text(1, row));
                        Some(bytedata_pgtypes::regex::similar_to_regex(
                            columns.text(0, row),
                            escape,
                        )?)
                    }
                    _ => {
                        regex_of(&mut compiled, kind, columns, row)?.substring(columns.text(0, row))
                    }
                };
                out.append_option(value);
            }
            Arc::new(out.finish())
        }
        Kind::Instr | Kind::Count => {
            let mut out = Int32Builder::with_capacity(rows);
            for row in 0..rows {
                if null_row(row) {
                    out.append_null();
                    continue;
                }
                let text = columns.text(0, row);
                let start = columns.int_or(2, row, 1);
                let value = if kind == Kind::Count {
                    regex_of(&mut compiled, kind, columns, row)?.count(text, start)?
                } else {
                    regex_of(&mut compiled, kind, columns, row)?.instr(
                        text,
                        start,
                        columns.int_or(3, row, 1),
                        columns.int_or(4, row, 0),
                        columns.int_or(6, row, 0),
                    )?
                };
                out.append_value(i32::try_from(value).unwrap_or(i32::MAX));
            }
            Arc::new(out.finish())
        }
        Kind::Like | Kind::SimilarTo => {
            let mut out = BooleanBuilder::with_capacity(rows);
            for row in 0..rows {
                if null_row(row) {
                    out.append_null();
                    continue;
                }
                out.append_value(
                    regex_of(&mut compiled, kind, columns, row)?.is_match(columns.text(0, row)),
                );
            }
            Arc::new(out.finish())
        }
    })
}
