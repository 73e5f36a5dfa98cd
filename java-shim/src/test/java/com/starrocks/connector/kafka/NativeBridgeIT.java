package com.starrocks.connector.kafka;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.starrocks.connector.kafka.bridge.NativeException;
import com.starrocks.connector.kafka.bridge.NativeLoader;
import com.starrocks.connector.kafka.bridge.NativeLogs;
import com.starrocks.connector.kafka.bridge.NativeMethods;
import com.starrocks.connector.kafka.bridge.NativeSink;
import com.starrocks.connector.kafka.bridge.PreCommitAnswer;
import com.starrocks.connector.kafka.bridge.RejectedRecord;
import com.starrocks.connector.kafka.encode.RecordEncoder;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * JNI round trip against a built library: {@code mvn verify -Dstarrocks.connector.native.lib=/abs/path/lib...}.
 * Skipped without the property; with it, a library that does not load fails the run.
 */
@EnabledIfSystemProperty(named = NativeLoader.LIB_PROPERTY, matches = ".+")
class NativeBridgeIT {
    /** Nothing listens on port 1: connections are refused at once. */
    static final String UNREACHABLE = "127.0.0.1:1";

    @BeforeAll
    static void load() {
        String path = NativeLoader.load(); // throws, so the run fails, when the library does not load
        assertTrue(path.endsWith(new java.io.File(System.getProperty(NativeLoader.LIB_PROPERTY)).getName()), path);
    }

    static Map<String, String> config() {
        Map<String, String> props = new HashMap<>();
        props.put("name", "native-bridge-it");
        props.put("connector.class", StarRocksSinkConnector.class.getName());
        props.put("topics", "test");
        props.put("task.id", "0");
        props.put("starrocks.http.url", UNREACHABLE);
        props.put("starrocks.database.name", "example_db");
        props.put("starrocks.username", "root");
        props.put("starrocks.password", "");
        props.put("starrocks.topic2table.map", "test:test_tbl");
        props.put("bufferflush.intervalms", "3600000"); // loads start only when preCommit flushes
        props.put("connect.timeoutms", "100");
        props.put("sink.timeoutms", "1000");
        props.put("sink.maxretries", "0");
        props.put("sink.retry.backoffms", "0");
        props.put("sink.properties.strip_outer_array", "true");
        return props;
    }

