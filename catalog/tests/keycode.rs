//! Property tests of the key encoding: byte order is PostgreSQL's tuple order, decoding
//! gives the values back, and the encoding of a key prefix is a byte prefix.
#![allow(clippy::unwrap_used)]

use std::cmp::Ordering;

use bytedata_catalog::keycode::{Direction, compare_tuples, decode_key, encode_key};
use bytedata_pgtypes::DataType;
use bytedata_pgtypes::Numeric;
use bytedata_pgtypes::{Interval, Value};
use proptest::prelude::*;

fn key_type() -> impl Strategy<Value = DataType> {
    prop_oneof![
        Just(DataType::Bool),
        Just(DataType::Int2),
        Just(DataType::Int4),
        Just(DataType::Int8),
        Just(DataType::Float4),
        Just(DataType::Float8),
        Just(DataType::Numeric {
            precision: None,
            scale: None
        }),
        Just(DataType::Text),
        Just(DataType::Varchar(Some(10))),
        Just(DataType::Char(4)),
        Just(DataType::Bytea),
        Just(DataType::Date),
        Just(DataType::Time),
        Just(DataType::Timestamp),
        Just(DataType::TimestampTz),
        Just(DataType::Interval),
        Just(DataType::Uuid),
    ]
}

fn numeric() -> impl Strategy<Value = Numeric> {
    prop_oneof![
        8 => (any::<bool>(), "[0-9]{0,12}", "[0-9]{0,8}", -20i32..20).prop_map(|(negative, int, frac, exp)| {
            let text = format!("{}{}.{}e{}", if negative { "-" } else { "" }, if int.is_empty() { "0" } else { &int }, frac, exp);
            Numeric::parse(&text).unwrap()
        }),
        1 => Just(Numeric::nan()),
        1 => any::<bool>().prop_map(Numeric::infinity),
    ]
}

/// Text from a small alphabet, so that ties, prefixes, zero bytes and spaces are common.
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('a'),
            Just('b'),
            Just(' '),
            Just('\0'),
            Just('é'),
            Just('z')
        ],
        0..6,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn value(ty: &DataType) -> BoxedStrategy<Value> {
    let non_null: BoxedStrategy<Value> = match ty {
        DataType::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        DataType::Int2 => any::<i16>().prop_map(Value::Int2).boxed(),
        DataType::Int4 => prop_oneof![any::<i32>(), -3i32..3]
            .prop_map(Value::Int4)
            .boxed(),
        DataType::Int8 => prop_oneof![any::<i64>(), -3i64..3]
            .prop_map(Value::Int8)
            .boxed(),
        DataType::Float4 => prop_oneof![
            any::<f32>(),
            Just(-0.0f32),
            Just(f32::NAN),
            Just(f32::INFINITY)
        ]
        .prop_map(Value::Float4)
        .boxed(),
        DataType::Float8 => prop_oneof![
            any::<f64>(),
            Just(-0.0f64),
            Just(f64::NAN),
            Just(f64::NEG_INFINITY)
        ]
        .prop_map(Value::Float8)
        .boxed(),
        DataType::Numeric { .. } => numeric().prop_map(Value::Numeric).boxed(),
        DataType::Text | DataType::Varchar(_) => text().prop_map(Value::Text).boxed(),
        DataType::Char(length) => {
            let length = *length as usize;
            text()
                .prop_map(move |s| {
                    // A char(n) value is exactly n characters, space-padded.
                    let mut s: String = s.chars().take(length).collect();
                    let chars = s.chars().count();
                    s.push_str(&" ".repeat(length - chars));
                    Value::Text(s)
                })
                .boxed()
        }
        DataType::Bytea => proptest::collection::vec(
            prop_oneof![Just(0u8), Just(1u8), Just(0xFFu8), any::<u8>()],
            0..5,
        )
        .prop_map(Value::Bytea)
        .boxed(),
        DataType::Date => any::<i32>().prop_map(Value::Date).boxed(),
        DataType::Time => (0i64..86_400_000_000).prop_map(Value::Time).boxed(),
        DataType::Timestamp => any::<i64>().prop_map(Value::Timestamp).boxed(),
        DataType::TimestampTz => any::<i64>().prop_map(Value::TimestampTz).boxed(),
        DataType::Interval => (-30i32..30, -40i32..40, -100_000_000i64..100_000_000)
            .prop_map(|(months, days, micros)| {
                Value::Interval(Interval {
                    months,
                    days,
                    micros,
                })
            })
            .boxed(),
        DataType::Uuid => any::<[u8; 16]>().prop_map(Value::Uuid).boxed(),
        other => panic!("{other:?} is not a key type"),
    };
    prop_oneof![1 => Just(Value::Null), 6 => non_null].boxed()
}

