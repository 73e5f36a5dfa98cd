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
import java.util.List;
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
                .u8(13).i32(0).nstr("n.V").i32(2).i32(1).str("p").str("q").i32(2).str("id").str("name")
                .u8(5).i32(7).u8(9).str("x")
                .i32(0).i32(0).i32(1).i64(6).i64(100)
                .u8(0)
                .u8(13).i32(0).u8(5).i32(8).u8(0)
                .get();
        assertArrayEquals(expected, encode(new RecordEncoder(), batch));
    }

    @Test
    void namedPrimitiveAndNullTimestampByHand() {
        Schema named = SchemaBuilder.int64().name("io.debezium.time.MicroTimestamp").build();
        SinkRecord r = new SinkRecord("a", 0, Schema.STRING_SCHEMA, "k", named, 12L, 3, null,
                TimestampType.NO_TIMESTAMP_TYPE);
        byte[] expected = new Bytes().u8('S').u8('R').u8('B').u8('1').i32(1)
                .i32(0).str("a").i32(0).i32(0).i64(3).i64(Long.MIN_VALUE)
                .u8(9).str("k")
                .u8(14).i32(0).nstr("io.debezium.time.MicroTimestamp").i32(-1).i32(0).i32(0).u8(6).i64(12)
                .get();
        assertArrayEquals(expected, encode(new RecordEncoder(), Collections.singletonList(r)));
    }

    @Test
    void unnamedStructSchemaHasNullName() {
        Schema s = SchemaBuilder.struct().field("b", Schema.BOOLEAN_SCHEMA).build();
        byte[] expected = new Bytes().u8('S').u8('R').u8('B').u8('1').i32(1)
                .i32(0).str("t").i32(0).i32(0).i64(0).i64(100).u8(0)
                .u8(13).i32(0).nstr(null).i32(-1).i32(0).i32(1).str("b").u8(2)
                .get();
        assertArrayEquals(expected, encode(new RecordEncoder(),
                Collections.singletonList(rec("t", 0, 0, s, new Struct(s).put("b", true)))));
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
