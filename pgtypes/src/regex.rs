//! PostgreSQL's regular expressions on the `regex` crate: the flags of the `regexp_*`
//! functions, SIMILAR TO patterns, and the matching rules those functions share.
//!
//! PostgreSQL's engine reads "advanced regular expressions" (AREs). Most of an ARE means
//! the same to the `regex` crate; `translate` rewrites the escapes that differ (`\m`,
//! `\M`, `\y`, `\Y`, `\Z`, `\b`) and a `[` inside a bracket expression. What the crate
//! cannot do — back references, lookahead and lookbehind — is refused with 2201B rather
//! than matched differently. By default `.` matches a newline and `^`/`$` anchor at the
//! ends of the whole string, as in PostgreSQL; the `n`, `p` and `w` flags change that
//! as PostgreSQL's do.
//!
//! Positions are characters, as in PostgreSQL (`regexp_instr` counts from 1); the crate
//! works in bytes, so every position crossing this module's boundary is converted.
//!
//! Matches are found as PostgreSQL's `setup_regexp_matches` finds them: each search
//! starts where the last match ended (one character later after an empty match), and
//! `split` ignores the "degenerate" empty matches at either end of the string or right
//! after another match — so `regexp_split_to_array('abc', '')` is `{a,b,c}`.

use crate::error::{Error, Result};

/// The most a compiled pattern may take, so a pathological pattern fails instead of
/// growing without bound.
const COMPILED_SIZE_LIMIT_BYTES: usize = 8 << 20;

fn invalid_option(message: impl Into<String>) -> Error {
    Error::new("22023", message)
}

fn invalid_regex(message: impl Into<String>) -> Error {
    Error::new(
        "2201B",
        format!("invalid regular expression: {}", message.into()),
    )
}

/// How newlines bound `.`, bracket negations and `^`/`$` (PostgreSQL's `s`, `n`/`m`,
/// `p`, `w` flags).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
enum Newlines {
    /// `s`, the default: a newline is an ordinary character.
    #[default]
    Ordinary,
    /// `n` or `m`: `.` does not match a newline and `^`/`$` anchor at lines.
    Sensitive,
    /// `p`: `.` does not match a newline; `^`/`$` anchor at the string's ends.
    Partial,
    /// `w`: `.` matches a newline; `^`/`$` anchor at lines.
    InversePartial,
}

/// The flags string of a `regexp_*` call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flags {
    pub global: bool,
    case_insensitive: bool,
    newlines: Newlines,
    expanded: bool,
    literal: bool,
}

impl Flags {
    /// Reads a flags string; 22023 for a letter PostgreSQL does not know.
    pub fn parse(text: &str) -> Result<Flags> {
        let mut flags = Flags::default();
        for letter in text.chars() {
            match letter {
                'g' => flags.global = true,
                'i' => flags.case_insensitive = true,
                'c' => flags.case_insensitive = false,
                'n' | 'm' => flags.newlines = Newlines::Sensitive,
                's' => flags.newlines = Newlines::Ordinary,
                'p' => flags.newlines = Newlines::Partial,
                'w' => flags.newlines = Newlines::InversePartial,
                'x' => flags.expanded = true,
                't' => flags.expanded = false,
                'q' => flags.literal = true,
                // ERE is read as an ARE: every ERE means the same as an ARE.
                'e' => {}
                'b' => {
                    return Err(Error::unsupported(
                        "basic regular expressions (the \"b\" option)",
                    ));
                }
                _ => {
                    return Err(invalid_option(format!(
                        "invalid regular expression option: \"{letter}\""
                    )));
                }
            }
        }
        Ok(flags)
    }

    /// The flags, refusing `g` as PostgreSQL's functions that find one match do.
    pub fn parse_single(text: &str, function: &str) -> Result<Flags> {
        let flags = Flags::parse(text)?;
        if flags.global {
            let error = invalid_option(format!(
                "{function}() does not support the \"global\" option"
            ));
            return Err(if function == "regexp_match" {
                error.with_hint("Use the regexp_matches function instead.")
            } else {
                error
            });
        }
        Ok(flags)
    }
}

/// A compiled PostgreSQL regular expression.
#[derive(Clone, Debug)]
pub struct Regex {
    inner: regex::Regex,
}

/// One match: the byte ranges of the whole match and of each capture group (`None` for
/// a group that took no part).
struct Found {
    whole: (usize, usize),
    groups: Vec<Option<(usize, usize)>>,
}

