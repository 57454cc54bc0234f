//! Splitting one line of COPY data into its fields: PostgreSQL's text format (backslash
//! escapes, the NULL string matched before decoding) and CSV (quotes, doubled or escaped,
//! an unquoted NULL string).

use std::borrow::Cow;

use super::{CopyIn, CopyOptions};
use crate::error::Result;

impl CopyIn {
    /// Text format: fields split at the delimiter, backslash escapes decoded, the NULL
    /// string (matched before decoding) is NULL.
    pub(super) fn text_fields<'l>(&self, line: &'l str) -> Result<Vec<Option<Cow<'l, str>>>> {
        let delimiter = self.options.delimiter;
        let mut fields = Vec::with_capacity(self.width);
        for raw in line.split(delimiter) {
            if raw == self.options.null {
                fields.push(None);
                continue;
            }
            if !raw.contains('\\') {
                fields.push(Some(Cow::Borrowed(raw)));
                continue;
            }
            let mut value = String::with_capacity(raw.len());
            let mut chars = raw.chars().peekable();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    value.push(c);
                    continue;
                }
                match chars.next() {
                    Some('b') => value.push('\u{8}'),
                    Some('f') => value.push('\u{c}'),
                    Some('n') => value.push('\n'),
                    Some('r') => value.push('\r'),
                    Some('t') => value.push('\t'),
                    Some('v') => value.push('\u{b}'),
                    Some(d @ '0'..='7') => {
                        let mut code = d.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            match chars.peek().and_then(|c| c.to_digit(8)) {
                                Some(digit) => {
                                    code = code * 8 + digit;
                                    chars.next();
                                }
                                None => break,
                            }
                        }
                        value.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    }
                    Some('x') => {
                        let mut code = 0;
                        let mut digits = 0;
                        while digits < 2 {
                            match chars.peek().and_then(|c| c.to_digit(16)) {
                                Some(digit) => {
                                    code = code * 16 + digit;
                                    chars.next();
                                    digits += 1;
                                }
                                None => break,
                            }
                        }
                        if digits == 0 {
                            value.push('x');
                        } else {
                            value.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        }
                    }
                    Some(other) => value.push(other),
                    None => return Err(self.error("end-of-copy marker corrupt")),
                }
            }
            fields.push(Some(Cow::Owned(value)));
        }
        Ok(fields)
    }

    /// CSV: quoted fields may hold delimiters, quotes (doubled or escaped) and newlines;
    /// an unquoted field equal to the NULL string is NULL, a quoted one never is.
    pub(super) fn csv_fields<'l>(&self, line: &'l str) -> Result<Vec<Option<Cow<'l, str>>>> {
        let CopyOptions {
            delimiter,
            quote,
            escape,
            ..
        } = self.options;
        let mut fields = Vec::with_capacity(self.width);
        let mut chars = line.chars().peekable();
        loop {
            let mut value = String::new();
            let mut quoted = false;
            let mut in_quotes = false;
            while let Some(&c) = chars.peek() {
                if in_quotes {
                    chars.next();
                    if c == escape && chars.peek() == Some(&quote) && escape != quote {
                        value.push(quote);
                        chars.next();
                    } else if c == quote {
                        if escape == quote && chars.peek() == Some(&quote) {
                            value.push(quote);
                            chars.next();
                        } else {
                            in_quotes = false;
                        }
                    } else {
                        value.push(c);
                    }
                } else if c == delimiter {
                    break;
                } else if c == quote {
                    chars.next();
                    quoted = true;
                    in_quotes = true;
                } else {
                    chars.next();
                    value.push(c);
                }
            }
            if in_quotes {
                return Err(self.error("unterminated CSV quoted field"));
            }
            fields.push(if !quoted && value == self.options.null {
                None
            } else {
                Some(Cow::Owned(value))
            });
            if chars.next().is_none() {
                break;
            }
        }
        Ok(fields)
    }
}
