use bumpalo::Bump;
use super::builder::{s, BatchBuilder, S, V};
use super::*;

fn sample() -> Vec<u8> {
    let person = S::fields(&["id", "city"]);
    let mut b = BatchBuilder::new();
    b.record("t", 0, 10, V::Struct(person.clone(), vec![V::I32(1), s("New York")]))
        .record("t", 0, 11, V::Struct(person, vec![V::I32(2), s("Paris")]))
        .record_full("u", "orig", 3, 7, 1234, s("k"), V::Null);
    b.build()
}

#[test]
fn decodes_records_topics_and_shared_schema() {
    let buf = sample();
    let arena = Bump::new();    let batch = decode(&buf, &arena).unwrap();
    assert_eq!(batch.records.len(), 3);
    assert_eq!(batch.schemas.len(), 1, "second struct must reuse schema 0");
    let r = &batch.records[1];
    assert_eq!((r.topic, r.commit_topic, r.commit_partition, r.commit_offset), ("t", "t", 0, 11));
    assert_eq!(r.timestamp, None);
    assert_eq!(r.value, Value::Struct(0, &[Value::Int32(2), Value::String("Paris")]));
    assert_eq!(batch.schema(0).fields, vec!["id", "city"]);
    let t = &batch.records[2];
    assert_eq!((t.topic, t.commit_topic, t.commit_partition, t.timestamp), ("u", "orig", 3, Some(1234)));
    assert!(t.is_tombstone());
    assert_eq!(t.key, Value::String("k"));
}

#[test]
fn strings_borrow_from_the_buffer() {
    let buf = sample();
    let arena = Bump::new();    let batch = decode(&buf, &arena).unwrap();
    let range = buf.as_ptr_range();
    let p = batch.records[0].topic.as_ptr();
    assert!(range.contains(&p), "topic must point into the batch buffer");
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let buf = sample();
    for n in 0..buf.len() {
        let e = decode(&buf[..n], &Bump::new()).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Data, "prefix {}", n);
    }
}

#[test]
fn rejects_bad_magic_trailing_bytes_bad_tag_and_bad_ref() {
    let mut buf = sample();
    buf[0] = b'X';
    assert!(decode(&buf, &Bump::new()).unwrap_err().message.contains("magic"));

    let mut buf = sample();
    buf.push(0);
    assert!(decode(&buf, &Bump::new()).unwrap_err().message.contains("trailing"));

    // empty batch, one record whose topic ref points beyond the table
    let mut bad_ref = b"SRB1".to_vec();
    bad_ref.extend_from_slice(&1u32.to_le_bytes());
    bad_ref.extend_from_slice(&5u32.to_le_bytes());
    assert!(decode(&bad_ref, &Bump::new()).unwrap_err().message.contains("beyond the table"));

    let mut b = BatchBuilder::new();
    b.record("t", 0, 0, V::I8(1));
    let mut buf = b.build();
    let n = buf.len();
    buf[n - 2] = 99; // the value tag
    assert!(decode(&buf, &Bump::new()).unwrap_err().message.contains("unknown value tag 99"));
}

