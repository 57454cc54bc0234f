//! A cluster: the system store (databases, roles) and the databases, each opened on first
//! use with the storage configuration its descriptor records.
//!
//! Layout of a data directory:
//!
//! ```text
//! <data dir>/system/          the system store: databases and roles
//! <data dir>/base/<db id>/    one store per database in disk mode
//! ```
//!
//! A database in memory mode keeps its catalog entry in the system store but its data only
//! in memory: after a restart it is there again, empty.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytedata_catalog::descriptor::{DatabaseDescriptor, RoleDescriptor, StorageConfig};
use bytedata_catalog::{Catalog, SystemCatalog};
use bytedata_kv::{FsyncPolicy, Options, Store};
use bytedata_mvcc::{Engine, TxnOptions};
use parking_lot::Mutex;

use crate::error::{Result, SqlError};

#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// Where data lives; `None` keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    /// How new databases keep their data unless `CREATE DATABASE` says otherwise.
    pub default_storage: StorageConfig,
    /// The superuser created with a new cluster.
    pub superuser: String,
    /// A password given to the superuser at open when it has none.
    pub superuser_password: Option<String>,
    /// Snapshot thresholds of every disk store (the kv defaults where `None`).
    pub snapshot_after_wal_bytes: Option<u64>,
    pub snapshot_interval: Option<Duration>,
    /// The value cache of every hybrid store (the kv default where `None`).
    pub value_cache_bytes: Option<u64>,
    /// Seals the data keys of encrypted databases; needed to create or open one.
    pub master_key: Option<MasterKey>,
}

impl ClusterOptions {
    pub fn memory() -> Self {
        ClusterOptions {
            data_dir: None,
            default_storage: StorageConfig {
                mode: "memory".into(),
                ..StorageConfig::default()
            },
            superuser: "bytedata".into(),
            superuser_password: None,
            snapshot_after_wal_bytes: None,
            snapshot_interval: None,
            value_cache_bytes: None,
            master_key: None,
        }
    }

    pub fn disk(dir: impl Into<PathBuf>) -> Self {
        ClusterOptions {
            data_dir: Some(dir.into()),
            default_storage: StorageConfig::default(),
            superuser: "bytedata".into(),
            superuser_password: None,
            snapshot_after_wal_bytes: None,
            snapshot_interval: None,
            value_cache_bytes: None,
            master_key: None,
        }
    }
}

/// An open database.
pub struct Database {
    pub descriptor: DatabaseDescriptor,
    pub catalog: Catalog,
}

impl Database {
    pub fn engine(&self) -> &Engine {
        self.catalog.engine()
    }
}

pub struct Cluster {
    options: ClusterOptions,
    system: SystemCatalog,
    open: Mutex<HashMap<u32, Arc<Database>>>,
    /// The connections and their statistics (`pg_stat_*`).
    activity: Arc<super::activity::Activity>,
}

/// Deepest directory nesting `directory_bytes` follows (a store's layout is two deep).
const MAX_DIRECTORY_DEPTH: usize = 8;

/// The bytes of the files under `dir`; what cannot be read counts nothing.
fn directory_bytes(dir: &std::path::Path, depth: usize) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() && depth < MAX_DIRECTORY_DEPTH => {
                directory_bytes(&entry.path(), depth + 1)
            }
            Ok(meta) if meta.is_file() => meta.len(),
            _ => 0,
        })
        .sum()
}

/// The smallest memory budget a database may have.
pub use bytedata_kv::MIN_MEMORY_LIMIT_BYTES;
/// The key encrypted databases are sealed under, and its public id.
pub use bytedata_kv::MasterKey;

