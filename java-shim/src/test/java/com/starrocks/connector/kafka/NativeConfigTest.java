package com.starrocks.connector.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The config document the Rust core is opened with (NativeConfig, StarRocksSinkConfig.nativeConfig): the shared
 * vector tests/vectors/native_config.json, the schema both sides agree on, and what the shim derives. Jackson (from
 * connect-json, tests only) parses and compares; the shim itself writes the JSON by hand.
 */
class NativeConfigTest {
    static final ObjectMapper JSON = new ObjectMapper();

    /** Keys of the document that ConfigDef does not declare: Connect's, derived, undocumented. */
    static final Set<String> NOT_DECLARED = new LinkedHashSet<>(java.util.Arrays.asList(
            "name", "task.id", "sink.properties", "errors.tolerance", "starrocks.ssl.truststore.pem",
            "testing.panic.on.put", NativeConfig.AUTO_CREATE_PROPERTIES));

    static JsonNode vector() throws Exception {
        return JSON.readTree(new File(System.getProperty("native.config.vector.file",
                "../tests/vectors/native_config.json")));
    }

    /** The document for {@code props}, parsed. */
    static JsonNode document(Map<String, String> props) {
        try {
            return JSON.readTree(new StarRocksSinkConfig(props).nativeConfig(props));
        } catch (java.io.IOException e) {
            throw new AssertionError("the document is no JSON", e);
        }
    }

