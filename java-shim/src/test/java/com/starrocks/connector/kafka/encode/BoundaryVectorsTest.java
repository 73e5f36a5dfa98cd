package com.starrocks.connector.kafka.encode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.storage.StringConverter;
import org.junit.jupiter.api.Test;

/**
 * The shared test vectors tests/vectors/boundary.json: the same SinkRecords are built here for every case, the
 * encoder must write exactly the case's {@code hex}, and the reference decoder must render exactly its
 * {@code rows}. {@code mvn test -Dvectors.write=true} rewrites the file from the cases below.
 */
class BoundaryVectorsTest {
    static final long TS = 1714283798790L; // 2024-04-28 05:56:38.790 UTC
    static final ObjectMapper MAPPER = new ObjectMapper();

    static final class Case {
        final String name;
        final String description;
        final List<SinkRecord> records;
        final String rows;

        Case(String name, String description, List<SinkRecord> records, String rows) {
            this.name = name;
            this.description = description;
            this.records = records;
            this.rows = rows;
        }
    }

    static SinkRecord rec(String topic, int partition, long offset, Schema valueSchema, Object value) {
        return new SinkRecord(topic, partition, null, null, valueSchema, value, offset, TS, TimestampType.CREATE_TIME);
    }

    static SinkRecord rec(Schema valueSchema, Object value) {
        return rec("test", 0, 0, valueSchema, value);
    }

    static SchemaAndValue schemalessJson(String json) {
        JsonConverter c = new JsonConverter();
        c.configure(Collections.singletonMap("schemas.enable", "false"), false);
        return c.toConnectData("test", json.getBytes(StandardCharsets.UTF_8));
    }

    static java.util.Date date(String iso) {
        return java.util.Date.from(Instant.parse(iso));
    }