    static List<SinkRecord> batch(int n) {
        List<SinkRecord> records = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, Object> value = new LinkedHashMap<>();
            value.put("id", (long) i);
            value.put("city", "city " + i);
            records.add(new SinkRecord("test", 0, null, null, null, value, i));
        }
        return records;
    }

    static String lower(Throwable t) {
        return String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
    }

    /** preCommit until the failed load surfaces; answers before that must not acknowledge unloaded offsets. */
    static ConnectException awaitLoadFailure(NativeSink sink) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            try {
                Map<TopicPartition, OffsetAndMetadata> answer = sink.preCommit().offsets();
                assertFalse(answer.containsKey(new TopicPartition("test", 0)),
                        "offsets acknowledged though StarRocks is unreachable: " + answer);
            } catch (ConnectException e) {
                return e;
            }
            Thread.sleep(200);
        }
        return fail("a load to an unreachable StarRocks never failed");
    }

    @Test
    void theShimsMetricNamesAreTheLibrarys() {
        assertEquals(java.util.Arrays.asList(NativeMethods.metricNames()),
                java.util.Arrays.asList(com.starrocks.connector.kafka.metrics.NativeMetrics.names()));
    }

    @Test
    void drainingLogsOfNoSinkWorks() {
        NativeLogs.drain(0);
    }

    @Test
    void unusableConfigIsAConfigExceptionNamingTheKey() {
        Map<String, String> props = config();
        props.put("bufferflush.maxbytes", "lots");
        ConfigException e = assertThrows(ConfigException.class,
                () -> NativeSink.open(document(props), NativeLogs.enabledLevel()));
        assertTrue(e.getMessage().contains("bufferflush.maxbytes"), e.getMessage());
    }

    /**
     * The core reads the shim's document and nothing else: one that misses a field, has one too many, or is no JSON
     * at all is the shim's bug, refused when the sink opens (and no cluster problem when validating).
     */
    @Test
    void aDocumentTheCoreCannotReadIsRefused() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode missing =
                (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(document(config()));
        missing.remove("sink.timeoutms");
        com.fasterxml.jackson.databind.node.ObjectNode extra =
                (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(document(config()));
        extra.put("bufferflush.maxbytes.typo", 1);
        for (String bad : new String[] {missing.toString(), extra.toString(), "not json", "{}"}) {
            ConnectException e = assertThrows(ConnectException.class,
                    () -> NativeSink.open(bad, NativeLogs.enabledLevel()).close(), bad);
            assertTrue(e.getCause() instanceof NativeException, String.valueOf(e.getCause()));
            assertNull(NativeSink.clusterProblem(bad));
        }
    }

    @Test
    void unreachableStarRocksFailsTheLoadWithAClearMessage() throws Exception {
        RecordEncoder encoder = new RecordEncoder();
        try (NativeSink sink = NativeSink.open(document(config()), NativeLogs.enabledLevel())) {
            ByteBuffer buf = encoder.encode(batch(3));
            sink.put(buf, encoder.length());
            ConnectException e = awaitLoadFailure(sink);
            assertTrue(lower(e).contains("127.0.0.1"), "the message should name the address: " + e.getMessage());
            assertTrue(e.getCause() instanceof NativeException, String.valueOf(e.getCause()));
        }
    }

    @Test
    void metricsAreReadableFromAnotherThreadAndAClosedHandleIsAnError() throws Exception {
        RecordEncoder encoder = new RecordEncoder();
        NativeSink sink = NativeSink.open(document(config()), NativeLogs.enabledLevel());
        ByteBuffer buf = encoder.encode(batch(5));
        sink.put(buf, encoder.length());
        // put hands the batch to the serializer thread; the buffer gauge moves last, when it is done
        long[] v = CompletableFuture.supplyAsync(sink::metrics).get();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (v != null && v[com.starrocks.connector.kafka.metrics.NativeMetrics.BUFFER_BYTES] == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
            v = CompletableFuture.supplyAsync(sink::metrics).get();
        }
        assertNotNull(v);
        assertTrue(v.length >= com.starrocks.connector.kafka.metrics.NativeMetrics.COUNT, "" + v.length);
        assertEquals(5L, v[com.starrocks.connector.kafka.metrics.NativeMetrics.RECORDS_RECEIVED]);
        assertEquals(1L, v[com.starrocks.connector.kafka.metrics.NativeMetrics.PUT_CALLS]);
        assertTrue(v[com.starrocks.connector.kafka.metrics.NativeMetrics.BUFFER_BYTES] > 0);
        assertEquals(2L * 94_371_840, v[com.starrocks.connector.kafka.metrics.NativeMetrics.BUFFER_BUDGET_BYTES]);
        // process-wide: the library's heap holds at least this sink's buffered rows
        assertTrue(v[com.starrocks.connector.kafka.metrics.NativeMetrics.NATIVE_ALLOCATED_BYTES]
                >= v[com.starrocks.connector.kafka.metrics.NativeMetrics.BUFFER_BYTES], java.util.Arrays.toString(v));
        sink.close();
        assertEquals(null, sink.metrics());
        assertThrows(NativeException.class, () -> NativeMethods.metrics(123_456_789L));
    }

    @Test
    void malformedBatchIsRefused() {
        try (NativeSink sink = NativeSink.open(document(config()), NativeLogs.enabledLevel())) {
            ByteBuffer bad = ByteBuffer.allocateDirect(16);
            bad.put("NOPE".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(0);
            // Rust decodes off the task thread: the refusal comes with the next call, and stays
            sink.put(bad, 8);
            ConnectException e = assertThrows(ConnectException.class, sink::preCommit);
            assertTrue(lower(e).contains("magic"), e.getMessage());
            ConnectException again = assertThrows(ConnectException.class, () -> sink.put(bad, 8));
            assertTrue(lower(again).contains("magic"), again.getMessage());
        }
    }

    @Test
    void closeIsIdempotentAndAClosedHandleIsAnError() {
        NativeSink sink = NativeSink.open(document(config()), NativeLogs.enabledLevel());
        sink.close();
        sink.close();
        assertTrue(sink.isClosed());
        assertThrows(ConnectException.class, sink::preCommit);

        long handle = NativeMethods.open(document(config()), NativeLogs.enabledLevel());
        NativeMethods.close(handle);
        NativeException stale = assertThrows(NativeException.class, () -> NativeMethods.close(handle));
        assertTrue(stale.kind() >= NativeException.CONFIG && stale.kind() <= NativeException.INTERNAL, stale.toString());
        assertNotNull(stale.getMessage());
        assertThrows(NativeException.class, () -> NativeMethods.preCommit(handle));
    }

    static List<SinkRecord> tombstones(long first, int n) {
        List<SinkRecord> records = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            records.add(new SinkRecord("test", 0, null, null, null, null, first + i));
        }
        return records;
    }

    /** A rebalance's close(partitions): a revoked partition is no longer answered, and starts clean when it is back. */
    @Test
    void revokedPartitionsAreForgotten() {
        RecordEncoder encoder = new RecordEncoder();
        TopicPartition tp = new TopicPartition("test", 0);
        try (NativeSink sink = NativeSink.open(document(config()), NativeLogs.enabledLevel())) {
            // tombstones make no rows, so their offsets are done without a load (StarRocks is unreachable here)
            sink.put(encoder.encode(tombstones(0, 3)), encoder.length());
            assertEquals(3L, sink.preCommit().offsets().get(tp).offset());
            sink.forget(Collections.singletonList(tp));
            assertTrue(sink.preCommit().offsets().isEmpty(), "a revoked partition's old position is still answered");
            sink.put(encoder.encode(tombstones(10, 1)), encoder.length());
            assertEquals(11L, sink.preCommit().offsets().get(tp).offset());
            sink.forget(Collections.<TopicPartition>emptyList());
            sink.forget(Collections.singletonList(new TopicPartition("never-seen", 7)));
            assertEquals(11L, sink.preCommit().offsets().get(tp).offset());
        }
    }

    /** A record whose value Rust cannot write (NaN is no JSON number), at {@code offset} of test-0. */
    static SinkRecord notARow(long offset) {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("id", Double.NaN);
        return new SinkRecord("test", 0, null, null, null, value, offset);
    }

    /** Tombstone 0, a record Rust cannot write at 1, tombstone 2: no row to load, one record rejected. */
    static List<SinkRecord> withNotARow() {
        List<SinkRecord> batch = tombstones(0, 1);
        batch.add(notARow(1));
        batch.addAll(tombstones(2, 1));
        return batch;
    }

    /** The preCommit answer is the offsets section then the rejected section, each {@code u32 count, entries}. */
    @Test
    void thePreCommitAnswerIsTheOffsetsThenTheRejectedRecords() {
        Map<String, String> props = config();
        props.put("errors.tolerance", "all");
        long handle = NativeMethods.open(document(props), NativeLogs.enabledLevel());
        try {
            assertArrayEquals(new byte[8], NativeMethods.preCommit(handle)); // no offsets, no rejected
            RecordEncoder encoder = new RecordEncoder();
            NativeMethods.put(handle, encoder.encode(tombstones(0, 1)), encoder.length());
            assertArrayEquals(le(1, "test", 0, 1L, 0), NativeMethods.preCommit(handle));
            NativeMethods.put(handle, encoder.encode(Collections.singletonList(notARow(1))), encoder.length());
            byte[] answer = NativeMethods.preCommit(handle);
            ByteBuffer buf = ByteBuffer.wrap(answer).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            byte[] offsets = le(1, "test", 0, 2L);
            byte[] head = new byte[offsets.length];
            buf.get(head);
            assertArrayEquals(offsets, head);
            assertEquals(1, buf.getInt()); // one rejected record
            byte[] topic = le("test");
            byte[] rest = new byte[topic.length + 12];
            buf.get(rest);
            assertArrayEquals(le("test", 0, 1L), rest);
            int reason = buf.getInt();
            assertEquals(reason, buf.remaining(), "the reason is the last thing in the answer");
            assertArrayEquals(le(1, "test", 0, 2L, 0), NativeMethods.preCommit(handle)); // drained
        } finally {
            NativeLogs.drain(handle);
            NativeMethods.close(handle);
            NativeLogs.drain(0);
        }
    }

    /** Little-endian {@code Integer}, {@code Long} and strings ({@code u32 length} + UTF-8), as the answers are. */
    static byte[] le(Object... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (Object p : parts) {
            ByteBuffer b;
            if (p instanceof Integer) {
                b = ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt((Integer) p);
            } else if (p instanceof Long) {
                b = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong((Long) p);
            } else {
                byte[] str = ((String) p).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                b = ByteBuffer.allocate(4 + str.length).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(str.length)
                        .put(str);
            }
            out.write(b.array(), 0, b.capacity());
        }
        return out.toByteArray();
    }

    /** errors.tolerance=all: the records refused come in the same answer as the offsets that count them done. */
    @Test
    void preCommitAnswersTheRejectedRecordsWithTheOffsets() {
        Map<String, String> props = config();
        props.put("errors.tolerance", "all");
        RecordEncoder encoder = new RecordEncoder();
        TopicPartition tp = new TopicPartition("test", 0);
        try (NativeSink sink = NativeSink.open(document(props), NativeLogs.enabledLevel())) {
            sink.put(encoder.encode(withNotARow()), encoder.length());
            PreCommitAnswer answer = sink.preCommit();
            assertEquals(3L, answer.offsets().get(tp).offset());
            assertEquals(1, answer.offsets().size());
            assertEquals(1, answer.rejected().size(), answer.toString());
            RejectedRecord r = answer.rejected().get(0);
            assertEquals("test", r.topic());
            assertEquals(0, r.partition());
            assertEquals(1L, r.offset());
            assertFalse(r.reason().isEmpty());
            PreCommitAnswer next = sink.preCommit();
            assertTrue(next.rejected().isEmpty(), "a rejected record was answered twice: " + next);
            assertEquals(3L, next.offsets().get(tp).offset());
        }
    }

    /** The task reports what the sink rejected before preCommit answers the offsets that count it done. */
    @Test
    void theTaskReportsRejectedRecordsBeforeAnsweringTheirOffsets() {
        Map<String, String> props = config();
        props.put("errors.tolerance", "all");
        TopicPartition tp = new TopicPartition("test", 0);
        RecordingContext context = new RecordingContext(props, Collections.singleton(tp));
        StarRocksSinkTask task = new StarRocksSinkTask();
        task.initialize(context);
        task.start(props);
        try {
            List<SinkRecord> batch = withNotARow();
            task.put(batch);
            assertTrue(context.reported.isEmpty(), "reported before the sink wrote anything: " + context.reported);
            Map<TopicPartition, OffsetAndMetadata> offsets = task.preCommit(new HashMap<TopicPartition, OffsetAndMetadata>());
            assertEquals(Collections.singletonMap(tp, new OffsetAndMetadata(3L)), offsets);
            assertEquals(Collections.singletonList(batch.get(1)), context.reported);
            assertEquals(Collections.singletonMap(tp, new OffsetAndMetadata(3L)),
                    task.preCommit(new HashMap<TopicPartition, OffsetAndMetadata>()));
            assertEquals(1, context.reported.size());
        } finally {
            task.stop();
        }
    }

    /** at_least_once: opening partitions fences nothing and seeks nothing; the answer is one -1 per partition. */
    @Test
    void openPartitionsAtLeastOnceSeeksNothing() {
        long handle = NativeMethods.open(document(config()), NativeLogs.enabledLevel());
        try {
            assertArrayEquals(new long[] {-1L, -1L, -1L}, NativeMethods.openPartitions(handle,
                    new String[] {"test", "test", "other"}, new int[] {0, 1, 0}));
            assertArrayEquals(new long[0], NativeMethods.openPartitions(handle, new String[0], new int[0]));
        } finally {
            NativeMethods.close(handle);
        }
        assertThrows(NativeException.class, () -> NativeMethods.openPartitions(handle, new String[] {"test"},
                new int[] {0}));
        try (NativeSink sink = NativeSink.open(document(config()), NativeLogs.enabledLevel())) {
            assertTrue(sink.openPartitions(java.util.Arrays.asList(new TopicPartition("test", 0),
                    new TopicPartition("test", 1))).isEmpty());
        }
    }

    /** exactly_once checks the StarRocks version over the query port when the sink opens, before any open(). */
    @Test
    void exactlyOnceWithStarRocksUnreachableFailsWhenTheSinkOpens() {
        Map<String, String> props = config();
        props.put("delivery.guarantee", "exactly_once");
        props.put("starrocks.query.address", UNREACHABLE);
        ConnectException e = assertThrows(ConnectException.class, () -> NativeSink.open(document(props),
                NativeLogs.enabledLevel()).close());
        assertTrue(lower(e).contains("exactly_once"), e.getMessage());
    }

    /**
     * Validation asks the cluster through the library; one that cannot be reached passes validation (the task
     * checks on start), and so does at_least_once, which asks nothing.
     */
    @Test
    void validationPassesAnUnreachableClusterAndAtLeastOnce() {
        Map<String, String> props = config();
        props.remove("task.id");
        props.put("delivery.guarantee", "EXACTLY_ONCE");
        props.put("starrocks.query.address", UNREACHABLE);
        assertNull(NativeSink.clusterProblem(document(props)));
        assertTrue(new StarRocksSinkConnector().validate(props).configValues().stream()
                .allMatch(v -> v.errorMessages().isEmpty()));
        props.put("delivery.guarantee", "at_least_once");
        assertNull(NativeSink.clusterProblem(document(props)));
    }

    @Test
    void aPanicInRustIsAnExceptionAndTheSinkStaysDead() {
        Map<String, String> props = config();
        props.put("testing.panic.on.put", "true");
        RecordEncoder encoder = new RecordEncoder();
        try (NativeSink sink = NativeSink.open(document(props), NativeLogs.enabledLevel())) {
            ByteBuffer buf = encoder.encode(batch(1));
            ConnectException first = assertThrows(ConnectException.class, () -> sink.put(buf, encoder.length()));
            assertTrue(lower(first).contains("panic"), first.getMessage());
            assertEquals(NativeException.INTERNAL, ((NativeException) first.getCause()).kind());
            ConnectException again = assertThrows(ConnectException.class, sink::preCommit);
            assertTrue(lower(again).contains("restart the task"), again.getMessage());
        }
        // the JVM and the library are fine: a new sink works
        try (NativeSink sink = NativeSink.open(document(config()), NativeLogs.enabledLevel())) {
            assertFalse(sink.isClosed());
        }
    }

    @Test
    void taskLifecycle() throws Exception {
        StarRocksSinkTask task = new StarRocksSinkTask();
        RecordingContext context = new RecordingContext(config(), Collections.singleton(new TopicPartition("test", 0)));
        task.initialize(context);
        task.start(config());
        try {
            // Connect opens the assigned partitions before the first put; at_least_once seeks nothing
            task.open(Collections.singletonList(new TopicPartition("test", 0)));
            assertTrue(context.seeks.isEmpty(), "at_least_once sought " + context.seeks);
            task.put(batch(5));
            task.put(Collections.<SinkRecord>emptyList());
            // an unencodable record goes to the errant record reporter; the rest of the batch is kept
            List<SinkRecord> withBad = batch(2);
            withBad.add(new SinkRecord("test", 0, null, null, null, new Object(), 9));
            task.put(withBad);
            assertEquals(1, context.reported.size());
            Map<TopicPartition, OffsetAndMetadata> offsets;
            try {
                offsets = task.preCommit(new HashMap<TopicPartition, OffsetAndMetadata>());
                assertTrue(offsets.isEmpty(), "nothing was loaded, yet preCommit answered " + offsets);
            } catch (ConnectException e) {
                // a non-retriable load failure: the next put fails the task with it
                assertThrows(ConnectException.class, () -> task.put(batch(1)));
            }
            // a rebalance revokes the partition (also harmless after a failed load)
            task.close(Collections.singletonList(new TopicPartition("test", 0)));
        } finally {
            task.stop();
            task.stop();
        }
    }

    /** The config document the shim opens the sink with, for {@code props} (a ConfigException when invalid). */
    static String document(Map<String, String> props) {
        return new StarRocksSinkConfig(props).nativeConfig(props);
    }
}
