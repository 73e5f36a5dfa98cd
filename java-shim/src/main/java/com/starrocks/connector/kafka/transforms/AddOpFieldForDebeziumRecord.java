package com.starrocks.connector.kafka.transforms;

import com.starrocks.connector.kafka.Version;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.cache.Cache;
import org.apache.kafka.common.cache.LRUCache;
import org.apache.kafka.common.cache.SynchronizedCache;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.components.Versioned;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * For Primary Key tables fed by Debezium: adds StarRocks' {@code __op} column to the row a change event carries,
 * {@code __op=0} (upsert) to {@code after} for {@code c}, {@code u} and {@code r} (snapshot read) events and
 * {@code __op=1} (delete) to {@code before} for {@code d} events. The value stays an envelope, so it is used
 * before Debezium's {@code ExtractNewRecordState}:
 * <pre>
 * transforms=addfield,unwrap
 * transforms.addfield.type=com.starrocks.connector.kafka.transforms.AddOpFieldForDebeziumRecord
 * transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState
 * </pre>
 * Works on Structs (the {@code __op} field is an optional INT32 appended to the row's schema) and on schemaless
 * Maps. Anything that is not a Debezium envelope, tombstones included, passes through unchanged.
 */
public class AddOpFieldForDebeziumRecord<R extends ConnectRecord<R>> implements Transformation<R>, Versioned {
    public static final String OP_FIELD = "__op";
    private static final String OP = "op";
    private static final String AFTER = "after";
    private static final String BEFORE = "before";

    /** Row schema → row schema with {@code __op}. */
    private Cache<Schema, Schema> rowSchemas;
    /** Envelope schema → envelope schema whose {@code after} (or {@code before}) has {@code __op}. */
    private Cache<Schema, Schema> afterEnvelopes;
    private Cache<Schema, Schema> beforeEnvelopes;

    public AddOpFieldForDebeziumRecord() {
        configure(null);
    }

    @Override
    public void configure(Map<String, ?> configs) {
        rowSchemas = new SynchronizedCache<>(new LRUCache<Schema, Schema>(64));
        afterEnvelopes = new SynchronizedCache<>(new LRUCache<Schema, Schema>(64));
        beforeEnvelopes = new SynchronizedCache<>(new LRUCache<Schema, Schema>(64));
    }

    @Override
    public R apply(R record) {
        Object value = record.value();
        if (value instanceof Struct) {
            return applyStruct(record, (Struct) value);
        } else if (value instanceof Map) {
            return applyMap(record, (Map<?, ?>) value);
        }
        return record;
    }

    /** The envelope field that gets {@code __op}, or null when the op has none. */
    private static String target(Object op) {
        if ("c".equals(op) || "u".equals(op) || "r".equals(op)) {
            return AFTER;
        } else if ("d".equals(op)) {
            return BEFORE;
        }
        return null;
    }

    private R applyStruct(R record, Struct envelope) {
        Schema schema = envelope.schema();
        Field opField = schema.field(OP);
        if (opField == null || opField.schema().type() != Schema.Type.STRING) {
            return record;
        }
        String target = target(envelope.get(opField));
        Field rowField = target == null ? null : schema.field(target);
        if (rowField == null || rowField.schema().type() != Schema.Type.STRUCT
                || rowField.schema().field(OP_FIELD) != null || !(envelope.get(rowField) instanceof Struct)) {
            return record;
        }
        Struct row = (Struct) envelope.get(rowField);
        Schema rowSchema = rowSchemas.get(row.schema());
        if (rowSchema == null) {
            rowSchema = withOpField(row.schema());
            rowSchemas.put(row.schema(), rowSchema);
        }
        Cache<Schema, Schema> envelopes = target.equals(AFTER) ? afterEnvelopes : beforeEnvelopes;
        Schema envelopeSchema = envelopes.get(schema);
        if (envelopeSchema == null) {
            envelopeSchema = replaceField(schema, target, rowSchema);
            envelopes.put(schema, envelopeSchema);
        }
        Struct newRow = new Struct(rowSchema);
        copyFields(row, newRow, null);
        newRow.put(OP_FIELD, target.equals(AFTER) ? 0 : 1);
        Struct newEnvelope = new Struct(envelopeSchema);
        copyFields(envelope, newEnvelope, target);
        newEnvelope.put(target, newRow);
        return record.newRecord(record.topic(), record.kafkaPartition(), record.keySchema(), record.key(),
                envelopeSchema, newEnvelope, record.timestamp());
    }

    private R applyMap(R record, Map<?, ?> envelope) {
        String target = target(envelope.get(OP));
        if (target == null || !(envelope.get(target) instanceof Map)) {
            return record;
        }
        Map<Object, Object> newRow = new LinkedHashMap<>((Map<?, ?>) envelope.get(target));
        newRow.put(OP_FIELD, target.equals(AFTER) ? 0 : 1);
        Map<Object, Object> newEnvelope = new LinkedHashMap<>(envelope);
        newEnvelope.put(target, newRow);
        return record.newRecord(record.topic(), record.kafkaPartition(), record.keySchema(), record.key(),
                record.valueSchema(), newEnvelope, record.timestamp());
    }

    /** Copies the fields set in {@code from} but {@code skip} (unset fields stay unset, as in the original). */
    private static void copyFields(Struct from, Struct to, String skip) {
        for (Field f : from.schema().fields()) {
            Object v = from.getWithoutDefault(f.name());
            if (v != null && !f.name().equals(skip)) {
                to.put(f.name(), v);
            }
        }
    }

    private static SchemaBuilder copyBasics(Schema schema) {
        SchemaBuilder builder = SchemaBuilder.struct().name(schema.name()).version(schema.version()).doc(schema.doc());
        if (schema.parameters() != null) {
            builder.parameters(schema.parameters());
        }
        return schema.isOptional() ? builder.optional() : builder;
    }

    private static Schema withOpField(Schema row) {
        SchemaBuilder builder = copyBasics(row);
        for (Field f : row.fields()) {
            builder.field(f.name(), f.schema());
        }
        return builder.field(OP_FIELD, Schema.OPTIONAL_INT32_SCHEMA).build();
    }

    private static Schema replaceField(Schema envelope, String name, Schema replacement) {
        SchemaBuilder builder = copyBasics(envelope);
        for (Field f : envelope.fields()) {
            builder.field(f.name(), f.name().equals(name) ? replacement : f.schema());
        }
        return builder.build();
    }

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public ConfigDef config() {
        return new ConfigDef();
    }

    @Override
    public void close() {
    }
}
