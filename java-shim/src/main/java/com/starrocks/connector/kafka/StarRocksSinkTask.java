package com.starrocks.connector.kafka;

import com.starrocks.connector.kafka.bridge.NativeLoader;
import com.starrocks.connector.kafka.bridge.NativeLogs;
import com.starrocks.connector.kafka.bridge.NativeSink;
import com.starrocks.connector.kafka.bridge.PreCommitAnswer;
import com.starrocks.connector.kafka.bridge.TaskSink;
import com.starrocks.connector.kafka.encode.RecordEncoder;
import com.starrocks.connector.kafka.encode.RecordEncodingException;
import com.starrocks.connector.kafka.errors.ErrantRecords;
import com.starrocks.connector.kafka.metrics.SinkTaskMetrics;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import org.apache.kafka.connect.sink.SinkTaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands each {@code put()} batch to the Rust core in one call and commits only the offsets it answers from
 * {@code preCommit()}: those whose rows StarRocks acknowledged.
 */
public class StarRocksSinkTask extends SinkTask {
    private static final Logger LOG = LoggerFactory.getLogger(StarRocksSinkTask.class);

    /** Opens the sink from the document {@link StarRocksSinkConfig#nativeConfig} writes; null: the native one. */
    private final Function<String, ? extends TaskSink> opener;
    private RecordEncoder encoder;
    private TaskSink sink;
    /** Records kept until loaded, so refused rows can reach the errant record reporter (errors.tolerance=all). */
    private ErrantRecords errant;
    /** A non-retriable error preCommit saw; the next put fails the task with it. */
    private RuntimeException failure;
    /** The task's JMX MBean (docs/metrics.md). */
    private SinkTaskMetrics metrics;
    /**
     * exactly_once: {@code bufferflush.intervalms}, else -1. That mode flushes on the task thread, inside put(), so
     * Connect must call put() at least this often even when no record comes: Connect's poll otherwise waits until
     * the next offset commit (offset.flush.interval.ms, a minute by default) before calling put() again.
     */
    private long wakeAfterMs = -1;

    /** The task Connect creates: {@link #start} loads the native library and opens a {@link NativeSink}. */
    public StarRocksSinkTask() {
        this(null);
    }

