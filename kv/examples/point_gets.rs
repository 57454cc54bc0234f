//! Loads 1M keys in random order, then times random point gets through one read view;
//! a quick loop for tuning the index (the criterion benchmark is the reference).
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use bytedata_kv::{Options, Store, WriteBatch};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn key(i: u64) -> [u8; 8] {
    i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes()
}

fn main() {
    let count = 1_000_000u64;
    let store = Store::open(Options::memory()).unwrap();
    for chunk in (0..count).collect::<Vec<_>>().chunks(10_000) {
        let mut batch = WriteBatch::new();
        for &i in chunk {
            batch.put(key(i).to_vec(), vec![7u8; 100]);
        }
        store.write(batch).unwrap();
    }
    let view = store.read_view();
    for round in 0..3 {
        let gets = 2_000_000u64;
        let started = Instant::now();
        let mut i = round;
        let mut found = 0;
        for _ in 0..gets {
            i = (i + 7919) % count;
            found += view
                .get_with(&key(i), |v| v.map_or(0, <[u8]>::len))
                .expect("a memory store's reads do not fail");
        }
        println!("point get: {:?}", started.elapsed() / gets as u32);
        black_box(found);
    }
    let started = Instant::now();
    let mut n = 0;
    view.for_each(.., false, |_, v| {
        n += v.len();
        std::ops::ControlFlow::<()>::Continue(())
    })
    .expect("a memory store's reads do not fail");
    println!(
        "full scan: {:?} per entry",
        started.elapsed() / count as u32
    );
}
