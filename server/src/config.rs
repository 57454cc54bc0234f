//! The server's configuration: embedded defaults, overridden by a TOML file, then by
//! `BYTEDATA_*` environment variables, then by command-line flags (flags win).
//!
//! Every setting has a default, so `bytedata serve` needs no file. Values are checked
//! here, before anything starts: a bad setting stops the server with a message naming
//! it, never a silent fallback.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bytedata_sql::MasterKey;
use serde::Deserialize;

/// The port `bytedata serve` listens on by default: PostgreSQL's plus one, so that both
/// can run on one machine.
pub const DEFAULT_PORT: u16 = 5433;
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5433";
pub const DEFAULT_DATA_DIR: &str = "./bytedata-data";
pub const DEFAULT_MAX_CONNECTIONS: usize = 100;
/// Connections beyond `max_connections` are refused; this bounds the setting itself.
pub const MAX_CONNECTIONS_LIMIT: usize = 100_000;
pub const DEFAULT_SHUTDOWN_TIMEOUT_MS: u64 = 30_000;
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:8433";
pub const DEFAULT_HTTP_MAX_BODY_BYTES: u64 = 16 << 20;
/// Request bodies are bounded by this at most, whatever the setting says.
pub const MAX_HTTP_BODY_BYTES: u64 = 1 << 30;
pub const DEFAULT_HTTP_STATEMENT_TIMEOUT_MS: u64 = 30_000;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid {setting}: {message}")]
    Invalid {
        setting: &'static str,
        message: String,
    },
}

