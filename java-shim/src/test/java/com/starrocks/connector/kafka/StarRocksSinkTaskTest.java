package com.starrocks.connector.kafka;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.starrocks.connector.kafka.bridge.PreCommitAnswer;
import com.starrocks.connector.kafka.bridge.RejectedRecord;
import com.starrocks.connector.kafka.bridge.TaskSink;
import com.starrocks.connector.kafka.encode.RecordEncoder;
import com.starrocks.connector.kafka.metrics.NativeMetrics;
import com.starrocks.connector.kafka.metrics.SinkTaskMetrics;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * Task behaviour that needs no native library: the task runs over a {@link FakeSink} through its test constructor.
 * The JNI round trip is in NativeBridgeIT.
 */
class StarRocksSinkTaskTest {
    static final MBeanServer MBS = ManagementFactory.getPlatformMBeanServer();
    static final TopicPartition TP0 = new TopicPartition("test", 0);
    static final TopicPartition TP1 = new TopicPartition("test", 1);

    /**
     * A sink that records what the task asks of it and answers what the test queued: preCommit answers (or throws)
     * the queued answers in turn, then empty ones; openPartitions likewise.
     */
    static final class FakeSink implements TaskSink {
        /** The bytes of each put, copied during the call (the encoder reuses its buffer). */
        final List<byte[]> puts = new ArrayList<>();
        final List<List<TopicPartition>> opened = new ArrayList<>();
        final List<List<TopicPartition>> forgotten = new ArrayList<>();
        final Deque<Object> preCommitAnswers = new ArrayDeque<>();
        final Deque<Map<TopicPartition, Long>> seekAnswers = new ArrayDeque<>();
        /** Every call by name, in order. */
        final List<String> calls = new ArrayList<>();
        /** The config document the task opened this sink with. */
        String config;
        int preCommits;
        int closes;
        long[] counters = new long[NativeMetrics.COUNT];

        /** Queues the next preCommit answer. */
        FakeSink answer(Map<TopicPartition, OffsetAndMetadata> offsets, RejectedRecord... rejected) {
            preCommitAnswers.add(new PreCommitAnswer(offsets, new ArrayList<>(Arrays.asList(rejected))));
            return this;
        }

        /** Makes the next preCommit throw {@code e}. */
        FakeSink fail(RuntimeException e) {
            preCommitAnswers.add(e);
            return this;
        }

        @Override
        public void put(ByteBuffer batch, int length) {
            calls.add("put");
            byte[] copy = new byte[length];
            ByteBuffer view = batch.duplicate();
            view.clear();
            view.get(copy, 0, length);
            puts.add(copy);
        }

        @Override
        public PreCommitAnswer preCommit() {
            calls.add("preCommit");
            preCommits++;
            Object next = preCommitAnswers.poll();
            if (next instanceof RuntimeException) {
                throw (RuntimeException) next;
            }
            return next == null ? new PreCommitAnswer(new HashMap<TopicPartition, OffsetAndMetadata>(),
                    new ArrayList<RejectedRecord>()) : (PreCommitAnswer) next;
        }

        @Override
        public Map<TopicPartition, Long> openPartitions(Collection<TopicPartition> partitions) {
            calls.add("openPartitions");
            opened.add(new ArrayList<>(partitions));
            Map<TopicPartition, Long> seek = seekAnswers.poll();
            return seek == null ? new HashMap<TopicPartition, Long>() : seek;
        }

        @Override
        public void forget(Collection<TopicPartition> partitions) {
            calls.add("forget");
            forgotten.add(new ArrayList<>(partitions));
        }

        @Override
        public long[] metrics() {
            return closes > 0 ? null : counters.clone();
        }

        @Override
        public boolean isClosed() {
            return closes > 0;
        }

        @Override
        public void close() {
            calls.add("close");
            closes++;
        }
    }

    /** A task over {@code sink}, started with {@code props} (connector name {@code name}, task 0). */
    static StarRocksSinkTask started(FakeSink sink, RecordingContext context, Map<String, String> props) {
        StarRocksSinkTask task = new StarRocksSinkTask(config -> {
            sink.config = config;
            return sink;
        });
        task.initialize(context);
        task.start(props);
        return task;
    }

    static Map<String, String> props(String name) {
        Map<String, String> props = StarRocksSinkConfigTest.docsExample();
        props.put("name", name);
        props.put("task.id", "0");
        return props;
    }

