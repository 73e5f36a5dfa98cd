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
    // the struct and the optional STRING of both its fields: the second struct reuses schema 0
    assert_eq!(batch.schemas.len(), 2, "second struct must reuse schema 0");
    assert_eq!(batch.schema(0).field_schemas, vec![1, 1]);
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

/// A struct holding an optional Decimal, a nested optional struct, a required INT64 and an
/// optional STRING (null): each field's schema is in the table, numbered in definition order.
#[test]
fn struct_schemas_carry_each_fields_schema() {
    let inner = S::struct_of(&[("zip", S::opt(SchemaKind::String))]).name("example.Address").optional();
    let outer = S::struct_of(&[
        ("price", S::decimal(2, Some(10))),
        ("address", inner.clone()),
        ("id", S::new(SchemaKind::Int64)),
        ("note", S::opt(SchemaKind::String)),
    ])
    .name("example.Order")
    .version(3);
    let mut b = BatchBuilder::new();
    b.record("t", 0, 0, V::Struct(outer.clone(), vec![V::Null, V::Null, V::I64(7), V::Null]))
        .record("t", 0, 1, V::Struct(inner, vec![s("75001")]));
    let buf = b.build();
    let arena = Bump::new();
    let batch = decode(&buf, &arena).unwrap();
    // 0 the order, 1 the decimal, 2 the address, 3 the optional STRING (zip, then note), 4 INT64
    assert_eq!(batch.schemas.len(), 5, "{:#?}", batch.schemas);
    let order = batch.schema(0);
    assert_eq!(
        (order.kind, order.optional, order.name, order.version),
        (SchemaKind::Struct, false, Some("example.Order"), 3)
    );
    assert_eq!(order.fields, vec!["price", "address", "id", "note"]);
    assert_eq!(order.field_schemas, vec![1, 2, 4, 3]);

    let price = batch.field_schema(0, 0);
    assert_eq!((price.kind, price.optional), (SchemaKind::Bytes, true));
    assert_eq!(price.name, Some("org.apache.kafka.connect.data.Decimal"));
    assert_eq!(price.params, vec![("scale", "2"), ("connect.decimal.precision", "10")]);
    assert!(price.fields.is_empty() && price.field_schemas.is_empty());

    let address = batch.field_schema(0, 1);
    assert_eq!((address.kind, address.optional, address.name), (SchemaKind::Struct, true, Some("example.Address")));
    assert_eq!(address.fields, vec!["zip"]);
    assert_eq!(batch.field_schema(2, 0).kind, SchemaKind::String);

    let id = batch.field_schema(0, 2);
    assert_eq!((id.kind, id.optional, id.name, id.version), (SchemaKind::Int64, false, None, -1));
    let note = batch.field_schema(0, 3);
    assert_eq!((note.kind, note.optional), (SchemaKind::String, true));

    let kinds: Vec<_> = batch.fields(0).map(|(n, f)| (n, f.kind, f.optional)).collect();
    assert_eq!(
        kinds,
        vec![
            ("price", SchemaKind::Bytes, true),
            ("address", SchemaKind::Struct, true),
            ("id", SchemaKind::Int64, false),
            ("note", SchemaKind::String, true)
        ]
    );
    // the second record's struct refers to the nested definition
    assert_eq!(batch.records[1].value, Value::Struct(2, &[Value::String("75001")]));
}

#[test]
fn every_schema_kind_roundtrips() {
    for kind in SchemaKind::ALL {
        assert_eq!(SchemaKind::from_wire(kind.wire()), Some(kind));
    }
    for b in [0u8, 2, 14, 15, 19, 255] {
        assert_eq!(SchemaKind::from_wire(b), None, "{}", b);
    }
    let sc = SchemaKind::ALL.iter().enumerate().fold(S::new(SchemaKind::Struct), |s, (i, k)| {
        s.field(&format!("f{}", i), if i % 2 == 0 { S::new(*k) } else { S::opt(*k) })
    });
    let n = sc.fields.len();
    let mut b = BatchBuilder::new();
    b.record("t", 0, 0, V::Struct(sc, vec![V::Null; n]));
    let buf = b.build();
    let arena = Bump::new();
    let batch = decode(&buf, &arena).unwrap();
    for (i, (_, f)) in batch.fields(0).enumerate() {
        assert_eq!((f.kind, f.optional), (SchemaKind::ALL[i], i % 2 == 1));
    }
}

/// One record whose value is a STRUCT with one field "a" (an optional STRING); returns the batch
/// and the offset of the struct's schema ref.
fn one_field_struct() -> (Vec<u8>, usize) {
    let mut b = BatchBuilder::new();
    b.record("t", 0, 0, V::Struct(S::fields(&["a"]), vec![V::Null]));
    let buf = b.build();
    // magic, count, topic ref + "t", commit topic ref, partition, offset, timestamp, key, STRUCT tag
    let at = 4 + 4 + 4 + 5 + 4 + 4 + 8 + 8 + 1 + 1;
    assert_eq!(buf[at - 1], tag::STRUCT);
    (buf, at)
}

