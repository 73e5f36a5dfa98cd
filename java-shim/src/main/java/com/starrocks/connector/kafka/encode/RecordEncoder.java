package com.starrocks.connector.kafka.encode;

import com.starrocks.connector.kafka.errors.CommitCoordinates;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * Writes a {@code put()} batch in the boundary format of docs/boundary-format.md into a reused direct buffer
 * (little-endian, doubled when full). It formats no text: it writes what Connect handed it, with its type.
 * Not thread-safe: one encoder per task.
 */
public final class RecordEncoder {
    public static final byte NULL = 0;
    public static final byte FALSE = 1;
    public static final byte TRUE = 2;
    public static final byte INT8 = 3;
    public static final byte INT16 = 4;
    public static final byte INT32 = 5;
    public static final byte INT64 = 6;
    public static final byte FLOAT32 = 7;
    public static final byte FLOAT64 = 8;
    public static final byte STRING = 9;
    public static final byte BYTES = 10;
    public static final byte ARRAY = 11;
    public static final byte MAP = 12;
    public static final byte STRUCT = 13;
    public static final byte NAMED = 14;
    public static final byte DECIMAL = 15;
    public static final byte DATE = 16;
    public static final byte TIME = 17;
    public static final byte TIMESTAMP = 18;
    public static final byte STRING_REF = 19;

    /** A schema definition's type byte for BOOLEAN; the other types use their value tag. */
    public static final byte SCHEMA_BOOLEAN = 1;
    /** Bit of a schema definition's flags byte: {@code schema.isOptional()}. */
    public static final byte SCHEMA_OPTIONAL = 1;

    /** "SRB1" read as a little-endian u32. */
    private static final int MAGIC = 'S' | 'R' << 8 | 'B' << 16 | '1' << 24;
    private static final long MILLIS_PER_DAY = 24L * 60 * 60 * 1000;
    /** Room for a tag and any fixed-width payload (the largest, DECIMAL's head, is 9 bytes). */
    private static final int SLACK = 16;
    /**
     * Bounds of the per-batch table of map keys: maps keyed by ids would otherwise grow it with every record. Keys
     * past either bound are written as plain strings.
     */
    static final int MAX_KEY_TABLE_ENTRIES = 4096;
    static final int MAX_KEY_TABLE_CHARS = 256;

    private ByteBuffer buf;
    /** UTF-8 of one string on its way into {@link #buf}; grows to the longest string seen. */
    private byte[] scratch = new byte[256];
    private final Map<Schema, Integer> schemas = new IdentityHashMap<>();
    private final Map<String, Integer> topics = new HashMap<>();
    /** Map keys defined in this batch (STRING_REF). */
    private final Map<String, Integer> keys = new HashMap<>();
    /**
     * The key met at each position of the previous record (the n-th map key of a record, nested maps included) and
     * its ref. Records from one converter repeat their keys in the same order as the same String objects, so an
     * identity check here answers most lookups without hashing; a miss falls back to {@link #keys}.
     */
    private final String[] keyAt = new String[64];
    private final int[] refAt = new int[64];
    private int keyPosition;
    private String lastTopic;
    private int lastTopicRef;
    private int length;

    public RecordEncoder() {
        this(64 * 1024);
    }

