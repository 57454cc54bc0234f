//! The SQL engine: a DataFusion session over the catalog and mvcc. Not written yet; see
//! the sql issue.