fn invalid(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        message: message.into(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// Any role that exists and may log in is let in without a password.
    Trust,
    /// SCRAM-SHA-256 against the role's stored verifier.
    ScramSha256,
}

impl AuthMethod {
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        match text.to_ascii_lowercase().as_str() {
            "trust" => Ok(AuthMethod::Trust),
            "scram-sha-256" | "scram" | "password" => Ok(AuthMethod::ScramSha256),
            other => Err(invalid(
                "auth",
                format!("\"{other}\" (expected trust or scram-sha-256)"),
            )),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// One address to listen on, and how its clients log in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    pub address: SocketAddr,
    pub auth: AuthMethod,
}

#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The resolved configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub listeners: Vec<Listener>,
    pub data_dir: PathBuf,
    pub storage: String,
    pub fsync: String,
    pub fsync_interval_ms: u64,
    pub memory_limit_bytes: Option<u64>,
    pub snapshot_after_wal_bytes: Option<u64>,
    pub snapshot_interval_ms: Option<u64>,
    /// The value cache of each hybrid database.
    pub value_cache_bytes: Option<u64>,
    /// The master key of encrypted databases, read from `master_key_file`.
    pub master_key: Option<MasterKey>,
    /// Whether new databases (and a new data directory's system store) are encrypted.
    pub encrypt: bool,
    pub max_connections: usize,
    pub superuser: String,
    pub superuser_password: Option<String>,
    pub tls: Option<TlsFiles>,
    pub log_format: LogFormat,
    pub log_level: String,
    pub shutdown_timeout_ms: u64,
    /// The HTTP listener; `None` when it is off.
    pub http: Option<HttpConfig>,
    /// Settings every session starts with (before its client's own), checked here.
    pub session_defaults: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct HttpConfig {
    pub address: SocketAddr,
    pub auth: AuthMethod,
    pub max_body_bytes: u64,
    pub statement_timeout_ms: u64,
    /// Bearer tokens admitted, from `http_tokens_file` (none without one).
    pub tokens: std::sync::Arc<crate::tokens::Tokens>,
}

/// The TOML file. Every key is optional; unknown keys are errors (a typo must not be
/// silently ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub storage: Option<String>,
    pub fsync: Option<String>,
    pub fsync_interval_ms: Option<u64>,
    pub memory_limit: Option<String>,
    pub snapshot_after_wal_bytes: Option<String>,
    pub snapshot_interval_ms: Option<u64>,
    pub value_cache: Option<String>,
    pub master_key_file: Option<PathBuf>,
    pub encrypt: Option<bool>,
    pub max_connections: Option<usize>,
    pub auth: Option<String>,
    pub superuser: Option<String>,
    pub superuser_password: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub log_format: Option<String>,
    pub log_level: Option<String>,
    pub shutdown_timeout_ms: Option<u64>,
    pub http_listen: Option<String>,
    pub http_auth: Option<String>,
    pub http_max_body: Option<String>,
    pub http_statement_timeout_ms: Option<u64>,
    pub http_tokens_file: Option<PathBuf>,
    pub log_min_duration_statement: Option<String>,
    /// More addresses, each with its own authentication.
    #[serde(default)]
    pub listeners: Vec<FileListener>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileListener {
    pub address: String,
    pub auth: Option<String>,
}

/// Settings given on the command line or in the environment (clap reads both; a flag
/// wins over its variable).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// Configuration file (TOML).
    #[arg(long, env = "BYTEDATA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:5433].
    #[arg(long, env = "BYTEDATA_LISTEN", value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// Data directory [default: ./bytedata-data].
    #[arg(long, env = "BYTEDATA_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// How new databases keep data: memory, disk or hybrid [default: disk].
    #[arg(long, env = "BYTEDATA_STORAGE", value_name = "MODE")]
    pub storage: Option<String>,
    /// When commits reach the disk: always, interval or never [default: always].
    #[arg(long, env = "BYTEDATA_FSYNC", value_name = "POLICY")]
    pub fsync: Option<String>,
    /// The interval of `--fsync interval` [default: 100].
    #[arg(long, env = "BYTEDATA_FSYNC_INTERVAL_MS", value_name = "MS")]
    pub fsync_interval_ms: Option<u64>,
    /// Memory budget per store, e.g. 512MB.
    #[arg(long, env = "BYTEDATA_MEMORY_LIMIT", value_name = "SIZE")]
    pub memory_limit: Option<String>,
    /// Write a snapshot after this much WAL, e.g. 64MB.
    #[arg(long, env = "BYTEDATA_SNAPSHOT_AFTER_WAL_BYTES", value_name = "SIZE")]
    pub snapshot_after_wal_bytes: Option<String>,
    /// Write a snapshot at least this often.
    #[arg(long, env = "BYTEDATA_SNAPSHOT_INTERVAL_MS", value_name = "MS")]
    pub snapshot_interval_ms: Option<u64>,
    /// The cache of values read from the value log, per hybrid database [default: 64MB].
    #[arg(long, env = "BYTEDATA_VALUE_CACHE", value_name = "SIZE")]
    pub value_cache: Option<String>,
    /// File holding the master key of encrypted databases: 64 hexadecimal digits
    /// (`bytedata keygen` makes one).
    #[arg(long, env = "BYTEDATA_MASTER_KEY_FILE", value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,
    /// Encrypt new databases at rest (needs a master key) [default: false].
    #[arg(long, env = "BYTEDATA_ENCRYPT", value_name = "BOOL")]
    pub encrypt: Option<bool>,
    /// Most client connections at once [default: 100].
    #[arg(long, env = "BYTEDATA_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
    /// Authentication: trust or scram-sha-256 [default: trust on loopback addresses,
    /// scram-sha-256 elsewhere].
    #[arg(long, env = "BYTEDATA_AUTH", value_name = "METHOD")]
    pub auth: Option<String>,
    /// Name of the superuser a new data directory gets [default: bytedata].
    #[arg(long, env = "BYTEDATA_SUPERUSER", value_name = "NAME")]
    pub superuser: Option<String>,
    /// Password given to the superuser when it has none (for scram-sha-256).
    #[arg(
        long,
        env = "BYTEDATA_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub superuser_password: Option<String>,
    /// TLS certificate chain (PEM).
    #[arg(long, env = "BYTEDATA_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "BYTEDATA_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Log format: text or json [default: text].
    #[arg(long, env = "BYTEDATA_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Log level filter, e.g. info or bytedata_server=debug [default: info].
    #[arg(long, env = "BYTEDATA_LOG_LEVEL", value_name = "FILTER")]
    pub log_level: Option<String>,
    /// How long shutdown waits for running statements [default: 30000].
    #[arg(long, env = "BYTEDATA_SHUTDOWN_TIMEOUT_MS", value_name = "MS")]
    pub shutdown_timeout_ms: Option<u64>,
    /// Address of the HTTP listener, or `off` [default: 127.0.0.1:8433].
    #[arg(long, env = "BYTEDATA_HTTP_LISTEN", value_name = "HOST:PORT")]
    pub http_listen: Option<String>,
    /// HTTP authentication: trust or scram-sha-256 (HTTP Basic checked against the
    /// role's password) [default: --auth if given, else by address as for --listen].
    #[arg(long, env = "BYTEDATA_HTTP_AUTH", value_name = "METHOD")]
    pub http_auth: Option<String>,
    /// Largest HTTP request body [default: 16MB].
    #[arg(long, env = "BYTEDATA_HTTP_MAX_BODY", value_name = "SIZE")]
    pub http_max_body: Option<String>,
    /// Statement timeout of HTTP requests, 0 for none [default: 30000].
    #[arg(long, env = "BYTEDATA_HTTP_STATEMENT_TIMEOUT_MS", value_name = "MS")]
    pub http_statement_timeout_ms: Option<u64>,
    /// File of bearer tokens' digests, one `role sha256-hex` per line (`bytedata token`
    /// makes them).
    #[arg(long, env = "BYTEDATA_HTTP_TOKENS_FILE", value_name = "FILE")]
    pub http_tokens_file: Option<PathBuf>,
    /// Log statements that run at least this long, e.g. 250ms; -1 for none, 0 for all
    /// [default: -1]. Sessions may change their own.
    #[arg(
        long,
        env = "BYTEDATA_LOG_MIN_DURATION_STATEMENT",
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    pub log_min_duration_statement: Option<String>,
}

/// `512MB`, `1GiB`, `4096` (bytes).
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "kib" | "k" => 1 << 10,
        "mb" | "mib" | "m" => 1 << 20,
        "gb" | "gib" | "g" => 1 << 30,
        "tb" | "tib" | "t" => 1 << 40,
        _ => return None,
    };
    number.checked_mul(multiplier)
}

