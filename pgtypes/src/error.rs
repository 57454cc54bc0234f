//! Errors of value semantics: what PostgreSQL's input functions, casts and type modifiers
//! raise, each with its SQLSTATE (22P02 bad syntax, 22003 out of range, 22007 bad
//! date/time syntax, 22008 date/time field out of range, 22001 too long, 22P03 bad
//! binary data) and PostgreSQL's wording. The SQL layer passes them on unchanged.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The SQLSTATE: five characters.
    pub code: &'static str,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl Error {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        debug_assert_eq!(code.len(), 5, "a SQLSTATE has five characters");
        Error {
            code,
            message: message.into(),
            detail: None,
            hint: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// 22P02: `invalid input syntax for type <type>: "<text>"`.
    pub fn invalid_text(type_name: &str, text: &str) -> Self {
        Error::new(
            "22P02",
            format!("invalid input syntax for type {type_name}: \"{text}\""),
        )
    }

    /// 0A000: `<what> is not supported`.
    pub fn unsupported(what: impl Into<String>) -> Self {
        Error::new("0A000", format!("{} is not supported", what.into()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