fn kv_options(
    cluster: &ClusterOptions,
    storage: &StorageConfig,
    dir: Option<PathBuf>,
) -> Result<Options> {
    let fsync = match storage.fsync.as_str() {
        "always" => FsyncPolicy::Always,
        "interval" => {
            FsyncPolicy::Interval(Duration::from_millis(storage.fsync_interval_ms.max(1)))
        }
        "never" => FsyncPolicy::Never,
        other => {
            return Err(SqlError::new(
                "22023",
                format!("invalid fsync policy \"{other}\""),
            ));
        }
    };
    let on_disk = dir.is_some();
    let options = match (storage.mode.as_str(), dir) {
        ("memory", _) | (_, None) => Options::memory(),
        ("disk", Some(dir)) => Options::disk(dir),
        ("hybrid", Some(dir)) => Options::hybrid(dir),
        (other, _) => {
            return Err(SqlError::new(
                "22023",
                format!("invalid storage mode \"{other}\""),
            ));
        }
    };
    let mut options = options.fsync(fsync);
    if storage.encrypted {
        if storage.mode == "memory" || cluster.data_dir.is_none() {
            return Err(SqlError::new(
                "22023",
                "encryption at rest applies to databases stored on disk; this one is kept in memory",
            ));
        }
        let Some(key) = &cluster.master_key else {
            return Err(SqlError::new(
                "55000",
                "an encrypted database needs the server's master key, and none is configured",
            )
            .with_hint("start the server with --master-key-file"));
        };
        if on_disk {
            options = options.encrypted(key.clone());
        }
    }
    options.memory_limit_bytes = storage.memory_limit_bytes;
    if let Some(bytes) = cluster.snapshot_after_wal_bytes {
        options.snapshot_after_wal_bytes = bytes;
    }
    if let Some(interval) = cluster.snapshot_interval {
        options.snapshot_interval = Some(interval);
    }
    if let Some(bytes) = cluster.value_cache_bytes {
        options.value_cache_bytes = bytes;
    }
    Ok(options)
}

