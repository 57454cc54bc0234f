//! The worked examples of docs/key-encoding.md, computed: if an encoding changes, this
//! fails until the document says the same.
#![allow(clippy::unwrap_used)]

use bytedata_catalog::keycode::{Direction, encode_key};
use bytedata_catalog::keys::index_prefix;
use bytedata_pgtypes::DataType;
use bytedata_pgtypes::Numeric;
use bytedata_pgtypes::Value;

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn key(table: u32, index: u32, values: &[Value], columns: &[(DataType, Direction)]) -> String {
    let mut key = index_prefix(table, index).to_vec();
    encode_key(&mut key, values, columns).unwrap();
    hex(&key)
}

#[test]
fn composite_key_int4_asc_int8_desc() {
    let columns = [
        (DataType::Int4, Direction::Asc),
        (DataType::Int8, Direction::Desc),
    ];
    assert_eq!(
        key(16384, 1, &[Value::Int4(3), Value::Int8(42)], &columns),
        "00 00 40 00 00 00 00 01 01 80 00 00 03 fe 7f ff ff ff ff ff ff d5"
    );
    assert_eq!(
        key(16384, 1, &[Value::Int4(3), Value::Null], &columns),
        "00 00 40 00 00 00 00 01 01 80 00 00 03 fd"
    );
    // The prefix scan for branch = 3:
    assert_eq!(
        key(16384, 1, &[Value::Int4(3)], &columns[..1]),
        "00 00 40 00 00 00 00 01 01 80 00 00 03"
    );
}

#[test]
fn text_and_bytes_keys() {
    let columns = [
        (DataType::Text, Direction::Asc),
        (DataType::Int4, Direction::Asc),
    ];
    assert_eq!(
        key(
            16385,
            1,
            &[Value::Text("ab".into()), Value::Int4(-1)],
            &columns
        ),
        "00 00 40 01 00 00 00 01 01 61 62 00 01 01 7f ff ff ff"
    );
    let bytea = [(DataType::Bytea, Direction::Asc)];
    assert_eq!(
        key(16385, 2, &[Value::Bytea(vec![0x00, 0x41])], &bytea),
        "00 00 40 01 00 00 00 02 01 00 ff 41 00 01"
    );
    let desc = [(DataType::Text, Direction::Desc)];
    assert_eq!(
        key(16385, 3, &[Value::Text("ab".into())], &desc),
        "00 00 40 01 00 00 00 03 fe 9e 9d ff fe"
    );
}

#[test]
fn numeric_keys() {
    let columns = [(
        DataType::Numeric {
            precision: None,
            scale: None,
        },
        Direction::Asc,
    )];
    let n = |text: &str| Value::Numeric(Numeric::parse(text).unwrap());
    assert_eq!(
        key(16386, 1, &[n("12.5")], &columns),
        "00 00 40 02 00 00 00 01 01 04 80 00 00 01 0d 33 00"
    );
    assert_eq!(
        key(16386, 1, &[n("12.50")], &columns),
        "00 00 40 02 00 00 00 01 01 04 80 00 00 01 0d 33 00"
    );
    assert_eq!(
        key(16386, 1, &[n("-12.5")], &columns),
        "00 00 40 02 00 00 00 01 01 02 7f ff ff fe f2 cc ff"
    );
    assert_eq!(
        key(16386, 1, &[n("0")], &columns),
        "00 00 40 02 00 00 00 01 01 03"
    );
}

#[test]
fn dates_timestamps_floats_uuids() {
    let date = [(DataType::Date, Direction::Asc)];
    // 2000-01-02 is day 1.
    assert_eq!(
        key(16387, 1, &[Value::Date(1)], &date),
        "00 00 40 03 00 00 00 01 01 80 00 00 01"
    );
    let float = [(DataType::Float8, Direction::Asc)];
    assert_eq!(
        key(16387, 2, &[Value::Float8(1.5)], &float),
        "00 00 40 03 00 00 00 02 01 bf f8 00 00 00 00 00 00"
    );
    assert_eq!(
        key(16387, 2, &[Value::Float8(-1.5)], &float),
        "00 00 40 03 00 00 00 02 01 40 07 ff ff ff ff ff ff"
    );
}
