//! The catalog as one statement's transaction sees it: schemas, tables, sequences, and the
//! cluster's roles and databases, loaded on first use and shared by everything the
//! statement reads it through (the system tables and the catalog functions, `system`).
//! Loading it once per statement keeps a query over several system tables consistent and
//! cheap; the transaction keeps it exactly as transactional as the catalog itself.

use std::sync::Arc;

use bytedata_catalog::catalog::PG_CATALOG_SCHEMA;
use bytedata_catalog::descriptor::{
    DatabaseDescriptor, RoleDescriptor, SchemaDescriptor, SequenceDescriptor, TableDescriptor,
};
use bytedata_mvcc::TxnOptions;

use super::StatementContext;
use crate::error::SqlError;

pub struct Snapshot {
    pub database: DatabaseDescriptor,
    pub databases: Vec<DatabaseDescriptor>,
    pub roles: Vec<RoleDescriptor>,
    pub schemas: Vec<SchemaDescriptor>,
    /// Tables and views.
    pub tables: Vec<TableDescriptor>,
    pub sequences: Vec<SequenceDescriptor>,
    /// Schemas searched for unqualified names, in order (`pg_catalog` first).
    pub search_path: Vec<u32>,
}

impl Snapshot {
    /// The catalog as the statement's transaction sees it (roles and databases as the
    /// latest commit of the cluster's catalog has them).
    pub fn load(context: &StatementContext) -> Result<Snapshot, SqlError> {
        let catalog = &context.database.catalog;
        let txn = &context.txn;
        let schemas = catalog.schemas(txn)?;
        let mut tables = Vec::new();
        let mut sequences = Vec::new();
        for schema in &schemas {
            tables.extend(catalog.tables(txn, schema.id)?);
            sequences.extend(catalog.sequences(txn, schema.id)?);
        }
        let system = context.cluster.system();
        let system_txn = system.engine().begin(TxnOptions::default().read_only());
        let roles = system.roles(&system_txn)?;
        let databases = system.databases(&system_txn)?;
        let mut search_path = vec![PG_CATALOG_SCHEMA];
        for name in &context.search_path {
            if let Some(schema) = schemas.iter().find(|s| &s.name == name)
                && !search_path.contains(&schema.id)
            {
                search_path.push(schema.id);
            }
        }
        Ok(Snapshot {
            database: context.database.descriptor.clone(),
            databases,
            roles,
            schemas,
            tables,
            sequences,
            search_path,
        })
    }

    pub fn shared(context: &StatementContext) -> Result<Arc<Snapshot>, SqlError> {
        if let Some(snapshot) = context.system.get() {
            return Ok(snapshot.clone());
        }
        let snapshot = Arc::new(Snapshot::load(context)?);
        Ok(context.system.get_or_init(|| snapshot).clone())
    }
}
