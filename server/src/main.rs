//! `bytedata`: the server (`bytedata serve`) and a small SQL client (`bytedata sql`).

use std::process::ExitCode;

use bytedata_server::config::{Config, LogFormat, ServeArgs};
use bytedata_server::listener::Server;
use bytedata_server::shell::SqlArgs;
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
        let server = match Server::start(config).await {
            Ok(server) => server,
            Err(error) => {
                tracing::error!("{error}");
                eprintln!("bytedata: {error}");
                return ExitCode::FAILURE;
            }
        };
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
    }
}
