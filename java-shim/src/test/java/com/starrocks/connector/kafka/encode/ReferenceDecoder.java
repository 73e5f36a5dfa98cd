package com.starrocks.connector.kafka.encode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An independent reader of the boundary format (docs/boundary-format.md) that renders each record's value as
 * the JSON row the Rust serializer must emit (the rules stated with tests/vectors/boundary.json). It checks the
 * encoder against the spec, and the vectors' {@code rows} against their {@code hex}.
 */
final class ReferenceDecoder {
    static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** One decoded record: coordinates and the rendered value (null node for a tombstone). */
    static final class Row {
        String topic;
        String commitTopic;
        int commitPartition;
        long commitOffset;
        long timestamp;
        JsonNode key;
        JsonNode value;
    }

    /** An entry of the batch's schema table. */
    static final class SchemaDef {
        /** The Connect type, as its value tag (BOOLEAN is 1). */
        int type;
        boolean optional;
        String name;
        int version;
        Map<String, String> params = new LinkedHashMap<>();
        List<String> fields = new ArrayList<>();
        /** Each field's schema, parallel to {@link #fields}. */
        List<SchemaDef> fieldSchemas = new ArrayList<>();
    }

    private final ByteBuffer buf;
    private final List<String> topics = new ArrayList<>();
    private final List<String> keys = new ArrayList<>();
    private final List<SchemaDef> schemas = new ArrayList<>();

    private final java.util.Set<Integer> tags;

    private ReferenceDecoder(byte[] bytes, java.util.Set<Integer> tags) {
        buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        this.tags = tags;
    }

    static List<Row> decode(byte[] bytes) {
        return decode(bytes, new java.util.HashSet<Integer>());
    }

    /** Decodes, adding every value tag met to {@code tags}. */
    static List<Row> decode(byte[] bytes, java.util.Set<Integer> tags) {
        return new ReferenceDecoder(bytes, tags).batch();
    }

