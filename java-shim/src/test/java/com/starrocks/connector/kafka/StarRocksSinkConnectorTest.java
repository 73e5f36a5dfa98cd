package com.starrocks.connector.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class StarRocksSinkConnectorTest {

    @Test
    void taskConfigsAreCopiesWithTaskIds() {
        StarRocksSinkConnector connector = new StarRocksSinkConnector();
        Map<String, String> props = StarRocksSinkConfigTest.docsExample();
        connector.start(props);
        List<Map<String, String>> configs = connector.taskConfigs(3);
        assertEquals(3, configs.size());
        for (int i = 0; i < 3; i++) {
            Map<String, String> c = configs.get(i);
            assertEquals(Integer.toString(i), c.get("task.id"));
            assertEquals(props.size() + 1, c.size());
            assertEquals("example_db", c.get("starrocks.database.name"));
        }
        assertSame(StarRocksSinkTask.class, connector.taskClass());
        connector.stop();
    }

    @Test
    void startRefusesABadConfig() {
        StarRocksSinkConnector connector = new StarRocksSinkConnector();
        assertThrows(ConfigException.class,
                () -> connector.start(StarRocksSinkConfigTest.with("starrocks.http.url", "x")));
    }

    @Test
    void versionComesFromTheBuild() {
        assertEquals(System.getProperty("project.version", "0.1.0"), new StarRocksSinkConnector().version());
        assertEquals(new StarRocksSinkConnector().version(), new StarRocksSinkTask().version());
    }

    @Test
    void serviceManifestsNameThePlugins() throws Exception {
        assertEquals(StarRocksSinkConnector.class.getName(),
                firstLine("META-INF/services/org.apache.kafka.connect.sink.SinkConnector"));
        assertEquals("com.starrocks.connector.kafka.transforms.AddOpFieldForDebeziumRecord",
                firstLine("META-INF/services/org.apache.kafka.connect.transforms.Transformation"));
    }

    private static String firstLine(String resource) throws Exception {
        try (InputStream in = StarRocksSinkConnector.class.getClassLoader().getResourceAsStream(resource);
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            return r.readLine().trim();
        }
    }
}
