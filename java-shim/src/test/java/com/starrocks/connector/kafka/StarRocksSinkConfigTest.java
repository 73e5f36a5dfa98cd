package com.starrocks.connector.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.common.config.types.Password;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class StarRocksSinkConfigTest {

    /** The quick start's connector config (StarRocks' docs), as Connect hands it over. */
    static Map<String, String> docsExample() {
        Map<String, String> props = new HashMap<>();
        props.put("name", "starrocks-kafka-connector");
        props.put("connector.class", "com.starrocks.connector.kafka.StarRocksSinkConnector");
        props.put("topics", "test");
        props.put("starrocks.http.url", "192.168.0.1:8030");
        props.put("starrocks.topic2table.map", "test:test_tbl");
        props.put("starrocks.username", "user1");
        props.put("starrocks.password", "123456");
        props.put("starrocks.database.name", "example_db");
        props.put("sink.properties.strip_outer_array", "true");
        return props;
    }

    static Map<String, String> with(String key, String value) {
        Map<String, String> props = docsExample();
        if (value == null) {
            props.remove(key);
        } else {
            props.put(key, value);
        }
        return props;
    }

    /** Validation without a library or a cluster: the cluster has nothing to say. */
    static final Function<Map<String, String>, String> NO_CLUSTER = props -> null;

    /** The error messages Connect's validate endpoint would show for {@code key}. */
    static List<String> validateErrors(Map<String, String> props, String key) {
        Config config = new StarRocksSinkConnector(NO_CLUSTER).validate(props);
        for (ConfigValue v : config.configValues()) {
            if (v.name().equals(key)) {
                return v.errorMessages();
            }
        }
        throw new AssertionError("validate() has no entry for " + key);
    }

    static int errorCount(Map<String, String> props) {
        int errors = 0;
        for (ConfigValue v : new StarRocksSinkConnector(NO_CLUSTER).validate(props).configValues()) {
            errors += v.errorMessages().size();
        }
        return errors;
    }

    static void assertRejected(Map<String, String> props, String key, String... fragments) {
        ConfigException e = assertThrows(ConfigException.class, () -> new StarRocksSinkConfig(props));
        assertTrue(e.getMessage().contains(key), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), e.getMessage());
        }
        List<String> errors = validateErrors(props, key);
        assertFalse(errors.isEmpty(), "validate() shows no error for " + key);
        for (String f : fragments) {
            assertTrue(String.join("; ", errors).contains(f), errors.toString());
        }
    }

    @Test
    void theStallTimeoutHasARange() {
        assertEquals(2000L, new StarRocksSinkConfig(with("sink.stall.timeoutms", "2000")).getLong("sink.stall.timeoutms"));
        assertRejected(with("sink.stall.timeoutms", "999"), "sink.stall.timeoutms", "at least 1000");
        assertRejected(with("sink.stall.timeoutms", "86400001"), "sink.stall.timeoutms", "no more than 86400000");
    }

    @Test
    void docsExampleIsValidWithDocumentedDefaults() {
        StarRocksSinkConfig c = new StarRocksSinkConfig(docsExample());
        assertEquals(94371840L, c.getLong("bufferflush.maxbytes"));
        assertEquals(1000L, c.getLong("bufferflush.intervalms"));
        assertEquals(1000L, c.getLong("connect.timeoutms"));
        assertEquals("json", c.getString("sink.properties.format"));
        assertEquals(false, c.getBoolean("sink.properties.partial_update"));
        assertEquals("row", c.getString("sink.properties.partial_update_mode"));
        assertEquals(3, c.getInt("sink.maxretries"));
        assertEquals(1000L, c.getLong("sink.retry.backoffms"));
        assertEquals(120000L, c.getLong("sink.timeoutms"));
        assertEquals(1800000L, c.getLong("sink.stall.timeoutms"));
        assertEquals("", c.getString("sink.label.prefix"));
        assertEquals(new Password("123456"), c.getPassword("starrocks.password"));
        assertEquals("at_least_once", c.getString("delivery.guarantee"));
        assertFalse(c.exactlyOnce());
        assertEquals("", c.getString("starrocks.query.address"));
        assertEquals("kafka_connect_register", c.getString("exactly.once.register.table"));
        assertEquals(true, c.getBoolean("exactly.once.register.create"));
        assertEquals("", c.getString("exactly.once.offset.column"));
        assertEquals(0, errorCount(docsExample()));
    }

    @Test
    void debeziumExampleFromTheDocsIsValid() {
        Map<String, String> props = with("connect.timeoutms", "3000");
        props.put("starrocks.http.url", "172.26.195.69:28030");
        props.put("starrocks.topic2table.map", "test.public.customers:customers");
        props.put("transforms", "addfield,unwrap");
        assertEquals(0, errorCount(props));
        new StarRocksSinkConfig(props);
    }

    @ParameterizedTest
    @CsvSource({
        "bufferflush.maxbytes, 67108863, 67108864, 10737418240, 10737418241",
        "bufferflush.intervalms, 999, 1000, 3600000, 3600001",
        "connect.timeoutms, 99, 100, 60000, 60001",
        "sink.retry.backoffms, -1, 0, 600000, 600001",
        "sink.timeoutms, 999, 1000, 3600000, 3600001",
        "sink.inflight.maxloads, 0, 1, 1000, 1001",
    })
    void rangeEdges(String key, String below, String min, String max, String above) {
        Map<String, String> props = with("connect.timeoutms", "100"); // sink.timeoutms must be >= it
        props.put(key, min);
        new StarRocksSinkConfig(props);
        props.put(key, max);
        new StarRocksSinkConfig(props);
        props.put(key, below);
        assertRejected(props, key, below);
        props.put(key, above);
        assertRejected(props, key, above);
    }

    @Test
    void maxRetriesAtLeastZero() {
        assertEquals(0, new StarRocksSinkConfig(with("sink.maxretries", "0")).getInt("sink.maxretries"));
        assertRejected(with("sink.maxretries", "-1"), "sink.maxretries");
        assertRejected(with("sink.maxretries", "three"), "sink.maxretries");
    }

    @ParameterizedTest
    @ValueSource(strings = {"starrocks.http.url", "starrocks.database.name", "starrocks.username",
        "starrocks.password"})
    void missingRequiredKeyIsNamed(String key) {
        assertRejected(with(key, null), key);
    }

    @Test
    void emptyPasswordIsAllowed() {
        assertEquals(0, errorCount(with("starrocks.password", "")));
        new StarRocksSinkConfig(with("starrocks.password", ""));
    }

    /** The core refused an empty user ("starrocks.username is required"); ConfigDef refuses it now. */
    @ParameterizedTest
    @ValueSource(strings = {"", "  "})
    void emptyUsernameIsRejected(String user) {
        assertRejected(with("starrocks.username", user), "starrocks.username");
    }

    @Test
    void emptyDatabaseIsRejected() {
        assertRejected(with("starrocks.database.name", ""), "starrocks.database.name");
    }

    @ParameterizedTest
    @ValueSource(strings = {"fe:8030", "192.168.0.1:8030,192.168.0.2:8030", "http://fe:8030", "https://fe:8443",
        " fe1:8030 , HTTP://fe2:8030/ ", "[::1]:8030", "fe-1.example.com:1,fe_2:65535"})
    void goodUrlLists(String urls) {
        new StarRocksSinkConfig(with("starrocks.http.url", urls));
        assertEquals(0, errorCount(with("starrocks.http.url", urls)));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "fe:8030,fe2|fe2",
        "fe:8030,,fe2:8030|''",
        "ftp://fe:8030|ftp://fe:8030",
        "fe:0|fe:0",
        "fe:65536|fe:65536",
        "fe:80x|fe:80x",
        "http://fe:8030/api|http://fe:8030/api",
        "fe 1:8030|fe 1:8030",
    })
    void badUrlEntryIsNamed(String urls, String entry) {
        assertRejected(with("starrocks.http.url", urls), "starrocks.http.url", "'" + entry + "'");
    }

    @Test
    void blankUrlIsRejected() {
        assertRejected(with("starrocks.http.url", " "), "starrocks.http.url");
    }

    @Test
    void topicMapParses() {
        Map<String, String> map = StarRocksSinkConfig.parseTopicMap(" a:t1 , b.c-d:t2");
        assertEquals("t1", map.get("a"));
        assertEquals("t2", map.get("b.c-d"));
        assertTrue(StarRocksSinkConfig.parseTopicMap("").isEmpty());
        assertEquals(0, errorCount(with("starrocks.topic2table.map", "")));
        assertEquals(0, errorCount(with("starrocks.topic2table.map", null)));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "test:test_tbl,broken|broken",
        "a:b,:t|:t",
        "a:|a:",
        "a:b:c|a:b:c",
        "a:b,,c:d|''",
    })
    void malformedTopicMapEntryIsNamed(String map, String entry) {
        assertRejected(with("starrocks.topic2table.map", map), "starrocks.topic2table.map", "'" + entry + "'");
    }

    @Test
    void topicMappedTwiceIsRejected() {
        assertRejected(with("starrocks.topic2table.map", "a:t1,a:t2"), "starrocks.topic2table.map", "'a'");
    }

    @Test
    void formatIsJsonOrCsvInAnyCase() {
        new StarRocksSinkConfig(with("sink.properties.format", "CSV"));
        new StarRocksSinkConfig(with("sink.properties.format", "Json"));
        assertRejected(with("sink.properties.format", "avro"), "sink.properties.format", "avro");
    }

    @Test
    void partialUpdateKeys() {
        Map<String, String> props = with("sink.properties.partial_update", "TRUE");
        props.put("sink.properties.partial_update_mode", "column");
        StarRocksSinkConfig c = new StarRocksSinkConfig(props);
        assertTrue(c.getBoolean("sink.properties.partial_update"));
        assertRejected(with("sink.properties.partial_update", "yes"), "sink.properties.partial_update");
        assertRejected(with("sink.properties.partial_update_mode", "cell"), "sink.properties.partial_update_mode");
    }

    /** The rule of tests/vectors/label_prefix.json, which native/core's config tests apply too. */
    @Test
    void labelPrefix() throws Exception {
        com.fasterxml.jackson.databind.JsonNode v = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(new java.io.File(System.getProperty("label.vectors.file", "../tests/vectors/label_prefix.json")));
        assertEquals(StarRocksSinkConfig.LABEL_PREFIX_MAX, v.get("max").asInt());
        for (com.fasterxml.jackson.databind.JsonNode ok : v.get("valid")) {
            assertEquals(ok.asText(), new StarRocksSinkConfig(with("sink.label.prefix", ok.asText())).getString("sink.label.prefix"));
        }
        for (com.fasterxml.jackson.databind.JsonNode bad : v.get("invalid")) {
            assertRejected(with("sink.label.prefix", bad.asText()), "sink.label.prefix");
        }
    }

    @Test
    void timeZone() {
        assertEquals("UTC", new StarRocksSinkConfig(with("sink.label.prefix", "x")).getString("sink.timezone"));
        new StarRocksSinkConfig(with("sink.timezone", "Asia/Shanghai"));
        assertRejected(with("sink.timezone", "Mars/Olympus"), "sink.timezone");
        assertRejected(with("sink.timezone", "GMT+25"), "sink.timezone");
    }

    @Test
    void loadTimeoutBelowConnectTimeoutIsCrossChecked() {
        Map<String, String> props = with("connect.timeoutms", "5000");
        props.put("sink.timeoutms", "2000");
        assertRejected(props, "sink.timeoutms", "connect.timeoutms");
        assertTrue(validateErrors(props, "connect.timeoutms").isEmpty());
    }

    @Test
    void unknownSinkPropertiesPassThrough() {
        Map<String, String> props = with("sink.properties.columns", "id,city");
        props.put("sink.properties.compression", "lz4_frame");
        assertEquals(0, errorCount(props));
    }

    /** A key under sink.properties. is a Stream Load header; one without a name is refused, on its own entry. */
    @Test
    void aHeaderWithoutANameIsRefused() {
        Map<String, String> props = with("sink.properties.", "x");
        assertRejected(props, "sink.properties.", "empty header name");
        assertEquals(1, errorCount(props));
        // the undeclared key's error keeps the cluster from being asked, as any error does
        List<Map<String, String>> asked = new ArrayList<>();
        Map<String, String> eo = exactlyOnce();
        eo.put("sink.properties.", "");
        new StarRocksSinkConnector(p -> {
            asked.add(p);
            return null;
        }).validate(eo);
        assertTrue(asked.isEmpty());
        assertRejected(eo, "sink.properties.", "empty header name");
    }

    /** The undocumented test override of the buffer size: a positive integer, or blank (unset). */
    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "lots", "1.5", "99999999999999999999"})
    void badTestingMaxBytesIsRefused(String bytes) {
        assertRejected(with("testing.bufferflush.maxbytes", bytes), "testing.bufferflush.maxbytes",
                "positive integer");
        assertEquals(1, errorCount(with("testing.bufferflush.maxbytes", bytes)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", " 4096 ", "1048576", "", " "})
    void goodTestingMaxBytes(String bytes) {
        new StarRocksSinkConfig(with("testing.bufferflush.maxbytes", bytes));
        assertEquals(0, errorCount(with("testing.bufferflush.maxbytes", bytes)));
    }

    @Test
    void validateReportsEveryBadKeyAtOnce() {
        Map<String, String> props = with("starrocks.http.url", "nope");
        props.put("bufferflush.intervalms", "10");
        props.remove("starrocks.username");
        assertEquals(3, errorCount(props));
    }

    /** A valid exactly_once config: the docs example plus {@code delivery.guarantee=exactly_once}. */
    static Map<String, String> exactlyOnce() {
        return with("delivery.guarantee", "exactly_once");
    }

    @Test
    void deliveryGuaranteeIsEitherInAnyCase() {
        StarRocksSinkConfig c = new StarRocksSinkConfig(with("delivery.guarantee", "EXACTLY_ONCE"));
        assertTrue(c.exactlyOnce());
        assertEquals("exactly_once", NativeConfigTest.document(with("delivery.guarantee", "EXACTLY_ONCE"))
                .get("delivery.guarantee").asText());
        assertFalse(new StarRocksSinkConfig(with("delivery.guarantee", "At_Least_Once")).exactlyOnce());
        assertEquals("at_least_once", NativeConfigTest.document(with("delivery.guarantee", "At_Least_Once"))
                .get("delivery.guarantee").asText());
        // unset: the default, spelled out for the core
        assertEquals("at_least_once", NativeConfigTest.document(docsExample()).get("delivery.guarantee").asText());
        assertEquals(0, errorCount(exactlyOnce()));
        assertRejected(with("delivery.guarantee", "exactly-once"), "delivery.guarantee", "exactly-once");
        assertRejected(with("delivery.guarantee", "at_most_once"), "delivery.guarantee", "at_most_once");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "fe:9030", "192.168.0.1:9030", " fe-1.example.com:1 ", "[::1]:65535", "fe_2:9030"})
    void goodQueryAddresses(String address) {
        Map<String, String> props = with("delivery.guarantee", "exactly_once");
        props.put("starrocks.query.address", address);
        new StarRocksSinkConfig(props);
        assertEquals(0, errorCount(props));
    }

    @ParameterizedTest
    @ValueSource(strings = {"fe", "fe:0", "fe:65536", "fe:90x", "mysql://fe:9030", "fe:9030,fe2:9030", "fe 1:9030",
        ":9030"})
    void badQueryAddressesAreRefused(String address) {
        assertRejected(with("starrocks.query.address", address), "starrocks.query.address", "host:port");
    }

    @Test
    void registerTable() {
        assertEquals("my_Register_2", new StarRocksSinkConfig(with("exactly.once.register.table", "my_Register_2"))
                .getString("exactly.once.register.table"));
        new StarRocksSinkConfig(with("exactly.once.register.table", "0123456789012345678901234567890123456789"
                + "012345678901234567890123"));
        assertRejected(with("exactly.once.register.table", "0123456789012345678901234567890123456789"
                + "0123456789012345678901234"), "exactly.once.register.table", "[A-Za-z0-9_]");
        assertRejected(with("exactly.once.register.table", ""), "exactly.once.register.table", "[A-Za-z0-9_]");
        assertRejected(with("exactly.once.register.table", "db.reg"), "exactly.once.register.table", "db.reg");
        assertRejected(with("exactly.once.register.table", "reg-1"), "exactly.once.register.table", "reg-1");
    }

    @Test
    void registerCreateIsABoolean() {
        assertFalse(new StarRocksSinkConfig(with("exactly.once.register.create", "false"))
                .getBoolean("exactly.once.register.create"));
        assertRejected(with("exactly.once.register.create", "maybe"), "exactly.once.register.create");
    }

    @ParameterizedTest
    @ValueSource(strings = {"kafka_offset", "_off", "O", "a234567890123456789012345678901234567890123456789012345678901234"})
    void goodOffsetColumns(String column) {
        Map<String, String> props = exactlyOnce();
        props.put("exactly.once.offset.column", column);
        assertEquals(column, new StarRocksSinkConfig(props).getString("exactly.once.offset.column"));
        assertEquals(0, errorCount(props));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1st", "kafka-offset", "a.b", "a2345678901234567890123456789012345678901234567890123456789012345"})
    void badOffsetColumnsAreRefused(String column) {
        Map<String, String> props = exactlyOnce();
        props.put("exactly.once.offset.column", column);
        assertRejected(props, "exactly.once.offset.column", "column name");
    }

    @Test
    void offsetColumnNeedsExactlyOnce() {
        Map<String, String> props = with("exactly.once.offset.column", "kafka_offset");
        assertRejected(props, "exactly.once.offset.column", "exactly_once");
        assertTrue(validateErrors(props, "delivery.guarantee").isEmpty());
        props.put("delivery.guarantee", "at_least_once");
        assertRejected(props, "exactly.once.offset.column", "exactly_once");
        props.put("exactly.once.offset.column", "");
        assertEquals(0, errorCount(props));
    }

    @Test
    void offsetColumnNeedsJsonRows() {
        Map<String, String> props = exactlyOnce();
        props.put("exactly.once.offset.column", "kafka_offset");
        props.put("sink.properties.format", "CSV");
        assertRejected(props, "exactly.once.offset.column", "sink.properties.format=json");
        assertEquals(1, errorCount(props));
        props.put("sink.properties.format", "JSON");
        new StarRocksSinkConfig(props);
        assertEquals(0, errorCount(props));
    }

    @Test
    void exactlyOnceKeepsEveryTargetInTheConnectorsDatabase() {
        Map<String, String> props = exactlyOnce();
        props.put("starrocks.topic2table.map", "test:test_tbl,a:example_db.ta,b:other_db.tb,c:third.tc");
        assertRejected(props, "starrocks.topic2table.map", "one database", "b:other_db.tb", "c:third.tc");
        assertFalse(String.join("", validateErrors(props, "starrocks.topic2table.map")).contains("a:example_db"));
        assertTrue(validateErrors(props, "delivery.guarantee").isEmpty());
        assertEquals(1, errorCount(props));

        props.put("starrocks.topic2table.map", "test:test_tbl,a:example_db.ta");
        new StarRocksSinkConfig(props);
        assertEquals(0, errorCount(props));
        // the same map is fine with at_least_once, which loads each table on its own
        Map<String, String> atLeastOnce = with("starrocks.topic2table.map", "b:other_db.tb");
        new StarRocksSinkConfig(atLeastOnce);
        assertEquals(0, errorCount(atLeastOnce));
    }

    @Test
    void theClustersAnswerLandsOnDeliveryGuaranteeOnlyForAValidExactlyOnceConfig() {
        List<Map<String, String>> asked = new ArrayList<>();
        StarRocksSinkConnector connector = new StarRocksSinkConnector(props -> {
            asked.add(props);
            return "delivery.guarantee=exactly_once needs StarRocks 4.0 or later; this cluster runs 3.3.9";
        });
        Map<String, String> props = exactlyOnce();
        List<String> errors = new ArrayList<>();
        for (ConfigValue v : connector.validate(props).configValues()) {
            for (String m : v.errorMessages()) {
                errors.add(v.name() + ": " + m);
            }
        }
        assertEquals(Collections.singletonList(
                "delivery.guarantee: delivery.guarantee=exactly_once needs StarRocks 4.0 or later; this cluster runs 3.3.9"),
                errors);
        assertEquals(1, asked.size());
        // a config with its own errors is not sent to the cluster, nor is at_least_once
        props.put("bufferflush.intervalms", "10");
        connector.validate(props);
        props.put("bufferflush.intervalms", "1000");
        props.put("delivery.guarantee", "at_least_once");
        connector.validate(props);
        assertEquals(1, asked.size());
    }

    @Test
    void multiTableTransactionsAreAnAtLeastOnceBoolean() {
        assertFalse(new StarRocksSinkConfig(docsExample()).getBoolean("sink.transaction.multi-table.enabled"));
        Map<String, String> props = with("sink.transaction.multi-table.enabled", "TRUE");
        assertTrue(new StarRocksSinkConfig(props).getBoolean("sink.transaction.multi-table.enabled"));
        assertEquals(0, errorCount(props));
        props.put("sink.transaction.multi-table.enabled", "sometimes");
        assertRejected(props, "sink.transaction.multi-table.enabled");
        // exactly_once commits multi-table transactions already: the key would contradict it
        props = exactlyOnce();
        props.put("sink.transaction.multi-table.enabled", "true");
        assertRejected(props, "sink.transaction.multi-table.enabled", "at_least_once only", "exactly_once");
        assertEquals(1, errorCount(props));
        props.put("sink.transaction.multi-table.enabled", "false");
        new StarRocksSinkConfig(props);
        assertEquals(0, errorCount(props));
    }

    @Test
    void theClustersAnswerOnMultiTableTransactionsLandsOnTheirKey() {
        List<Map<String, String>> asked = new ArrayList<>();
        StarRocksSinkConnector connector = new StarRocksSinkConnector(props -> {
            asked.add(props);
            return "sink.transaction.multi-table.enabled=true needs StarRocks 4.0 or later (multi-table transactions); "
                    + "this cluster runs 3.3.9";
        });
        Map<String, String> props = with("sink.transaction.multi-table.enabled", "true");
        List<String> errors = new ArrayList<>();
        for (ConfigValue v : connector.validate(props).configValues()) {
            for (String m : v.errorMessages()) {
                errors.add(v.name() + ": " + m);
            }
        }
        assertEquals(Collections.singletonList("sink.transaction.multi-table.enabled: "
                + "sink.transaction.multi-table.enabled=true needs StarRocks 4.0 or later (multi-table transactions); "
                + "this cluster runs 3.3.9"), errors);
        assertEquals(1, asked.size());
        // without the key, at_least_once asks nothing
        connector.validate(docsExample());
        assertEquals(1, asked.size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.1", "1", "lots", "NaN", "", "-0.1", "inf", "Infinity",
        // Double.parseDouble reads these as 0, the core's number parser never did: refused, as the core refused them
        "0f", "0d", "0x0p0", "0.0D", "."})
    void exactlyOnceRefusesAMaxFilterRatio(String ratio) {
        Map<String, String> props = exactlyOnce();
        props.put("sink.properties.max_filter_ratio", ratio);
        assertRejected(props, "delivery.guarantee", "sink.properties.max_filter_ratio", "dead letter queue");
        assertEquals(1, errorCount(props));
        // at_least_once passes it through as a header
        props.put("delivery.guarantee", "at_least_once");
        new StarRocksSinkConfig(props);
        assertEquals(0, errorCount(props));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "0.0", " 0 ", "-0", "+0", "0.", ".0", "00", "0e5", "0E-3"})
    void exactlyOnceAllowsANoFilterRatio(String ratio) {
        Map<String, String> props = exactlyOnce();
        props.put("sink.properties.max_filter_ratio", ratio);
        new StarRocksSinkConfig(props);
        assertEquals(0, errorCount(props));
    }

    @Test
    void maxFilterRatioIsFoundInAnyCase() {
        Map<String, String> props = exactlyOnce();
        props.put("sink.properties.MAX_FILTER_RATIO", "0.5");
        assertRejected(props, "delivery.guarantee", "sink.properties.max_filter_ratio");
        // of several spellings, every one must be 0 (each is sent as a header)
        for (String zero : new String[] {"sink.properties.max_filter_ratio", "sink.properties.Max_Filter_Ratio",
            "sink.properties.max_filter_RATIO"}) {
            props.put(zero, "0");
            assertRejected(props, "delivery.guarantee", "sink.properties.max_filter_ratio", "0.5");
        }
    }

    @Test
    void validateReportsEveryExactlyOnceRefusalAtOnce() {
        Map<String, String> props = exactlyOnce();
        props.put("starrocks.topic2table.map", "b:other_db.tb");
        props.put("sink.properties.max_filter_ratio", "0.2");
        assertEquals(2, errorCount(props));
        // an invalid key's own error is shown, not a refusal that builds on its value
        props.put("starrocks.topic2table.map", "b:");
        assertEquals(2, errorCount(props));
        props.put("delivery.guarantee", "sometimes");
        assertEquals(2, errorCount(props)); // the bad guarantee and the bad map, nothing built on them
    }

    @Test
    void autoCreateAndEvolveNeedNamedJsonMembers() {
        Map<String, String> props = with("auto.create", "true");
        new StarRocksSinkConfig(props);
        assertEquals(0, errorCount(props));
        props.put("sink.properties.format", "csv");
        assertRejected(props, "auto.create", "sink.properties.format=json");
        props.put("sink.properties.format", "json");
        props.put("sink.properties.COLUMNS", "id,name");
        assertRejected(props, "auto.create", "sink.properties.COLUMNS");
        props.remove("sink.properties.COLUMNS");
        props.remove("auto.create");
        props.put("auto.evolve", "true");
        props.put("sink.properties.jsonpaths", "[\"$.id\"]");
        assertRejected(props, "auto.evolve", "jsonpaths");
    }

    @Test
    void primaryKeyModeAndFields() {
        Map<String, String> props = with("pk.mode", "record_value");
        assertRejected(props, "pk.fields", "record_value needs pk.fields");
        props.put("pk.fields", "id, region");
        assertEquals(0, errorCount(props));
        props.put("pk.mode", "record_key");
        assertRejected(props, "pk.fields", "one name");
        props.put("pk.fields", "k");
        assertEquals(0, errorCount(props));
        props.put("pk.mode", "none");
        assertRejected(props, "pk.fields", "applies to pk.mode=record_key or record_value");
        props.put("pk.mode", "kafka");
        assertThrows(ConfigException.class, () -> new StarRocksSinkConfig(props));
        props.put("auto.create.buckets", "-1");
        props.put("pk.fields", "");
        assertEquals(2, errorCount(props), "the bad mode and the bad buckets");
    }
}
