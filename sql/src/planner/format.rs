//! `format(template, args…)`, the quoting functions beside it (`quote_ident`,
//! `quote_literal`, `quote_nullable`) and `unistr` (Unicode escapes decoded), as PostgreSQL's `text_format`: `%s`, `%I`, `%L`,
//! `%%`, argument positions (`%2$s`), left-justification and widths (`%-10s`, `%*s`,
//! `%*3$s`). Arguments of any type are written as PostgreSQL writes them (the session's
//! DateStyle and all), NULL as nothing for `%s`, `NULL` for `%L`, an error for `%I`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result as DfResult;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::error::{SqlError, into_datafusion};
use crate::system::snapshot::quote_ident;

/// The widest `%10s` honoured, as PostgreSQL bounds a width by what fits in an int.
const MAX_WIDTH: usize = 1 << 20;

pub fn register(state: &mut SessionState) {
    for kind in [
        Kind::Format,
        Kind::QuoteIdent,
        Kind::QuoteLiteral,
        Kind::QuoteNullable,
        Kind::Unistr,
    ] {
        let signature = match kind {
            Kind::Format => Signature::variadic_any(Volatility::Stable),
            _ => Signature::any(1, Volatility::Immutable),
        };
        let function = ScalarUDF::new_from_impl(Formatting { kind, signature });
        let _ = datafusion::execution::FunctionRegistry::register_udf(state, Arc::new(function));
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Format,
    QuoteIdent,
    QuoteLiteral,
    QuoteNullable,
    Unistr,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Formatting {
    kind: Kind,
    signature: Signature,
}

fn invalid(message: impl Into<String>) -> SqlError {
    SqlError::new("22023", message)
}

/// A string as PostgreSQL's `quote_literal` writes it: quotes and backslashes doubled,
/// and `E` in front when there was a backslash.
pub fn quote_literal(text: &str) -> String {
    let escaped = text.replace('\'', "''").replace('\\', "\\\\");
    if text.contains('\\') {
        format!("E'{escaped}'")
    } else {
        format!("'{escaped}'")
    }
}

impl ScalarUDFImpl for Formatting {
    fn name(&self) -> &str {
        match self.kind {
            Kind::Format => "format",
            Kind::QuoteIdent => "quote_ident",
            Kind::QuoteLiteral => "quote_literal",
            Kind::QuoteNullable => "quote_nullable",
            Kind::Unistr => "unistr",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let context = crate::context::linked_context(&args.config_options)?;
        let options = context.shared.settings.lock().text_options();
        let types: Vec<(u32, i32)> = args
            .arg_fields
            .iter()
            .map(|f| crate::bridge::pg_type_of(f))
            .collect();
        let kind = self.kind;
        crate::bridge::invoke_on_arrays(&args, |arrays, rows| {
            let text = |column: usize, row: usize| {
                // An untyped NULL arrives as a NullArray, which has no null buffer.
                if arrays[column].data_type() == &DataType::Null {
                    return None;
                }
                let (oid, typmod) = types[column];
                crate::bridge::text::cell_text(&arrays[column], row, oid, typmod, &options)
            };
            let mut out = StringBuilder::with_capacity(rows, rows * 16);
            for row in 0..rows {
                let value = match kind {
                    Kind::Format => match arrays.first().and_then(|_| text(0, row)) {
                        None => None,
                        Some(template) => {
                            let values: Vec<Option<String>> =
                                (1..arrays.len()).map(|c| text(c, row)).collect();
                            Some(format(&template, &values).map_err(into_datafusion)?)
                        }
                    },
                    Kind::QuoteIdent => text(0, row).map(|t| quote_ident(&t)),
                    Kind::QuoteLiteral => text(0, row).map(|t| quote_literal(&t)),
                    Kind::Unistr => match text(0, row) {
                        Some(t) => Some(unistr(&t).map_err(into_datafusion)?),
                        None => None,
                    },
                    Kind::QuoteNullable => {
                        Some(text(0, row).map_or_else(|| "NULL".to_owned(), |t| quote_literal(&t)))
                    }
                };
                out.append_option(value);
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// PostgreSQL's `unistr`: `\XXXX`, `\uXXXX`, `\+XXXXXX`, `\UXXXXXXXX` (UTF-16 surrogate
/// pairs joined) and `\\` decoded.
pub fn unistr(text: &str) -> Result<String, SqlError> {
    let bad_pair = || SqlError::new("42601", "invalid Unicode surrogate pair");
    let chars: Vec<char> = text.chars().collect();
    let hex = |from: usize, digits: usize| -> Option<u32> {
        let piece: String = chars.get(from..from + digits)?.iter().collect();
        piece
            .chars()
            .all(|c| c.is_ascii_hexdigit())
            .then(|| u32::from_str_radix(&piece, 16).ok())
            .flatten()
    };
    let mut out = String::new();
    let mut pair_first: Option<u32> = None;
    let mut at = 0;
    while at < chars.len() {
        if chars[at] != '\\' {
            if pair_first.is_some() {
                return Err(bad_pair());
            }
            out.push(chars[at]);
            at += 1;
            continue;
        }
        if chars.get(at + 1) == Some(&'\\') {
            out.push('\\');
            at += 2;
            continue;
        }
        let (code, width) = if let Some(code) = hex(at + 1, 4) {
            (code, 5)
        } else if chars.get(at + 1) == Some(&'u')
            && let Some(code) = hex(at + 2, 4)
        {
            (code, 6)
        } else if chars.get(at + 1) == Some(&'+')
            && let Some(code) = hex(at + 2, 6)
        {
            (code, 8)
        } else if chars.get(at + 1) == Some(&'U')
            && let Some(code) = hex(at + 2, 8)
        {
            (code, 10)
        } else {
            return Err(SqlError::new("42601", "invalid Unicode escape")
                .with_hint("Unicode escapes must be \\XXXX, \\+XXXXXX, \\uXXXX, or \\UXXXXXXXX."));
        };
        at += width;
        if code == 0 || code > 0x10_FFFF {
            return Err(SqlError::new(
                "22023",
                format!("invalid Unicode code point: {code:04X}"),
            ));
        }
        let second = (0xDC00..=0xDFFF).contains(&code);
        let code = match pair_first.take() {
            Some(first) if second => 0x10000 + ((first - 0xD800) << 10) + (code - 0xDC00),
            Some(_) => return Err(bad_pair()),
            None if second => return Err(bad_pair()),
            None if (0xD800..=0xDBFF).contains(&code) => {
                pair_first = Some(code);
                continue;
            }
            None => code,
        };
        out.push(char::from_u32(code).ok_or_else(bad_pair)?);
    }
    if pair_first.is_some() {
        return Err(bad_pair());
    }
    Ok(out)
}

fn unterminated() -> SqlError {
    invalid("unterminated format() type specifier").with_hint("For a single \"%\" use \"%%\".")
}

/// Reads a number at `chars[*at..]`; `None` when there is none.
fn number(chars: &[char], at: &mut usize) -> Result<Option<usize>, SqlError> {
    let start = *at;
    let mut value: usize = 0;
    while let Some(digit) = chars.get(*at).and_then(|c| c.to_digit(10)) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(digit as usize))
            .filter(|&v| v <= i32::MAX as usize)
            .ok_or_else(|| invalid("number is out of range"))?;
        *at += 1;
    }
    Ok((*at > start).then_some(value))
}

/// An argument position `n$` at `chars[*at..]` (0-based), read past; `None`, and nothing
/// read, when the digits there are not followed by `$` (they are then a width).
fn argument_position(chars: &[char], at: &mut usize) -> Result<Option<usize>, SqlError> {
    let checkpoint = *at;
    match number(chars, at)? {
        Some(n) if chars.get(*at) == Some(&'$') => {
            if n == 0 {
                return Err(invalid(
                    "format specifies argument 0, but arguments are numbered from 1",
                ));
            }
            *at += 1;
            Ok(Some(n - 1))
        }
        _ => {
            *at = checkpoint;
            Ok(None)
        }
    }
}

/// PostgreSQL's `format()` over argument texts (`None` for NULL).
pub fn format(template: &str, values: &[Option<String>]) -> Result<String, SqlError> {
    let chars: Vec<char> = template.chars().collect();
    let mut out = String::new();
    let mut next_argument = 0;
    let mut at = 0;
    let argument = |position: usize| -> Result<&Option<String>, SqlError> {
        values
            .get(position)
            .ok_or_else(|| invalid("too few arguments for format()"))
    };
    while at < chars.len() {
        if chars[at] != '%' {
            out.push(chars[at]);
            at += 1;
            continue;
        }
        at += 1;
        match chars.get(at) {
            None => return Err(unterminated()),
            Some('%') => {
                out.push('%');
                at += 1;
                continue;
            }
            Some(_) => {}
        }
        // %[position$][-][width | * | *position$]type
        let position = argument_position(&chars, &mut at)?;
        let mut left = false;
        while chars.get(at) == Some(&'-') {
            left = true;
            at += 1;
        }
        let mut width: Option<i64> = None;
        if chars.get(at) == Some(&'*') {
            at += 1;
            let width_position = argument_position(&chars, &mut at)?;
            let index = width_position.unwrap_or(next_argument);
            next_argument = index + 1;
            width = match argument(index)? {
                None => None,
                Some(text) => Some(
                    text.trim()
                        .parse::<i64>()
                        .map_err(|_| invalid("number is out of range"))?,
                ),
            };
        } else if let Some(n) = number(&chars, &mut at)? {
            width = Some(n as i64);
        }
        let Some(&kind) = chars.get(at) else {
            return Err(unterminated());
        };
        at += 1;
        let index = position.unwrap_or(next_argument);
        next_argument = index + 1;
        let value = argument(index)?;
        let piece = match kind {
            's' => value.clone().unwrap_or_default(),
            'I' => match value {
                Some(text) => quote_ident(text),
                None => {
                    return Err(SqlError::new(
                        "22004",
                        "null values cannot be formatted as an SQL identifier",
                    ));
                }
            },
            'L' => value
                .as_deref()
                .map_or_else(|| "NULL".to_owned(), quote_literal),
            other => {
                return Err(
                    invalid(format!("unrecognized format() type specifier \"{other}\""))
                        .with_hint("For a single \"%\" use \"%%\"."),
                );
            }
        };
        let (left, width) = match width {
            Some(w) if w < 0 => (true, w.unsigned_abs() as usize),
            Some(w) => (left, w as usize),
            None => (left, 0),
        };
        let width = width.min(MAX_WIDTH);
        let pad = width.saturating_sub(piece.chars().count());
        if left {
            out.push_str(&piece);
            out.push_str(&" ".repeat(pad));
        } else {
            out.push_str(&" ".repeat(pad));
            out.push_str(&piece);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(template: &str, values: &[Option<&str>]) -> Result<String, SqlError> {
        let values: Vec<Option<String>> = values.iter().map(|v| v.map(str::to_owned)).collect();
        format(template, &values)
    }

    #[test]
    fn formats_as_postgres_formats() {
        assert_eq!(run("Hello %s", &[Some("World")]).unwrap(), "Hello World");
        assert_eq!(
            run(
                "INSERT INTO %I VALUES(%L)",
                &[Some("Foo bar"), Some("O'Reilly")]
            )
            .unwrap(),
            "INSERT INTO \"Foo bar\" VALUES('O''Reilly')"
        );
        assert_eq!(run("%L, %s", &[None, None]).unwrap(), "NULL, ");
        assert_eq!(
            run("%2$s %1$s %s", &[Some("a"), Some("b")]).unwrap(),
            "b a b"
        );
        assert_eq!(
            run("|%10s|%-10s|", &[Some("x"), Some("y")]).unwrap(),
            "|         x|y         |"
        );
        assert_eq!(run("|%*s|", &[Some("-4"), Some("z")]).unwrap(), "|z   |");
        assert_eq!(run("100%%", &[]).unwrap(), "100%");
        assert_eq!(run("%L", &[Some("a\\b")]).unwrap(), "E'a\\\\b'");
        assert_eq!(
            run("%s %s", &[Some("a")]).unwrap_err().message,
            "too few arguments for format()"
        );
        assert_eq!(run("%z", &[Some("a")]).unwrap_err().code, "22023");
        assert_eq!(
            run("%", &[]).unwrap_err().message,
            "unterminated format() type specifier"
        );
        assert_eq!(run("%0$s", &[Some("a")]).unwrap_err().code, "22023");
        assert_eq!(run("%I", &[None]).unwrap_err().code, "22004");
        assert_eq!(quote_ident("select"), "\"select\"");
        assert_eq!(unistr("\\0064at\\+0000610").unwrap(), "data0");
        assert_eq!(unistr("d\\u0061t\\U000000610").unwrap(), "data0");
        assert_eq!(unistr("a\\\\b").unwrap(), "a\\b");
        assert_eq!(unistr("\\D83D\\DE00").unwrap(), "\u{1F600}");
        assert_eq!(
            unistr("wrong: \\db99").unwrap_err().message,
            "invalid Unicode surrogate pair"
        );
        assert_eq!(
            unistr("wrong: \\+2FFFFF").unwrap_err().message,
            "invalid Unicode code point: 2FFFFF"
        );
        assert_eq!(
            unistr("wrong: \\xyz").unwrap_err().message,
            "invalid Unicode escape"
        );
        assert_eq!(quote_ident("ok_name1"), "ok_name1");
    }
}