/// Re-seals the data keys of every encrypted store of the data directory `data_dir`
/// under `new_key` (the server must be stopped). Stores already under `new_key` are left
/// as they are, so an interrupted rotation can simply be run again. Returns the stores
/// rotated.
pub fn rotate_master_key(
    data_dir: &std::path::Path,
    old_key: &MasterKey,
    new_key: &MasterKey,
) -> Result<Vec<PathBuf>> {
    let mut stores = vec![data_dir.join("system")];
    if let Ok(entries) = std::fs::read_dir(data_dir.join("base")) {
        let mut databases: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .collect();
        databases.sort();
        stores.extend(databases);
    }
    let mut rotated = Vec::new();
    for dir in stores {
        if !dir.join("KEYRING").exists() {
            continue;
        }
        let open = |key: &MasterKey| {
            let mut options = Options::disk(&dir).encrypted(key.clone());
            options.snapshot_on_close = false;
            options.snapshot_interval = None;
            Store::open(options)
        };
        match open(old_key) {
            Ok(store) => {
                store.rotate_master_key(new_key)?;
                store.close()?;
                rotated.push(dir);
            }
            Err(bytedata_kv::Error::Encryption(reason)) => {
                if open(new_key).is_err() {
                    return Err(SqlError::new("XX000", reason));
                }
                tracing::info!(store = %dir.display(), "already under the new master key");
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(rotated)
}

impl Cluster {
    /// Opens (or creates) a cluster. A new one gets the databases `postgres` and
    /// `bytedata` and a superuser role.
    pub fn open(options: ClusterOptions) -> Result<Arc<Cluster>> {
        let system_options = match &options.data_dir {
            Some(dir) => {
                // The system store keeps the encryption it was created with: turning
                // `encrypt` on for an existing data directory encrypts new databases.
                let system_dir = dir.join("system");
                let mut storage = options.default_storage.clone();
                storage.encrypted = system_dir.join("KEYRING").exists()
                    || (storage.encrypted && !system_dir.exists());
                if options.default_storage.encrypted && !storage.encrypted {
                    tracing::warn!(
                        "the system store was created without encryption and stays so; new databases are encrypted"
                    );
                }
                kv_options(&options, &storage, Some(system_dir))?
            }
            None => Options::memory(),
        };
        let system = SystemCatalog::open(Engine::open(system_options)?);
        let cluster = Arc::new(Cluster {
            options,
            system,
            open: Mutex::new(HashMap::new()),
            activity: Arc::default(),
        });
        cluster.bootstrap()?;
        Ok(cluster)
    }

    fn bootstrap(&self) -> Result<()> {
        let txn = self.system.engine().begin(TxnOptions::default());
        let superuser = self.options.superuser.clone();
        if self.system.role(&txn, &superuser)?.is_none() {
            let mut role = RoleDescriptor::new(10, &superuser);
            role.superuser = true;
            role.login = true;
            role.create_db = true;
            role.create_role = true;
            self.system.create_role(&txn, &role)?;
        }
        if let Some(password) = &self.options.superuser_password
            && let Some(role) = self.system.role(&txn, &superuser)?
            && role.password.is_none()
        {
            let mut with_password = role.clone();
            with_password.password = Some(crate::password::verifier_for(password));
            self.system.update_role(&txn, &role, &with_password)?;
        }
        for name in ["postgres", "bytedata"] {
            if self.system.database(&txn, name)?.is_none() {
                self.system.create_database(
                    &txn,
                    name,
                    &superuser,
                    self.options.default_storage.clone(),
                )?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// The role `name` as a login sees it (`None` if there is none).
    pub fn login_role(&self, name: &str) -> Result<Option<RoleDescriptor>> {
        let txn = self
            .system
            .engine()
            .begin(TxnOptions::default().read_only());
        Ok(self.system.role(&txn, name)?)
    }

    pub fn activity(&self) -> &Arc<super::activity::Activity> {
        &self.activity
    }

    pub fn options(&self) -> &ClusterOptions {
        &self.options
    }

    pub fn system(&self) -> &SystemCatalog {
        &self.system
    }

    /// The database `name`, opening it on first use (3D000 if there is none).
    pub fn database(&self, name: &str) -> Result<Arc<Database>> {
        let txn = self
            .system
            .engine()
            .begin(TxnOptions::default().read_only());
        let descriptor = self
            .system
            .database(&txn, name)?
            .ok_or_else(|| SqlError::new("3D000", format!("database \"{name}\" does not exist")))?;
        self.open_database(descriptor)
    }

    /// Bytes a database keeps on disk — every file of its store (WAL, snapshots, value
    /// log, keys) — open or not; 0 for one that lives in memory.
    pub fn database_disk_bytes(&self, id: u32) -> u64 {
        match &self.options.data_dir {
            Some(dir) => directory_bytes(&dir.join("base").join(id.to_string()), 0),
            None => 0,
        }
    }

    fn open_database(&self, descriptor: DatabaseDescriptor) -> Result<Arc<Database>> {
        let mut open = self.open.lock();
        if let Some(database) = open.get(&descriptor.id) {
            return Ok(database.clone());
        }
        let dir = self
            .options
            .data_dir
            .as_ref()
            .map(|d| d.join("base").join(descriptor.id.to_string()));
        let engine = Engine::open(kv_options(&self.options, &descriptor.storage, dir)?)?;
        let catalog = Catalog::open(engine, &descriptor.owner)?;
        let database = Arc::new(Database {
            descriptor,
            catalog,
        });
        open.insert(database.descriptor.id, database.clone());
        Ok(database)
    }

    /// Creates a database (in its own system transaction: PostgreSQL does not allow
    /// `CREATE DATABASE` in a transaction block either).
    pub fn create_database(
        &self,
        name: &str,
        owner: &str,
        storage: StorageConfig,
    ) -> Result<Arc<Database>> {
        // Refuse a configuration that cannot be opened before recording it.
        kv_options(&self.options, &storage, None)?;
        let txn = self.system.engine().begin(TxnOptions::default());
        let descriptor = self.system.create_database(&txn, name, owner, storage)?;
        txn.commit()?;
        self.open_database(descriptor)
    }

    /// Drops a database: its catalog entry, then its store and files.
    pub fn drop_database(&self, name: &str) -> Result<()> {
        let txn = self.system.engine().begin(TxnOptions::default());
        let descriptor = self.system.drop_database(&txn, name)?;
        txn.commit()?;
        if let Some(database) = self.open.lock().remove(&descriptor.id) {
            database.engine().store().close()?;
        }
        if let Some(dir) = &self.options.data_dir {
            let path = dir.join("base").join(descriptor.id.to_string());
            if path.exists() {
                std::fs::remove_dir_all(&path).map_err(|e| {
                    SqlError::new("58030", format!("could not remove database directory: {e}"))
                })?;
            }
        }
        Ok(())
    }

    /// Databases currently open.
    pub fn open_databases(&self) -> Vec<Arc<Database>> {
        self.open.lock().values().cloned().collect()
    }

    /// CHECKPOINT: a snapshot of every open database and of the system catalog, written
    /// now, so that a restart replays no log from before it.
    pub fn checkpoint(&self) -> Result<()> {
        for database in self.open_databases() {
            database.engine().store().checkpoint()?;
        }
        self.system.engine().store().checkpoint()?;
        Ok(())
    }

    /// Closes every store, making everything durable.
    pub fn close(&self) -> Result<()> {
        for database in self.open.lock().drain().map(|(_, db)| db) {
            database.engine().store().close()?;
        }
        self.system.engine().store().close()?;
        Ok(())
    }
}