// offsets in a definition after its ref: type, flags, name, version, param count, field count
const TYPE: usize = 4;
const FLAGS: usize = 5;
const FIELD_COUNT: usize = 6 + 4 + 4 + 4;
const FIELD_REF: usize = FIELD_COUNT + 4 + 4 + 1; // after the field count and the name "a"

#[test]
fn rejects_unknown_schema_types_and_flags() {
    let (good, at) = one_field_struct();
    decode(&good, &Bump::new()).unwrap();
    assert_eq!(good[at + TYPE], 13);
    for t in [0u8, 2, 14, 19, 200] {
        let mut buf = good.clone();
        buf[at + TYPE] = t;
        let e = decode(&buf, &Bump::new()).unwrap_err();
        assert!(e.message.contains(&format!("unknown schema type {}", t)), "{}", e.message);
    }
    // the field's schema (an optional STRING) has the optional flag; any other bit is an error
    assert_eq!((good[at + FIELD_REF + TYPE], good[at + FIELD_REF + FLAGS]), (9, 1));
    for (at, f) in [(at + FLAGS, 2u8), (at + FLAGS, 0x80), (at + FIELD_REF + FLAGS, 3)] {
        let mut buf = good.clone();
        buf[at] = f;
        let e = decode(&buf, &Bump::new()).unwrap_err();
        assert!(e.message.contains("unknown schema flags"), "{}", e.message);
    }
    let mut buf = good.clone();
    buf[at + FIELD_REF + TYPE] = 2;
    assert!(decode(&buf, &Bump::new()).unwrap_err().message.contains("unknown schema type 2"));
}

#[test]
fn field_schema_refs_beyond_the_table_are_errors_and_the_parent_itself_is_not() {
    let (good, at) = one_field_struct();
    let field_ref = at + FIELD_REF;
    assert_eq!(u32::from_le_bytes(good[field_ref..field_ref + 4].try_into().unwrap()), 1);
    let mut beyond = good.clone();
    beyond[field_ref..field_ref + 4].copy_from_slice(&2u32.to_le_bytes());
    assert!(decode(&beyond, &Bump::new()).unwrap_err().message.contains("schema ref 2 beyond the table (1 entries)"));

    // a ref to the schema being defined (index 0, reserved): no recursive schema exists in
    // Connect, but such a buffer decodes and serializes without a crash
    let mut own = good[..field_ref].to_vec();
    own.extend_from_slice(&0u32.to_le_bytes());
    own.push(tag::NULL); // the field's value
    let arena = Bump::new();
    let batch = decode(&own, &arena).unwrap();
    assert_eq!(batch.schemas.len(), 1);
    assert_eq!(batch.schema(0).field_schemas, vec![0]);
    assert_eq!(batch.field_schema(0, 0).fields, vec!["a"]);
    let mut out = Vec::new();
    crate::rows::RowWriter::json().append_row(&batch, &batch.records[0], &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), r#"{"a":null}"#);
}

#[test]
fn fields_only_on_struct_schemas_and_struct_values_only_with_them() {
    // a NAMED INT64 schema claiming a field
    let mut b = BatchBuilder::new();
    let with_field = S::named("x.N").kind(SchemaKind::Int64).field("a", S::new(SchemaKind::Int8));
    b.record("t", 0, 0, V::Named(with_field, Box::new(V::I64(1))));
    assert!(decode(&b.build(), &Bump::new()).unwrap_err().message.contains("a Int64 schema with 1 fields"));
    // a STRUCT value whose schema is not a STRUCT
    let (mut buf, at) = one_field_struct();
    buf[at + TYPE] = 9;
    buf[at + FIELD_COUNT..at + FIELD_COUNT + 4].copy_from_slice(&0u32.to_le_bytes());
    buf.truncate(at + FIELD_COUNT + 4);
    assert!(decode(&buf, &Bump::new()).unwrap_err().message.contains("a STRUCT value with a String schema"));
}

#[test]
fn deep_schema_nesting_is_bounded() {
    let deep = |n: usize| (0..n).fold(S::fields(&["leaf"]), |s, _| S::struct_of(&[("x", s)]));
    let mut b = BatchBuilder::new();
    b.record("t", 0, 0, V::Struct(deep(MAX_DEPTH + 5), vec![V::Null]));
    let e = decode(&b.build(), &Bump::new()).unwrap_err();
    assert!(e.message.contains("schema definitions nested deeper than 128"), "{}", e.message);
    // as deep as values may be: accepted
    let mut b = BatchBuilder::new();
    b.record("t", 0, 0, V::Struct(deep(MAX_DEPTH - 1), vec![V::Null]));
    let arena = Bump::new();
    assert_eq!(decode(&b.build(), &arena).unwrap().schemas.len(), MAX_DEPTH + 1);
}
