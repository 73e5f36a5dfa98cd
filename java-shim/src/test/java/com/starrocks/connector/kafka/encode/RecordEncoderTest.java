package com.starrocks.connector.kafka.encode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class RecordEncoderTest {

    /** Little-endian byte builder for hand-assembled expectations. */
    static final class Bytes {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Bytes u8(int v) {
            out.write(v);
            return this;
        }

        Bytes i32(int v) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v);
            out.write(b.array(), 0, 4);
            return this;
        }

        Bytes i64(long v) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
            out.write(b.array(), 0, 8);
            return this;
        }

        Bytes str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i32(b.length);
            out.write(b, 0, b.length);
            return this;
        }

        Bytes nstr(String s) {
            if (s == null) {
                return i32(0);
            }
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i32(b.length + 1);
            out.write(b, 0, b.length);
            return this;
        }

        byte[] get() {
            return out.toByteArray();
        }
    }

    static byte[] encode(RecordEncoder encoder, List<SinkRecord> records) {
        ByteBuffer buf = encoder.encode(records);
        byte[] b = new byte[encoder.length()];
        for (int i = 0; i < b.length; i++) {
            b[i] = buf.get(i);
        }
        return b;
    }

    static SinkRecord rec(String topic, int partition, long offset, Schema schema, Object value) {
        return new SinkRecord(topic, partition, null, null, schema, value, offset, 100L, TimestampType.CREATE_TIME);
    }

    @Test
    void structBatchByHand() {
        Schema s = SchemaBuilder.struct().name("n.V").version(2).parameter("p", "q")
                .field("id", Schema.INT32_SCHEMA).field("name", Schema.OPTIONAL_STRING_SCHEMA).build();
        List<SinkRecord> batch = Arrays.asList(
                rec("t", 1, 5, s, new Struct(s).put("id", 7).put("name", "x")),
                rec("t", 1, 6, s, new Struct(s).put("id", 8)));
        byte[] expected = new Bytes()
                .u8('S').u8('R').u8('B').u8('1').i32(2)
                .i32(0).str("t").i32(0).i32(1).i64(5).i64(100)
                .u8(0) // key NULL
                .u8(13).i32(0).u8(13).u8(0).nstr("n.V").i32(2).i32(1).str("p").str("q").i32(2)
                .str("id").i32(1).u8(5).u8(0).nstr(null).i32(-1).i32(0).i32(0) // INT32
                .str("name").i32(2).u8(9).u8(1).nstr(null).i32(-1).i32(0).i32(0) // optional STRING
                .u8(5).i32(7).u8(9).str("x")
                .i32(0).i32(0).i32(1).i64(6).i64(100)
                .u8(0)
                .u8(13).i32(0).u8(5).i32(8).u8(0)
                .get();
        assertArrayEquals(expected, encode(new RecordEncoder(), batch));
    }

    @Test
    void mapKeysAreDefinedOncePerBatchAndReferredToAfter() {
        Map<String, Object> first = new LinkedHashMap<>();
        first.put("id", 1L);
        first.put("m", Collections.singletonMap("id", 2L)); // a nested map shares the table
        List<SinkRecord> batch = Arrays.asList(rec("t", 0, 0, null, first),
                rec("t", 0, 1, null, Collections.singletonMap(new String("id"), 3L))); // equal, not the same object
        byte[] expected = new Bytes().u8('S').u8('R').u8('B').u8('1').i32(2)
                .i32(0).str("t").i32(0).i32(0).i64(0).i64(100).u8(0)
                .u8(12).i32(2)
                .u8(19).i32(0).str("id").u8(6).i64(1)
                .u8(19).i32(1).str("m").u8(12).i32(1).u8(19).i32(0).u8(6).i64(2)
                .i32(0).i32(0).i32(0).i64(1).i64(100).u8(0)
                .u8(12).i32(1).u8(19).i32(0).u8(6).i64(3)
                .get();
        RecordEncoder encoder = new RecordEncoder();
        assertArrayEquals(expected, encode(encoder, batch));
        // the next batch starts with an empty table: "id" is defined again
        byte[] again = encode(encoder, Collections.singletonList(rec("t", 0, 2, null, Collections.singletonMap("id", 4L))));
        assertArrayEquals(new Bytes().u8('S').u8('R').u8('B').u8('1').i32(1)
                .i32(0).str("t").i32(0).i32(0).i64(2).i64(100).u8(0)
                .u8(12).i32(1).u8(19).i32(0).str("id").u8(6).i64(4).get(), again);
    }

    @Test
    void keysInAnotherOrderOrAtNewPositionsGetTheirOwnRefs() {
        Map<String, Object> ab = new LinkedHashMap<>();
        ab.put("a", 1L);
        ab.put("b", Collections.singletonMap("c", 2L));
        Map<String, Object> ba = new LinkedHashMap<>();
        ba.put("b", 3L);
        ba.put("c", 4L);
        ba.put("a", Collections.singletonMap("a", 5L));
        List<SinkRecord> batch = Arrays.asList(rec("t", 0, 0, null, ab), rec("u", 0, 1, null, ba),
                rec("t", 0, 2, null, ab));
        List<ReferenceDecoder.Row> rows = ReferenceDecoder.decode(encode(new RecordEncoder(), batch));
        assertEquals("{\"a\":1,\"b\":{\"c\":2}}", rows.get(0).value.toString());
        assertEquals("{\"b\":3,\"c\":4,\"a\":{\"a\":5}}", rows.get(1).value.toString());
        assertEquals("{\"a\":1,\"b\":{\"c\":2}}", rows.get(2).value.toString());
        assertEquals(Arrays.asList("t", "u", "t"), Arrays.asList(rows.get(0).topic, rows.get(1).topic,
                rows.get(2).topic));
    }

    @Test
    void keysBeyondTheTablesBoundsAreWrittenAsPlainStrings() {
        Map<String, Object> wide = new LinkedHashMap<>();
        for (int i = 0; i < RecordEncoder.MAX_KEY_TABLE_ENTRIES + 1; i++) {
            wide.put("k" + i, null);
        }
        char[] longKey = new char[RecordEncoder.MAX_KEY_TABLE_CHARS + 1];
        Arrays.fill(longKey, 'x');
        Map<Object, Object> odd = new LinkedHashMap<>();
        odd.put(new String(longKey), null);
        odd.put(7, null); // not a String: by its class, as before
        odd.put("k0", null); // defined by the first record: still a ref
        ByteBuffer buf = new RecordEncoder().encode(Arrays.asList(rec("t", 0, 0, null, wide),
                rec("t", 0, 1, null, odd)));
        buf.order(ByteOrder.LITTLE_ENDIAN);
        int p = 8 + 4 + 4 + "t".length() + 4 + 4 + 8 + 8 + 1; // header, first record's head and NULL key
        assertEquals(12, buf.get(p));
        p += 5;
        for (int i = 0; i < RecordEncoder.MAX_KEY_TABLE_ENTRIES; i++) {
            assertEquals(19, buf.get(p), "key " + i);
            assertEquals(i, buf.getInt(p + 1));
            p += 1 + 4 + 4 + ("k" + i).length() + 1; // ref, definition, NULL value
        }
        assertEquals(9, buf.get(p), "the key past the table's last entry is a STRING");
        p += 1 + 4 + ("k" + RecordEncoder.MAX_KEY_TABLE_ENTRIES).length() + 1;
        p += 4 + 4 + 4 + 8 + 8 + 1 + 5; // second record's head, NULL key, MAP head
        assertEquals(9, buf.get(p), "a key longer than the bound is a STRING");
        p += 1 + 4 + longKey.length + 1;
        assertEquals(5, buf.get(p), "an Integer key is an INT32");
        p += 1 + 4 + 1;
        assertEquals(19, buf.get(p));
        assertEquals(0, buf.getInt(p + 1));
    }

    @Test
    void namedPrimitiveAndNullTimestampByHand() {
        Schema named = SchemaBuilder.int64().name("io.debezium.time.MicroTimestamp").build();
        SinkRecord r = new SinkRecord("a", 0, Schema.STRING_SCHEMA, "k", named, 12L, 3, null,
                TimestampType.NO_TIMESTAMP_TYPE);
        byte[] expected = new Bytes().u8('S').u8('R').u8('B').u8('1').i32(1)
                .i32(0).str("a").i32(0).i32(0).i64(3).i64(Long.MIN_VALUE)
                .u8(9).str("k")
                .u8(14).i32(0).u8(6).u8(0).nstr("io.debezium.time.MicroTimestamp").i32(-1).i32(0).i32(0)
                .u8(6).i64(12)
                .get();
        assertArrayEquals(expected, encode(new RecordEncoder(), Collections.singletonList(r)));
    }

    @Test
    void unnamedStructSchemaHasNullName() {
        Schema s = SchemaBuilder.struct().field("b", Schema.BOOLEAN_SCHEMA).build();
        byte[] expected = new Bytes().u8('S').u8('R').u8('B').u8('1').i32(1)
                .i32(0).str("t").i32(0).i32(0).i64(0).i64(100).u8(0)
                .u8(13).i32(0).u8(13).u8(0).nstr(null).i32(-1).i32(0).i32(1)
                .str("b").i32(1).u8(1).u8(0).nstr(null).i32(-1).i32(0).i32(0) // BOOLEAN
                .u8(2)
                .get();
        assertArrayEquals(expected, encode(new RecordEncoder(),
                Collections.singletonList(rec("t", 0, 0, s, new Struct(s).put("b", true)))));
    }

    @Test
    void fieldSchemasAreDefinedInsideTheirStructAndReferredToAfter() {
        Schema inner = SchemaBuilder.struct().optional().field("x", Schema.OPTIONAL_INT32_SCHEMA).build();
        Schema outer = SchemaBuilder.struct().field("in", inner).field("y", Schema.OPTIONAL_INT32_SCHEMA)
                .field("f", Schema.OPTIONAL_FLOAT32_SCHEMA).field("b", Schema.BOOLEAN_SCHEMA).build();
        List<SinkRecord> batch = Arrays.asList(rec("t", 0, 0, outer, new Struct(outer).put("b", true)),
                rec("t", 0, 1, inner, new Struct(inner).put("x", 4)));
        byte[] expected = new Bytes().u8('S').u8('R').u8('B').u8('1').i32(2)
                .i32(0).str("t").i32(0).i32(0).i64(0).i64(100).u8(0)
                .u8(13).i32(0).u8(13).u8(0).nstr(null).i32(-1).i32(0).i32(4)
                .str("in").i32(1).u8(13).u8(1).nstr(null).i32(-1).i32(0).i32(1) // its index before its fields'
                .str("x").i32(2).u8(5).u8(1).nstr(null).i32(-1).i32(0).i32(0)
                .str("y").i32(2) // the same schema object: a ref
                .str("f").i32(3).u8(7).u8(1).nstr(null).i32(-1).i32(0).i32(0)
                .str("b").i32(4).u8(1).u8(0).nstr(null).i32(-1).i32(0).i32(0)
                .u8(0).u8(0).u8(0).u8(2)
                .i32(0).i32(0).i32(0).i64(1).i64(100).u8(0)
                .u8(13).i32(1).u8(5).i32(4)
                .get();
        assertArrayEquals(expected, encode(new RecordEncoder(), batch));
    }

    @Test
    void smtRenamedRecordCommitsInOriginalCoordinates() {
        SinkRecord original = rec("source.topic", 4, 99, Schema.STRING_SCHEMA, "{}");
        SinkRecord renamed = original.newRecord("table", 0, null, null, Schema.STRING_SCHEMA, "{}", 100L);
        ReferenceDecoder.Row row = ReferenceDecoder.decode(
                encode(new RecordEncoder(), Collections.singletonList(renamed))).get(0);
        assertEquals("table", row.topic);
        assertEquals("source.topic", row.commitTopic);
        assertEquals(4, row.commitPartition);
        assertEquals(99, row.commitOffset);
    }

    /** A record as Connect 3.4/3.5 hands it over: no original coordinates (KIP-793 came in 3.6). */
    static final class OldSinkRecord extends SinkRecord {
        OldSinkRecord(String topic, int partition, long offset) {
            super(topic, partition, null, null, Schema.STRING_SCHEMA, "{}", offset, 100L, TimestampType.CREATE_TIME);
        }

        @Override
        public String originalTopic() {
            throw new NoSuchMethodError("originalTopic");
        }
    }

    @Test
    void beforeConnect36TheRecordsOwnCoordinatesAreCommitted() {
        RecordEncoder encoder = new RecordEncoder();
        List<SinkRecord> batch = Arrays.<SinkRecord>asList(new OldSinkRecord("old", 2, 5), new OldSinkRecord("old", 2, 6));
        List<ReferenceDecoder.Row> rows = ReferenceDecoder.decode(encode(encoder, batch));
        assertEquals("old", rows.get(1).commitTopic);
        assertEquals(2, rows.get(1).commitPartition);
        assertEquals(6, rows.get(1).commitOffset);
        // detected once: later batches do not try again
        assertEquals("old", ReferenceDecoder.decode(encode(encoder, batch)).get(0).commitTopic);
    }

    @Test
    void utf8MatchesStringGetBytes() {
        Random random = new Random(42);
        RecordEncoder encoder = new RecordEncoder(64);
        for (int n = 0; n < 500; n++) {
            char[] chars = new char[random.nextInt(40)];
            for (int i = 0; i < chars.length; i++) {
                int kind = random.nextInt(5);
                chars[i] = (char) (kind == 0 ? random.nextInt(0x80) : kind == 1 ? 0x80 + random.nextInt(0x780)
                        : kind == 2 ? 0xD800 + random.nextInt(0x800) : random.nextInt(0x10000));
            }
            String s = new String(chars);
            byte[] b = encode(encoder, Collections.singletonList(rec("t", 0, 0, Schema.STRING_SCHEMA, s)));
            byte[] expected = s.getBytes(StandardCharsets.UTF_8);
            ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            int at = 4 + 4 + 4 + 5 + 4 + 4 + 8 + 8 + 1 + 1; // to the value's string length
            assertEquals(expected.length, buf.getInt(at), s);
            assertArrayEquals(expected, Arrays.copyOfRange(b, at + 4, b.length), s);
        }
    }

    @Test
    void growsAndKeepsEarlierBytes() {
        RecordEncoder small = new RecordEncoder(64);
        char[] big = new char[100_000];
        Arrays.fill(big, '\u4e2d');
        String s = new String(big);
        List<SinkRecord> batch = Arrays.asList(rec("t", 0, 0, null, "first"), rec("t", 0, 1, null, s),
                rec("t", 0, 2, null, ByteBuffer.allocateDirect(70_000)));
        byte[] grown = encode(small, batch);
        assertArrayEquals(encode(new RecordEncoder(1 << 20), batch), grown);
        assertEquals(3, ReferenceDecoder.decode(grown).size());
        // the buffer is reused: a small batch after a big one
        assertEquals(8, encode(small, Collections.<SinkRecord>emptyList()).length);
    }

    @Test
    void everyBufferBoundaryIsHandled() {
        // many small batches from the smallest buffer: growth happens at every possible offset
        Random random = new Random(7);
        Schema named = SchemaBuilder.string().name("x.Named").parameter("k", "v").build();
        for (int n = 0; n < 300; n++) {
            List<SinkRecord> batch = new java.util.ArrayList<>();
            for (int i = 0, count = 1 + random.nextInt(4); i < count; i++) {
                String topic = "t" + new String(new char[random.nextInt(80)]).replace('\0', 'x');
                SinkRecord r = rec(topic, i, i, named, new String(new char[random.nextInt(80)]).replace('\0', 'y'));
                batch.add(random.nextBoolean() ? r : r.newRecord(topic + "-renamed", i, null, null, named,
                        r.value(), 1L));
            }
            byte[] expected = encode(new RecordEncoder(1 << 16), batch);
            assertArrayEquals(expected, encode(new RecordEncoder(64), batch));
        }
    }

    @Test
    void byteBufferIsNotConsumed() {
        ByteBuffer bb = ByteBuffer.wrap(new byte[] {1, 2, 3, 4});
        bb.position(1);
        encode(new RecordEncoder(), Collections.singletonList(rec("t", 0, 0, Schema.BYTES_SCHEMA, bb)));
        assertEquals(1, bb.position());
        assertEquals(3, bb.remaining());
    }

    @Test
    void unsupportedClassNamesClassTopicPartitionOffset() {
        SinkRecord bad = rec("orders", 3, 17, null, Collections.singletonMap("id", UUID.randomUUID()));
        RecordEncodingException e = assertThrows(RecordEncodingException.class, () ->
                new RecordEncoder().encode(Arrays.asList(rec("orders", 3, 16, null, "{}"), bad)));
        assertTrue(e instanceof DataException);
        assertSame(bad, e.record());
        for (String f : new String[] {"java.util.UUID", "topic=orders", "partition=3", "offset=17", "value"}) {
            assertTrue(e.getMessage().contains(f), e.getMessage());
        }
    }

    @Test
    void valueNotMatchingItsSchemaIsADataException() {
        SinkRecord bad = rec("t", 0, 1, Schema.INT32_SCHEMA, "not an int");
        RecordEncodingException e = assertThrows(RecordEncodingException.class,
                () -> new RecordEncoder().encode(Collections.singletonList(bad)));
        assertTrue(e.getMessage().contains("java.lang.String"), e.getMessage());
        assertTrue(e.getMessage().contains("offset=1"), e.getMessage());
    }

    @Test
    void badKeyIsNamedAsTheKey() {
        SinkRecord bad = new SinkRecord("t", 0, null, new Object(), null, "v", 2);
        RecordEncodingException e = assertThrows(RecordEncodingException.class,
                () -> new RecordEncoder().encode(Collections.singletonList(bad)));
        assertTrue(e.getMessage().contains("the key"), e.getMessage());
    }
}
