//! `bytedata-kv`: a command-line tool over one kv store directory — a demo, an
//! inspection tool, and the child process of the crash test.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use bytedata_kv::{FsyncPolicy, Options, Store, WriteBatch};
use clap::{Parser, Subcommand, ValueEnum};

/// Node copies and versions make the index allocation-heavy; mimalloc halves the cost
/// of random inserts against the system allocator (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "bytedata-kv",
    version,
    about = "ByteData's key-value engine, from the command line"
)]
struct Cli {
    /// The store's data directory.
    #[arg(long, default_value = "./bytedata-kv-data", global = true)]
    dir: PathBuf,
    /// When acknowledged writes reach the disk.
    #[arg(long, value_enum, default_value_t = Fsync::Always, global = true)]
    fsync: Fsync,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Fsync {
    Always,
    Interval,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Writes a few keys, reads them back, takes a snapshot and reopens the store.
    Demo,
    /// Sets KEY to VALUE.
    Put { key: String, value: String },
    /// Prints the value of KEY.
    Get { key: String },
    /// Removes KEY.
    Delete { key: String },
    /// Lists keys in order.
    Scan {
        /// Only keys starting with this prefix.
        #[arg(long, default_value = "")]
        prefix: String,
        #[arg(long)]
        reverse: bool,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Loads COUNT synthetic keys with values of VALUE_BYTES bytes.
    Load {
        count: u64,
        #[arg(long, default_value_t = 100)]
        value_bytes: usize,
        #[arg(long, default_value_t = 1000)]
        batch: u64,
    },
    /// Writes a snapshot now.
    Checkpoint,
    /// Prints the store's statistics.
    Stats,
    /// Child process of the crash test: commits batches until killed, printing every
    /// acknowledged one.
    #[command(hide = true)]
    CrashChild {
        #[arg(long, default_value_t = 4)]
        threads: u32,
        #[arg(long, default_value_t = 10)]
        keys_per_batch: u32,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn options(cli: &Cli) -> Options {
    let policy = match cli.fsync {
        Fsync::Always => FsyncPolicy::Always,
        Fsync::Interval => FsyncPolicy::Interval(std::time::Duration::from_millis(100)),
        Fsync::Never => FsyncPolicy::Never,
    };
    Options::disk(&cli.dir).fsync(policy)
}

/// Bytes as text, with non-printable bytes escaped.
fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

type CliResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn run(cli: Cli) -> CliResult {
    match &cli.command {
        Command::Demo => demo(options(&cli)),
        Command::Put { key, value } => {
            let lsn = Store::open(options(&cli))?.put(key.as_bytes(), value.as_bytes())?;
            println!("ok (lsn {lsn})");
            Ok(())
        }
        Command::Get { key } => match Store::open(options(&cli))?.get(key.as_bytes()) {
            Some(value) => {
                println!("{}", show(&value));
                Ok(())
            }
            None => Err(format!("key {key:?} not found").into()),
        },
        Command::Delete { key } => {
            let lsn = Store::open(options(&cli))?.delete(key.as_bytes())?;
            println!("ok (lsn {lsn})");
            Ok(())
        }
        Command::Scan {
            prefix,
            reverse,
            limit,
        } => {
            let store = Store::open(options(&cli))?;
            let view = store.read_view();
            let from = prefix.as_bytes().to_vec();
            let scan = if *reverse {
                view.scan_rev(from.clone()..)
            } else {
                view.scan(from.clone()..)
            };
            for (key, value) in scan.filter(|(k, _)| k.starts_with(&from)).take(*limit) {
                println!("{} = {}", show(&key), show(&value));
            }
            Ok(())
        }
        Command::Load {
            count,
            value_bytes,
            batch,
        } => load(options(&cli), *count, *value_bytes, *batch),
        Command::Checkpoint => {
            match Store::open(options(&cli))?.checkpoint()? {
                Some(info) => println!(
                    "snapshot at lsn {}: {} entries, {} bytes, {:?}",
                    info.lsn, info.entries, info.bytes, info.duration
                ),
                None => println!("nothing to snapshot"),
            }
            Ok(())
        }
        Command::Stats => {
            let started = Instant::now();
            let store = Store::open(Options {
                snapshot_on_close: false,
                ..options(&cli)
            })?;
            println!("opened in {:?}", started.elapsed());
            println!("{:#?}", store.stats());
            Ok(())
        }
        Command::CrashChild {
            threads,
            keys_per_batch,
        } => crash_child(&cli.dir, *threads, *keys_per_batch),
    }
}

fn demo(options: Options) -> CliResult {
    let dir = match &options.mode {
        bytedata_kv::StorageMode::Disk { dir } => dir.clone(),
        bytedata_kv::StorageMode::Memory => PathBuf::new(),
    };
    println!("opening a store in {}", dir.display());
    let store = Store::open(options.clone())?;
    let mut batch = WriteBatch::new();
    for (key, value) in [
        ("user/1/name", "Ada"),
        ("user/1/lang", "Rust"),
        ("user/2/name", "Grace"),
        ("user/2/lang", "COBOL"),
    ] {
        batch.put(key, value);
    }
    let lsn = store.write(batch)?;
    println!("committed 4 keys atomically at lsn {lsn} (fsynced before this line)");
    let view = store.read_view();
    store.put("user/3/name", "Barbara")?;
    println!(
        "a view taken before user/3 still sees {} keys:",
        view.scan(..).count()
    );
    for (key, value) in view.scan(b"user/1/".as_slice()..b"user/2/".as_slice()) {
        println!("  {} = {}", show(&key), show(&value));
    }
    drop(view);
    if let Some(info) = store.checkpoint()? {
        println!(
            "snapshot at lsn {} holds {} entries",
            info.lsn, info.entries
        );
    }
    store.close()?;
    let reopened = Store::open(options)?;
    println!(
        "reopened: {} keys, user/3/name = {}",
        reopened.stats().live_keys,
        reopened
            .get(b"user/3/name")
            .map(|v| show(&v))
            .unwrap_or_default()
    );
    Ok(())
}

fn load(options: Options, count: u64, value_bytes: usize, batch_size: u64) -> CliResult {
    let store = Store::open(options)?;
    let started = Instant::now();
    let value = vec![b'v'; value_bytes];
    let mut next = 0;
    while next < count {
        let end = (next + batch_size.max(1)).min(count);
        let mut batch = WriteBatch::with_capacity((end - next) as usize);
        for i in next..end {
            batch.put(format!("key{i:012}"), value.clone());
        }
        store.write(batch)?;
        next = end;
    }
    println!("loaded {count} keys in {:?}", started.elapsed());
    store.close()?;
    println!("closed (with snapshot) after {:?}", started.elapsed());
    Ok(())
}

/// Keys of the crash test. Thread `t`'s batch `s` puts `d/t/s/i` for every `i`, deletes
/// the keys of its batch `s - 3`, and sets `p/t` to `s`.
fn crash_child(dir: &std::path::Path, threads: u32, keys_per_batch: u32) -> CliResult {
    let options = Options {
        wal_segment_bytes: 16 << 10,
        snapshot_after_wal_bytes: 64 << 10,
        ..Options::disk(dir)
    };
    let store = Store::open(options)?;
    let stdout = Mutex::new(std::io::stdout());
    let say = |line: String| -> std::io::Result<()> {
        let mut out = stdout
            .lock()
            .map_err(|_| std::io::Error::other("stdout lock poisoned"))?;
        writeln!(out, "{line}")?;
        out.flush()
    };
    say("ready".into())?;
    std::thread::scope(|scope| {
        for thread in 0..threads {
            let store = &store;
            let say = &say;
            scope.spawn(move || -> CliResult {
                let progress_key = format!("p/{thread:02}");
                let mut seq = match store.get(progress_key.as_bytes()) {
                    Some(bytes) => u64::from_be_bytes(bytes.as_slice().try_into()?),
                    None => 0,
                };
                loop {
                    seq += 1;
                    let mut batch = WriteBatch::new();
                    for i in 0..keys_per_batch {
                        batch.put(
                            format!("d/{thread:02}/{seq:010}/{i:03}"),
                            format!("{thread}:{seq}:{i}"),
                        );
                        if seq > 3 {
                            batch.delete(format!("d/{thread:02}/{:010}/{i:03}", seq - 3));
                        }
                    }
                    batch.put(progress_key.clone(), seq.to_be_bytes().to_vec());
                    store.write(batch)?;
                    say(format!("ack {thread} {seq}"))?;
                }
            });
        }
    });
    Ok(())
}
