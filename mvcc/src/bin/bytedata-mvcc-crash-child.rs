//! Child process of the mvcc crash test: commits large transactions until it is killed,
//! printing `ack <n>` after each one is durable. Transaction `n` puts `keys/n/i` for
//! every `i`, deletes the keys of transaction `n - 2`, and sets `last` to `n`.

use std::io::Write;
use std::process::ExitCode;

use bytedata_mvcc::{Engine, TxnOptions};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(keys)) = (args.next(), args.next().and_then(|n| n.parse::<u32>().ok()))
    else {
        eprintln!("usage: bytedata-mvcc-crash-child DIR KEYS_PER_TRANSACTION");
        return ExitCode::FAILURE;
    };
    match run(&dir, keys) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(dir: &str, keys: u32) -> Result<(), Box<dyn std::error::Error>> {
    let options = bytedata_kv::Options {
        wal_segment_bytes: 256 << 10,
        snapshot_after_wal_bytes: 1 << 20,
        ..bytedata_kv::Options::disk(dir)
    };
    let engine = Engine::open(options)?;
    let mut last = match engine.begin(TxnOptions::default()).get(b"last")? {
        Some(bytes) => u64::from_be_bytes(bytes.as_ref().try_into()?),
        None => 0,
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready {last}")?;
    out.flush()?;
    loop {
        last += 1;
        let txn = engine.begin(TxnOptions::default());
        for i in 0..keys {
            txn.put(
                format!("keys/{last:08}/{i:05}"),
                last.to_be_bytes().to_vec(),
            )?;
            if last > 2 {
                txn.delete(format!("keys/{:08}/{i:05}", last - 2))?;
            }
        }
        txn.put("last", last.to_be_bytes().to_vec())?;
        txn.commit()?;
        writeln!(out, "ack {last}")?;
        out.flush()?;
    }
}