    /**
     * For tests (as Kafka's {@code FileStreamSinkTask} takes its {@code PrintStream}): {@link #start} opens the sink
     * with {@code opener}, given the config document the native sink would get, and loads no native library.
     */
    StarRocksSinkTask(Function<String, ? extends TaskSink> opener) {
        this.opener = opener;
    }

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        StarRocksSinkConfig config = new StarRocksSinkConfig(props); // a ConfigException names the key
        if (opener == null) {
            NativeLoader.load();
        }
        encoder = new RecordEncoder();
        sink = opener == null ? NativeSink.open(config.nativeConfig(props), NativeLogs.enabledLevel())
                : opener.apply(config.nativeConfig(props));
        if (NativeConfig.tolerateErrors(props)) { // as the document tells the sink: it hands bad records back
            errant = new ErrantRecords(reporter());
        }
        wakeAfterMs = config.exactlyOnce() ? config.getLong(StarRocksSinkConfig.BUFFER_INTERVAL_MS) : -1;
        TaskSink opened = sink;
        metrics = new SinkTaskMetrics(props.get("name"), props.get(StarRocksSinkConfig.TASK_ID), opened::metrics)
                .register(LOG);
        LOG.info("Started StarRocks sink task {} ({})", props.get(StarRocksSinkConfig.TASK_ID),
                config.getString(StarRocksSinkConfig.DELIVERY_GUARANTEE).toLowerCase(java.util.Locale.ROOT));
    }

    @Override
    public void put(Collection<SinkRecord> records) {
        if (failure != null) {
            throw failure;
        }
        Collection<SinkRecord> batch = records;
        ByteBuffer buffer;
        long started = System.nanoTime();
        while (true) {
            try {
                buffer = encoder.encode(batch);
                break;
            } catch (RecordEncodingException e) {
                ErrantRecordReporter reporter = reporter();
                if (reporter == null) {
                    throw e;
                }
                LOG.warn("Reporting a record that cannot be encoded: {}", e.getMessage());
                reporter.report(e.record(), e);
                metrics.addDlqRecords(1);
                batch = without(batch, e.record());
            }
        }
        if (errant != null) {
            errant.keep(batch);
        }
        long encoded = System.nanoTime();
        metrics.addEncodeNanos(encoded - started);
        try {
            sink.put(buffer, encoder.length());
        } finally {
            metrics.addNativePutNanos(System.nanoTime() - encoded);
        }
        if (wakeAfterMs > 0 && context != null) {
            context.timeout(wakeAfterMs); // one poll only: Connect forgets it once used
        }
        metrics.maybeLogSummary(LOG);
    }

    private ErrantRecordReporter reporter() {
        try {
            return context == null ? null : context.errantRecordReporter();
        } catch (NoSuchMethodError | NoClassDefFoundError e) {
            return null; // Connect before 2.6
        }
    }

    @Override
    public Map<TopicPartition, OffsetAndMetadata> preCommit(Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
        if (sink == null || sink.isClosed()) {
            return new HashMap<>();
        }
        try {
            // one native call answers both the offsets and the records refused since the last answer
            PreCommitAnswer answer = sink.preCommit();
            Map<TopicPartition, OffsetAndMetadata> safe = answer.offsets();
            if (errant != null) {
                // Before the offsets are answered: Connect waits for reported records before committing.
                metrics.addDlqRecords(errant.report(answer.rejected()));
                errant.release(safe);
            }
            return safe;
        } catch (RetriableException e) {
            // Throwing here would rewind the consumer and replay everything since the last commit:
            // commit nothing new instead, and let the next commit try again.
            LOG.warn("Committing no new offsets this time: {}", e.getMessage());
            return new HashMap<>();
        } catch (ConnectException e) {
            failure = e;
            throw e;
        }
    }

    /**
     * A rebalance gave this task {@code partitions} (also the first assignment, before any {@link #put}). The sink
     * takes them: with {@code delivery.guarantee=exactly_once} it fences each one in the register and answers where
     * Connect must resume it (the register, not Kafka's committed offsets, is the truth then); with at_least_once it
     * answers no seek. A failure here (e.g. StarRocks unreachable) fails the task, as Connect treats an exception
     * from {@code open()}.
     */
    @Override
    public void open(Collection<TopicPartition> partitions) {
        if (sink == null || sink.isClosed() || partitions.isEmpty()) {
            return;
        }
        seek(context, partitions, sink.openPartitions(partitions));
    }

    /** Asks Connect to resume the partitions in {@code offsets} there; logs what was opened either way. */
    static void seek(SinkTaskContext context, Collection<TopicPartition> partitions, Map<TopicPartition, Long> offsets) {
        LOG.info("Opened partitions {}; seeking {}", partitions, offsets.isEmpty() ? "none" : offsets);
        if (!offsets.isEmpty()) {
            context.offset(offsets);
        }
    }

    /**
     * A rebalance took {@code partitions} away. Connect called {@link #preCommit} just before (unless they were
     * lost), which loaded their rows and answered their offsets; here the sink forgets them, so that when one
     * comes back (often to this very task) it starts from the position Connect gives it, not from what this task
     * saw before another task moved it on.
     */
    @Override
    public void close(Collection<TopicPartition> partitions) {
        if (errant != null) {
            errant.forget(partitions);
        }
        if (sink != null && !sink.isClosed() && !partitions.isEmpty()) {
            sink.forget(partitions);
        }
    }

    @Override
    public void stop() {
        if (metrics != null && sink != null && !sink.isClosed()) {
            // before the sink closes: the summary reads it, and JMX stops reading it
            metrics.logSummary(LOG);
            metrics.unregister();
        }
        if (sink != null && !sink.isClosed()) { // a second stop() closes nothing again
            sink.close();
        }
    }

    private static List<SinkRecord> without(Collection<SinkRecord> batch, SinkRecord skipped) {
        List<SinkRecord> rest = new ArrayList<>(batch.size());
        for (SinkRecord r : batch) {
            if (r != skipped) {
                rest.add(r);
            }
        }
        return rest;
    }
}