    static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names;
    }

    static Map<String, String> docs(String key, String value) {
        return StarRocksSinkConfigTest.with(key, value);
    }

    @Test
    void theShimWritesTheVectorsDocumentForItsProps() throws Exception {
        JsonNode v = vector();
        Map<String, String> props = new HashMap<>();
        v.get("props").fields().forEachRemaining(e -> props.put(e.getKey(), e.getValue().asText()));
        String text = new StarRocksSinkConfig(props).nativeConfig(props);
        JsonNode doc = JSON.readTree(text);
        assertEquals(v.get("document"), doc, text);
        assertEquals(NativeConfig.FIELDS, fieldNames(doc), "the fields, in the order NativeConfig writes them");
        assertEquals(new LinkedHashSet<>(NativeConfig.FIELDS), new LinkedHashSet<>(fieldNames(v.get("document"))));
    }

    /** A key declared on one side only (ConfigDef, or the document the core reads) fails here. */
    @Test
    void everyDeclaredKeyIsInTheDocumentOrJavaOnly() throws Exception {
        Set<String> fields = new LinkedHashSet<>(fieldNames(vector().get("document")));
        for (String key : StarRocksSinkConfig.CONFIG_DEF.names()) {
            boolean header = key.startsWith(NativeConfig.HEADER_PREFIX);
            boolean javaOnly = NativeConfig.JAVA_ONLY_KEYS.contains(key);
            if (fields.contains(key) == (header || javaOnly)) {
                fail(key + ": a ConfigDef key is a document field, a Stream Load header (sink.properties.*) or in "
                        + "NativeConfig.JAVA_ONLY_KEYS: exactly one of them");
            }
            assertFalse(header && javaOnly, key);
        }
        for (String field : fields) {
            assertEquals(!StarRocksSinkConfig.CONFIG_DEF.names().contains(field), NOT_DECLARED.contains(field),
                    field + ": a document field is a ConfigDef key unless it is one of " + NOT_DECLARED);
        }
        for (String javaOnly : NativeConfig.JAVA_ONLY_KEYS) {
            assertTrue(StarRocksSinkConfig.CONFIG_DEF.names().contains(javaOnly), javaOnly);
        }
        assertEquals(new LinkedHashSet<>(java.util.Arrays.asList(StarRocksSinkConfig.SSL_TRUSTSTORE_LOCATION,
                StarRocksSinkConfig.SSL_TRUSTSTORE_PASSWORD, StarRocksSinkConfig.SSL_TRUSTSTORE_TYPE)),
                NativeConfig.JAVA_ONLY_KEYS);
    }

    /**
     * FIELDS is derived: the hand-written fields, then every other ConfigDef key that is neither a Stream Load
     * header nor Java-only, written by its type.
     */
    @Test
    void theFieldsAreTheHandWrittenOnesThenEveryOtherDeclaredKey() {
        List<String> plain = new ArrayList<>();
        for (String key : StarRocksSinkConfig.CONFIG_DEF.configKeys().keySet()) {
            if (!NativeConfig.HAND_WRITTEN.contains(key) && !key.startsWith(NativeConfig.HEADER_PREFIX)
                    && !NativeConfig.JAVA_ONLY_KEYS.contains(key)) {
                plain.add(key);
            }
        }
        assertEquals(plain, NativeConfig.PLAIN);
        List<String> fields = new ArrayList<>(NativeConfig.HAND_WRITTEN);
        fields.addAll(plain);
        assertEquals(fields, NativeConfig.FIELDS);
        assertEquals(new LinkedHashSet<>(NativeConfig.FIELDS).size(), NativeConfig.FIELDS.size(), "no field twice");
    }

    /** A key of a type the generic writer has no form for fails loudly, not silently as a string. */
    @Test
    void aKeyOfAnotherTypeIsRefused() {
        for (ConfigDef.Type type : ConfigDef.Type.values()) {
            ConfigDef def = new ConfigDef()
                    .define("sink.new.key", type, null, ConfigDef.Importance.LOW, "");
            boolean plain = type == ConfigDef.Type.INT
                    || type == ConfigDef.Type.SHORT
                    || type == ConfigDef.Type.LONG
                    || type == ConfigDef.Type.BOOLEAN
                    || type == ConfigDef.Type.STRING
                    || type == ConfigDef.Type.LIST;
            assertEquals(plain, NativeConfig.isPlain(type), type.toString());
            if (plain) {
                assertEquals(java.util.Collections.singletonList("sink.new.key"), NativeConfig.plainKeys(def));
            } else {
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> NativeConfig.plainKeys(def), type.toString());
                assertTrue(e.getMessage().contains("sink.new.key") && e.getMessage().contains(type.toString()),
                        e.getMessage());
            }
        }
    }

    /** Every document has every field, whatever the config sets (the core requires them all). */
    @Test
    void everyFieldIsAlwaysPresent() {
        Map<String, String> props = StarRocksSinkConfigTest.exactlyOnce();
        props.put("exactly.once.offset.column", "kafka_offset");
        props.put("errors.tolerance", "all");
        for (Map<String, String> p : java.util.Arrays.asList(StarRocksSinkConfigTest.docsExample(), props)) {
            assertEquals(NativeConfig.FIELDS, fieldNames(document(p)));
        }
    }

    @Test
    void theDocsExamplesDocument() throws Exception {
        Map<String, String> props = StarRocksSinkConfigTest.docsExample();
        JsonNode expected = JSON.readTree("{"
                + "\"name\": \"starrocks-kafka-connector\", \"task.id\": \"0\","
                + "\"starrocks.http.url\": [{\"https\": false, \"host_port\": \"192.168.0.1:8030\"}],"
                + "\"starrocks.database.name\": \"example_db\", \"starrocks.username\": \"user1\","
                + "\"starrocks.password\": \"123456\", \"starrocks.topic2table.map\": {\"test\": \"test_tbl\"},"
                + "\"bufferflush.maxbytes\": 94371840, \"bufferflush.intervalms\": 1000, \"connect.timeoutms\": 1000,"
                + "\"sink.maxretries\": 3, \"sink.retry.backoffms\": 1000, \"sink.timeoutms\": 120000,"
                + "\"sink.stall.timeoutms\": 1800000,"
                + "\"sink.inflight.maxloads\": 8, \"sink.transaction.multi-table.enabled\": false,"
                + "\"sink.label.prefix\": \"starrocks-kafka-connector\", \"sink.timezone\": \"UTC\","
                + "\"sink.properties\": {\"format\": \"json\", \"strip_outer_array\": \"true\"},"
                + "\"errors.tolerance\": \"none\", \"delivery.guarantee\": \"at_least_once\","
                + "\"starrocks.query.address\": {\"host\": \"192.168.0.1\", \"port\": 9030},"
                + "\"exactly.once.register.table\": \"kafka_connect_register\","
                + "\"exactly.once.register.create\": true, \"exactly.once.offset.column\": null,"
                + "\"starrocks.ssl.truststore.pem\": null, \"testing.panic.on.put\": false,"
                + "\"auto.create\": false, \"auto.evolve\": false, \"pk.mode\": \"none\", \"pk.fields\": [],"
                + "\"auto.create.buckets\": 0, \"auto.create.properties\": {}}");
        assertEquals(expected, document(props));
    }

    @Test
    void theSchemaKeysAreTypedAndThePropertiesGathered() throws Exception {
        Map<String, String> props = docs("auto.create", "true");
        props.put("auto.evolve", "TRUE");
        props.put("pk.mode", "record_value");
        props.put("pk.fields", " id , region ");
        props.put("auto.create.buckets", "4");
        props.put("auto.create.properties.replication_num", "1");
        props.put("auto.create.properties.compression", "ZSTD");
        JsonNode doc = document(props);
        assertTrue(doc.get("auto.create").asBoolean());
        assertTrue(doc.get("auto.evolve").asBoolean());
        assertEquals("record_value", doc.get("pk.mode").asText());
        assertEquals(JSON.readTree("[\"id\", \"region\"]"), doc.get("pk.fields"));
        assertEquals(4, doc.get("auto.create.buckets").asInt());
        assertEquals(JSON.readTree("{\"compression\": \"ZSTD\", \"replication_num\": \"1\"}"),
                doc.get("auto.create.properties"));
    }

    @Test
    void parsedValuesAndTheirDefaultsAreTyped() {
        Map<String, String> props = docs("bufferflush.maxbytes", " 67108864 ");
        props.put("bufferflush.intervalms", "3600000");
        props.put("connect.timeoutms", "100");
        props.put("sink.maxretries", "0");
        props.put("sink.retry.backoffms", "0");
        props.put("sink.timeoutms", "1000");
        props.put("sink.stall.timeoutms", "2000");
        props.put("sink.timezone", "Asia/Shanghai");
        props.put("starrocks.username", " root ");
        props.put("starrocks.database.name", " d ");
        props.put("delivery.guarantee", "Exactly_Once");
        props.put("exactly.once.register.table", "reg_1");
        props.put("exactly.once.register.create", "FALSE");
        props.put("exactly.once.offset.column", "kafka_offset");
        props.put("testing.panic.on.put", "true");
        props.put("task.id", "7");
        JsonNode doc = document(props);
        assertTrue(doc.get("bufferflush.maxbytes").isIntegralNumber());
        assertEquals(67108864L, doc.get("bufferflush.maxbytes").asLong());
        assertEquals(3600000L, doc.get("bufferflush.intervalms").asLong());
        assertEquals(100L, doc.get("connect.timeoutms").asLong());
        assertEquals(0, doc.get("sink.maxretries").asInt());
        assertTrue(doc.get("sink.maxretries").isIntegralNumber());
        assertEquals(0L, doc.get("sink.retry.backoffms").asLong());
        assertEquals(1000L, doc.get("sink.timeoutms").asLong());
        assertEquals(2000L, doc.get("sink.stall.timeoutms").asLong());
        assertTrue(doc.get("sink.stall.timeoutms").isIntegralNumber());
        assertEquals("Asia/Shanghai", doc.get("sink.timezone").asText());
        assertEquals("root", doc.get("starrocks.username").asText());
        assertEquals("d", doc.get("starrocks.database.name").asText());
        assertEquals("exactly_once", doc.get("delivery.guarantee").asText());
        assertEquals("reg_1", doc.get("exactly.once.register.table").asText());
        assertTrue(doc.get("exactly.once.register.create").isBoolean());
        assertFalse(doc.get("exactly.once.register.create").asBoolean());
        assertEquals("kafka_offset", doc.get("exactly.once.offset.column").asText());
        assertTrue(doc.get("testing.panic.on.put").asBoolean());
        assertEquals("7", doc.get("task.id").asText());
        // a larger buffer than an int holds is still one JSON integer
        assertEquals(10737418240L, document(docs("bufferflush.maxbytes", "10737418240")).get("bufferflush.maxbytes")
                .asLong());
        assertFalse(document(docs("testing.panic.on.put", "yes")).get("testing.panic.on.put").asBoolean());
    }

    /** The label prefix is resolved here: tests/vectors/label_prefix.json, and the name's sanitized form. */
    @Test
    void labelPrefixComesFromTheKeyOrTheName() throws Exception {
        JsonNode v = JSON.readTree(new File(System.getProperty("label.vectors.file",
                "../tests/vectors/label_prefix.json")));
        for (JsonNode ok : v.get("valid")) {
            String want = ok.asText().isEmpty() ? "starrocks-kafka-connector" : ok.asText();
            assertEquals(want, document(docs("sink.label.prefix", ok.asText())).get("sink.label.prefix").asText());
        }
        String[][] names = {
            {"my connector.v1", "my_connector_v1"},
            {"vector sink.v1", "vector_sink_v1"},
            {"0123456789012345678901234567890123456789", "01234567890123456789012345678901"},
            {"é\uD83D\uDE00x-_", "__x-_"}, // one '_' per character, a pair of surrogates too
            {" trimmed ", "trimmed"},
            {"a/b\\c\"d", "a_b_c_d"},
        };
        for (String[] n : names) {
            assertEquals(n[1], document(docs("name", n[0])).get("sink.label.prefix").asText(), n[0]);
            assertEquals(n[1], NativeConfig.labelPrefix("", n[0].trim()));
        }
        assertEquals("set_one", document(docs("sink.label.prefix", "set_one")).get("sink.label.prefix").asText());
        assertEquals("sink", NativeConfig.labelPrefix("", ""));
        assertEquals(32, NativeConfig.labelPrefix("", "\uD83D\uDE00".concat(new String(new char[40]).replace('\0', 'a')))
                .length());
        // no name (or a blank one): the core's old default name, and its prefix
        for (String blank : new String[] {null, "", "  "}) {
            JsonNode doc = document(docs("name", blank));
            assertEquals("starrocks-sink", doc.get("name").asText());
            assertEquals("starrocks-sink", doc.get("sink.label.prefix").asText());
        }
        assertEquals("0", document(docs("task.id", null)).get("task.id").asText());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "192.168.0.1:8030|''|192.168.0.1|9030",
        "https://fe.example:8443/,fe2:8030|''|fe.example|9030",
        "[::1]:8030|''|::1|9030",
        "HTTPS://[fe80::1]:8443/|''|fe80::1|9030",
        "fe:8030|[::1]:19030|::1|19030",
        "fe:8030|' fe-1.example.com:1 '|fe-1.example.com|1",
        "fe:8030|10.0.0.9:9031|10.0.0.9|9031",
    })
    void queryAddressIsConfiguredOrTheFirstFeOnPort9030(String urls, String configured, String host, int port) {
        Map<String, String> props = docs("starrocks.http.url", urls);
        props.put("starrocks.query.address", configured);
        JsonNode address = document(props).get("starrocks.query.address");
        assertEquals(host, address.get("host").asText());
        assertTrue(address.get("port").isInt());
        assertEquals(port, address.get("port").asInt());
        assertEquals(2, address.size());
    }

    @Test
    void theFeListIsSchemeAndAddress() throws Exception {
        JsonNode fe = document(docs("starrocks.http.url",
                " fe1:8030 , HTTP://fe2:8030/ ,https://[::1]:8443/, HtTpS://fe_3:1,http://fe-4.example.com:65535"))
                .get("starrocks.http.url");
        assertEquals(JSON.readTree("["
                + "{\"https\": false, \"host_port\": \"fe1:8030\"},"
                + "{\"https\": false, \"host_port\": \"fe2:8030\"},"
                + "{\"https\": true, \"host_port\": \"[::1]:8443\"},"
                + "{\"https\": true, \"host_port\": \"fe_3:1\"},"
                + "{\"https\": false, \"host_port\": \"fe-4.example.com:65535\"}]"), fe);
    }

    @Test
    void testingMaxBytesOverridesTheBufferSize() {
        assertEquals(1048576L, document(docs("testing.bufferflush.maxbytes", "1048576")).get("bufferflush.maxbytes")
                .asLong());
        assertEquals(1L, document(docs("testing.bufferflush.maxbytes", " 1 ")).get("bufferflush.maxbytes").asLong());
        Map<String, String> both = docs("testing.bufferflush.maxbytes", "4096");
        both.put("bufferflush.maxbytes", "67108864");
        assertEquals(4096L, document(both).get("bufferflush.maxbytes").asLong());
        both.put("testing.bufferflush.maxbytes", " ");
        assertEquals(67108864L, document(both).get("bufferflush.maxbytes").asLong(), "blank is unset");
        assertEquals(94371840L, document(StarRocksSinkConfigTest.docsExample()).get("bufferflush.maxbytes").asLong());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"all|all", "ALL|all", "' All '|all", "none|none", "NONE|none", "''|none",
        "whatever|none"})
    void errorsTolerance(String tolerance, String want) {
        assertEquals(want, document(docs("errors.tolerance", tolerance)).get("errors.tolerance").asText());
        assertEquals("all".equals(want), NativeConfig.tolerateErrors(docs("errors.tolerance", tolerance)));
    }

    @Test
    void errorsToleranceUnsetIsNone() {
        assertEquals("none", document(docs("errors.tolerance", null)).get("errors.tolerance").asText());
    }

    @Test
    void streamLoadHeadersAreTheSinkPropertiesAsGivenWithFormatJsonByDefault() throws Exception {
        // only keys that are set: not ConfigDef's defaults of the declared sink.properties.*
        assertEquals(JSON.readTree("{\"format\": \"json\", \"strip_outer_array\": \"true\"}"),
                document(StarRocksSinkConfigTest.docsExample()).get("sink.properties"));

        Map<String, String> props = docs("sink.properties.Format", "csv");
        props.put("sink.properties.column_separator", "\\x01");
        props.put("sink.properties.columns", " id, city ");
        props.put("sink.properties.partial_update", "TRUE");
        props.put("sink.properties.compression", "lz4_frame");
        props.put("sink.properties.x", "");
        assertEquals(JSON.readTree("{\"Format\": \"csv\", \"column_separator\": \"\\\\x01\", \"columns\": \" id, city \","
                + "\"partial_update\": \"TRUE\", \"compression\": \"lz4_frame\", \"strip_outer_array\": \"true\","
                + "\"x\": \"\"}"), document(props).get("sink.properties"));

        assertEquals(JSON.readTree("{\"format\": \"CSV\", \"strip_outer_array\": \"true\"}"),
                document(docs("sink.properties.format", "CSV")).get("sink.properties"));
        // a key that only starts like one is no header
        assertFalse(document(docs("sink.propertiesx", "1")).get("sink.properties").has("x"));
    }

    @Test
    void stringsAreEscapedAndThePasswordIsNotTrimmed() throws Exception {
        String password = " q\"uote back\\slash nl\n tab\t nul\u0000 bell\u0007 us\u001f del\u007f é 中 \uD83D\uDE00 "
                + "slash/ \u2028 ";
        Map<String, String> props = docs("starrocks.password", password);
        String text = new StarRocksSinkConfig(props).nativeConfig(props);
        assertEquals(password, JSON.readTree(text).get("starrocks.password").asText());
        for (char c : text.toCharArray()) {
            assertTrue(c >= 0x20, "a raw control character in the document: " + (int) c);
        }
        assertTrue(text.contains("q\\\"uote back\\\\slash nl\\u000a tab\\u0009 nul\\u0000 bell\\u0007 us\\u001f"), text);
        assertTrue(text.contains("é 中 \uD83D\uDE00"), "non-ASCII passes as it is: " + text);
        assertEquals("", document(docs("starrocks.password", "")).get("starrocks.password").asText());
        // a lone surrogate has no UTF-8 form: escaped, so the core's JSON parser refuses it by name
        assertTrue(new StarRocksSinkConfig(docs("starrocks.password", "a\uD800b")).nativeConfig(
                docs("starrocks.password", "a\uD800b")).contains("a\\ud800b"));
        // names and keys are escaped too
        JsonNode doc = document(docs("sink.properties.we\"ird\\key", "v\n"));
        assertEquals("v\n", doc.get("sink.properties").get("we\"ird\\key").asText());
        assertEquals("x\"y", document(docs("name", "x\"y")).get("name").asText());
    }

    @Test
    void theTruststorePemIsAStringOrNull() throws Exception {
        Map<String, String> props = StarRocksSinkConfigTest.docsExample();
        StarRocksSinkConfig config = new StarRocksSinkConfig(props);
        String pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        JsonNode doc = JSON.readTree(NativeConfig.document(config, props, pem));
        assertEquals(pem, doc.get("starrocks.ssl.truststore.pem").asText());
        JsonNode none = JSON.readTree(NativeConfig.document(config, props, null));
        assertTrue(none.has("starrocks.ssl.truststore.pem"));
        assertTrue(none.get("starrocks.ssl.truststore.pem").isNull());
        assertTrue(document(props).get("starrocks.ssl.truststore.pem").isNull());
    }

    @Test
    void offsetColumnIsNullWhenEmpty() {
        Map<String, String> props = StarRocksSinkConfigTest.exactlyOnce();
        assertTrue(document(props).get("exactly.once.offset.column").isNull());
        props.put("exactly.once.offset.column", "");
        assertTrue(document(props).get("exactly.once.offset.column").isNull());
        props.put("exactly.once.offset.column", "_off");
        assertEquals("_off", document(props).get("exactly.once.offset.column").asText());
    }

    @Test
    void theWriterNestsAndSeparates() throws Exception {
        NativeConfig.Json json = new NativeConfig.Json();
        json.beginObject();
        json.field("a").beginArray();
        json.beginObject().endObject();
        json.beginObject();
        json.field("x").number(-1);
        json.field("y").string(null);
        json.endObject();
        json.endArray();
        json.field("b").bool(false);
        json.field("c").stringMap(new HashMap<String, String>());
        json.endObject();
        assertEquals("{\"a\":[{},{\"x\":-1,\"y\":null}],\"b\":false,\"c\":{}}", json.toString());
        JSON.readTree(json.toString());
    }
}
