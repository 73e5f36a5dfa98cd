package com.starrocks.connector.kafka.encode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.DynamicMessage;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * Schemaless protobuf messages and Jackson nodes (Apicurio's SerdeBasedConverter) become their JSON text. Jackson is
 * the real one (connect-json brings it into the test class path); protobuf is the fakes of the same names under
 * src/test/java/com/google/protobuf, since the encoder matches by class name.
 */
class ForeignJsonTest {

    static SinkRecord rec(Object value) {
        return new SinkRecord("t", 0, null, null, null, value, 4, 100L, TimestampType.CREATE_TIME);
    }

    /** The batch of one schemaless record whose value is written as the STRING {@code text}. */
    static byte[] stringValueBatch(String text) {
        return new RecordEncoderTest.Bytes()
                .u8('S').u8('R').u8('B').u8('1').i32(1)
                .i32(0).str("t").i32(0).i32(0).i64(4).i64(100)
                .u8(RecordEncoder.NULL)
                .u8(RecordEncoder.STRING).str(text)
                .get();
    }

    static Map<String, Object> fields() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("id", 7);
        f.put("first_name", "Ada");
        f.put("count", 0);
        f.put("note", "");
        return f;
    }

    @Test
    void aJacksonObjectNodeIsWrittenAsItsJsonText() {
        ObjectNode node = new ObjectMapper().createObjectNode();
        node.put("id", 1).put("name", "Oslo \"N\"").putObject("nested").putArray("a").add(1.5).add("x");
        String text = "{\"id\":1,\"name\":\"Oslo \\\"N\\\"\",\"nested\":{\"a\":[1.5,\"x\"]}}";
        assertEquals(text, ForeignJson.toJson(node));
        assertArrayEquals(stringValueBatch(text),
                RecordEncoderTest.encode(new RecordEncoder(), Collections.singletonList(rec(node))));
    }

    @Test
    void aProtobufMessageIsPrintedWithProtoNamesDefaultsAndNoWhitespace() {
        DynamicMessage m = new DynamicMessage(fields(), true);
        String text = "{\"id\":7,\"first_name\":\"Ada\",\"count\":0,\"note\":\"\"}";
        assertEquals(text, ForeignJson.toJson(m));
        assertArrayEquals(stringValueBatch(text),
                RecordEncoderTest.encode(new RecordEncoder(), Collections.singletonList(rec(m))));
    }

    @Test
    void aMessageThePrinterRefusesIsARecordEncodingExceptionWithTheReason() {
        SinkRecord bad = rec(new DynamicMessage(fields(), false));
        RecordEncodingException e = assertThrows(RecordEncodingException.class,
                () -> new RecordEncoder().encode(Collections.singletonList(bad)));
        assertSame(bad, e.record());
        for (String f : new String[] {"com.google.protobuf.DynamicMessage", "cannot be turned into JSON",
                "Cannot find type for url", "offset=4", "value"}) {
            assertTrue(e.getMessage().contains(f), e.getMessage());
        }
    }

    @Test
    void withoutProtobufJavaUtilOnTheMessagesLoaderTheReasonSaysSo() throws Exception {
        URL testClasses = DynamicMessage.class.getProtectionDomain().getCodeSource().getLocation();
        // the message classes alone, as a converter's plugin loader would have them without protobuf-java-util
        try (URLClassLoader loader = new URLClassLoader(new URL[] {testClasses}, null) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                if (name.startsWith("com.google.protobuf.util.")) {
                    throw new ClassNotFoundException(name);
                }
                return super.loadClass(name, resolve);
            }
        }) {
            Object message = loader.loadClass("com.google.protobuf.DynamicMessage")
                    .getConstructor(Map.class, boolean.class).newInstance(fields(), true);
            DataException e = assertThrows(DataException.class, () -> ForeignJson.toJson(message));
            assertTrue(e.getMessage().contains("com.google.protobuf.util.JsonFormat (protobuf-java-util) is not on"
                    + " the converter's class path"), e.getMessage());
            RecordEncodingException r = assertThrows(RecordEncodingException.class,
                    () -> new RecordEncoder().encode(Collections.singletonList(rec(message))));
            assertTrue(r.getMessage().contains("protobuf-java-util"), r.getMessage());
        }
    }

    @Test
    void otherClassesAreNeitherAndStayUnsupported() {
        assertNull(ForeignJson.toJson(UUID.randomUUID()));
        assertNull(ForeignJson.toJson(new Object()));
        RecordEncodingException e = assertThrows(RecordEncodingException.class,
                () -> new RecordEncoder().encode(Collections.singletonList(rec(UUID.randomUUID()))));
        assertTrue(e.getMessage().contains("unsupported class java.util.UUID"), e.getMessage());
    }

    @Test
    void supertypesAreMatchedByName() {
        assertEquals("com.google.protobuf.MessageOrBuilder",
                ForeignJson.supertypeNamed(DynamicMessage.class, ForeignJson.PROTOBUF_MESSAGE).getName());
        assertEquals("com.fasterxml.jackson.databind.JsonNode",
                ForeignJson.supertypeNamed(ObjectNode.class, ForeignJson.JACKSON_NODE).getName());
        assertNull(ForeignJson.supertypeNamed(String.class, ForeignJson.JACKSON_NODE));
    }
}
