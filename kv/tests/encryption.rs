//! Encryption at rest, seen from the files: nothing user-written is readable on disk, a
//! store opens with its master key only, a torn sealed tail is truncated like a plain one
//! while an altered record is a hard error naming file and offset, and rotating the
//! master key rewrites the keyring alone.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use bytedata_kv::{Error, MasterKey, Options, Store};

fn new_key() -> MasterKey {
    MasterKey::from_hex(&MasterKey::generate_hex().unwrap()).unwrap()
}

fn options(dir: &Path, key: Option<&MasterKey>) -> Options {
    let options = Options {
        snapshot_on_close: false,
        snapshot_interval: None,
        snapshot_after_wal_bytes: u64::MAX,
        wal_segment_bytes: 8192,
        ..Options::disk(dir)
    };
    match key {
        Some(key) => options.encrypted(key.clone()),
        None => options,
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found.sort();
    found
}

fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|path| path.to_str().unwrap().ends_with(extension))
        .collect()
}

fn write_keys(store: &Store, range: std::ops::Range<u32>) {
    for i in range {
        store
            .put(format!("key-{i:05}"), format!("value-{i:05}"))
            .unwrap();
    }
}

fn le_u32(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(data[at..at + 4].try_into().unwrap())
}

/// Byte offsets of the frames of a WAL segment (up to the zeros the active segment is
/// filled with ahead of its frames).
fn frame_offsets(segment: &[u8]) -> Vec<usize> {
    let mut offset = 40 + le_u32(segment, 32) as usize;
    let mut offsets = Vec::new();
    while offset + 32 <= segment.len() && le_u32(segment, offset) != 0 {
        offsets.push(offset);
        offset += 32 + le_u32(segment, offset) as usize;
    }
    offsets
}

/// Where a segment's frames end.
fn frames_end(segment: &[u8]) -> u64 {
    let last = *frame_offsets(segment).last().unwrap();
    (last + 32 + le_u32(segment, last) as usize) as u64
}

/// Flips a byte `into` bytes past the header of the record at `at` (a frame or a block:
/// both have their length at 0 and their CRC at 4, computed over everything else) and
/// fixes the checksum, as a deliberate alteration would.
fn alter_record(path: &Path, at: usize, header_bytes: usize, into: usize) {
    let mut data = fs::read(path).unwrap();
    let end = at + header_bytes + le_u32(&data, at) as usize;
    data[at + header_bytes + into] ^= 0x01;
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&data[at..at + 4]);
    hasher.update(&data[at + 8..end]);
    let crc = hasher.finalize();
    data[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
    fs::write(path, data).unwrap();
}

fn expect_authentication_failure(dir: &Path, key: &MasterKey) -> (PathBuf, u64) {
    match Store::open(options(dir, Some(key))) {
        Err(Error::AuthenticationFailed { file, offset }) => (file, offset),
        Err(other) => panic!("expected an authentication failure, got {other}"),
        Ok(_) => panic!("an altered store opened"),
    }
}

/// Writes recognisable keys and values through log, rotation and snapshots, and reports
/// whether any file under `dir` shows them.
fn marker_reaches_disk(key: Option<&MasterKey>, hybrid: bool) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let options = || {
        let options = options(dir.path(), key);
        if hybrid {
            Options {
                mode: bytedata_kv::StorageMode::Hybrid {
                    dir: dir.path().to_path_buf(),
                },
                ..options
            }
        } else {
            options
        }
    };
    // Long enough values that a hybrid store keeps them in its value log.
    let value = |i: u32| format!("MARKERVALUE{i}{}", "=".repeat(200));
    let store = Store::open(options()).unwrap();
    for i in 0..200 {
        store.put(format!("MARKERKEY{i}"), value(i)).unwrap();
    }
    store.checkpoint().unwrap();
    store.put("MARKERKEY-after", value(999)).unwrap();
    drop(store);
    assert!(!files(dir.path(), ".wal").is_empty() && !files(dir.path(), ".snap").is_empty());
    assert_eq!(!files(dir.path(), ".vlog").is_empty(), hybrid);
    let store = Store::open(options()).unwrap();
    assert_eq!(
        store.get(b"MARKERKEY7").unwrap(),
        Some(value(7).into_bytes())
    );
    assert_eq!(store.stats().value_log.is_some(), hybrid);
    drop(store);
    files_under(dir.path()).iter().any(|path| {
        let data = fs::read(path).unwrap();
        data.windows(6).any(|window| window == b"MARKER")
    })
}

