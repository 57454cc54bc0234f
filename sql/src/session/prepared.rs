//! Statements parsed once and run many times: a protocol-level prepared statement, or a
//! query text the session has seen before.
//!
//! What is kept is the parse (the AST, after the catalog-syntax rewrites), the fast
//! path's recognition of it, and for a query DataFusion plans, its logical plan. The
//! first two depend on the text alone, so neither goes stale: the tables a fast statement
//! names are resolved through the session's table cache, which DDL invalidates
//! (`fast::tables`).
//!
//! A logical plan depends on more than the text: the tables its names resolved to, and
//! the settings it was planned under. It is kept with the catalog version and the
//! session's settings of that moment and used only while both are unchanged — any
//! committed DDL moves the version, any SET replaces the settings — and never while the
//! transaction has DDL of its own. Only plans that read nothing but ordinary tables are
//! kept (a view or a system table is resolved to what it shows at planning time).
//!
//! The plan is kept analyzed (names resolved, types coerced, PostgreSQL's literal typing
//! applied — none of which depends on the moment) and with its parameters unbound: each
//! execution binds the values, then optimizes and plans it physically, so what depends on
//! the moment (`now()`, the statement's transaction) is decided afresh. Binding after
//! analysis is sound only when every parameter's value has the type analysis gave its
//! placeholder; when one does not (an untyped `$1`), the unanalyzed plan kept beside it
//! is bound and analyzed again.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::ast::Statement;
use parking_lot::Mutex;

use crate::context::settings::Settings;
use crate::context::statements::NormalizedStatement;
use crate::provider::KvTable;

use crate::error::Result;
use crate::fast::Shape;

/// Most query texts one session keeps parsed; it starts over when full.
const MAX_TEXTS: usize = 256;
/// Longer texts are not kept (bulk INSERTs, generated queries: rarely repeated).
const MAX_TEXT_BYTES: usize = 4096;

/// What kind of keyed read a statement is (for latency metrics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadKind {
    Point,
    Range,
}

/// A parsed statement and what the fast path recognised in it.
#[derive(Debug)]
pub struct PreparedStatement {
    statement: Statement,
    pub(crate) shape: Option<Shape>,
    plan: Mutex<Option<CachedPlan>>,
    /// What the statement statistics know it as, made on first use.
    normalized: std::sync::OnceLock<NormalizedStatement>,
}

/// What a kept plan was planned under.
#[derive(Debug)]
pub(crate) struct PlanKey {
    pub catalog_version: u64,
    pub settings: Settings,
}

impl PlanKey {
    fn still(&self, now: &PlanKey) -> bool {
        self.catalog_version == now.catalog_version && self.settings.unchanged_since(&now.settings)
    }
}

#[derive(Debug)]
struct CachedPlan {
    key: PlanKey,
    plan: KeptPlan,
}

/// A query's logical plan as kept between executions.
#[derive(Clone, Debug)]
pub(crate) struct KeptPlan {
    /// As planned from the text, before analysis.
    pub planned: LogicalPlan,
    /// After the analyzer; `None` when analysis failed with placeholders unbound.
    pub analyzed: Option<LogicalPlan>,
}

impl PreparedStatement {
    pub fn new(statement: Statement) -> Self {
        let shape = crate::fast::recognize(&statement);
        PreparedStatement {
            statement,
            shape,
            plan: Mutex::new(None),
            normalized: std::sync::OnceLock::new(),
        }
    }

    /// A read the fast path answers by key: a point read (one whole key) or a range
    /// read (a key range, prefix or list); `None` for anything else.
    pub fn read_kind(&self) -> Option<ReadKind> {
        match self.shape.as_ref()? {
            Shape::Get { .. } => Some(ReadKind::Point),
            Shape::Query(_) => Some(ReadKind::Range),
            _ => None,
        }
    }

    /// The statement with its constants as `$n`, and its query id.
    pub fn normalized(&self) -> &NormalizedStatement {
        self.normalized
            .get_or_init(|| NormalizedStatement::of(&self.statement))
    }

    /// The plan kept from an earlier execution, if planned under what `now` describes.
    pub(crate) fn cached_plan(&self, now: &PlanKey) -> Option<KeptPlan> {
        let cached = self.plan.lock();
        let cached = cached.as_ref()?;
        cached.key.still(now).then(|| cached.plan.clone())
    }

    /// Keeps `plan` (planned under `key`) if it reads only ordinary tables.
    pub(crate) fn keep_plan(&self, key: PlanKey, plan: &KeptPlan) {
        if reads_only_tables(&plan.planned) {
            *self.plan.lock() = Some(CachedPlan {
                key,
                plan: plan.clone(),
            });
        }
    }

    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// Whether the fast path may run it (it may still decline at execution).
    pub fn is_fast(&self) -> bool {
        self.shape.is_some()
    }
}

/// Whether every table the plan (with its subqueries) reads is an ordinary table, whose
/// provider holds nothing but its definition.
fn reads_only_tables(plan: &LogicalPlan) -> bool {
    let mut only_tables = true;
    let visited = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let ordinary = source_as_provider(&scan.source).is_ok_and(|provider| {
                let provider: &dyn std::any::Any = provider.as_ref();
                provider.is::<KvTable>()
            });
            if !ordinary {
                only_tables = false;
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    visited.is_ok() && only_tables
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
        let parsed: Parsed = crate::syntax::parse(sql)?
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
