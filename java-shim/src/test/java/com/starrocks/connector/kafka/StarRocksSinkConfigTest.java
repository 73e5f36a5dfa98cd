package com.starrocks.connector.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

    /** The error messages Connect's validate endpoint would show for {@code key}. */
    static List<String> validateErrors(Map<String, String> props, String key) {
        Config config = new StarRocksSinkConnector().validate(props);
        for (ConfigValue v : config.configValues()) {
            if (v.name().equals(key)) {
                return v.errorMessages();
            }
        }
        throw new AssertionError("validate() has no entry for " + key);
    }

    static int errorCount(Map<String, String> props) {
        int errors = 0;
        for (ConfigValue v : new StarRocksSinkConnector().validate(props).configValues()) {
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
        assertEquals("", c.getString("sink.label.prefix"));
        assertEquals(new Password("123456"), c.getPassword("starrocks.password"));
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

    @Test
    void labelPrefix() {
        new StarRocksSinkConfig(with("sink.label.prefix", "my-connector_01"));
        new StarRocksSinkConfig(with("sink.label.prefix", "0123456789012345678901234567890123456789"));
        assertRejected(with("sink.label.prefix", "01234567890123456789012345678901234567890"),
                "sink.label.prefix");
        assertRejected(with("sink.label.prefix", "has space"), "sink.label.prefix");
        assertRejected(with("sink.label.prefix", "dot.ted"), "sink.label.prefix");
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

    @Test
    void validateReportsEveryBadKeyAtOnce() {
        Map<String, String> props = with("starrocks.http.url", "nope");
        props.put("bufferflush.intervalms", "10");
        props.remove("starrocks.username");
        assertEquals(3, errorCount(props));
    }
}