#[test]
fn nothing_written_by_the_user_is_readable_in_any_file_of_an_encrypted_store() {
    assert!(
        marker_reaches_disk(None, false),
        "a plain store shows the marker"
    );
    assert!(!marker_reaches_disk(Some(&new_key()), false));
}

#[test]
fn nothing_written_by_the_user_is_readable_in_any_file_of_an_encrypted_hybrid_store() {
    assert!(
        marker_reaches_disk(None, true),
        "a plain store shows the marker"
    );
    assert!(!marker_reaches_disk(Some(&new_key()), true));
}

#[test]
fn an_encrypted_store_opens_with_its_master_key_only() {
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    let store = Store::open(options(dir.path(), Some(&key))).unwrap();
    write_keys(&store, 0..50);
    store.checkpoint().unwrap();
    write_keys(&store, 50..100);
    drop(store);
    let before: Vec<(PathBuf, Vec<u8>)> = files_under(dir.path())
        .into_iter()
        .map(|path| (path.clone(), fs::read(path).unwrap()))
        .collect();

    let other = new_key();
    let Err(Error::Encryption(message)) = Store::open(options(dir.path(), Some(&other))) else {
        panic!("a wrong key opened the store")
    };
    assert!(message.contains(&key.id().to_string()), "{message}");
    assert!(message.contains(&other.id().to_string()), "{message}");
    let Err(Error::Encryption(message)) = Store::open(options(dir.path(), None)) else {
        panic!("an encrypted store opened without a key")
    };
    assert!(message.contains("master key is needed"), "{message}");
    let after: Vec<(PathBuf, Vec<u8>)> = files_under(dir.path())
        .into_iter()
        .filter(|path| !path.ends_with("LOCK"))
        .map(|path| (path.clone(), fs::read(path).unwrap()))
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|(path, _)| !path.ends_with("LOCK"))
        .collect();
    assert!(before == after, "failed opens changed nothing on disk");

    let store = Store::open(options(dir.path(), Some(&key))).unwrap();
    assert_eq!(store.stats().live_keys, 100);
    assert_eq!(store.get(b"key-00042").unwrap().unwrap(), b"value-00042");
    assert_eq!(store.stats().master_key_id, Some(key.id()));
}

#[test]
fn a_plain_store_cannot_be_opened_with_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(options(dir.path(), None)).unwrap();
    write_keys(&store, 0..3);
    drop(store);
    let Err(Error::Encryption(message)) = Store::open(options(dir.path(), Some(&new_key()))) else {
        panic!("a plain store opened as an encrypted one")
    };
    assert!(message.contains("without encryption"), "{message}");
    assert_eq!(
        Store::open(options(dir.path(), None))
            .unwrap()
            .stats()
            .live_keys,
        3
    );
}

#[test]
fn a_torn_sealed_tail_is_truncated_like_a_plain_one() {
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    let store = Store::open(options(dir.path(), Some(&key))).unwrap();
    write_keys(&store, 0..20);
    drop(store);
    let segment = files(dir.path(), ".wal").pop().unwrap();
    let len = frames_end(&fs::read(&segment).unwrap());
    let file = fs::OpenOptions::new().write(true).open(&segment).unwrap();
    file.set_len(len - 7).unwrap();

    let store = Store::open(options(dir.path(), Some(&key))).unwrap();
    assert_eq!(store.stats().live_keys, 19, "only the torn batch is gone");
    assert_eq!(store.get(b"key-00019").unwrap(), None);
    store.put("new", "write").unwrap();
    drop(store);
    let store = Store::open(options(dir.path(), Some(&key))).unwrap();
    assert_eq!(store.stats().live_keys, 20);
}

