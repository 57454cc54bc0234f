//! Loads keys in random order into a memory store and reports the time per insert; a
//! target for profilers (`perf record --call-graph dwarf`).
#![allow(clippy::unwrap_used)]

use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use bytedata_kv::{Options, Store, WriteBatch};

fn main() {
    let count: u64 = std::env::args()
        .nth(1)
        .map_or(1_000_000, |n| n.parse().unwrap());
    let batch_size: u64 = std::env::args().nth(2).map_or(1000, |n| n.parse().unwrap());
    let store = Store::open(Options::memory()).unwrap();
    let started = Instant::now();
    let value = vec![7u8; 100];
    let mut next = 0;
    while next < count {
        let mut batch = WriteBatch::new();
        for i in next..(next + batch_size).min(count) {
            batch.put(
                i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes().to_vec(),
                value.clone(),
            );
        }
        next += batch_size;
        store.write(batch).unwrap();
    }
    let elapsed = started.elapsed();
    println!(
        "{count} random inserts in batches of {batch_size}: {elapsed:?} ({:?} per insert)",
        elapsed / count as u32
    );
}
