//! Statements parsed once and run many times: a protocol-level prepared statement, or a
//! query text the session has seen before.
//!
//! What is kept is the parse (the AST, after the catalog-syntax rewrites) and the fast
//! path's recognition of it. Both depend on the text alone, so neither goes stale: the
//! tables a fast statement names are resolved through the session's table cache, which
//! DDL invalidates (`fast::tables`), and everything else is planned by DataFusion at each
//! execution, against the catalog of that moment.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::sql::sqlparser::ast::Statement;

use crate::error::Result;
use crate::fast::Shape;

/// Most query texts one session keeps parsed; it starts over when full.
const MAX_TEXTS: usize = 256;
/// Longer texts are not kept (bulk INSERTs, generated queries: rarely repeated).
const MAX_TEXT_BYTES: usize = 4096;

/// A parsed statement and what the fast path recognised in it.
#[derive(Debug)]
pub struct PreparedStatement {
    statement: Statement,
    pub(crate) shape: Option<Shape>,
}

impl PreparedStatement {
    pub fn new(statement: Statement) -> Self {
        let shape = crate::fast::recognize(&statement);
        PreparedStatement { statement, shape }
    }

    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// Whether the fast path may run it (it may still decline at execution).
    pub fn is_fast(&self) -> bool {
        self.shape.is_some()
    }
}

/// The statements of one query text.
pub type Parsed = Arc<[Arc<PreparedStatement>]>;

/// Query texts of the simple protocol, parsed.
#[derive(Default)]
pub(crate) struct TextCache {
    texts: HashMap<String, Parsed>,
}

impl TextCache {
    pub fn parse(&mut self, sql: &str) -> Result<Parsed> {
        if let Some(parsed) = self.texts.get(sql) {
            return Ok(parsed.clone());
        }
        let parsed: Parsed = crate::parse::parse(sql)?
            .into_iter()
            .map(|statement| Arc::new(PreparedStatement::new(statement)))
            .collect();
        if sql.len() <= MAX_TEXT_BYTES {
            if self.texts.len() >= MAX_TEXTS {
                self.texts.clear();
            }
            self.texts.insert(sql.to_owned(), parsed.clone());
        }
        Ok(parsed)
    }
}

/// A statement to run: owned, or a prepared one (cloned only if the general path needs
/// it by value).
pub(crate) enum Source<'a> {
    Owned(Box<Statement>),
    Prepared(&'a PreparedStatement),
}

impl Source<'_> {
    pub fn statement(&self) -> &Statement {
        match self {
            Source::Owned(statement) => statement,
            Source::Prepared(prepared) => &prepared.statement,
        }
    }

    pub fn shape(&self) -> Option<&Shape> {
        match self {
            Source::Owned(_) => None,
            Source::Prepared(prepared) => prepared.shape.as_ref(),
        }
    }

    pub fn into_statement(self) -> Statement {
        match self {
            Source::Owned(statement) => *statement,
            Source::Prepared(prepared) => prepared.statement.clone(),
        }
    }
}
