package com.starrocks.connector.kafka.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AddOpFieldForDebeziumRecordTest {
    static final Schema ROW = SchemaBuilder.struct().name("test.public.customers.Value").optional()
            .field("id", Schema.INT32_SCHEMA)
            .field("email", Schema.OPTIONAL_STRING_SCHEMA)
            .build();
    static final Schema SOURCE = SchemaBuilder.struct().name("io.debezium.connector.postgresql.Source")
            .field("db", Schema.STRING_SCHEMA).build();
    static final Schema ENVELOPE = SchemaBuilder.struct().name("test.public.customers.Envelope").version(1)
            .field("before", ROW)
            .field("after", ROW)
            .field("source", SOURCE)
            .field("op", Schema.STRING_SCHEMA)
            .field("ts_ms", Schema.OPTIONAL_INT64_SCHEMA)
            .build();

    private final AddOpFieldForDebeziumRecord<SinkRecord> smt = new AddOpFieldForDebeziumRecord<>();

    static Struct row(int id, String email) {
        return new Struct(ROW).put("id", id).put("email", email);
    }

    static SinkRecord record(Schema schema, Object value) {
        return new SinkRecord("test.public.customers", 0, Schema.STRING_SCHEMA, "k", schema, value, 7L);
    }

    static SinkRecord envelope(String op, Struct before, Struct after) {
        Struct v = new Struct(ENVELOPE).put("before", before).put("after", after)
                .put("source", new Struct(SOURCE).put("db", "postgres")).put("op", op).put("ts_ms", 1714283798790L);
        return record(ENVELOPE, v);
    }

    @ParameterizedTest
    @ValueSource(strings = {"c", "u", "r"})
    void upsertOpsAddZeroToAfter(String op) {
        SinkRecord in = envelope(op, "c".equals(op) || "r".equals(op) ? null : row(1, "a@a.com"), row(1, "c@c.com"));
        SinkRecord out = smt.apply(in);
        Struct value = (Struct) out.value();
        assertSame(out.valueSchema(), value.schema());
        Struct after = value.getStruct("after");
        assertEquals(0, after.get("__op"));
        assertEquals(1, after.get("id"));
        assertEquals("c@c.com", after.get("email"));
        Field op2 = after.schema().field("__op");
        assertEquals(2, op2.index());
        assertEquals(Schema.Type.INT32, op2.schema().type());
        assertTrue(op2.schema().isOptional());
        assertEquals(ROW.name(), after.schema().name());
        // before, source, op and ts_ms are as they were; only after's schema changed
        assertSame(ROW, value.schema().field("before").schema());
        assertEquals(in.value() == null ? null : ((Struct) in.value()).get("before"), value.get("before"));
        assertEquals("postgres", value.getStruct("source").get("db"));
        assertEquals(op, value.get("op"));
        assertEquals(1714283798790L, value.get("ts_ms"));
        assertEquals(ENVELOPE.name(), value.schema().name());
        assertEquals(ENVELOPE.version(), value.schema().version());
        assertEquals(Arrays.asList("before", "after", "source", "op", "ts_ms"), names(value.schema()));
        assertEquals(in.topic(), out.topic());
        assertEquals(in.key(), out.key());
        assertEquals(in.kafkaOffset(), out.kafkaOffset());
    }

    @Test
    void deleteAddsOneToBefore() {
        SinkRecord out = smt.apply(envelope("d", row(2, "b@b.com"), null));
        Struct value = (Struct) out.value();
        assertEquals(1, value.getStruct("before").get("__op"));
        assertEquals(2, value.getStruct("before").get("id"));
        assertNull(value.get("after"));
        assertSame(ROW, value.schema().field("after").schema());
        assertEquals("d", value.get("op"));
    }

    @Test
    void derivedSchemasAreCached() {
        SinkRecord a = smt.apply(envelope("c", null, row(1, "x")));
        SinkRecord b = smt.apply(envelope("u", row(1, "x"), row(1, "y")));
        SinkRecord d = smt.apply(envelope("d", row(1, "y"), null));
        assertSame(a.valueSchema(), b.valueSchema());
        assertSame(((Struct) a.value()).getStruct("after").schema(), ((Struct) d.value()).getStruct("before").schema());
    }

    @Test
    void schemalessEnvelope() {
        Map<String, Object> after = new LinkedHashMap<>();
        after.put("id", 1L);
        after.put("city", "New York");
        Map<String, Object> env = new LinkedHashMap<>();
        env.put("before", null);
        env.put("after", after);
        env.put("op", "r");
        SinkRecord out = smt.apply(record(null, env));
        Map<?, ?> value = (Map<?, ?>) out.value();
        Map<?, ?> newAfter = (Map<?, ?>) value.get("after");
        assertEquals(Arrays.asList("id", "city", "__op"), Arrays.asList(newAfter.keySet().toArray()));
        assertEquals(0, newAfter.get("__op"));
        assertNull(value.get("before"));
        assertEquals(2, after.size(), "the input map is not modified");

        Map<String, Object> del = new HashMap<>();
        del.put("before", new HashMap<>(after));
        del.put("after", null);
        del.put("op", "d");
        assertEquals(1, ((Map<?, ?>) ((Map<?, ?>) smt.apply(record(null, del)).value()).get("before")).get("__op"));
    }

    @Test
    void tombstonePassesThrough() {
        SinkRecord tombstone = record(null, null);
        assertSame(tombstone, smt.apply(tombstone));
        SinkRecord withSchema = record(ENVELOPE, null);
        assertSame(withSchema, smt.apply(withSchema));
    }

    @Test
    void nonEnvelopesPassThrough() {
        SinkRecord plain = record(ROW, row(1, "a"));
        assertSame(plain, smt.apply(plain));
        SinkRecord string = record(Schema.STRING_SCHEMA, "{\"op\":\"c\"}");
        assertSame(string, smt.apply(string));
        Map<String, Object> map = new HashMap<>();
        map.put("id", 1);
        assertSame(record(null, map).value(), smt.apply(record(null, map)).value());
        map.put("op", "c"); // an op but no after row
        SinkRecord noAfter = record(null, map);
        assertSame(noAfter, smt.apply(noAfter));
    }

    @Test
    void otherOpsPassThrough() {
        SinkRecord truncate = envelope("t", null, null);
        assertSame(truncate, smt.apply(truncate));
        SinkRecord createWithoutAfter = envelope("c", null, null);
        assertSame(createWithoutAfter, smt.apply(createWithoutAfter));
    }

    private static java.util.List<String> names(Schema s) {
        java.util.List<String> names = new java.util.ArrayList<>();
        for (Field f : s.fields()) {
            names.add(f.name());
        }
        return names;
    }
}
