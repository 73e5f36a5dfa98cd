package com.starrocks.connector.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** Task behaviour that needs no native library; the rest is in NativeBridgeIT. */
class StarRocksSinkTaskTest {

    @Test
    void badConfigFailsStartBeforeTheLibraryIsLoaded() {
        ConfigException e = assertThrows(ConfigException.class, () -> new StarRocksSinkTask()
                .start(StarRocksSinkConfigTest.with("bufferflush.intervalms", "10")));
        assertTrue(e.getMessage().contains("bufferflush.intervalms"), e.getMessage());
    }

    @Test
    void preCommitAndStopBeforeStartAreHarmless() {
        StarRocksSinkTask task = new StarRocksSinkTask();
        assertTrue(task.preCommit(Collections.emptyMap()).isEmpty());
        task.stop();
        task.stop();
    }

    @Test
    void badExactlyOnceConfigFailsStart() {
        Map<String, String> props = StarRocksSinkConfigTest.with("delivery.guarantee", "exactly_once");
        props.put("sink.properties.max_filter_ratio", "0.1");
        ConfigException e = assertThrows(ConfigException.class, () -> new StarRocksSinkTask().start(props));
        assertTrue(e.getMessage().contains("delivery.guarantee"), e.getMessage());
        assertTrue(e.getMessage().contains("sink.properties.max_filter_ratio"), e.getMessage());
    }

    @Test
    void openBeforeStartIsHarmless() {
        StarRocksSinkTask task = new StarRocksSinkTask();
        RecordingContext context = new RecordingContext(StarRocksSinkConfigTest.docsExample(), Collections.<TopicPartition>emptySet());
        task.initialize(context);
        task.open(Collections.singletonList(new TopicPartition("test", 0)));
        task.open(Collections.<TopicPartition>emptyList());
        assertTrue(context.seeks.isEmpty());
    }

    /** What open() does with the native answer (NativeSink.openPartitions: only partitions that seek). */
    @Test
    void openSeeksConnectToTheNativeAnswer() {
        RecordingContext context = new RecordingContext(StarRocksSinkConfigTest.docsExample(), Collections.<TopicPartition>emptySet());
        List<TopicPartition> assigned = Arrays.asList(new TopicPartition("test", 0), new TopicPartition("test", 1));
        Map<TopicPartition, Long> answer = new HashMap<>();
        answer.put(new TopicPartition("test", 1), 42L);
        StarRocksSinkTask.seek(context, assigned, answer);
        assertEquals(Collections.singletonList(answer), context.seeks);

        // at_least_once answers no seek: Connect resumes from the group's committed offsets
        StarRocksSinkTask.seek(context, assigned, Collections.<TopicPartition, Long>emptyMap());
        assertEquals(1, context.seeks.size());
    }
}
