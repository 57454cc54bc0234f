use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::crypto::MasterKey;
use crate::crypto::keyring::Keyring;
use crate::fs::SimFs;

const DIR: &str = "/store/vlog";

fn open(fs: &SimFs, keyring: Option<SharedKeyring>, limit: u64) -> ValueLog {
    ValueLog::open(Arc::new(fs.clone()), Path::new(DIR), keyring, limit).unwrap()
}

fn keyring() -> SharedKeyring {
    let master = MasterKey::from_hex(&MasterKey::generate_hex().unwrap()).unwrap();
    Arc::new(parking_lot::Mutex::new(Keyring::generate(&master).unwrap()))
}

fn value(i: u32) -> Vec<u8> {
    format!("VALUE-{i}-").repeat(20).into_bytes()
}

#[test]
fn values_read_back_across_files_and_reopens() {
    let fs = SimFs::new(1);
    let log = open(&fs, None, 4096);
    let mut pointers = Vec::new();
    for i in 0..100u32 {
        let key = i.to_be_bytes();
        let written = log.append(&[(&key, &value(i), u64::from(i) + 1)]).unwrap();
        pointers.extend(written);
    }
    assert!(log.stats().files > 3, "the files rotated");
    for (i, pointer) in pointers.iter().enumerate() {
        assert_eq!(ValuePointer::decode(&pointer.encode()), Some(*pointer));
        assert_eq!(log.read(pointer).unwrap(), value(i as u32));
    }
    log.sync().unwrap();
    let files_before = log.stats().files;
    drop(log);

    let reopened = open(&fs, None, 4096);
    assert_eq!(
        reopened.stats().files,
        files_before + 1,
        "a reopen appends to a new file"
    );
    for (i, pointer) in pointers.iter().enumerate() {
        assert_eq!(reopened.read(pointer).unwrap(), value(i as u32));
    }
    let more = reopened.append(&[(b"k", b"v", 1000)]).unwrap();
    assert!(more[0].file_no > pointers.last().unwrap().file_no);
    assert_eq!(reopened.read(&more[0]).unwrap(), b"v");
}

#[test]
fn a_damaged_entry_or_a_wrong_pointer_is_corruption_naming_file_and_offset() {
    let fs = SimFs::new(2);
    let log = open(&fs, None, 1 << 20);
    let pointers = log
        .append(&[(b"a", &value(1), 1), (b"b", &value(2), 2)])
        .unwrap();
    let path = Path::new(DIR).join(file_name(pointers[1].file_no));
    let expect_corruption = |log: &ValueLog, pointer: &ValuePointer| match log.read(pointer) {
        Err(Error::Corruption { file, offset, .. }) => {
            assert_eq!((file.as_path(), offset), (path.as_path(), pointer.offset));
        }
        other => panic!("expected corruption, got {other:?}"),
    };
    let wrong_crc = ValuePointer {
        crc: pointers[1].crc ^ 1,
        ..pointers[1]
    };
    expect_corruption(&log, &wrong_crc);
    let past_end = ValuePointer {
        offset: 1 << 30,
        ..pointers[1]
    };
    expect_corruption(&log, &past_end);
    let wrong_len = ValuePointer {
        len: pointers[1].len - 1,
        ..pointers[1]
    };
    expect_corruption(&log, &wrong_len);

    let mut data = fs.read(&path).unwrap();
    data[pointers[1].offset as usize + 30] ^= 0x40;
    fs.overwrite(&path, data).unwrap();
    expect_corruption(&log, &pointers[1]);
    assert_eq!(
        log.read(&pointers[0]).unwrap(),
        value(1),
        "its neighbour is fine"
    );
}

#[test]
fn sealed_entries_hide_keys_and_values_and_fail_authentication_when_altered() {
    let fs = SimFs::new(3);
    let keyring = keyring();
    let log = open(&fs, Some(keyring.clone()), 1 << 20);
    let pointers = log.append(&[(b"KEYKEY", &value(7), 9)]).unwrap();
    assert_eq!(log.read(&pointers[0]).unwrap(), value(7));
    let path = Path::new(DIR).join(file_name(pointers[0].file_no));
    let mut data = fs.read(&path).unwrap();
    assert!(!data.windows(6).any(|w| w == b"KEYKEY" || w == b"VALUE-"));

    // Alter the ciphertext and fix both checksums, as a deliberate change would.
    let at = pointers[0].offset as usize;
    let end = at + pointers[0].len as usize;
    data[at + 40] ^= 1;
    let crc = entry_checksum(&data[at..end]);
    data[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
    fs.overwrite(&path, data).unwrap();
    let altered = ValuePointer { crc, ..pointers[0] };
    assert!(matches!(
        log.read(&altered),
        Err(Error::AuthenticationFailed { offset, .. }) if offset == at as u64
    ));
    drop(log);
    // Opening a sealed value log needs the keyring.
    assert!(matches!(
        ValueLog::open(Arc::new(fs.clone()), Path::new(DIR), None, 1 << 20),
        Err(Error::Encryption(_))
    ));
}
