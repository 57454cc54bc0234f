//! Opening the data directory, listening, and shutting down.
//!
//! Shutdown (the first SIGINT or SIGTERM): the listeners close at once; idle connections
//! are told so (57P01) and closed; running statements may finish for up to
//! `shutdown_timeout_ms`, after which they are cancelled. Then every store is closed,
//! which completes queued commits and syncs the WAL. A second signal exits at once — the
//! WAL still holds every acknowledged commit.

use std::sync::Arc;
use std::time::Duration;

use bytedata_catalog::descriptor::StorageConfig;
use bytedata_sql::{Cluster, ClusterOptions};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::auth::Scram;
use crate::config::{AuthMethod, Config};
use crate::connection::{self, Shared};
use crate::registry::Registry;

pub struct Server {
    config: Config,
    shared: Arc<Shared>,
    listeners: Vec<(TcpListener, AuthMethod)>,
    http: Option<TcpListener>,
    shutdown: watch::Sender<bool>,
}

fn cluster_options(config: &Config) -> ClusterOptions {
    let mut options = if config.storage == "memory" {
        ClusterOptions::memory()
    } else {
        ClusterOptions::disk(&config.data_dir)
    };
    options.default_storage = StorageConfig {
        mode: config.storage.clone(),
        fsync: config.fsync.clone(),
        fsync_interval_ms: config.fsync_interval_ms,
        memory_limit_bytes: config.memory_limit_bytes,
        encrypted: config.encrypt,
    };
    options.master_key = config.master_key.clone();
    options.superuser = config.superuser.clone();
    options.superuser_password = config.superuser_password.clone();
    options.snapshot_after_wal_bytes = config.snapshot_after_wal_bytes;
    options.snapshot_interval = config.snapshot_interval_ms.map(Duration::from_millis);
    options.value_cache_bytes = config.value_cache_bytes;
    options
}

impl Server {
    /// Opens the data directory and binds every listener. Any failure here — a bad TLS
    /// file, a port in use, a damaged data directory — is returned, and nothing runs.
    pub async fn start(config: Config) -> Result<Server, String> {
        let tls = config.tls.as_ref().map(crate::tls::load).transpose()?;
        let options = cluster_options(&config);
        let cluster = tokio::task::block_in_place(|| Cluster::open(options)).map_err(|e| {
            format!(
                "cannot open the data directory {}: {}",
                config.data_dir.display(),
                e.message
            )
        })?;
        let scram = Scram::new(cluster.clone(), tls.as_ref().map(|t| t.cert_pem.as_slice()))?;
        let (shutdown, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            cluster,
            registry: Registry::new(config.max_connections),
            tls,
            scram,
            shutdown: shutdown.clone(),
            metrics: crate::metrics::Metrics::new(config.max_connections),
            session_defaults: config.session_defaults.clone(),
        });
        let mut listeners = Vec::new();
        for listener in &config.listeners {
            let socket = TcpListener::bind(listener.address)
                .await
                .map_err(|e| format!("cannot listen on {}: {e}", listener.address))?;
            listeners.push((socket, listener.auth));
        }
        let http = match &config.http {
            Some(http) => Some(
                TcpListener::bind(http.address)
                    .await
                    .map_err(|e| format!("cannot listen for HTTP on {}: {e}", http.address))?,
            ),
            None => None,
        };
        Ok(Server {
            config,
            shared,
            listeners,
            http,
            shutdown,
        })
    }

    /// The addresses actually bound (port 0 picks a free port).
    pub fn local_addresses(&self) -> Vec<std::net::SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|(l, _)| l.local_addr().ok())
            .collect()
    }

    /// The HTTP listener's address, if it is on.
    pub fn http_address(&self) -> Option<std::net::SocketAddr> {
        self.http.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Serves until `stop` completes, then shuts down.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) -> Result<(), String> {
        let Server {
            config,
            shared,
            listeners,
            http,
            shutdown,
        } = self;
        let mut connections = JoinSet::new();
        let http_task = match (http, &config.http) {
            (Some(listener), Some(settings)) => {
                let options = crate::http::HttpOptions {
                    auth: settings.auth,
                    max_body_bytes: usize::try_from(settings.max_body_bytes).unwrap_or(usize::MAX),
                    statement_timeout_ms: settings.statement_timeout_ms,
                    superuser: config.superuser.clone(),
                    tokens: settings.tokens.clone(),
                };
                let router = crate::http::router(shared.clone(), &options, &config.superuser);
                Some(tokio::spawn(crate::http::serve(
                    listener,
                    router,
                    shared.clone(),
                )))
            }
            _ => None,
        };
        let (accepted_tx, mut accepted_rx) = tokio::sync::mpsc::channel(1024);
        let mut acceptors = JoinSet::new();
        for (listener, auth) in listeners {
            let accepted_tx = accepted_tx.clone();
            acceptors.spawn(async move {
                loop {
                    match listener.accept().await {
                        Ok((socket, _)) => {
                            if accepted_tx.send((socket, auth)).await.is_err() {
                                return;
                            }
                        }
                        Err(error) => {
                            // Out of file descriptors and the like: keep serving the
                            // connections there are.
                            tracing::warn!(%error, "accept failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
            });
        }
        drop(accepted_tx);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                accepted = accepted_rx.recv() => {
                    let Some((socket, auth)) = accepted else { break };
                    let shared = shared.clone();
                    connections.spawn(connection::serve(socket, shared, auth));
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        tracing::info!(
            connections = shared.registry.active(),
            "shutting down: no new connections; waiting for running statements"
        );
        acceptors.abort_all();
        drop(accepted_rx);
        let _ = shutdown.send(true);
        let grace = Duration::from_millis(config.shutdown_timeout_ms);
        let drained = tokio::time::timeout(grace, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("statements still running after the shutdown timeout: cancelling them");
            shared.registry.cancel_all();
            let _ = tokio::time::timeout(Duration::from_secs(5), async {
                while connections.join_next().await.is_some() {}
            })
            .await;
            connections.abort_all();
        }
        if let Some(task) = http_task {
            // Its requests in flight were given the same grace as the statements.
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
        tokio::task::block_in_place(|| shared.cluster.close())
            .map_err(|e| format!("closing the stores failed: {}", e.message))?;
        tracing::info!("shut down cleanly");
        Ok(())
    }
}