    static List<Case> cases() {
        List<Case> cases = new ArrayList<>();

        cases.add(new Case("empty_batch", "A put() with no records: magic and a zero count.",
                Collections.<SinkRecord>emptyList(), "[]"));

        List<SinkRecord> quick = new ArrayList<>();
        String[] lines = {"{\"id\":1,\"city\":\"New York\"}", "{\"id\":2,\"city\":\"Los Angeles\"}",
            "{\"id\":3,\"city\":\"Chicago\"}"};
        for (int i = 0; i < lines.length; i++) {
            SchemaAndValue sv = schemalessJson(lines[i]);
            quick.add(rec("test", 0, i, sv.schema(), sv.value()));
        }
        cases.add(new Case("quickstart_schemaless_map",
                "The docs' quick start: JsonConverter with schemas.enable=false turns each line into a Map "
                        + "(no schema; integers are Long). Map keys come in the HashMap's iteration order.",
                quick, "[{\"city\":\"New York\",\"id\":1},{\"city\":\"Los Angeles\",\"id\":2},"
                        + "{\"city\":\"Chicago\",\"id\":3}]"));

        Schema keySchema = SchemaBuilder.struct().name("example.Key").field("id", Schema.INT32_SCHEMA).build();
        Schema customer = SchemaBuilder.struct().name("example.Customer").version(1)
                .field("id", Schema.INT32_SCHEMA)
                .field("first_name", Schema.OPTIONAL_STRING_SCHEMA)
                .field("email", Schema.OPTIONAL_STRING_SCHEMA)
                .field("score", Schema.OPTIONAL_FLOAT64_SCHEMA)
                .field("vip", Schema.OPTIONAL_BOOLEAN_SCHEMA)
                .field("level", SchemaBuilder.int32().optional().defaultValue(5).build())
                .build();
        Struct c1 = new Struct(customer).put("id", 1).put("email", "a@a.com");
        cases.add(new Case("struct_optional_nulls",
                "A Struct with a schema (and a Struct key): unset optional fields are NULL; an unset field with a "
                        + "default value is written as the default (Struct.get semantics).",
                Collections.singletonList(new SinkRecord("test", 0, keySchema, new Struct(keySchema).put("id", 1),
                        customer, c1, 5, TS, TimestampType.CREATE_TIME)),
                "[{\"id\":1,\"first_name\":null,\"email\":\"a@a.com\",\"score\":null,\"vip\":null,\"level\":5}]"));

        Schema address = SchemaBuilder.struct().name("example.Address")
                .field("city", Schema.STRING_SCHEMA).field("zip", Schema.OPTIONAL_STRING_SCHEMA).build();
        Schema person = SchemaBuilder.struct().field("name", Schema.STRING_SCHEMA).field("address", address).build();
        Schema item = SchemaBuilder.struct().name("example.Item")
                .field("sku", Schema.STRING_SCHEMA).field("qty", Schema.INT32_SCHEMA).build();
        Schema order = SchemaBuilder.struct().name("example.Order")
                .field("id", Schema.INT64_SCHEMA)
                .field("customer", person)
                .field("items", SchemaBuilder.array(item).build())
                .field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).build())
                .field("attrs", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT64_SCHEMA).build())
                .field("counts", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build())
                .field("matrix", SchemaBuilder.array(SchemaBuilder.array(Schema.INT32_SCHEMA).build()).build())
                .build();
        Map<String, Long> attrs = new LinkedHashMap<>();
        attrs.put("weight", 1200L);
        attrs.put("height", 30L);
        Map<Integer, String> counts = new LinkedHashMap<>();
        counts.put(1, "one");
        counts.put(2, "two");
        Struct o = new Struct(order).put("id", 42L)
                .put("customer", new Struct(person).put("name", "Ann")
                        .put("address", new Struct(address).put("city", "Paris")))
                .put("items", Arrays.asList(new Struct(item).put("sku", "A-1").put("qty", 2),
                        new Struct(item).put("sku", "B-7").put("qty", 1)))
                .put("tags", Arrays.asList("new", "gift"))
                .put("attrs", attrs)
                .put("counts", counts)
                .put("matrix", Arrays.asList(Arrays.asList(1, 2), Collections.singletonList(3)));
        cases.add(new Case("nested_struct_map_array",
                "Nested Structs (one without a name), an array of Structs (one schema definition, then refs), "
                        + "arrays, a map with string keys and a map with INT32 keys (JSON keys are strings).",
                Collections.singletonList(rec(order, o)),
                "[{\"id\":42,\"customer\":{\"name\":\"Ann\",\"address\":{\"city\":\"Paris\",\"zip\":null}},"
                        + "\"items\":[{\"sku\":\"A-1\",\"qty\":2},{\"sku\":\"B-7\",\"qty\":1}],"
                        + "\"tags\":[\"new\",\"gift\"],\"attrs\":{\"weight\":1200,\"height\":30},"
                        + "\"counts\":{\"1\":\"one\",\"2\":\"two\"},\"matrix\":[[1,2],[3]]}]"));

        Schema blobs = SchemaBuilder.struct().name("example.Blobs")
                .field("text", Schema.BYTES_SCHEMA)
                .field("binary", Schema.BYTES_SCHEMA)
                .field("buffer", Schema.BYTES_SCHEMA)
                .field("empty", Schema.OPTIONAL_BYTES_SCHEMA)
                .build();
        ByteBuffer window = ByteBuffer.wrap("xxabcxx".getBytes(StandardCharsets.US_ASCII), 2, 3);
        Struct b = new Struct(blobs).put("text", "h\u00e9llo".getBytes(StandardCharsets.UTF_8))
                .put("binary", new byte[] {(byte) 0xFF, 0x00, 0x01}).put("buffer", window).put("empty", new byte[0]);
        cases.add(new Case("bytes",
                "BYTES from byte[] and from a ByteBuffer (only its remaining bytes). Valid UTF-8 bytes become "
                        + "that string, other bytes base64.",
                Collections.singletonList(rec(blobs, b)),
                "[{\"text\":\"h\u00e9llo\",\"binary\":\"/wAB\",\"buffer\":\"abc\",\"empty\":\"\"}]"));

        Schema prims = SchemaBuilder.struct().name("example.Primitives")
                .field("i8", Schema.INT8_SCHEMA).field("i16", Schema.INT16_SCHEMA)
                .field("i32", Schema.INT32_SCHEMA).field("i64", Schema.INT64_SCHEMA)
                .field("f32", Schema.FLOAT32_SCHEMA).field("f64", Schema.FLOAT64_SCHEMA)
                .field("yes", Schema.BOOLEAN_SCHEMA).field("no", Schema.BOOLEAN_SCHEMA)
                .field("text", Schema.STRING_SCHEMA).field("unpaired", Schema.STRING_SCHEMA)
                .build();
        Struct p = new Struct(prims).put("i8", (byte) -128).put("i16", (short) -32768)
                .put("i32", Integer.MAX_VALUE).put("i64", Long.MIN_VALUE).put("f32", 1.5f).put("f64", -0.25)
                .put("yes", true).put("no", false)
                .put("text", "h\u00e9llo w\u00f6rld \u4e2d\u6587 \ud83d\ude00")
                .put("unpaired", "bad \ud800 x");
        cases.add(new Case("all_primitives",
                "Every primitive type with a schema, extremes of the integer types, 1-, 2-, 3- and 4-byte UTF-8 "
                        + "and an unpaired surrogate (written as '?', like String.getBytes(UTF_8)).",
                Collections.singletonList(rec(prims, p)),
                "[{\"i8\":-128,\"i16\":-32768,\"i32\":2147483647,\"i64\":-9223372036854775808,\"f32\":1.5,"
                        + "\"f64\":-0.25,\"yes\":true,\"no\":false,"
                        + "\"text\":\"h\u00e9llo w\u00f6rld \u4e2d\u6587 \ud83d\ude00\",\"unpaired\":\"bad ? x\"}]"));

        Schema decimals = SchemaBuilder.struct().name("example.Decimals")
                .field("price", Decimal.schema(3))
                .field("negative", Decimal.schema(3))
                .field("big", Decimal.schema(2))
                .field("zero", Decimal.schema(0))
                .field("missing", Decimal.builder(2).optional().build())
                .build();
        Struct d = new Struct(decimals).put("price", new BigDecimal("12.340"))
                .put("negative", new BigDecimal("-0.005"))
                .put("big", new BigDecimal("12345678901234567890.12"))
                .put("zero", BigDecimal.ZERO);
        cases.add(new Case("decimal",
                "Connect Decimal: scale and big-endian two's complement unscaled bytes; rows show the exact "
                        + "decimal as a string with its scale.",
                Collections.singletonList(rec(decimals, d)),
                "[{\"price\":\"12.340\",\"negative\":\"-0.005\",\"big\":\"12345678901234567890.12\","
                        + "\"zero\":\"0\",\"missing\":null}]"));

        Schema times = SchemaBuilder.struct().name("example.Times")
                .field("d", Date.SCHEMA).field("d_pre", Date.SCHEMA)
                .field("t", Time.SCHEMA).field("t_whole", Time.SCHEMA)
                .field("ts", Timestamp.SCHEMA).field("ts_whole", Timestamp.SCHEMA).field("ts_pre", Timestamp.SCHEMA)
                .field("ts_missing", Timestamp.builder().optional().build())
                .build();
        Struct t = new Struct(times)
                .put("d", date("2024-02-29T00:00:00Z")).put("d_pre", date("1969-12-31T00:00:00Z"))
                .put("t", new java.util.Date(3723004L)).put("t_whole", new java.util.Date(86399000L))
                .put("ts", date("2024-05-01T12:34:56.789Z")).put("ts_whole", date("2024-05-01T12:34:56Z"))
                .put("ts_pre", new java.util.Date(-1L));
        cases.add(new Case("date_time_timestamp",
                "Connect Date (days), Time (millis of the day) and Timestamp (epoch millis, UTC), before and after "
                        + "the epoch; the fraction is shown (6 digits) only when it is not zero.",
                Collections.singletonList(rec(times, t)),
                "[{\"d\":\"2024-02-29\",\"d_pre\":\"1969-12-31\",\"t\":\"01:02:03.004000\",\"t_whole\":\"23:59:59\","
                        + "\"ts\":\"2024-05-01 12:34:56.789000\",\"ts_whole\":\"2024-05-01 12:34:56\","
                        + "\"ts_pre\":\"1969-12-31 23:59:59.999000\",\"ts_missing\":null}]"));

        Schema micro = SchemaBuilder.int64().name("io.debezium.time.MicroTimestamp").version(1).build();
        Schema microOpt = SchemaBuilder.int64().name("io.debezium.time.MicroTimestamp").version(1).optional().build();
        Schema enumSchema = SchemaBuilder.string().name("io.debezium.data.Enum").version(1)
                .parameter("allowed", "new,paid,shipped").build();
        Schema dbz = SchemaBuilder.struct().name("inventory.public.orders.Value")
                .field("id", Schema.INT32_SCHEMA)
                .field("created", micro).field("created_again", micro).field("updated", microOpt)
                .field("status", enumSchema)
                .build();
        Struct z = new Struct(dbz).put("id", 7).put("created", 1714283798721123L)
                .put("created_again", 1714283798000000L).put("status", "paid");
        cases.add(new Case("debezium_named_types",
                "Named non-logical schemas are NAMED: io.debezium.time.MicroTimestamp (INT64 microseconds, shown "
                        + "as a timestamp; the second use refers to the first definition) and io.debezium.data.Enum "
                        + "(STRING with parameters, shown as the string).",
                Collections.singletonList(rec(dbz, z)),
                "[{\"id\":7,\"created\":\"2024-04-28 05:56:38.721123\",\"created_again\":\"2024-04-28 05:56:38\","
                        + "\"updated\":null,\"status\":\"paid\"}]"));

        StringConverter sc = new StringConverter();
        sc.configure(Collections.<String, Object>emptyMap(), false);
        SchemaAndValue str = sc.toConnectData("test", "{\"id\":2,\"city\":\"Los Angeles\"}".getBytes(StandardCharsets.UTF_8));
        cases.add(new Case("string_value_holding_json",
                "A String record value holding JSON text (StringConverter, then without a schema) is that JSON: "
                        + "the row is the parsed object, not a quoted string.",
                Arrays.asList(rec("test", 0, 1, str.schema(), str.value()),
                        rec("test", 0, 2, null, "{\"id\":3,\"city\":\"Chicago\",\"tags\":[\"a\"]}")),
                "[{\"id\":2,\"city\":\"Los Angeles\"},{\"id\":3,\"city\":\"Chicago\",\"tags\":[\"a\"]}]"));

        cases.add(new Case("tombstone",
                "Null values are tombstones (no row), with a schema or without; the second record has no "
                        + "timestamp (i64::MIN) and a String key.",
                Arrays.asList(
                        new SinkRecord("test", 1, Schema.STRING_SCHEMA, "k1", customer, null, 9, TS,
                                TimestampType.CREATE_TIME),
                        new SinkRecord("test", 1, Schema.STRING_SCHEMA, "k2", null, null, 10, null,
                                TimestampType.NO_TIMESTAMP_TYPE)),
                "[null,null]"));

        Map<String, Object> v1 = new LinkedHashMap<>();
        v1.put("id", 1L);
        Map<String, Object> v2 = new LinkedHashMap<>();
        v2.put("id", 2L);
        v2.put("name", "b");
        SinkRecord original = new SinkRecord("inventory.public.customers", 3, null, null, null, v2, 42, TS,
                TimestampType.CREATE_TIME);
        SinkRecord renamed = original.newRecord("customers", 3, null, null, null, v2, TS);
        cases.add(new Case("two_topics_smt_renamed",
                "Records of two topics; the second was renamed by an SMT (topic 'customers', committed as "
                        + "'inventory.public.customers' partition 3 offset 42); the third reuses topic ref 0.",
                Arrays.asList(rec("orders", 0, 10, null, v1), renamed, rec("orders", 0, 11, null, v1)),
                "[{\"id\":1},{\"id\":2,\"name\":\"b\"},{\"id\":1}]"));

        Schema user = SchemaBuilder.struct().name("example.User")
                .field("id", Schema.INT32_SCHEMA).field("name", Schema.STRING_SCHEMA).build();
        Schema userCopy = SchemaBuilder.struct().name("example.User")
                .field("id", Schema.INT32_SCHEMA).field("name", Schema.STRING_SCHEMA).build();
        cases.add(new Case("schema_reuse",
                "Three records share one schema object: defined once, then referred to by index. The fourth has "
                        + "an equal but distinct schema object and is defined again (harmless).",
                Arrays.asList(rec("users", 0, 0, user, new Struct(user).put("id", 1).put("name", "a")),
                        rec("users", 0, 1, user, new Struct(user).put("id", 2).put("name", "b")),
                        rec("users", 0, 2, user, new Struct(user).put("id", 3).put("name", "c")),
                        rec("users", 0, 3, userCopy, new Struct(userCopy).put("id", 4).put("name", "d"))),
                "[{\"id\":1,\"name\":\"a\"},{\"id\":2,\"name\":\"b\"},{\"id\":3,\"name\":\"c\"},"
                        + "{\"id\":4,\"name\":\"d\"}]"));

        SchemaAndValue nested = schemalessJson(
                "{\"a\":[1,2.5,\"x\",null,true],\"m\":{\"k\":\"v\",\"n\":{\"deep\":[]}},\"z\":null,\"neg\":-7}");
        cases.add(new Case("schemaless_nested",
                "Schemaless nested JSON through JsonConverter (schemas.enable=false): lists, maps, nulls, "
                        + "booleans, a double.",
                Collections.singletonList(rec(nested.schema(), nested.value())),
                "[{\"a\":[1,2.5,\"x\",null,true],\"neg\":-7,\"z\":null,\"m\":{\"k\":\"v\",\"n\":{\"deep\":[]}}}]"));

        Schema inner = SchemaBuilder.struct().field("x", Schema.INT32_SCHEMA).build();
        Map<String, Object> classes = new LinkedHashMap<>();
        classes.put("i8", (byte) 1);
        classes.put("i16", (short) 2);
        classes.put("i32", 3);
        classes.put("f32", 0.5f);
        classes.put("dec", new BigDecimal("1.50"));
        classes.put("ts", new java.util.Date(TS));
        classes.put("raw", "abc".getBytes(StandardCharsets.US_ASCII));
        classes.put("buf", ByteBuffer.wrap(new byte[] {(byte) 0xC3}));
        classes.put("struct", new Struct(inner).put("x", 9));
        classes.put("no", Boolean.FALSE);
        cases.add(new Case("schemaless_java_classes",
                "Schemaless values by Java class: Byte, Short, Integer, Float, BigDecimal (DECIMAL), "
                        + "java.util.Date (TIMESTAMP), byte[] and ByteBuffer (invalid UTF-8: base64), a Struct.",
                Collections.singletonList(rec(null, classes)),
                "[{\"i8\":1,\"i16\":2,\"i32\":3,\"f32\":0.5,\"dec\":\"1.50\",\"ts\":\"2024-04-28 05:56:38.790000\","
                        + "\"raw\":\"abc\",\"buf\":\"ww==\",\"struct\":{\"x\":9},\"no\":false}]"));

        Schema shipTo = SchemaBuilder.struct().name("example.Address").optional()
                .field("city", Schema.STRING_SCHEMA).field("zip", Schema.OPTIONAL_STRING_SCHEMA).build();
        Schema withFields = SchemaBuilder.struct().name("example.Shipment").version(2)
                .field("price", Decimal.builder(2).optional().parameter("connect.decimal.precision", "10").build())
                .field("ship_to", shipTo)
                .field("id", Schema.INT64_SCHEMA)
                .field("note", Schema.OPTIONAL_STRING_SCHEMA)
                .field("updated", microOpt)
                .build();
        cases.add(new Case("field_schemas",
                "A Struct schema's definition holds each field's schema (a schema ref): an optional Decimal with "
                        + "its scale and precision parameters, a nested optional Struct (defined inside, so it and "
                        + "its fields take the next indices), a required INT64, an optional STRING and an optional "
                        + "Debezium MicroTimestamp, known even when the values are null. The second record refers "
                        + "to the definitions.",
                Arrays.asList(
                        rec("shipments", 0, 0, withFields, new Struct(withFields).put("price", new BigDecimal("12.34"))
                                .put("ship_to", new Struct(shipTo).put("city", "Paris")).put("id", 1L)),
                        rec("shipments", 0, 1, withFields, new Struct(withFields).put("id", 2L))),
                "[{\"price\":\"12.34\",\"ship_to\":{\"city\":\"Paris\",\"zip\":null},\"id\":1,\"note\":null,"
                        + "\"updated\":null},"
                        + "{\"price\":null,\"ship_to\":null,\"id\":2,\"note\":null,\"updated\":null}]"));
        return cases;
    }

    static String hex(ByteBuffer buf, int length) {
        StringBuilder sb = new StringBuilder(length * 2);
        for (int i = 0; i < length; i++) {
            sb.append(String.format("%02x", buf.get(i) & 0xFF));
        }
        return sb.toString();
    }

    static byte[] unhex(String hex) {
        byte[] b = new byte[hex.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    static File vectorsFile() {
        return new File(System.getProperty("vectors.file", "../tests/vectors/boundary.json"));
    }

    /** Rows as the reference decoder renders them, normalised through text (so 1L and 1 compare equal). */
    static JsonNode renderedRows(byte[] bytes) throws Exception {
        ArrayNode rows = JsonNodeFactory.instance.arrayNode();
        for (ReferenceDecoder.Row r : ReferenceDecoder.decode(bytes)) {
            rows.add(r.value);
        }
        return MAPPER.readTree(MAPPER.writeValueAsString(rows));
    }

    @Test
    void encoderWritesTheVectorsAndRowsMatchTheReferenceDecoder() throws Exception {
        List<Case> cases = cases();
        RecordEncoder encoder = new RecordEncoder(64); // small: every case exercises growth
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        Map<String, String> hexes = new HashMap<>();
        for (Case c : cases) {
            String hex = hex(encoder.encode(c.records), encoder.length());
            hexes.put(c.name, hex);
            JsonNode rows = MAPPER.readTree(c.rows);
            // the stated rows are what an independent reading of the bytes yields, field order included
            assertEquals(MAPPER.writeValueAsString(rows), MAPPER.writeValueAsString(renderedRows(unhex(hex))),
                    c.name);
            ObjectNode entry = out.addObject();
            entry.put("name", c.name);
            entry.put("description", c.description);
            entry.put("hex", hex);
            entry.set("rows", rows);
        }
        File file = vectorsFile();
        if (Boolean.getBoolean("vectors.write")) {
            file.getParentFile().mkdirs();
            MAPPER.writer().with(SerializationFeature.INDENT_OUTPUT).writeValue(file, out);
            return;
        }
        assertTrue(file.isFile(), file + " is missing: run with -Dvectors.write=true");
        JsonNode stored = MAPPER.readTree(file);
        Set<String> names = new LinkedHashSet<>();
        for (JsonNode entry : stored) {
            String name = entry.get("name").asText();
            names.add(name);
            assertNotNull(hexes.get(name), "the file has a case the test does not build: " + name);
            assertEquals(hexes.get(name), entry.get("hex").asText(), name);
            assertEquals(MAPPER.writeValueAsString(renderedRows(unhex(entry.get("hex").asText()))),
                    MAPPER.writeValueAsString(entry.get("rows")), name + ": rows");
        }
        assertEquals(hexes.keySet(), names, "cases missing from " + file);
    }

    @Test
    void fieldSchemasAreInTheSchemaTable() {
        Case c = null;
        for (Case each : cases()) {
            if (each.name.equals("field_schemas")) {
                c = each;
            }
        }
        RecordEncoder encoder = new RecordEncoder();
        ByteBuffer buf = encoder.encode(c.records);
        List<ReferenceDecoder.SchemaDef> table = ReferenceDecoder.schemas(unhex(hex(buf, encoder.length())));
        // 0 the shipment, 1 the decimal, 2 the address, 3 STRING, 4 optional STRING, 5 INT64, 6 MicroTimestamp
        assertEquals(7, table.size());
        ReferenceDecoder.SchemaDef shipment = table.get(0);
        assertEquals(Arrays.asList("price", "ship_to", "id", "note", "updated"), shipment.fields);
        assertEquals(Arrays.asList(table.get(1), table.get(2), table.get(5), table.get(4), table.get(6)),
                shipment.fieldSchemas);
        ReferenceDecoder.SchemaDef price = table.get(1);
        assertEquals(RecordEncoder.BYTES, price.type);
        assertTrue(price.optional);
        assertEquals(Decimal.LOGICAL_NAME, price.name);
        assertEquals("2", price.params.get("scale"));
        assertEquals("10", price.params.get("connect.decimal.precision"));
        ReferenceDecoder.SchemaDef shipTo = table.get(2);
        assertEquals(RecordEncoder.STRUCT, shipTo.type);
        assertTrue(shipTo.optional);
        assertEquals(Arrays.asList(table.get(3), table.get(4)), shipTo.fieldSchemas);
        assertEquals(false, table.get(3).optional);
        assertTrue(table.get(4).optional);
        assertEquals(RecordEncoder.INT64, table.get(5).type);
        assertEquals(false, table.get(5).optional);
        assertEquals("io.debezium.time.MicroTimestamp", table.get(6).name);
        assertEquals(RecordEncoder.INT64, table.get(6).type);
        assertTrue(table.get(6).optional);
    }

    @Test
    void everyTagIsCovered() {
        Set<Integer> seen = new java.util.TreeSet<>();
        RecordEncoder encoder = new RecordEncoder();
        for (Case c : cases()) {
            ByteBuffer buf = encoder.encode(c.records);
            collectTags(unhex(hex(buf, encoder.length())), seen);
        }
        for (int tag = 0; tag <= RecordEncoder.STRING_REF; tag++) {
            assertTrue(seen.contains(tag), "no vector has tag " + tag + "; seen " + seen);
        }
    }

    private static void collectTags(byte[] bytes, Set<Integer> seen) {
        ReferenceDecoder.decode(bytes, seen);
    }
}
