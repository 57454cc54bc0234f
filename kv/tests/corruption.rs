//! Damage to files on disk: a torn tail is truncated, anything else is reported with the
//! file and offset, and a damaged snapshot is replaced by an older one plus the log.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use bytedata_kv::{Error, Options, Store};

fn options(dir: &Path) -> Options {
    Options {
        snapshot_on_close: false,
        snapshot_interval: None,
        snapshot_after_wal_bytes: u64::MAX,
        wal_segment_bytes: 8192,
        ..Options::disk(dir)
    }
}

fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_str().unwrap().ends_with(extension))
        .collect();
    paths.sort();
    paths
}

fn write_keys(store: &Store, range: std::ops::Range<u32>) {
    for i in range {
        store
            .put(i.to_be_bytes().to_vec(), vec![i as u8; 100])
            .unwrap();
    }
}

/// Where a segment's frames end (the active segment is zero-filled ahead of them): each
/// frame is a 32-byte header, starting with its body's length, and the body.
fn frames_end(path: &Path) -> u64 {
    let data = fs::read(path).unwrap();
    let le_u32 = |at: usize| u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
    let mut offset = 40 + le_u32(32);
    while offset + 32 <= data.len() && le_u32(offset) != 0 {
        offset += 32 + le_u32(offset);
    }
    offset as u64
}

fn flip_byte(path: &Path, offset: u64) {
    let mut data = fs::read(path).unwrap();
    data[offset as usize] ^= 0x5a;
    fs::write(path, data).unwrap();
}

fn expect_corruption(dir: &Path) -> (PathBuf, u64, String) {
    match Store::open(options(dir)) {
        Err(Error::Corruption {
            file,
            offset,
            reason,
        }) => (file, offset, reason),
        Err(other) => panic!("expected corruption, got {other}"),
        Ok(_) => panic!("a damaged store opened"),
    }
}

#[test]
fn a_torn_last_frame_is_truncated_and_the_rest_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(options(dir.path())).unwrap();
    write_keys(&store, 0..20);
    drop(store);
    let segment = files(&dir.path().join("wal"), ".wal").pop().unwrap();
    let len = frames_end(&segment);
    let file = fs::OpenOptions::new().write(true).open(&segment).unwrap();
    file.set_len(len - 7).unwrap();

    let store = Store::open(options(dir.path())).unwrap();
    assert_eq!(store.stats().live_keys, 19, "only the torn batch is gone");
    assert_eq!(store.get(&19u32.to_be_bytes()).unwrap(), None);
    assert!(
        fs::metadata(&segment).unwrap().len() < len - 7,
        "the torn frame was cut off"
    );
    store.put(b"new".to_vec(), b"write".to_vec()).unwrap();
    drop(store);
    assert_eq!(
        Store::open(options(dir.path())).unwrap().stats().live_keys,
        20
    );
}

#[test]
fn garbage_after_the_last_frame_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(options(dir.path())).unwrap();
    write_keys(&store, 0..5);
    drop(store);
    let segment = files(&dir.path().join("wal"), ".wal").pop().unwrap();
    let mut data = fs::read(&segment).unwrap();
    data.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef, 1, 2, 3]);
    fs::write(&segment, data).unwrap();
    assert_eq!(
        Store::open(options(dir.path())).unwrap().stats().live_keys,
        5
    );
}

#[test]
fn a_bit_flip_in_the_middle_of_the_log_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(options(dir.path())).unwrap();
    write_keys(&store, 0..20);
    drop(store);
    let segment = files(&dir.path().join("wal"), ".wal").pop().unwrap();
    // Frames are ~150 bytes; byte 400 is well inside an early frame of this segment.
    flip_byte(&segment, 400);
    let (file, offset, reason) = expect_corruption(dir.path());
    assert_eq!(file, segment);
    assert!(
        offset <= 400 && offset > 40,
        "offset {offset} should point at the damaged frame"
    );
    assert!(reason.contains("made durable"), "{reason}");
    let message = expect_corruption_message(dir.path());
    assert!(
        message.contains(segment.to_str().unwrap()) && message.contains("offset"),
        "{message}"
    );
}

fn expect_corruption_message(dir: &Path) -> String {
    Store::open(options(dir)).err().unwrap().to_string()
}

#[test]
fn damage_in_an_older_segment_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(options(dir.path())).unwrap();
    write_keys(&store, 0..200);
    drop(store);
    let segments = files(&dir.path().join("wal"), ".wal");
    assert!(segments.len() >= 3, "the test needs several segments");
    let len = fs::metadata(&segments[0]).unwrap().len();
    // The very end of a closed segment: in a live segment this would look torn.
    flip_byte(&segments[0], len - 3);
    let (file, _, _) = expect_corruption(dir.path());
    assert_eq!(file, segments[0]);
}

#[test]
fn a_damaged_segment_header_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(options(dir.path())).unwrap();
    write_keys(&store, 0..10);
    drop(store);
    let segment = files(&dir.path().join("wal"), ".wal").pop().unwrap();
    flip_byte(&segment, 20);
    let (file, offset, reason) = expect_corruption(dir.path());
    assert_eq!((file, offset), (segment, 0));
    assert!(reason.contains("header"), "{reason}");
}

#[test]
fn a_damaged_newest_snapshot_falls_back_to_the_previous_one_and_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(options(dir.path())).unwrap();
    write_keys(&store, 0..100);
    let older = store.checkpoint().unwrap().unwrap();
    write_keys(&store, 100..200);
    let newer = store.checkpoint().unwrap().unwrap();
    write_keys(&store, 200..250);
    drop(store);
    assert!(older.lsn < newer.lsn);
    flip_byte(&newer.path, newer.bytes / 2);

    let store = Store::open(options(dir.path())).unwrap();
    let stats = store.stats();
    assert_eq!(stats.live_keys, 250, "nothing lost");
    assert_eq!(
        stats.last_snapshot.unwrap().lsn,
        older.lsn,
        "loaded the older snapshot"
    );
    assert!(!newer.path.exists(), "the damaged snapshot is moved aside");
    let mut aside = newer.path.clone().into_os_string();
    aside.push(".corrupt");
    assert!(Path::new(&aside).exists());
}

#[test]
fn a_truncated_snapshot_is_damage_too() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(options(dir.path())).unwrap();
    write_keys(&store, 0..50);
    store.checkpoint().unwrap().unwrap();
    write_keys(&store, 50..60);
    let newer = store.checkpoint().unwrap().unwrap();
    drop(store);
    let file = fs::OpenOptions::new()
        .write(true)
        .open(&newer.path)
        .unwrap();
    file.set_len(newer.bytes - 20).unwrap();
    assert_eq!(
        Store::open(options(dir.path())).unwrap().stats().live_keys,
        60
    );
}

#[test]
fn with_no_usable_snapshot_and_no_log_to_replace_it_opening_fails() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(options(dir.path())).unwrap();
    let mut snapshots = Vec::new();
    for round in 0..3u32 {
        write_keys(&store, round * 100..round * 100 + 100);
        snapshots.push(store.checkpoint().unwrap().unwrap());
    }
    drop(store);
    // Two snapshots are kept and the log reaches back only to the older of them.
    flip_byte(&snapshots[2].path, 100);
    flip_byte(&snapshots[1].path, 100);
    let (file, _, reason) = expect_corruption(dir.path());
    assert_eq!(
        file, snapshots[2].path,
        "the error names the newest snapshot"
    );
    assert!(reason.contains("checksum"), "{reason}");
    assert!(
        snapshots[2].path.exists(),
        "a failed open changes nothing on disk"
    );
}