impl Regex {
    /// An ARE pattern under `flags` (whose `global` is the caller's business).
    pub fn new(pattern: &str, flags: &Flags) -> Result<Regex> {
        let body = if flags.literal {
            regex::escape(pattern)
        } else {
            translate(pattern)?
        };
        let (dot_all, multi_line) = match flags.newlines {
            Newlines::Ordinary => (true, false),
            Newlines::Sensitive => (false, true),
            Newlines::Partial => (false, false),
            Newlines::InversePartial => (true, true),
        };
        let inner = regex::RegexBuilder::new(&body)
            .case_insensitive(flags.case_insensitive)
            .dot_matches_new_line(dot_all)
            .multi_line(multi_line)
            .ignore_whitespace(flags.expanded && !flags.literal)
            .size_limit(COMPILED_SIZE_LIMIT_BYTES)
            .build()
            .map_err(|error| invalid_regex(crate_message(&error)))?;
        Ok(Regex { inner })
    }

    /// A SIMILAR TO pattern with its escape character (`None`: the default, `\`).
    pub fn similar(pattern: &str, escape: Option<&str>) -> Result<Regex> {
        let translated = similar_to_regex(pattern, escape)?;
        Regex::new(&translated, &Flags::default())
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.inner.is_match(text)
    }

    /// The number of capture groups.
    pub fn groups(&self) -> usize {
        self.inner.captures_len() - 1
    }

    /// Matches from byte `start` on, in PostgreSQL's order; `split` leaves out the
    /// degenerate ones.
    fn find_all(&self, text: &str, start: usize, global: bool, split: bool) -> Vec<Found> {
        let mut found = Vec::new();
        let mut search_from = start;
        let mut previous_end = start;
        let mut locations = self.inner.capture_locations();
        while search_from <= text.len() {
            let Some((match_start, match_end)) = self
                .inner
                .captures_read_at(&mut locations, text, search_from)
                .map(|m| (m.start(), m.end()))
            else {
                break;
            };
            if !split || (match_start < text.len() && match_end > previous_end) {
                let groups = (1..locations.len()).map(|g| locations.get(g)).collect();
                found.push(Found {
                    whole: (match_start, match_end),
                    groups,
                });
            }
            previous_end = match_end;
            if !global {
                break;
            }
            search_from = match_end;
            if match_start == match_end {
                match text[match_end..].chars().next() {
                    Some(c) => search_from += c.len_utf8(),
                    None => break,
                }
            }
        }
        found
    }

    /// `regexp_matches`: each match's capture groups (or the whole match when the
    /// pattern has none); every match with `global`, else the first.
    pub fn matches(&self, text: &str, global: bool) -> Vec<Vec<Option<String>>> {
        self.find_all(text, 0, global, false)
            .iter()
            .map(|found| self.match_array(text, found))
            .collect()
    }

    fn match_array(&self, text: &str, found: &Found) -> Vec<Option<String>> {
        if found.groups.is_empty() {
            vec![Some(text[found.whole.0..found.whole.1].to_owned())]
        } else {
            found
                .groups
                .iter()
                .map(|g| g.map(|(s, e)| text[s..e].to_owned()))
                .collect()
        }
    }

    /// `regexp_split_to_array`: the text between matches.
    pub fn split(&self, text: &str) -> Vec<String> {
        let mut pieces = Vec::new();
        let mut piece_start = 0;
        for found in self.find_all(text, 0, true, true) {
            pieces.push(text[piece_start..found.whole.0].to_owned());
            piece_start = found.whole.1;
        }
        pieces.push(text[piece_start..].to_owned());
        pieces
    }

    /// `regexp_replace`: the `n`th match at or after character `start` (1-based)
    /// replaced, or every one when `n` is 0. In the replacement `\1`…`\9` stand for a
    /// group, `\&` for the match, `\\` for a backslash.
    pub fn replace(&self, text: &str, replacement: &str, start: i64, n: i64) -> Result<String> {
        let from = byte_of_position(text, start, "start")?;
        if n < 0 {
            return Err(invalid_option(format!(
                "invalid value for parameter \"n\": {n}"
            )));
        }
        let mut out = String::with_capacity(text.len());
        let mut copied_to = 0;
        for (index, found) in self.find_all(text, from, true, false).iter().enumerate() {
            if n != 0 && index as i64 + 1 != n {
                continue;
            }
            out.push_str(&text[copied_to..found.whole.0]);
            substitute(&mut out, text, replacement, found);
            copied_to = found.whole.1;
            if n != 0 {
                break;
            }
        }
        out.push_str(&text[copied_to..]);
        Ok(out)
    }

