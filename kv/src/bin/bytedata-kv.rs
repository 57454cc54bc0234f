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
    /// How the data is kept: all in memory backed by log and snapshots (`disk`), or
    /// with large values in a value log on disk (`hybrid`).
    #[arg(long, value_enum, default_value_t = Mode::Disk, global = true)]
    mode: Mode,
    /// The store's memory budget (the index), in MiB; none by default.
    #[arg(long, global = true)]
    memory_limit_mib: Option<u64>,
    /// Hybrid mode: the value cache, in MiB.
    #[arg(long, default_value_t = 64, global = true)]
    value_cache_mib: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    Disk,
    Hybrid,
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
        /// Then read every value back and check it, and report the process's memory.
        #[arg(long)]
        verify: bool,
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
    let mut options = match cli.mode {
        Mode::Disk => Options::disk(&cli.dir),
        Mode::Hybrid => Options::hybrid(&cli.dir),
    };
    options.memory_limit_bytes = cli.memory_limit_mib.map(|mib| mib << 20);
    options.value_cache_bytes = cli.value_cache_mib << 20;
    options.fsync(policy)
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
        Command::Get { key } => match Store::open(options(&cli))?.get(key.as_bytes())? {
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
            for entry in scan.take(*limit) {
                let (key, value) = entry?;
                if !key.starts_with(&from) {
                    break;
                }
                println!("{} = {}", show(&key), show(&value));
            }
            Ok(())
        }
        Command::Load {
            count,
            value_bytes,
            batch,
            verify,
        } => load(options(&cli), *count, *value_bytes, *batch, *verify),
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
        } => crash_child(options(&cli), *threads, *keys_per_batch),
    }
}

fn demo(options: Options) -> CliResult {
    let dir = options.mode.dir().map(PathBuf::from).unwrap_or_default();
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
    for entry in view.scan(b"user/1/".as_slice()..b"user/2/".as_slice()) {
        let (key, value) = entry?;
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
            .get(b"user/3/name")?
            .map(|v| show(&v))
            .unwrap_or_default()
    );
    Ok(())
}

/// The value of key `i`: `value_bytes` bytes that differ from key to key.
fn load_value(i: u64, value_bytes: usize) -> Vec<u8> {
    let stamp = format!("{i:012}:");
    stamp.bytes().cycle().take(value_bytes).collect()
}

/// The process's resident memory now and at its peak, in MiB (Linux).
fn resident_mib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |kib| kib / 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn load(
    options: Options,
    count: u64,
    value_bytes: usize,
    batch_size: u64,
    verify: bool,
) -> CliResult {
    let store = Store::open(options)?;
    let started = Instant::now();
    let mut next = 0;
    while next < count {
        let end = (next + batch_size.max(1)).min(count);
        let mut batch = WriteBatch::with_capacity((end - next) as usize);
        for i in next..end {
            batch.put(format!("key{i:012}"), load_value(i, value_bytes));
        }
        store.write(batch)?;
        next = end;
    }
    let load_time = started.elapsed();
    println!("loaded {count} keys in {load_time:?}");
    if verify {
        let (rss_after_load, _) = resident_mib();
        let started = Instant::now();
        let mut checked = 0u64;
        for entry in store.read_view().scan(..) {
            let (key, value) = entry?;
            let i: u64 = std::str::from_utf8(&key[3..])?.parse()?;
            if value != load_value(i, value_bytes) {
                return Err(format!("key {i} reads back a wrong value").into());
            }
            checked += 1;
        }
        if checked != count {
            return Err(format!("{checked} keys read back, {count} loaded").into());
        }
        let (rss_now, rss_peak) = resident_mib();
        let stats = store.stats();
        println!(
            "verified {checked} values in {:?}; index {} MiB (budget {}); \
             resident {rss_after_load} MiB after load, {rss_now} MiB after reading back, peak {rss_peak} MiB",
            started.elapsed(),
            stats.approx_memory_bytes >> 20,
            stats
                .memory_limit_bytes
                .map_or("none".to_owned(), |bytes| format!("{} MiB", bytes >> 20)),
        );
    }
    store.close()?;
    println!("closed (with snapshot) after {:?}", started.elapsed());
    Ok(())
}

/// Keys of the crash test. Thread `t`'s batch `s` puts `d/t/s/i` for every `i`, deletes
/// the keys of its batch `s - 3`, and sets `p/t` to `s`. In hybrid mode every data value
/// goes to the value log, and small files make compaction run often.
fn crash_child(options: Options, threads: u32, keys_per_batch: u32) -> CliResult {
    let options = Options {
        wal_segment_bytes: 16 << 10,
        snapshot_after_wal_bytes: 64 << 10,
        value_threshold_bytes: 24,
        value_log_file_bytes: 16 << 10,
        ..options
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
                let mut seq = match store.get(progress_key.as_bytes())? {
                    Some(bytes) => u64::from_be_bytes(bytes.as_slice().try_into()?),
                    None => 0,
                };
                loop {
                    seq += 1;
                    let mut batch = WriteBatch::new();
                    for i in 0..keys_per_batch {
                        batch.put(
                            format!("d/{thread:02}/{seq:010}/{i:03}"),
                            format!("{thread}:{seq}:{i}:{}", "v".repeat(24)),
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