type Schema = Vec<(DataType, Direction)>;

fn schema() -> impl Strategy<Value = Schema> {
    proptest::collection::vec(
        (
            key_type(),
            prop_oneof![Just(Direction::Asc), Just(Direction::Desc)],
        ),
        1..5,
    )
}

fn tuple(schema: &Schema) -> BoxedStrategy<Vec<Value>> {
    schema
        .iter()
        .map(|(ty, _)| value(ty))
        .collect::<Vec<_>>()
        .boxed()
}

fn schema_and_tuples() -> impl Strategy<Value = (Schema, Vec<Value>, Vec<Value>)> {
    schema().prop_flat_map(|schema| {
        let a = tuple(&schema);
        // The second tuple often shares a prefix with the first, to exercise later columns.
        let b = tuple(&schema);
        (Just(schema), a, b, 0usize..5).prop_map(|(schema, a, mut b, shared)| {
            let shared = shared.min(a.len());
            b[..shared].clone_from_slice(&a[..shared]);
            (schema, a, b)
        })
    })
}

fn encode(values: &[Value], schema: &[(DataType, Direction)]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_key(&mut out, values, schema).unwrap();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(2000)))]

    #[test]
    fn byte_order_is_postgres_order((schema, a, b) in schema_and_tuples()) {
        let (ka, kb) = (encode(&a, &schema), encode(&b, &schema));
        prop_assert_eq!(ka.cmp(&kb), compare_tuples(&a, &b, &schema), "{:?} vs {:?}", a, b);
    }

    #[test]
    fn decoding_gives_the_values_back((schema, a, _b) in schema_and_tuples()) {
        let key = encode(&a, &schema);
        let (decoded, used) = decode_key(&key, &schema).unwrap();
        prop_assert_eq!(used, key.len());
        // Equal in PostgreSQL's eyes; exactly equal unless the type's key is lossy.
        prop_assert_eq!(compare_tuples(&decoded, &a, &schema), Ordering::Equal);
        for ((got, original), (ty, _)) in decoded.iter().zip(&a).zip(&schema) {
            if !ty.key_is_lossy() {
                prop_assert_eq!(format!("{got:?}"), format!("{original:?}"));
            }
        }
    }

    #[test]
    fn a_key_prefix_encodes_to_a_byte_prefix((schema, a, _b) in schema_and_tuples(), k in 0usize..5) {
        let k = k.min(schema.len());
        let full = encode(&a, &schema);
        let prefix = encode(&a[..k], &schema[..k]);
        prop_assert!(full.starts_with(&prefix));
        // And every key with that prefix sorts between the prefix and its successor.
        prop_assert!(prefix <= full);
    }
}

#[test]
fn nulls_sort_last_ascending_and_first_descending() {
    let int = DataType::Int4;
    for (direction, null_first) in [(Direction::Asc, false), (Direction::Desc, true)] {
        let schema = [(int.clone(), direction)];
        let null = encode(&[Value::Null], &schema);
        let big = encode(&[Value::Int4(i32::MAX)], &schema);
        let small = encode(&[Value::Int4(i32::MIN)], &schema);
        assert_eq!(null < big && null < small, null_first, "{direction:?}");
        assert_eq!(null > big && null > small, !null_first, "{direction:?}");
    }
}

#[test]
fn float_edge_cases_order_as_in_postgres() {
    let schema = [(DataType::Float8, Direction::Asc)];
    let order = [
        f64::NEG_INFINITY,
        -1e300,
        -1.0,
        -f64::MIN_POSITIVE,
        0.0,
        f64::MIN_POSITIVE,
        1.0,
        f64::INFINITY,
        f64::NAN,
    ];
    for pair in order.windows(2) {
        assert!(
            encode(&[Value::Float8(pair[0])], &schema) < encode(&[Value::Float8(pair[1])], &schema),
            "{pair:?}"
        );
    }
    assert_eq!(
        encode(&[Value::Float8(-0.0)], &schema),
        encode(&[Value::Float8(0.0)], &schema)
    );
    assert_eq!(
        encode(&[Value::Float8(f64::NAN)], &schema),
        encode(&[Value::Float8(-f64::NAN)], &schema)
    );
}

#[test]
fn types_without_an_order_cannot_be_key_columns() {
    let mut out = Vec::new();
    let error = encode_key(
        &mut out,
        &[Value::Json("{}".into())],
        &[(DataType::Jsonb, Direction::Asc)],
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "type jsonb cannot be part of a key");
}