    /// The `n`th match at or after character `start`, checked as `regexp_substr` and
    /// `regexp_instr` check their arguments.
    fn nth(&self, text: &str, start: i64, n: i64, subexpr: i64) -> Result<Option<Found>> {
        let from = byte_of_position(text, start, "start")?;
        if n <= 0 {
            return Err(invalid_option(format!(
                "invalid value for parameter \"n\": {n}"
            )));
        }
        if subexpr < 0 {
            return Err(invalid_option(format!(
                "invalid value for parameter \"subexpr\": {subexpr}"
            )));
        }
        let index = usize::try_from(n - 1).unwrap_or(usize::MAX);
        Ok(self
            .find_all(text, from, true, false)
            .into_iter()
            .nth(index))
    }

    fn part(found: &Found, subexpr: i64) -> Option<(usize, usize)> {
        match usize::try_from(subexpr) {
            Ok(0) => Some(found.whole),
            Ok(group) => found.groups.get(group - 1).copied().flatten(),
            Err(_) => None,
        }
    }

    /// `regexp_substr`: the `n`th match (or its group `subexpr`), NULL if none.
    pub fn substr(&self, text: &str, start: i64, n: i64, subexpr: i64) -> Result<Option<String>> {
        Ok(self
            .nth(text, start, n, subexpr)?
            .and_then(|found| Self::part(&found, subexpr))
            .map(|(s, e)| text[s..e].to_owned()))
    }

    /// `regexp_instr`: where the `n`th match (or its group) begins, or ends + 1 with
    /// `end_option` 1; 0 if there is none.
    pub fn instr(
        &self,
        text: &str,
        start: i64,
        n: i64,
        end_option: i64,
        subexpr: i64,
    ) -> Result<i64> {
        if end_option != 0 && end_option != 1 {
            return Err(invalid_option(format!(
                "invalid value for parameter \"endoption\": {end_option}"
            )));
        }
        let Some((match_start, match_end)) = self
            .nth(text, start, n, subexpr)?
            .and_then(|found| Self::part(&found, subexpr))
        else {
            return Ok(0);
        };
        let at = if end_option == 1 {
            match_end
        } else {
            match_start
        };
        Ok(text[..at].chars().count() as i64 + 1)
    }

    /// `regexp_count`: matches at or after character `start`.
    pub fn count(&self, text: &str, start: i64) -> Result<i64> {
        let from = byte_of_position(text, start, "start")?;
        Ok(self.find_all(text, from, true, false).len() as i64)
    }

    /// `substring(text FROM pattern)`: the first group of the first match, or the whole
    /// match when the pattern has no groups.
    pub fn substring(&self, text: &str) -> Option<String> {
        let found = self.find_all(text, 0, false, false).into_iter().next()?;
        let (s, e) = if found.groups.is_empty() {
            Some(found.whole)
        } else {
            found.groups[0]
        }?;
        Some(text[s..e].to_owned())
    }
}

/// The byte offset of 1-based character position `position`; past the end is the end.
fn byte_of_position(text: &str, position: i64, parameter: &str) -> Result<usize> {
    if position < 1 {
        return Err(invalid_option(format!(
            "invalid value for parameter \"{parameter}\": {position}"
        )));
    }
    let skip = usize::try_from(position - 1).unwrap_or(usize::MAX);
    Ok(text
        .char_indices()
        .nth(skip)
        .map_or(text.len(), |(offset, _)| offset))
}

/// Appends `replacement` for one match, its escapes expanded.
fn substitute(out: &mut String, text: &str, replacement: &str, found: &Found) {
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some(digit @ '1'..='9') => {
                chars.next();
                let group = digit as usize - '0' as usize;
                if let Some(Some((s, e))) = found.groups.get(group - 1) {
                    out.push_str(&text[*s..*e]);
                }
            }
            Some('&') => {
                chars.next();
                out.push_str(&text[found.whole.0..found.whole.1]);
            }
            Some('\\') => {
                chars.next();
                out.push('\\');
            }
            // Any other backslash is copied, and what follows is read as usual.
            _ => out.push('\\'),
        }
    }
}

/// The first line of the crate's error that says what is wrong.
fn crate_message(error: &regex::Error) -> String {
    match error {
        regex::Error::Syntax(text) => {
            let what = text
                .lines()
                .find_map(|line| line.strip_prefix("error: "))
                .unwrap_or("syntax error");
            // PostgreSQL's words for the commonest mistakes.
            match what {
                "unclosed group" | "unopened group" => "parentheses () not balanced",
                "unclosed character class" => "brackets [] not balanced",
                "repetition operator missing expression" => "quantifier operand invalid",
                other => other,
            }
            .to_owned()
        }
        regex::Error::CompiledTooBig(_) => "regular expression is too complex".to_owned(),
        _ => error.to_string(),
    }
}

