//! CREATE DATABASE and DROP DATABASE: they run in a system transaction of their own
//! (and refuse to run in a block, as in PostgreSQL); a new database's storage is chosen by
//! its options over the cluster's default.

use bytedata_catalog::descriptor::StorageConfig;
use datafusion::sql::sqlparser::ast::{ObjectName, Statement};

use super::Ddl;
use crate::context::result::QueryResult;
use crate::error::{Result, SqlError};
use crate::syntax::{create_database_options, object_name};

fn parse_bytes(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let factor: u64 = match unit.trim() {
        "" | "b" => 1,
        "kb" | "k" => 1 << 10,
        "mb" | "m" => 1 << 20,
        "gb" | "g" => 1 << 30,
        "tb" | "t" => 1 << 40,
        _ => return None,
    };
    number.checked_mul(factor)
}

/// The storage configuration `CREATE DATABASE … WITH (…)` asks for, over the cluster's
/// default; PostgreSQL's own options are accepted where they make sense.
fn storage_options(
    default: &StorageConfig,
    options: &[(String, String)],
    user: &str,
) -> Result<(StorageConfig, String)> {
    let mut storage = default.clone();
    let mut owner = user.to_owned();
    let invalid = |name: &str, value: &str| {
        SqlError::new(
            "22023",
            format!("invalid value for option \"{name}\": \"{value}\""),
        )
    };
    for (name, value) in options {
        let lower = value.to_ascii_lowercase();
        match name.as_str() {
            "storage" => {
                if !["memory", "disk", "hybrid"].contains(&lower.as_str()) {
                    return Err(invalid(name, value).with_hint("storage is memory, disk or hybrid"));
                }
                storage.mode = lower;
            }
            "fsync" => {
                if !["always", "interval", "never"].contains(&lower.as_str()) {
                    return Err(
                        invalid(name, value).with_hint("fsync is always, interval or never")
                    );
                }
                storage.fsync = lower;
            }
            "fsync_interval_ms" => {
                storage.fsync_interval_ms = lower
                    .parse()
                    .ok()
                    .filter(|&ms| ms > 0)
                    .ok_or_else(|| invalid(name, value))?
            }
            "memory_limit" => {
                let bytes = parse_bytes(&lower)
                    .filter(|&bytes| bytes >= bytedata_kv::MIN_MEMORY_LIMIT_BYTES)
                    .ok_or_else(|| {
                        invalid(name, value).with_hint("memory_limit is a size of 1MB or more")
                    })?;
                storage.memory_limit_bytes = Some(bytes);
            }
            "encrypted" => {
                storage.encrypted = match lower.as_str() {
                    "true" | "on" | "yes" | "1" => true,
                    "false" | "off" | "no" | "0" => false,
                    _ => return Err(invalid(name, value)),
                }
            }
            "owner" => owner = value.clone(),
            "encoding" if lower.replace('-', "") != "utf8" => {
                return Err(SqlError::new(
                    "22023",
                    format!("encoding \"{value}\" is not supported: ByteData stores UTF8"),
                ));
            }
            "encoding" | "template" | "locale" | "lc_collate" | "lc_ctype" | "icu_locale"
            | "locale_provider" | "tablespace" | "allow_connections" | "connection_limit"
            | "is_template" | "strategy" | "oid" => {}
            other => {
                return Err(SqlError::new(
                    "42601",
                    format!("option \"{other}\" not recognized"),
                ));
            }
        }
    }
    Ok((storage, owner))
}

pub fn create_database(ddl: &Ddl, statement: &Statement) -> Result<QueryResult> {
    let Statement::CreateDatabase {
        db_name,
        if_not_exists,
        ..
    } = statement
    else {
        return Err(SqlError::internal("not a CREATE DATABASE"));
    };
    let (_, name) = object_name(db_name)?;
    let (storage, owner) = storage_options(
        &ddl.context.cluster.options().default_storage,
        &create_database_options(statement),
        ddl.owner(),
    )?;
    match ddl.context.cluster.create_database(&name, &owner, storage) {
        Err(error) if error.code == "42P04" && *if_not_exists => {
            Ok(QueryResult::command("CREATE DATABASE"))
        }
        Err(error) => Err(error),
        Ok(_) => Ok(QueryResult::command("CREATE DATABASE")),
    }
}

pub fn drop_databases(ddl: &Ddl, names: &[ObjectName], if_exists: bool) -> Result<QueryResult> {
    for name in names {
        let (_, name) = object_name(name)?;
        if name == ddl.context.database.descriptor.name {
            return Err(SqlError::new(
                "55006",
                "cannot drop the currently open database",
            ));
        }
        match ddl.context.cluster.drop_database(&name) {
            Err(error) if error.code == "3D000" && if_exists => {}
            other => other?,
        }
    }
    Ok(QueryResult::command("DROP DATABASE"))
}
