//! The catalog shared by all databases, in the system store: the databases (with how each
//! keeps its data) and the roles.

use bytedata_mvcc::{Engine, Transaction};

use crate::counters::{CounterSpec, Counters};
use crate::descriptor::{DatabaseDescriptor, Descriptor, RoleDescriptor, StorageConfig};
use crate::error::{CatalogError, Result};
use crate::keys::{CounterKind, FIRST_OBJECT_ID, NameKind};
use crate::objects::{self, NameEntry};

const ROOT: u32 = 0;

pub struct SystemCatalog {
    engine: Engine,
    counters: Counters,
}

impl SystemCatalog {
    pub fn open(engine: Engine) -> Self {
        SystemCatalog {
            counters: Counters::new(engine.store().clone()),
            engine,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn next_object_id(&self) -> Result<u32> {
        let spec = CounterSpec {
            start: i64::from(FIRST_OBJECT_ID),
            increment: 1,
            min_value: i64::from(FIRST_OBJECT_ID),
            max_value: i64::from(u32::MAX),
            cycle: false,
            log_ahead: 16,
            name: "object ids".into(),
        };
        let id = self.counters.next(CounterKind::ObjectIds, 0, &spec)?;
        u32::try_from(id).map_err(|_| CatalogError::Corrupt("object ids exhausted".into()))
    }

    pub fn create_database(
        &self,
        txn: &Transaction,
        name: &str,
        owner: &str,
        storage: StorageConfig,
    ) -> Result<DatabaseDescriptor> {
        let database = DatabaseDescriptor {
            id: self.next_object_id()?,
            name: name.to_owned(),
            owner: owner.to_owned(),
            storage,
        };
        if !objects::claim(
            txn,
            ROOT,
            NameKind::Database,
            name,
            NameEntry::new(database.id, b'd'),
        )? {
            return Err(CatalogError::DuplicateDatabase(name.to_owned()));
        }
        objects::put(txn, database.id, &Descriptor::Database(database.clone()))?;
        Ok(database)
    }

    pub fn database(&self, txn: &Transaction, name: &str) -> Result<Option<DatabaseDescriptor>> {
        let Some(entry) = objects::lookup(txn, ROOT, NameKind::Database, name)? else {
            return Ok(None);
        };
        match objects::get(txn, entry.id)? {
            Some(Descriptor::Database(database)) => Ok(Some(database)),
            _ => Err(CatalogError::Corrupt(format!(
                "database name {name} refers to no database"
            ))),
        }
    }

    pub fn databases(&self, txn: &Transaction) -> Result<Vec<DatabaseDescriptor>> {
        let mut databases = Vec::new();
        for (name, _) in objects::names(txn, ROOT, NameKind::Database)? {
            databases.extend(self.database(txn, &name)?);
        }
        Ok(databases)
    }

    /// Removes a database from the catalog (its store is the caller's to remove once this
    /// commits).
    pub fn drop_database(&self, txn: &Transaction, name: &str) -> Result<DatabaseDescriptor> {
        let database = self
            .database(txn, name)?
            .ok_or_else(|| CatalogError::UndefinedDatabase(name.to_owned()))?;
        objects::release(txn, ROOT, NameKind::Database, name)?;
        objects::remove(txn, database.id)?;
        Ok(database)
    }

    /// Records a new role; its id comes from `next_object_id`.
    pub fn create_role(&self, txn: &Transaction, role: &RoleDescriptor) -> Result<()> {
        if !objects::claim(
            txn,
            ROOT,
            NameKind::Role,
            &role.name,
            NameEntry::new(role.id, b'a'),
        )? {
            return Err(CatalogError::DuplicateRole(role.name.clone()));
        }
        objects::put(txn, role.id, &Descriptor::Role(role.clone()))
    }

    pub fn role(&self, txn: &Transaction, name: &str) -> Result<Option<RoleDescriptor>> {
        let Some(entry) = objects::lookup(txn, ROOT, NameKind::Role, name)? else {
            return Ok(None);
        };
        match objects::get(txn, entry.id)? {
            Some(Descriptor::Role(role)) => Ok(Some(role)),
            _ => Err(CatalogError::Corrupt(format!(
                "role name {name} refers to no role"
            ))),
        }
    }

    pub fn roles(&self, txn: &Transaction) -> Result<Vec<RoleDescriptor>> {
        let mut roles = Vec::new();
        for (name, _) in objects::names(txn, ROOT, NameKind::Role)? {
            roles.extend(self.role(txn, &name)?);
        }
        Ok(roles)
    }

    /// Records changes to a role (its name included).
    pub fn update_role(
        &self,
        txn: &Transaction,
        old: &RoleDescriptor,
        new: &RoleDescriptor,
    ) -> Result<()> {
        if old.name != new.name {
            if !objects::claim(
                txn,
                ROOT,
                NameKind::Role,
                &new.name,
                NameEntry::new(new.id, b'a'),
            )? {
                return Err(CatalogError::DuplicateRole(new.name.clone()));
            }
            objects::release(txn, ROOT, NameKind::Role, &old.name)?;
        }
        objects::put(txn, new.id, &Descriptor::Role(new.clone()))
    }

    pub fn drop_role(&self, txn: &Transaction, name: &str) -> Result<RoleDescriptor> {
        let role = self
            .role(txn, name)?
            .ok_or_else(|| CatalogError::UndefinedRole(name.to_owned()))?;
        objects::release(txn, ROOT, NameKind::Role, name)?;
        objects::remove(txn, role.id)?;
        Ok(role)
    }
}