    static RecordingContext context(Map<String, String> props) {
        return new RecordingContext(props, new java.util.HashSet<>(Arrays.asList(TP0, TP1)));
    }

    static List<SinkRecord> records(int partition, long first, int n) {
        List<SinkRecord> records = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, Object> value = new LinkedHashMap<>();
            value.put("id", first + i);
            value.put("city", "city " + (first + i));
            records.add(new SinkRecord("test", partition, null, null, null, value, first + i));
        }
        return records;
    }

    /** The boundary-format bytes of {@code batch}, as a fresh encoder writes them. */
    static byte[] encoded(Collection<SinkRecord> batch) {
        RecordEncoder encoder = new RecordEncoder();
        ByteBuffer buf = encoder.encode(batch).duplicate();
        buf.clear();
        byte[] out = new byte[encoder.length()];
        buf.get(out, 0, out.length);
        return out;
    }

    static Map<TopicPartition, OffsetAndMetadata> offsets(Object... partitionsAndOffsets) {
        Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
        for (int i = 0; i < partitionsAndOffsets.length; i += 2) {
            out.put((TopicPartition) partitionsAndOffsets[i],
                    new OffsetAndMetadata(((Number) partitionsAndOffsets[i + 1]).longValue()));
        }
        return out;
    }

    static Object metric(String connector, String attribute) throws Exception {
        return MBS.getAttribute(SinkTaskMetrics.objectName(connector, "0"), attribute);
    }

    @Test
    void startOpensTheSinkWithTheNativeConfigAndPutHandsOneEncodedBufferPerBatch() throws Exception {
        FakeSink sink = new FakeSink();
        Map<String, String> props = props("task-test-put");
        props.put("delivery.guarantee", "AT_LEAST_ONCE");
        StarRocksSinkTask task = started(sink, context(props), props);
        try {
            assertNotNull(sink.config);
            com.fasterxml.jackson.databind.JsonNode document =
                    new com.fasterxml.jackson.databind.ObjectMapper().readTree(sink.config);
            assertEquals("at_least_once", document.get("delivery.guarantee").asText()); // nativeConfig's form
            assertEquals(new com.fasterxml.jackson.databind.ObjectMapper().readTree("{\"test\": \"test_tbl\"}"),
                    document.get("starrocks.topic2table.map"));
            assertEquals(new StarRocksSinkConfig(props).nativeConfig(props), sink.config);
            List<SinkRecord> first = records(0, 0, 3);
            List<SinkRecord> second = records(1, 10, 2);
            task.put(first);
            task.put(second);
            task.put(Collections.<SinkRecord>emptyList());
            assertEquals(Arrays.asList("put", "put", "put"), sink.calls);
            assertArrayEquals(encoded(first), sink.puts.get(0));
            assertArrayEquals(encoded(second), sink.puts.get(1));
            assertArrayEquals(encoded(Collections.<SinkRecord>emptyList()), sink.puts.get(2));
            // the MBean reads the sink's counters
            sink.counters[NativeMetrics.RECORDS_RECEIVED] = 5;
            assertEquals(5L, metric("task-test-put", "records-received"));
        } finally {
            task.stop();
        }
    }

    @Test
    void anUnencodableRecordIsReportedAndTheRestOfItsBatchPut() throws Exception {
        FakeSink sink = new FakeSink();
        Map<String, String> props = props("task-test-unencodable");
        RecordingContext context = context(props);
        StarRocksSinkTask task = started(sink, context, props);
        try {
            List<SinkRecord> batch = records(0, 0, 2);
            SinkRecord bad = new SinkRecord("test", 0, null, null, null, new Object(), 2);
            batch.add(bad);
            task.put(batch);
            assertEquals(Collections.singletonList(bad), context.reported);
            assertEquals(1, sink.puts.size());
            assertArrayEquals(encoded(records(0, 0, 2)), sink.puts.get(0));
            assertEquals(1L, metric("task-test-unencodable", SinkTaskMetrics.DLQ_RECORDS));
        } finally {
            task.stop();
        }
    }

    @Test
    void preCommitAnswersExactlyTheSinksOffsets() {
        FakeSink sink = new FakeSink().answer(offsets(TP0, 3L, TP1, 12L)).answer(offsets(TP0, 5L));
        Map<String, String> props = props("task-test-precommit");
        StarRocksSinkTask task = started(sink, context(props), props);
        try {
            task.put(records(0, 0, 5));
            task.put(records(1, 10, 2));
            // what Connect has consumed is not what may be committed: only the sink's answer is
            Map<TopicPartition, OffsetAndMetadata> consumed = offsets(TP0, 5L, TP1, 12L);
            assertEquals(offsets(TP0, 3L, TP1, 12L), task.preCommit(consumed));
            assertEquals(offsets(TP0, 5L), task.preCommit(consumed));
            assertEquals(offsets(), task.preCommit(consumed));
            assertEquals(3, sink.preCommits);
        } finally {
            task.stop();
        }
    }

    @Test
    void aRetriablePreCommitCommitsNothingNewAndTheTaskKeepsWorking() {
        FakeSink sink = new FakeSink().fail(new RetriableException("StarRocks is busy")).answer(offsets(TP0, 3L));
        Map<String, String> props = props("task-test-retriable");
        StarRocksSinkTask task = started(sink, context(props), props);
        try {
            task.put(records(0, 0, 2));
            assertEquals(offsets(), task.preCommit(offsets(TP0, 2L)));
            task.put(records(0, 2, 1));
            assertEquals(2, sink.puts.size());
            assertEquals(offsets(TP0, 3L), task.preCommit(offsets(TP0, 3L)));
            task.put(records(0, 3, 1));
            assertEquals(Arrays.asList("put", "preCommit", "put", "preCommit", "put"), sink.calls);
        } finally {
            task.stop();
        }
    }

    @Test
    void aNonRetriablePreCommitFailureIsRethrownAndFailsTheNextPut() {
        ConnectException refused = new ConnectException("Status: Fail, too many filtered rows");
        FakeSink sink = new FakeSink().fail(refused);
        Map<String, String> props = props("task-test-fatal");
        StarRocksSinkTask task = started(sink, context(props), props);
        try {
            task.put(records(0, 0, 2));
            assertSame(refused, assertThrows(ConnectException.class, () -> task.preCommit(offsets(TP0, 2L))));
            assertSame(refused, assertThrows(ConnectException.class, () -> task.put(records(0, 2, 1))));
            assertEquals(1, sink.puts.size(), "a put reached the sink after the failure");
        } finally {
            task.stop();
        }
        assertEquals(1, sink.closes);
    }

    @Test
    void rejectedRecordsReachTheReporterBeforeTheirOffsetsAreAnswered() throws Exception {
        FakeSink sink = new FakeSink();
        Map<String, String> props = props("task-test-rejected");
        props.put("errors.tolerance", "all");
        List<SinkRecord> batch = records(0, 0, 3);
        RecordingContext context = context(props);
        StarRocksSinkTask task = started(sink, context, props);
        try {
            task.put(batch);
            // offset 1 was refused; 99 is no record this task holds: logged, not reported
            sink.answer(offsets(TP0, 3L), new RejectedRecord("test", 0, 1, "bad value"),
                    new RejectedRecord("test", 0, 99, "bad value"));
            // by the time preCommit answers Connect the offsets (which count offset 1 as done), it is reported
            assertEquals(offsets(TP0, 3L), task.preCommit(offsets(TP0, 3L)));
            assertEquals(Collections.singletonList(batch.get(1)), context.reported);
            assertEquals(Arrays.asList("put", "preCommit"), sink.calls); // one sink call answered both
            assertEquals(1L, metric("task-test-rejected", SinkTaskMetrics.DLQ_RECORDS));

            // the committed records are released: a late rejection of one of them cannot be reported any more
            sink.answer(offsets(TP0, 3L), new RejectedRecord("test", 0, 2, "bad value"));
            assertEquals(offsets(TP0, 3L), task.preCommit(offsets(TP0, 3L)));
            assertEquals(1, context.reported.size());
            assertEquals(1L, metric("task-test-rejected", SinkTaskMetrics.DLQ_RECORDS));

            // a record not yet covered by the answered offsets is still held, and reported
            List<SinkRecord> more = records(0, 3, 2);
            task.put(more);
            sink.answer(offsets(TP0, 3L), new RejectedRecord("test", 0, 4, "bad value"));
            assertEquals(offsets(TP0, 3L), task.preCommit(offsets(TP0, 5L)));
            assertEquals(Arrays.asList(batch.get(1), more.get(1)), context.reported);
            assertEquals(2L, metric("task-test-rejected", SinkTaskMetrics.DLQ_RECORDS));
        } finally {
            task.stop();
        }
    }

    @Test
    void withoutToleranceRejectedRecordsAreNotReported() throws Exception {
        FakeSink sink = new FakeSink();
        Map<String, String> props = props("task-test-no-tolerance");
        RecordingContext context = context(props);
        StarRocksSinkTask task = started(sink, context, props);
        try {
            task.put(records(0, 0, 2));
            sink.answer(offsets(TP0, 2L), new RejectedRecord("test", 0, 1, "bad value"));
            assertEquals(offsets(TP0, 2L), task.preCommit(offsets(TP0, 2L)));
            assertTrue(context.reported.isEmpty());
            assertEquals(0L, metric("task-test-no-tolerance", SinkTaskMetrics.DLQ_RECORDS));
        } finally {
            task.stop();
        }
    }

    @Test
    void openSeeksOnlyWhenTheSinkAnswersSome() {
        FakeSink sink = new FakeSink();
        Map<TopicPartition, Long> seek = new HashMap<>();
        seek.put(TP1, 42L);
        sink.seekAnswers.add(new HashMap<TopicPartition, Long>()); // at_least_once: no seek
        sink.seekAnswers.add(seek); // exactly_once: the register's offset
        Map<String, String> props = props("task-test-open");
        RecordingContext context = context(props);
        StarRocksSinkTask task = started(sink, context, props);
        try {
            task.open(Arrays.asList(TP0, TP1));
            assertTrue(context.seeks.isEmpty(), "sought " + context.seeks);
            task.open(Arrays.asList(TP0, TP1));
            assertEquals(Collections.singletonList(seek), context.seeks);
            task.open(Collections.<TopicPartition>emptyList()); // nothing to ask the sink
            assertEquals(Arrays.asList(Arrays.asList(TP0, TP1), Arrays.asList(TP0, TP1)), sink.opened);
            assertEquals(1, context.seeks.size());
        } finally {
            task.stop();
        }
    }

    @Test
    void closeForgetsThePartitionsInTheSinkAndTheirHeldRecords() {
        FakeSink sink = new FakeSink();
        Map<String, String> props = props("task-test-close");
        props.put("errors.tolerance", "all");
        RecordingContext context = context(props);
        StarRocksSinkTask task = started(sink, context, props);
        try {
            task.put(records(0, 0, 2));
            task.put(records(1, 0, 2));
            task.close(Collections.singletonList(TP0));
            task.close(Collections.<TopicPartition>emptyList()); // nothing to forget
            assertEquals(Collections.singletonList(Collections.singletonList(TP0)), sink.forgotten);
            // a revoked partition's records are no longer held; the others still are
            sink.answer(offsets(TP1, 2L), new RejectedRecord("test", 0, 1, "bad value"),
                    new RejectedRecord("test", 1, 1, "bad value"));
            task.preCommit(offsets(TP1, 2L));
            assertEquals(1, context.reported.size());
            assertEquals(TP1.partition(), (int) context.reported.get(0).kafkaPartition());
        } finally {
            task.stop();
        }
    }

    @Test
    void stopClosesTheSinkOnceAndTheTaskAsksNothingOfItAfterwards() throws Exception {
        FakeSink sink = new FakeSink();
        Map<String, String> props = props("task-test-stop");
        StarRocksSinkTask task = started(sink, context(props), props);
        ObjectName mbean = SinkTaskMetrics.objectName("task-test-stop", "0");
        assertTrue(MBS.isRegistered(mbean));
        task.put(records(0, 0, 1));
        task.stop();
        assertEquals(1, sink.closes);
        assertFalse(MBS.isRegistered(mbean));
        task.stop();
        assertEquals(1, sink.closes);
        // Connect may still call these around a stop: harmless, and the closed sink is not asked
        assertTrue(task.preCommit(offsets(TP0, 1L)).isEmpty());
        task.open(Collections.singletonList(TP0));
        task.close(Collections.singletonList(TP0));
        assertEquals(Arrays.asList("put", "close"), sink.calls);
        assertNull(sink.metrics());
    }

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
