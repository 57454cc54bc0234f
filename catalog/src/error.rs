//! Catalog errors, each with PostgreSQL's SQLSTATE and wording.

use crate::keycode::KeyError;
use crate::rowcode::RowError;

pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("schema \"{0}\" already exists")]
    DuplicateSchema(String),
    #[error("relation \"{0}\" already exists")]
    DuplicateRelation(String),
    #[error("database \"{0}\" already exists")]
    DuplicateDatabase(String),
    #[error("role \"{0}\" already exists")]
    DuplicateRole(String),
    #[error("column \"{column}\" of relation \"{table}\" already exists")]
    DuplicateColumn { table: String, column: String },
    #[error("schema \"{0}\" does not exist")]
    UndefinedSchema(String),
    #[error("relation \"{0}\" does not exist")]
    UndefinedRelation(String),
    #[error("database \"{0}\" does not exist")]
    UndefinedDatabase(String),
    #[error("role \"{0}\" does not exist")]
    UndefinedRole(String),
    #[error("column \"{column}\" of relation \"{table}\" does not exist")]
    UndefinedColumn { table: String, column: String },
    #[error("cannot drop {object} because other objects depend on it")]
    DependentObjects { object: String },
    #[error("{0}")]
    InvalidDefinition(String),
    #[error("{0} is not supported")]
    Unsupported(String),
    #[error("nextval: reached {limit} value of sequence \"{sequence}\" ({value})")]
    SequenceExhausted {
        sequence: String,
        limit: &'static str,
        value: i64,
    },
    #[error("{0}")]
    Key(#[from] KeyError),
    #[error("{0}")]
    Row(#[from] RowError),
    #[error("catalog entry is damaged: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Transaction(#[from] bytedata_mvcc::Error),
}

impl From<bytedata_kv::Error> for CatalogError {
    fn from(error: bytedata_kv::Error) -> Self {
        CatalogError::Transaction(error.into())
    }
}

impl CatalogError {
    pub fn sqlstate(&self) -> &'static str {
        match self {
            CatalogError::DuplicateSchema(_) => "42P06",
            CatalogError::DuplicateRelation(_) => "42P07",
            CatalogError::DuplicateDatabase(_) => "42P04",
            CatalogError::DuplicateRole(_) => "42710",
            CatalogError::DuplicateColumn { .. } => "42701",
            CatalogError::UndefinedSchema(_) => "3F000",
            CatalogError::UndefinedRelation(_) => "42P01",
            CatalogError::UndefinedDatabase(_) => "3D000",
            CatalogError::UndefinedRole(_) => "42704",
            CatalogError::UndefinedColumn { .. } => "42703",
            CatalogError::DependentObjects { .. } => "2BP01",
            CatalogError::InvalidDefinition(_) => "42P16",
            CatalogError::Unsupported(_) => "0A000",
            CatalogError::SequenceExhausted { .. } => "2200H",
            CatalogError::Key(KeyError::NotKeyType(_)) => "0A000",
            CatalogError::Key(KeyError::TypeMismatch(_))
            | CatalogError::Row(RowError::TypeMismatch(_)) => "42804",
            CatalogError::Key(KeyError::Malformed(_))
            | CatalogError::Row(RowError::Malformed(_))
            | CatalogError::Corrupt(_) => "XX001",
            CatalogError::Transaction(error) => error.sqlstate(),
        }
    }
}