fn parse_address(setting: &'static str, text: &str) -> Result<SocketAddr, ConfigError> {
    use std::net::ToSocketAddrs;
    text.to_socket_addrs()
        .map_err(|e| invalid(setting, format!("\"{text}\": {e}")))?
        .next()
        .ok_or_else(|| invalid(setting, format!("\"{text}\" names no address")))
}

fn default_auth(address: &SocketAddr) -> AuthMethod {
    if address.ip().is_loopback() {
        AuthMethod::Trust
    } else {
        AuthMethod::ScramSha256
    }
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }
}

impl Config {
    /// Resolves flags and environment (`args`) over the file (if any) over defaults.
    pub fn resolve(args: &ServeArgs) -> Result<Config, ConfigError> {
        let file = match &args.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        Config::merge(args, file)
    }

    pub fn merge(args: &ServeArgs, file: FileConfig) -> Result<Config, ConfigError> {
        let auth = args
            .auth
            .clone()
            .or(file.auth)
            .map(|a| AuthMethod::parse(&a))
            .transpose()?;
        let listen = args
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let address = parse_address("listen", &listen)?;
        let mut listeners = vec![Listener {
            address,
            auth: auth.unwrap_or_else(|| default_auth(&address)),
        }];
        for extra in file.listeners {
            let address = parse_address("listeners.address", &extra.address)?;
            let auth = match extra.auth {
                Some(a) => AuthMethod::parse(&a)?,
                None => default_auth(&address),
            };
            if listeners.iter().any(|l| l.address == address) {
                return Err(invalid("listeners", format!("{address} is listed twice")));
            }
            listeners.push(Listener { address, auth });
        }

        let storage = args
            .storage
            .clone()
            .or(file.storage)
            .unwrap_or_else(|| "disk".into())
            .to_ascii_lowercase();
        if !matches!(storage.as_str(), "memory" | "disk" | "hybrid") {
            return Err(invalid(
                "storage",
                format!("\"{storage}\" (expected memory, disk or hybrid)"),
            ));
        }
        let fsync = args
            .fsync
            .clone()
            .or(file.fsync)
            .unwrap_or_else(|| "always".into())
            .to_ascii_lowercase();
        if !matches!(fsync.as_str(), "always" | "interval" | "never") {
            return Err(invalid(
                "fsync",
                format!("\"{fsync}\" (expected always, interval or never)"),
            ));
        }
        let fsync_interval_ms = args
            .fsync_interval_ms
            .or(file.fsync_interval_ms)
            .unwrap_or(100);
        if fsync_interval_ms == 0 || fsync_interval_ms > 60_000 {
            return Err(invalid(
                "fsync_interval_ms",
                format!("{fsync_interval_ms} (expected 1 to 60000)"),
            ));
        }
        let size = |setting: &'static str, text: Option<String>| {
            text.map(|t| {
                parse_size(&t).filter(|n| *n > 0).ok_or_else(|| {
                    invalid(setting, format!("\"{t}\" (expected a size like 512MB)"))
                })
            })
            .transpose()
        };
        let memory_limit_bytes = size(
            "memory_limit",
            args.memory_limit.clone().or(file.memory_limit),
        )?;
        if let Some(bytes) = memory_limit_bytes
            && bytes < bytedata_sql::MIN_MEMORY_LIMIT_BYTES
        {
            return Err(invalid(
                "memory_limit",
                format!("{bytes} bytes (expected 1MB or more)"),
            ));
        }
        let snapshot_after_wal_bytes = size(
            "snapshot_after_wal_bytes",
            args.snapshot_after_wal_bytes
                .clone()
                .or(file.snapshot_after_wal_bytes),
        )?;
        let snapshot_interval_ms = args.snapshot_interval_ms.or(file.snapshot_interval_ms);
        let value_cache_bytes = size("value_cache", args.value_cache.clone().or(file.value_cache))?;
        let master_key = args
            .master_key_file
            .clone()
            .or(file.master_key_file)
            .map(|path| {
                MasterKey::from_file(&path).map_err(|e| invalid("master_key_file", e.to_string()))
            })
            .transpose()?;
        let encrypt = args.encrypt.or(file.encrypt).unwrap_or(false);
        if encrypt && master_key.is_none() {
            return Err(invalid(
                "encrypt",
                "encrypting databases needs a master key: give master_key_file too",
            ));
        }
        if encrypt && storage == "memory" {
            return Err(invalid(
                "encrypt",
                "memory storage writes nothing to disk, so there is nothing to encrypt",
            ));
        }
        let max_connections = args
            .max_connections
            .or(file.max_connections)
            .unwrap_or(DEFAULT_MAX_CONNECTIONS);
        if max_connections == 0 || max_connections > MAX_CONNECTIONS_LIMIT {
            return Err(invalid(
                "max_connections",
                format!("{max_connections} (expected 1 to {MAX_CONNECTIONS_LIMIT})"),
            ));
        }
        let superuser = args
            .superuser
            .clone()
            .or(file.superuser)
            .unwrap_or_else(|| "bytedata".into());
        if superuser.is_empty() || superuser.len() > 63 {
            return Err(invalid("superuser", "a name of 1 to 63 bytes"));
        }
        let superuser_password = args.superuser_password.clone().or(file.superuser_password);
        let tls = match (
            args.tls_cert.clone().or(file.tls_cert),
            args.tls_key.clone().or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            _ => {
                return Err(invalid(
                    "tls",
                    "tls_cert and tls_key go together: give both or neither",
                ));
            }
        };
        let log_format = match args
            .log_format
            .clone()
            .or(file.log_format)
            .unwrap_or_else(|| "text".into())
            .to_ascii_lowercase()
            .as_str()
        {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(invalid(
                    "log_format",
                    format!("\"{other}\" (expected text or json)"),
                ));
            }
        };
        let log_level = args
            .log_level
            .clone()
            .or(file.log_level)
            .unwrap_or_else(|| "info".into());
        let shutdown_timeout_ms = args
            .shutdown_timeout_ms
            .or(file.shutdown_timeout_ms)
            .unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT_MS);
        let http_listen = args
            .http_listen
            .clone()
            .or(file.http_listen)
            .unwrap_or_else(|| DEFAULT_HTTP_LISTEN.to_owned());
        let http = if http_listen.eq_ignore_ascii_case("off") {
            None
        } else {
            let address = parse_address("http_listen", &http_listen)?;
            // Port 0 asks for any free port: two of them never clash.
            if address.port() != 0 && listeners.iter().any(|l| l.address == address) {
                return Err(invalid(
                    "http_listen",
                    format!("{address} is a PostgreSQL listener's address too"),
                ));
            }
            let http_auth = args
                .http_auth
                .clone()
                .or(file.http_auth)
                .map(|a| AuthMethod::parse(&a))
                .transpose()?;
            let max_body_bytes = size(
                "http_max_body",
                args.http_max_body.clone().or(file.http_max_body),
            )?
            .unwrap_or(DEFAULT_HTTP_MAX_BODY_BYTES);
            if max_body_bytes > MAX_HTTP_BODY_BYTES {
                return Err(invalid(
                    "http_max_body",
                    format!("{max_body_bytes} bytes (at most 1GB)"),
                ));
            }
            let tokens = match args.http_tokens_file.clone().or(file.http_tokens_file) {
                Some(path) => crate::tokens::Tokens::load(&path)
                    .map_err(|error| invalid("http_tokens_file", error))?,
                None => crate::tokens::Tokens::default(),
            };
            Some(HttpConfig {
                address,
                tokens: std::sync::Arc::new(tokens),
                auth: http_auth.or(auth).unwrap_or_else(|| default_auth(&address)),
                max_body_bytes,
                statement_timeout_ms: args
                    .http_statement_timeout_ms
                    .or(file.http_statement_timeout_ms)
                    .unwrap_or(DEFAULT_HTTP_STATEMENT_TIMEOUT_MS),
            })
        };
        let mut session_defaults = Vec::new();
        if let Some(value) = args
            .log_min_duration_statement
            .clone()
            .or(file.log_min_duration_statement)
        {
            bytedata_sql::Settings::new(&superuser)
                .set("log_min_duration_statement", &value)
                .map_err(|e| invalid("log_min_duration_statement", e.message))?;
            session_defaults.push(("log_min_duration_statement".to_owned(), value));
        }
        Ok(Config {
            http,
            session_defaults,
            listeners,
            data_dir: args
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            storage,
            fsync,
            fsync_interval_ms,
            memory_limit_bytes,
            snapshot_after_wal_bytes,
            snapshot_interval_ms,
            value_cache_bytes,
            master_key,
            encrypt,
            max_connections,
            superuser,
            superuser_password,
            tls,
            log_format,
            log_level,
            shutdown_timeout_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> FileConfig {
        toml::from_str(text).expect("valid toml")
    }

    #[test]
    fn defaults_need_no_file() {
        let config = Config::merge(&ServeArgs::default(), FileConfig::default()).expect("ok");
        assert_eq!(config.listeners.len(), 1);
        assert_eq!(config.listeners[0].address.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.listeners[0].auth, AuthMethod::Trust);
        assert_eq!(config.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(config.storage, "disk");
        assert_eq!(config.fsync, "always");
        assert_eq!(config.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(config.superuser, "bytedata");
        let http = config.http.expect("HTTP is on by default");
        assert_eq!(http.address.to_string(), DEFAULT_HTTP_LISTEN);
        assert_eq!(http.auth, AuthMethod::Trust);
        assert_eq!(http.max_body_bytes, DEFAULT_HTTP_MAX_BODY_BYTES);
        let off =
            Config::merge(&ServeArgs::default(), file("http_listen = \"off\"\n")).expect("ok");
        assert!(off.http.is_none());
    }

    #[test]
    fn flags_win_over_the_file() {
        let args = ServeArgs {
            listen: Some("127.0.0.1:7000".into()),
            fsync: Some("never".into()),
            ..ServeArgs::default()
        };
        let config = Config::merge(
            &args,
            file("listen = \"127.0.0.1:6000\"\nfsync = \"interval\"\nstorage = \"memory\"\n"),
        )
        .expect("ok");
        assert_eq!(config.listeners[0].address.to_string(), "127.0.0.1:7000");
        assert_eq!(config.fsync, "never");
        assert_eq!(config.storage, "memory", "the file fills what flags leave");
    }

    #[test]
    fn non_loopback_addresses_default_to_scram() {
        let config = Config::merge(
            &ServeArgs::default(),
            file(
                "listen = \"127.0.0.1:6000\"\n[[listeners]]\naddress = \"0.0.0.0:6001\"\n\
                 [[listeners]]\naddress = \"127.0.0.1:6002\"\nauth = \"scram-sha-256\"\n",
            ),
        )
        .expect("ok");
        let auths: Vec<AuthMethod> = config.listeners.iter().map(|l| l.auth).collect();
        assert_eq!(
            auths,
            [
                AuthMethod::Trust,
                AuthMethod::ScramSha256,
                AuthMethod::ScramSha256
            ]
        );
    }

    #[test]
    fn bad_values_name_the_setting() {
        for (text, setting) in [
            ("storage = \"tape\"", "storage"),
            ("fsync = \"sometimes\"", "fsync"),
            ("max_connections = 0", "max_connections"),
            ("memory_limit = \"lots\"", "memory_limit"),
            ("memory_limit = \"64kB\"", "memory_limit"),
            ("value_cache = \"lots\"", "value_cache"),
            ("tls_cert = \"a.pem\"", "tls"),
            ("listen = \"nowhere\"", "listen"),
            ("auth = \"md5\"", "auth"),
            ("encrypt = true", "encrypt"),
            ("master_key_file = \"/nonexistent/key\"", "master_key_file"),
            ("http_listen = \"nowhere\"", "http_listen"),
            ("http_listen = \"127.0.0.1:5433\"", "http_listen"),
            ("http_auth = \"md5\"", "auth"),
            ("http_max_body = \"2TB\"", "http_max_body"),
            (
                "log_min_duration_statement = \"soon\"",
                "log_min_duration_statement",
            ),
        ] {
            let error = Config::merge(&ServeArgs::default(), file(text))
                .expect_err(text)
                .to_string();
            assert!(error.contains(setting), "{text}: {error}");
        }
        let unknown = toml::from_str::<FileConfig>("listen_port = 5").expect_err("unknown key");
        assert!(unknown.to_string().contains("listen_port"), "{unknown}");
    }

    #[test]
    fn a_master_key_file_gives_the_key_and_enables_encryption() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("master.key");
        let hex = MasterKey::generate_hex().expect("random");
        std::fs::write(&path, format!("{hex}\n")).expect("write");
        let text = format!("master_key_file = {:?}\nencrypt = true\n", path);
        let config = Config::merge(&ServeArgs::default(), file(&text)).expect("ok");
        assert!(config.encrypt);
        let expected = MasterKey::from_hex(&hex).expect("hex").id();
        assert_eq!(config.master_key.map(|key| key.id()), Some(expected));

        std::fs::write(&path, "not a key").expect("write");
        let error = Config::merge(&ServeArgs::default(), file(&text))
            .expect_err("a malformed key")
            .to_string();
        assert!(
            error.contains("master_key_file") && error.contains("64 hexadecimal"),
            "{error}"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512MB"), Some(512 << 20));
        assert_eq!(parse_size("1 GiB"), Some(1 << 30));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("12 parsecs"), None);
        assert_eq!(parse_size("99999999999999TB"), None);
    }
}