#[test]
fn an_altered_frame_is_a_hard_error_naming_file_and_offset_even_at_the_tail() {
    for which in ["middle", "last"] {
        let dir = tempfile::tempdir().unwrap();
        let key = new_key();
        let store = Store::open(options(dir.path(), Some(&key))).unwrap();
        write_keys(&store, 0..20);
        drop(store);
        let segment = files(dir.path(), ".wal").pop().unwrap();
        let offsets = frame_offsets(&fs::read(&segment).unwrap());
        let at = if which == "last" {
            offsets[offsets.len() - 1]
        } else {
            offsets[offsets.len() / 2]
        };
        alter_record(&segment, at, 32, 30);
        let (file, offset) = expect_authentication_failure(dir.path(), &key);
        assert_eq!((file, offset), (segment.clone(), at as u64), "{which}");
        assert!(
            fs::metadata(&segment).unwrap().len() as usize > at,
            "{which}: nothing was truncated"
        );
    }
}

#[test]
fn an_altered_snapshot_is_a_hard_error_not_a_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    let store = Store::open(options(dir.path(), Some(&key))).unwrap();
    write_keys(&store, 0..100);
    store.checkpoint().unwrap();
    write_keys(&store, 100..200);
    store.checkpoint().unwrap();
    drop(store);
    let newest = files(dir.path(), ".snap").pop().unwrap();
    let original = fs::read(&newest).unwrap();
    // The first block starts right after the 48-byte header.
    alter_record(&newest, 48, 12, 5);
    let (file, offset) = expect_authentication_failure(dir.path(), &key);
    assert_eq!((file, offset), (newest.clone(), 48));

    // Cutting the seal block (12-byte header and 40-byte seal before the 40-byte
    // footer) leaves every checksum valid, and is caught all the same.
    let mut cut = original.clone();
    let footer_at = cut.len() - 40;
    cut.drain(footer_at - 52..footer_at);
    fs::write(&newest, cut).unwrap();
    let (file, _) = expect_authentication_failure(dir.path(), &key);
    assert_eq!(file, newest);

    fs::write(&newest, original).unwrap();
    assert_eq!(
        Store::open(options(dir.path(), Some(&key)))
            .unwrap()
            .stats()
            .live_keys,
        200
    );
}

#[test]
fn rotation_rewrites_only_the_keyring_and_new_files_use_the_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (new_key(), new_key());
    let store = Store::open(options(dir.path(), Some(&old))).unwrap();
    write_keys(&store, 0..100);
    let first = store.checkpoint().unwrap().unwrap();
    let data_before: Vec<(PathBuf, Vec<u8>)> = files_under(dir.path())
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e == "wal" || e == "snap"))
        .map(|path| (path.clone(), fs::read(path).unwrap()))
        .collect();

    assert_eq!(store.rotate_master_key(&new).unwrap(), new.id());
    for (path, bytes) in &data_before {
        assert!(
            &fs::read(path).unwrap() == bytes,
            "{} was rewritten",
            path.display()
        );
    }
    assert_eq!(store.stats().master_key_id, Some(new.id()));
    write_keys(&store, 100..200);
    let second = store.checkpoint().unwrap().unwrap();
    drop(store);
    let data_key_id = |path: &Path| le_u32(&fs::read(path).unwrap(), 40);
    assert_eq!(data_key_id(&first.path), 1);
    assert_eq!(
        data_key_id(&second.path),
        2,
        "a new file uses the new data key"
    );

    assert!(matches!(
        Store::open(options(dir.path(), Some(&old))),
        Err(Error::Encryption(_))
    ));
    // A rotation cut short leaves a temporary keyring behind; it is ignored.
    fs::write(dir.path().join("KEYRING.tmp"), b"half written").unwrap();
    let store = Store::open(options(dir.path(), Some(&new))).unwrap();
    assert_eq!(store.stats().live_keys, 200);
    assert!(!dir.path().join("KEYRING.tmp").exists());
}

#[test]
fn a_store_without_its_keyring_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    let store = Store::open(options(dir.path(), Some(&key))).unwrap();
    write_keys(&store, 0..10);
    drop(store);
    fs::remove_file(dir.path().join("KEYRING")).unwrap();
    assert!(matches!(
        Store::open(options(dir.path(), Some(&key))),
        Err(Error::Encryption(_))
    ));
    assert!(matches!(
        Store::open(options(dir.path(), None)),
        Err(Error::Encryption(_))
    ));
}