    private List<Row> batch() {
        byte[] magic = new byte[4];
        buf.get(magic);
        if (!"SRB1".equals(new String(magic, StandardCharsets.US_ASCII))) {
            throw new IllegalArgumentException("bad magic");
        }
        long count = u32();
        List<Row> rows = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            Row r = new Row();
            r.topic = topic();
            r.commitTopic = topic();
            r.commitPartition = buf.getInt();
            r.commitOffset = buf.getLong();
            r.timestamp = buf.getLong();
            r.key = value(false);
            r.value = value(true);
            rows.add(r);
        }
        if (buf.hasRemaining()) {
            throw new IllegalArgumentException(buf.remaining() + " trailing bytes");
        }
        return rows;
    }

    private long u32() {
        return buf.getInt() & 0xFFFFFFFFL;
    }

    private byte[] bytes() {
        long len = u32();
        if (len > buf.remaining()) {
            throw new IllegalArgumentException("length beyond the end");
        }
        byte[] b = new byte[(int) len];
        buf.get(b);
        return b;
    }

    private String string() {
        return utf8(bytes());
    }

    private static String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private String checkedString() {
        String s = string();
        if (s == null) {
            throw new IllegalArgumentException("invalid UTF-8");
        }
        return s;
    }

    private String topic() {
        return stringRef(topics, "topic");
    }

    private String keyRef() {
        return stringRef(keys, "string");
    }

    /** A ref into one of the batch's string tables: the definition follows when it is new. */
    private String stringRef(List<String> table, String what) {
        long ref = u32();
        if (ref == table.size()) {
            table.add(checkedString());
        } else if (ref > table.size()) {
            throw new IllegalArgumentException(what + " ref " + ref + " beyond the table");
        }
        return table.get((int) ref);
    }

    /** The schema table a batch defines, in index order. */
    static List<SchemaDef> schemas(byte[] bytes) {
        ReferenceDecoder d = new ReferenceDecoder(bytes, new java.util.HashSet<Integer>());
        d.batch();
        return d.schemas;
    }

    private SchemaDef schema() {
        long ref = u32();
        if (ref == schemas.size()) {
            SchemaDef s = new SchemaDef();
            schemas.add(s); // the index is taken before the field schemas are defined
            s.type = buf.get();
            if (s.type < 1 || s.type > RecordEncoder.STRUCT || s.type == RecordEncoder.TRUE) {
                throw new IllegalArgumentException("unknown schema type " + s.type);
            }
            int flags = buf.get();
            if ((flags & ~RecordEncoder.SCHEMA_OPTIONAL) != 0) {
                throw new IllegalArgumentException("unknown schema flags " + flags);
            }
            s.optional = (flags & RecordEncoder.SCHEMA_OPTIONAL) != 0;
            long nameLen = u32();
            if (nameLen > 0) {
                byte[] b = new byte[(int) nameLen - 1];
                buf.get(b);
                s.name = utf8(b);
            }
            s.version = buf.getInt();
            long params = u32();
            for (long i = 0; i < params; i++) {
                s.params.put(checkedString(), checkedString());
            }
            long fields = u32();
            if (fields != 0 && s.type != RecordEncoder.STRUCT) {
                throw new IllegalArgumentException("fields on a schema of type " + s.type);
            }
            for (long i = 0; i < fields; i++) {
                s.fields.add(checkedString());
                s.fieldSchemas.add(schema());
            }
        } else if (ref > schemas.size()) {
            throw new IllegalArgumentException("schema ref " + ref + " beyond the table");
        }
        return schemas.get((int) ref);
    }

    /** A value as JSON; {@code topLevel}: a record value, where a String holding JSON becomes that JSON. */
    private JsonNode value(boolean topLevel) {
        int tag = buf.get();
        tags.add(tag);
        switch (tag) {
            case RecordEncoder.NULL: return F.nullNode();
            case RecordEncoder.FALSE: return F.booleanNode(false);
            case RecordEncoder.TRUE: return F.booleanNode(true);
            case RecordEncoder.INT8: return F.numberNode(buf.get());
            case RecordEncoder.INT16: return F.numberNode(buf.getShort());
            case RecordEncoder.INT32: return F.numberNode(buf.getInt());
            case RecordEncoder.INT64: return F.numberNode(buf.getLong());
            case RecordEncoder.FLOAT32: return F.numberNode((double) Float.intBitsToFloat(buf.getInt()));
            case RecordEncoder.FLOAT64: return F.numberNode(Double.longBitsToDouble(buf.getLong()));
            case RecordEncoder.STRING: {
                String s = checkedString();
                if (topLevel) {
                    try {
                        return MAPPER.readTree(s);
                    } catch (Exception e) {
                        return F.textNode(s); // not JSON text: no vector states what the row is
                    }
                }
                return F.textNode(s);
            }
            case RecordEncoder.STRING_REF:
                return F.textNode(keyRef());
            case RecordEncoder.BYTES: {
                byte[] b = bytes();
                String s = utf8(b);
                return F.textNode(s != null ? s : Base64.getEncoder().encodeToString(b));
            }
            case RecordEncoder.ARRAY: {
                ArrayNode a = F.arrayNode();
                for (long i = 0, n = u32(); i < n; i++) {
                    a.add(value(false));
                }
                return a;
            }
            case RecordEncoder.MAP: {
                ObjectNode o = F.objectNode();
                for (long i = 0, n = u32(); i < n; i++) {
                    JsonNode k = value(false);
                    o.set(k.isTextual() ? k.textValue() : k.toString(), value(false));
                }
                return o;
            }
            case RecordEncoder.STRUCT: {
                SchemaDef s = schema();
                if (s.type != RecordEncoder.STRUCT) {
                    throw new IllegalArgumentException("a STRUCT value with a schema of type " + s.type);
                }
                ObjectNode o = F.objectNode();
                for (String field : s.fields) {
                    o.set(field, value(false));
                }
                return o;
            }
            case RecordEncoder.NAMED: {
                SchemaDef s = schema();
                if (!s.fields.isEmpty()) {
                    throw new IllegalArgumentException("a NAMED schema with fields");
                }
                JsonNode inner = value(false);
                if ("io.debezium.time.MicroTimestamp".equals(s.name) && inner.isIntegralNumber()) {
                    long micros = inner.longValue();
                    return F.textNode(timestamp(Math.floorDiv(micros, 1_000_000L),
                            (int) Math.floorMod(micros, 1_000_000L) * 1000));
                }
                return inner;
            }
            case RecordEncoder.DECIMAL: {
                int scale = buf.getInt();
                return F.textNode(new BigDecimal(new BigInteger(bytes()), scale).toPlainString());
            }
            case RecordEncoder.DATE:
                return F.textNode(LocalDate.ofEpochDay(buf.getInt()).toString());
            case RecordEncoder.TIME: {
                int millis = buf.getInt();
                return F.textNode(time(LocalTime.ofNanoOfDay(millis * 1_000_000L)));
            }
            case RecordEncoder.TIMESTAMP: {
                long millis = buf.getLong();
                return F.textNode(timestamp(Math.floorDiv(millis, 1000L), (int) Math.floorMod(millis, 1000L) * 1_000_000));
            }
            default:
                throw new IllegalArgumentException("unknown tag " + tag);
        }
    }

    private static String timestamp(long epochSecond, int nanos) {
        LocalDateTime t = LocalDateTime.ofInstant(Instant.ofEpochSecond(epochSecond, nanos), ZoneOffset.UTC);
        return t.toLocalDate() + " " + time(t.toLocalTime());
    }

    /** HH:MM:SS, plus .ffffff only when the fraction is not zero. */
    private static String time(LocalTime t) {
        String s = String.format("%02d:%02d:%02d", t.getHour(), t.getMinute(), t.getSecond());
        int micros = t.getNano() / 1000;
        return micros == 0 ? s : s + String.format(".%06d", micros);
    }
}