#[test]
fn rejects_invalid_utf8_and_huge_counts() {
    let mut b = BatchBuilder::new();
    b.record("t", 0, 0, s("ab"));
    let mut buf = b.build();
    let n = buf.len();
    buf[n - 1] = 0xff;
    assert!(decode(&buf, &Bump::new()).unwrap_err().message.contains("UTF-8"));

    // an array claiming u32::MAX elements must fail without allocating them
    let mut b = BatchBuilder::new();
    b.record("t", 0, 0, V::Array(vec![]));
    let mut buf = b.build();
    let n = buf.len();
    buf[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(decode(&buf, &Bump::new()).is_err());
}

#[test]
fn deep_nesting_is_bounded() {
    let mut v = V::Null;
    for _ in 0..(MAX_DEPTH + 5) {
        v = V::Array(vec![v]);
    }
    let mut b = BatchBuilder::new();
    b.record("t", 0, 0, v);
    assert!(decode(&b.build(), &Bump::new()).unwrap_err().message.contains("nested"));
}

#[test]
fn all_scalar_tags_roundtrip() {
    let named = S::named("io.debezium.time.MicroTimestamp");
    let mut b = BatchBuilder::new();
    b.record(
        "t",
        0,
        0,
        V::Array(vec![
            V::Bool(true),
            V::I8(-1),
            V::I16(-300),
            V::I64(i64::MIN),
            V::F32(1.5),
            V::F64(-0.25),
            V::Bytes(vec![0, 255]),
            V::Map(vec![(s("k"), V::Null)]),
            V::Named(named, Box::new(V::I64(5))),
            V::Decimal(2, vec![0x04, 0xd2]),
            V::Date(-1),
            V::Time(3_723_004),
            V::Timestamp(-1),
        ]),
    );
    let buf = b.build();
    let arena = Bump::new();    let batch = decode(&buf, &arena).unwrap();
    let Value::Array(xs) = &batch.records[0].value else { panic!() };
    assert_eq!(xs[1], Value::Int8(-1));
    assert_eq!(xs[2], Value::Int16(-300));
    assert_eq!(xs[3], Value::Int64(i64::MIN));
    assert_eq!(xs[4], Value::Float32(1.5));
    assert_eq!(xs[6], Value::Bytes(&[0, 255]));
    assert_eq!(xs[8], Value::Named(0, &Value::Int64(5)));
    assert_eq!(batch.schema(0).name, Some("io.debezium.time.MicroTimestamp"));
    assert_eq!(xs[9], Value::Decimal { scale: 2, unscaled: &[0x04, 0xd2] });
    assert_eq!(xs[12], Value::Timestamp(-1));
}

#[test]
fn map_keys_come_from_the_string_table() {
    let long = "x".repeat(300);
    let mut b = BatchBuilder::new();
    b.record("t", 0, 0, V::Map(vec![(s("id"), V::I64(1)), (s("m"), V::Map(vec![(s("id"), V::I64(2))]))]))
        .record("t", 0, 1, V::Map(vec![(s("id"), V::I64(3)), (s(&long), V::Null), (V::I32(7), V::Null)]));
    let buf = b.build();
    // "id" is written out once, by its first use: every later key is a 4-byte ref
    assert_eq!(buf.windows(2).filter(|w| w == b"id").count(), 1);
    let arena = Bump::new();
    let batch = decode(&buf, &arena).unwrap();
    let Value::Map(first) = &batch.records[0].value else { panic!() };
    assert_eq!(first[1].1, Value::Map(&[(Value::String("id"), Value::Int64(2))]));
    let Value::Map(second) = &batch.records[1].value else { panic!() };
    assert_eq!(second[0], (Value::String("id"), Value::Int64(3)));
    assert_eq!(second[1].0, Value::String(&long), "a key past the bounds is a plain STRING");
    assert_eq!(second[2].0, Value::Int32(7));
    let p = second[0].0.clone();
    let Value::String(id) = p else { panic!() };
    assert!(buf.as_ptr_range().contains(&id.as_ptr()), "a ref borrows its definition from the buffer");
}

#[test]
fn string_ref_beyond_the_table_or_not_utf8_is_an_error() {
    let mut b = BatchBuilder::new();
    b.record("t", 0, 0, V::Map(vec![(s("k"), V::Null)]));
    let good = b.build();
    let at = good.len() - 1 - 1 - 4 - 4; // the ref: before the definition "k" and the NULL value
    assert_eq!(good[at - 1], tag::STRING_REF);
    let mut beyond = good.clone();
    beyond[at] = 1;
    assert!(decode(&beyond, &Bump::new()).unwrap_err().message.contains("string ref 1 beyond the table (0 entries)"));
    let mut not_utf8 = good.clone();
    let n = not_utf8.len();
    not_utf8[n - 2] = 0xff;
    assert!(decode(&not_utf8, &Bump::new()).unwrap_err().message.contains("UTF-8"));
}
