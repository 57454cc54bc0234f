//! `bytedata`: the server (`bytedata serve`), a small SQL client (`bytedata sql`) and a
//! live view of a running server (`bytedata monitor`).

use std::process::ExitCode;

use bytedata_server::config::{Config, LogFormat, ServeArgs};
use bytedata_server::listener::Server;
use bytedata_server::monitor::MonitorArgs;
use bytedata_server::shell::SqlArgs;
use bytedata_sql::MasterKey;
use clap::{Parser, Subcommand};

// Statements allocate many small, short-lived objects (rows, values, protocol messages):
// mimalloc serves them at about half the cost of the system allocator (see
// docs/benchmarks.md, "Allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "bytedata",
    version = concat!(env!("CARGO_PKG_VERSION"), " (PostgreSQL 15 wire protocol)"),
    about = "ByteData: a PostgreSQL-compatible SQL database"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(Box<ServeArgs>),
    /// Run SQL against a server and print the results.
    Sql(SqlArgs),
    /// Watch a running server: connections, transactions, keys, memory, WAL, latency
    /// and the top statements, live in the terminal (or once, as text).
    Monitor(MonitorArgs),
    /// Print a new random master key (64 hexadecimal digits) for --master-key-file.
    Keygen,
    /// Issue an HTTP bearer token for a role: prints the token, then the line to add to
    /// the http_tokens_file (which keeps only its SHA-256 digest).
    Token(TokenArgs),
    /// Re-seal the data keys of every encrypted database under a new master key. Run it
    /// with the server stopped; only key files are rewritten, never data. It can be run
    /// again after an interruption.
    RotateKey(RotateKeyArgs),
}

#[derive(clap::Args)]
struct TokenArgs {
    /// The role requests with the token run as.
    #[arg(long)]
    role: String,
}

fn token(args: TokenArgs) -> ExitCode {
    match bytedata_server::tokens::issue(&args.role) {
        Ok((token, line)) => {
            println!("{token}");
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bytedata: {error}");
            ExitCode::from(2)
        }
    }
}

#[derive(clap::Args)]
struct RotateKeyArgs {
    /// Data directory [default: ./bytedata-data].
    #[arg(long, env = "BYTEDATA_DATA_DIR", value_name = "DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// The current master key file.
    #[arg(long, value_name = "FILE")]
    master_key_file: std::path::PathBuf,
    /// The master key file to rotate to; start the server with it afterwards.
    #[arg(long, value_name = "FILE")]
    new_master_key_file: std::path::PathBuf,
}

fn keygen() -> ExitCode {
    match MasterKey::generate_hex() {
        Ok(hex) => {
            println!("{hex}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bytedata: {error}");
            ExitCode::FAILURE
        }
    }
}

fn rotate_key(args: RotateKeyArgs) -> ExitCode {
    let data_dir = args
        .data_dir
        .unwrap_or_else(|| bytedata_server::config::DEFAULT_DATA_DIR.into());
    let keys = MasterKey::from_file(&args.master_key_file)
        .and_then(|old| Ok((old, MasterKey::from_file(&args.new_master_key_file)?)));
    let (old, new) = match keys {
        Ok(keys) => keys,
        Err(error) => {
            eprintln!("bytedata: {error}");
            return ExitCode::from(2);
        }
    };
    match bytedata_sql::rotate_master_key(&data_dir, &old, &new) {
        Ok(stores) => {
            for store in &stores {
                println!("rotated {}", store.display());
            }
            println!(
                "{} store(s) now under master key {}; start the server with --master-key-file {}",
                stores.len(),
                new.id(),
                args.new_master_key_file.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bytedata: {}", error.message);
            ExitCode::FAILURE
        }
    }
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Completes on the first SIGINT or SIGTERM; a second one exits the process at once.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        tracing::error!("cannot install signal handlers; stop the server with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::warn!("second signal: exiting now; the WAL holds every acknowledged commit");
        std::process::exit(1);
    });
}

fn serve(args: ServeArgs) -> ExitCode {
    let config = match Config::resolve(&args) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("bytedata: {error}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("bytedata")
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("bytedata: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let summary = format!(
            "data in {} ({} storage, fsync {})",
            config.data_dir.display(),
            config.storage,
            config.fsync
        );
        let auths: Vec<String> = config
            .listeners
            .iter()
            .map(|l| format!("{:?}", l.auth).to_lowercase())
            .collect();
        let config_http = config.http.clone();
        let https = if config.tls.is_some() { ", HTTPS" } else { "" };
        let server = match Server::start(config).await {
            Ok(server) => server,
            Err(error) => {
                tracing::error!("{error}");
                eprintln!("bytedata: {error}");
                return ExitCode::FAILURE;
            }
        };
        if let (Some(address), Some(http)) = (server.http_address(), &config_http) {
            let auth = format!("{:?}", http.auth).to_lowercase();
            tracing::info!("HTTP listening on {address} ({auth} authentication{https})");
        }
        for (address, auth) in server.local_addresses().iter().zip(&auths) {
            tracing::info!("listening on {address} ({auth} authentication), {summary}");
        }
        match server.run(shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!("{error}");
                ExitCode::FAILURE
            }
        }
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(*args),
        Command::Sql(args) => bytedata_server::shell::run(args),
        Command::Monitor(args) => bytedata_server::monitor::run(args),
        Command::Keygen => keygen(),
        Command::Token(args) => token(args),
        Command::RotateKey(args) => rotate_key(args),
    }
}