/// An ARE in the `regex` crate's syntax.
pub fn translate(pattern: &str) -> Result<String> {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars().peekable();
    // Characters read since the bracket expression opened (`[` itself not counted).
    let mut in_bracket: Option<usize> = None;
    while let Some(c) = chars.next() {
        if let Some(read) = in_bracket.as_mut() {
            match c {
                '\\' => {
                    out.push('\\');
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                }
                ']' if *read > 0 => {
                    out.push(']');
                    in_bracket = None;
                    continue;
                }
                ']' => out.push_str("\\]"),
                '^' if *read == 0 => {
                    out.push('^');
                    continue;
                }
                // `[:alpha:]` and kin are classes in both; a lone `[` is a character.
                '[' if matches!(chars.peek(), Some(':' | '.' | '=')) => {
                    out.push('[');
                    for inner in chars.by_ref() {
                        out.push(inner);
                        if inner == ']' {
                            break;
                        }
                    }
                }
                '[' => out.push_str("\\["),
                '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                _ => out.push(c),
            }
            *read += 1;
            continue;
        }
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    return Err(invalid_regex("invalid escape \\ sequence"));
                };
                match next {
                    'm' => out.push_str(r"\b{start}"),
                    'M' => out.push_str(r"\b{end}"),
                    'y' => out.push_str(r"\b"),
                    'Y' => out.push_str(r"\B"),
                    'Z' => out.push_str(r"\z"),
                    'b' => out.push_str(r"\x08"),
                    '1'..='9' => {
                        return Err(Error::unsupported("back references in regular expressions"));
                    }
                    _ => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' => {
                out.push('[');
                in_bracket = Some(0);
            }
            '(' if chars.peek() == Some(&'?') => {
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with("?=")
                    || rest.starts_with("?!")
                    || rest.starts_with("?<=")
                    || rest.starts_with("?<!")
                {
                    return Err(Error::unsupported(
                        "lookahead and lookbehind in regular expressions",
                    ));
                }
                out.push('(');
            }
            _ => out.push(c),
        }
    }
    if in_bracket.is_some() {
        return Err(invalid_regex("brackets [] not balanced"));
    }
    Ok(out)
}

/// A SIMILAR TO pattern as an ARE, as PostgreSQL's `similar_to_escape` makes it: the
/// whole string must match; `%` is `.*`, `_` is `.`; the escape character (default `\`,
/// none when empty) makes the next character literal; two escaped double quotes mark
/// the part `substring(… SIMILAR …)` returns.
pub fn similar_to_regex(pattern: &str, escape: Option<&str>) -> Result<String> {
    let escape = match escape {
        None => Some('\\'),
        Some(text) => {
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (None, _) => None,
                (Some(c), None) => Some(c),
                _ => {
                    return Err(Error::new("22025", "invalid escape string")
                        .with_hint("Escape string must be empty or one character."));
                }
            }
        }
    };
    let mut out = String::with_capacity(pattern.len() + 16);
    out.push_str("^(?:");
    let mut quotes = 0;
    let mut after_escape = false;
    // Characters read since a bracket expression opened.
    let mut in_bracket: Option<usize> = None;
    for c in pattern.chars() {
        if after_escape {
            after_escape = false;
            if c == '"' && in_bracket.is_none() {
                match quotes {
                    0 => out.push_str("){1,1}?("),
                    1 => out.push_str("){1,1}(?:"),
                    _ => {
                        return Err(Error::new(
                            "2200C",
                            "SQL regular expression may not contain more than two escape-double-quote separators",
                        ));
                    }
                }
                quotes += 1;
            } else {
                out.push('\\');
                out.push(c);
            }
            continue;
        }
        if Some(c) == escape {
            after_escape = true;
            continue;
        }
        if let Some(read) = in_bracket.as_mut() {
            if c == '\\' {
                out.push('\\');
            }
            out.push(c);
            if c == ']' && *read > 0 {
                in_bracket = None;
            } else if !(c == '^' && *read == 0) {
                *read += 1;
            }
            continue;
        }
        match c {
            '[' => {
                out.push('[');
                in_bracket = Some(0);
            }
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            '(' => out.push_str("(?:"),
            '\\' | '.' | '^' | '$' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out.push_str(")$");
    Ok(out)
}

#[cfg(test)]
mod tests;