    public RecordEncoder(int initialCapacity) {
        buf = ByteBuffer.allocateDirect(Math.max(initialCapacity, 64)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Encodes the batch; the returned buffer holds it in {@code [0, length())} and is valid until the next call. */
    public ByteBuffer encode(Collection<SinkRecord> records) {
        buf.clear();
        schemas.clear();
        topics.clear();
        keys.clear();
        Arrays.fill(keyAt, null);
        lastTopic = null;
        buf.putInt(MAGIC);
        buf.putInt(records.size());
        for (SinkRecord record : records) {
            writeRecord(record);
        }
        length = buf.position();
        return buf;
    }

    /** Bytes written by the last {@link #encode}. */
    public int length() {
        return length;
    }

    public ByteBuffer buffer() {
        return buf;
    }

    private void writeRecord(SinkRecord r) {
        String commitTopic = CommitCoordinates.topic(r);
        Integer commitPartition = CommitCoordinates.kafkaPartition(r);
        long commitOffset = CommitCoordinates.offset(r);
        String part = "topic";
        keyPosition = 0;
        try {
            writeTopic(r.topic());
            writeTopic(commitTopic);
            ensure(4 + 8 + 8);
            buf.putInt(commitPartition == null ? -1 : commitPartition);
            buf.putLong(commitOffset);
            buf.putLong(r.timestamp() == null ? Long.MIN_VALUE : r.timestamp());
            part = "key";
            writeValue(r.keySchema(), r.key());
            part = "value";
            writeValue(r.valueSchema(), r.value());
        } catch (RuntimeException e) {
            throw new RecordEncodingException(r, part, e);
        }
    }

    private void writeTopic(String topic) {
        if (topic == null) {
            throw new DataException("the topic is null");
        }
        ensure(4);
        if (topic == lastTopic) {
            buf.putInt(lastTopicRef);
            return;
        }
        Integer index = topics.get(topic);
        if (index != null) {
            lastTopic = topic;
            lastTopicRef = index;
            buf.putInt(index);
            return;
        }
        int next = topics.size();
        topics.put(topic, next);
        buf.putInt(next);
        writeString(topic);
    }

    private void writeValue(Schema schema, Object value) {
        ensure(SLACK);
        if (value == null) {
            buf.put(NULL);
        } else if (schema == null) {
            writeSchemaless(value);
        } else if (schema.name() == null || schema.type() == Schema.Type.STRUCT) {
            writeTyped(schema, value);
        } else {
            switch (schema.name()) {
                case Decimal.LOGICAL_NAME:
                    writeDecimal((BigDecimal) value);
                    break;
                case Date.LOGICAL_NAME:
                    buf.put(DATE);
                    buf.putInt((int) Math.floorDiv(((java.util.Date) value).getTime(), MILLIS_PER_DAY));
                    break;
                case Time.LOGICAL_NAME:
                    buf.put(TIME);
                    buf.putInt((int) Math.floorMod(((java.util.Date) value).getTime(), MILLIS_PER_DAY));
                    break;
                case Timestamp.LOGICAL_NAME:
                    buf.put(TIMESTAMP);
                    buf.putLong(((java.util.Date) value).getTime());
                    break;
                default:
                    buf.put(NAMED);
                    writeSchemaRef(schema);
                    writeTyped(schema, value);
            }
        }
    }

    /** The value by its schema's type, ignoring the schema's name. */
    private void writeTyped(Schema schema, Object value) {
        ensure(SLACK);
        switch (schema.type()) {
            case INT8:
                buf.put(INT8).put((Byte) value);
                break;
            case INT16:
                buf.put(INT16).putShort((Short) value);
                break;
            case INT32:
                buf.put(INT32).putInt((Integer) value);
                break;
            case INT64:
                buf.put(INT64).putLong((Long) value);
                break;
            case FLOAT32:
                buf.put(FLOAT32).putInt(Float.floatToRawIntBits((Float) value));
                break;
            case FLOAT64:
                buf.put(FLOAT64).putLong(Double.doubleToRawLongBits((Double) value));
                break;
            case BOOLEAN:
                buf.put((Boolean) value ? TRUE : FALSE);
                break;
            case STRING:
                buf.put(STRING);
                writeString((String) value);
                break;
            case BYTES:
                writeBytes(value);
                break;
            case ARRAY:
                writeArray(schema.valueSchema(), (List<?>) value);
                break;
            case MAP:
                writeMap(schema.keySchema(), schema.valueSchema(), (Map<?, ?>) value);
                break;
            case STRUCT:
                writeStruct((Struct) value);
                break;
            default:
                throw new DataException("unsupported schema type " + schema.type());
        }
    }

    private void writeSchemaless(Object value) {
        if (value instanceof String) {
            buf.put(STRING);
            writeString((String) value);
        } else if (value instanceof Long) {
            buf.put(INT64).putLong((Long) value);
        } else if (value instanceof Integer) {
            buf.put(INT32).putInt((Integer) value);
        } else if (value instanceof Map) {
            writeMap(null, null, (Map<?, ?>) value);
        } else if (value instanceof Boolean) {
            buf.put((Boolean) value ? TRUE : FALSE);
        } else if (value instanceof Double) {
            buf.put(FLOAT64).putLong(Double.doubleToRawLongBits((Double) value));
        } else if (value instanceof List) {
            writeArray(null, (List<?>) value);
        } else if (value instanceof Struct) {
            writeStruct((Struct) value);
        } else if (value instanceof byte[] || value instanceof ByteBuffer) {
            writeBytes(value);
        } else if (value instanceof Float) {
            buf.put(FLOAT32).putInt(Float.floatToRawIntBits((Float) value));
        } else if (value instanceof Short) {
            buf.put(INT16).putShort((Short) value);
        } else if (value instanceof Byte) {
            buf.put(INT8).put((Byte) value);
        } else if (value instanceof BigDecimal) {
            writeDecimal((BigDecimal) value);
        } else if (value instanceof java.util.Date) {
            buf.put(TIMESTAMP).putLong(((java.util.Date) value).getTime());
        } else {
            // a protobuf message or a Jackson node from a converter that hands over its deserializer's objects
            // (Apicurio's SerdeBasedConverter): its JSON text, which the core loads as the row (ForeignJson)
            String json = ForeignJson.toJson(value);
            if (json == null) {
                throw new DataException("unsupported class " + value.getClass().getName() + " in a schemaless value");
            }
            buf.put(STRING);
            writeString(json);
        }
    }

    private void writeArray(Schema elementSchema, List<?> list) {
        int size = list.size();
        buf.put(ARRAY).putInt(size);
        int written = 0;
        for (Object element : list) {
            writeValue(elementSchema, element);
            written++;
        }
        if (written != size) {
            throw new DataException("the list changed while it was encoded");
        }
    }

    private void writeMap(Schema keySchema, Schema valueSchema, Map<?, ?> map) {
        int size = map.size();
        buf.put(MAP).putInt(size);
        int written = 0;
        // A String key without a named schema would be written as STRING; as a ref it is encoded once per batch.
        boolean stringKeys = keySchema == null || keySchema.type() == Schema.Type.STRING && keySchema.name() == null;
        for (Map.Entry<?, ?> entry : map.entrySet()) {
            Object key = entry.getKey();
            if (stringKeys && key instanceof String) {
                writeKeyRef((String) key);
            } else {
                writeValue(keySchema, key);
            }
            writeValue(valueSchema, entry.getValue());
            written++;
        }
        if (written != size) {
            throw new DataException("the map changed while it was encoded");
        }
    }

    /**
     * A map key through the batch's key table. The keys of schemaless maps (JsonConverter's) repeat in every record
     * and are usually the same String objects (Jackson canonicalizes field names), so a hash lookup replaces the
     * UTF-8 encoding of every key of every record, and Rust checks each key's UTF-8 once per batch.
     */
    private void writeKeyRef(String key) {
        ensure(SLACK);
        int position = keyPosition++;
        boolean cached = position < keyAt.length;
        if (cached && keyAt[position] == key) {
            buf.put(STRING_REF).putInt(refAt[position]);
            return;
        }
        Integer index = keys.get(key);
        if (index != null) {
            if (cached) {
                keyAt[position] = key;
                refAt[position] = index;
            }
            buf.put(STRING_REF).putInt(index);
            return;
        }
        if (keys.size() >= MAX_KEY_TABLE_ENTRIES || key.length() > MAX_KEY_TABLE_CHARS) {
            buf.put(STRING);
            writeString(key);
            return;
        }
        int next = keys.size();
        keys.put(key, next);
        if (cached) {
            keyAt[position] = key;
            refAt[position] = next;
        }
        buf.put(STRING_REF).putInt(next);
        writeString(key);
    }

    private void writeStruct(Struct struct) {
        Schema schema = struct.schema();
        buf.put(STRUCT);
        writeSchemaRef(schema);
        List<Field> fields = schema.fields();
        for (int i = 0, n = fields.size(); i < n; i++) {
            Field field = fields.get(i);
            writeValue(field.schema(), struct.get(field));
        }
    }

    private void writeDecimal(BigDecimal value) {
        byte[] unscaled = value.unscaledValue().toByteArray();
        buf.put(DECIMAL).putInt(value.scale()).putInt(unscaled.length);
        ensure(unscaled.length);
        buf.put(unscaled);
    }

    private void writeBytes(Object value) {
        if (value instanceof byte[]) {
            byte[] bytes = (byte[]) value;
            buf.put(BYTES).putInt(bytes.length);
            ensure(bytes.length);
            buf.put(bytes);
            return;
        }
        ByteBuffer bytes = (ByteBuffer) value;
        int from = bytes.position();
        int len = bytes.remaining();
        buf.put(BYTES).putInt(len);
        ensure(len);
        if (bytes.hasArray()) {
            buf.put(bytes.array(), bytes.arrayOffset() + from, len);
        } else {
            for (int i = from, end = from + len; i < end; i++) {
                buf.put(bytes.get(i));
            }
        }
    }

    /**
     * A schema ref, with the definition when the schema is new in this batch: type, flags, name, version,
     * parameters and, for a STRUCT, each field's name and schema (a ref, so nested and shared field schemas are
     * defined once). The index is taken before the fields are written: a field schema defined inside gets a higher
     * one. Runs once per schema object per batch.
     */
    private void writeSchemaRef(Schema schema) {
        ensure(SLACK);
        Integer index = schemas.get(schema);
        if (index != null) {
            buf.putInt(index);
            return;
        }
        int next = schemas.size();
        schemas.put(schema, next);
        buf.putInt(next);
        buf.put(schemaType(schema.type()));
        buf.put(schema.isOptional() ? SCHEMA_OPTIONAL : 0);
        String name = schema.name();
        if (name == null) {
            buf.putInt(0);
        } else {
            int lengthAt = buf.position();
            writeString(name);
            buf.putInt(lengthAt, buf.getInt(lengthAt) + 1); // nstring: length + 1
        }
        ensure(SLACK);
        buf.putInt(schema.version() == null ? -1 : schema.version());
        Map<String, String> params = schema.parameters();
        buf.putInt(params == null ? 0 : params.size());
        if (params != null) {
            for (Map.Entry<String, String> p : params.entrySet()) {
                writeString(p.getKey());
                writeString(p.getValue());
            }
        }
        ensure(SLACK);
        if (schema.type() != Schema.Type.STRUCT) {
            buf.putInt(0);
            return;
        }
        List<Field> fields = schema.fields();
        buf.putInt(fields.size());
        for (int i = 0, n = fields.size(); i < n; i++) {
            Field field = fields.get(i);
            writeString(field.name());
            writeSchemaRef(field.schema());
        }
    }

    /** A schema definition's type byte: the value tag of the same name (BOOLEAN is 1). */
    private static byte schemaType(Schema.Type type) {
        switch (type) {
            case BOOLEAN:
                return SCHEMA_BOOLEAN;
            case INT8:
                return INT8;
            case INT16:
                return INT16;
            case INT32:
                return INT32;
            case INT64:
                return INT64;
            case FLOAT32:
                return FLOAT32;
            case FLOAT64:
                return FLOAT64;
            case STRING:
                return STRING;
            case BYTES:
                return BYTES;
            case ARRAY:
                return ARRAY;
            case MAP:
                return MAP;
            case STRUCT:
                return STRUCT;
            default:
                throw new DataException("unsupported schema type " + type);
        }
    }

    /**
     * u32 byte length + UTF-8, encoded by hand from the chars into a reused array and copied into the buffer in
     * one bulk put: per-byte puts into a direct buffer each pay a bounds check, and {@code String.getBytes} would
     * allocate an array per string. An unpaired surrogate becomes '?', as in {@code getBytes(UTF_8)}.
     */
    private void writeString(String s) {
        if (s == null) {
            throw new DataException("a null string where the format needs one");
        }
        int n = s.length();
        ensure(4 + 3L * n);
        byte[] out = scratch;
        if (out.length < 3 * n) {
            out = scratch = new byte[Math.max(3 * n, 2 * out.length)];
        }
        int j = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                out[j++] = (byte) c;
            } else if (c < 0x800) {
                out[j++] = (byte) (0xC0 | c >> 6);
                out[j++] = (byte) (0x80 | c & 0x3F);
            } else if (!Character.isSurrogate(c)) {
                out[j++] = (byte) (0xE0 | c >> 12);
                out[j++] = (byte) (0x80 | c >> 6 & 0x3F);
                out[j++] = (byte) (0x80 | c & 0x3F);
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                out[j++] = (byte) (0xF0 | cp >> 18);
                out[j++] = (byte) (0x80 | cp >> 12 & 0x3F);
                out[j++] = (byte) (0x80 | cp >> 6 & 0x3F);
                out[j++] = (byte) (0x80 | cp & 0x3F);
            } else {
                out[j++] = (byte) '?';
            }
        }
        buf.putInt(j);
        buf.put(out, 0, j);
    }

    private void ensure(long bytes) {
        if (buf.remaining() < bytes) {
            grow(buf.position() + bytes);
        }
    }

    private void grow(long needed) {
        long capacity = Math.max((long) buf.capacity() * 2, needed);
        if (capacity > Integer.MAX_VALUE - 16) {
            if (needed > Integer.MAX_VALUE - 16) {
                throw new DataException("the batch does not fit in one buffer (" + needed + " bytes)");
            }
            capacity = Integer.MAX_VALUE - 16;
        }
        ByteBuffer bigger = ByteBuffer.allocateDirect((int) capacity).order(ByteOrder.LITTLE_ENDIAN);
        buf.flip();
        bigger.put(buf);
        buf = bigger;
    }
}
