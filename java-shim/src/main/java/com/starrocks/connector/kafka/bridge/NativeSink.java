package com.starrocks.connector.kafka.bridge;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * One native sink, named by its handle. Every call maps {@link NativeException} to the Connect exception of
 * its kind and drains the sink's log events afterwards. {@link #close()} is idempotent.
 */
public final class NativeSink implements TaskSink {
    /** Volatile: {@link #metrics()} runs on JMX threads. */
    private volatile long handle;

    private NativeSink(long handle) {
        this.handle = handle;
    }

    /** Opens a sink from the task's config document ({@code StarRocksSinkConfig.nativeConfig}). */
    public static NativeSink open(String config, int logLevel) {
        return new NativeSink(call(0, () -> NativeMethods.open(config, logLevel)));
    }

    /**
     * Why the StarRocks cluster of a connector config cannot take it, or null (see
     * {@link NativeMethods#clusterProblem}); the config as the document {@link #open} takes.
     */
    public static String clusterProblem(String config) {
        return call(0, () -> NativeMethods.clusterProblem(config));
    }

    @Override
    public void put(ByteBuffer batch, int length) {
        long h = live();
        call(h, () -> {
            NativeMethods.put(h, batch, length);
            return null;
        });
    }

    /**
     * Flushes and answers the offsets StarRocks acknowledged, in the records' original coordinates, with the records
     * refused since the last answer: one native call and one log drain (see {@link NativeMethods#preCommit}).
     */
    @Override
    public PreCommitAnswer preCommit() {
        long h = live();
        return decodePreCommit(call(h, () -> NativeMethods.preCommit(h)));
    }

    /** Forgets revoked partitions: their offsets are no longer answered (see {@link NativeMethods#forget}). */
    @Override
    public void forget(Collection<TopicPartition> partitions) {
        long h = live();
        String[] topics = new String[partitions.size()];
        int[] numbers = new int[partitions.size()];
        int i = 0;
        for (TopicPartition tp : partitions) {
            topics[i] = tp.topic();
            numbers[i++] = tp.partition();
        }
        call(h, () -> {
            NativeMethods.forget(h, topics, numbers);
            return null;
        });
    }

    /**
     * Takes assigned partitions (see {@link NativeMethods#openPartitions}) and answers the offsets Connect must seek
     * them to: only the partitions that need a seek (exactly_once), so the map is empty with at_least_once.
     */
    @Override
    public Map<TopicPartition, Long> openPartitions(Collection<TopicPartition> partitions) {
        long h = live();
        List<TopicPartition> order = new ArrayList<>(partitions);
        String[] topics = new String[order.size()];
        int[] numbers = new int[order.size()];
        for (int i = 0; i < order.size(); i++) {
            topics[i] = order.get(i).topic();
            numbers[i] = order.get(i).partition();
        }
        return seekOffsets(order, call(h, () -> NativeMethods.openPartitions(h, topics, numbers)));
    }

    /** Pairs {@code partitions} with the native answer (one offset each, -1: no seek); keeps those that seek. */
    static Map<TopicPartition, Long> seekOffsets(List<TopicPartition> partitions, long[] answer) {
        if (answer == null || answer.length != partitions.size()) {
            throw new ConnectException("Malformed open-partitions answer from the native sink: "
                    + (answer == null ? "none" : answer.length + " offsets") + " for " + partitions.size()
                    + " partitions");
        }
        Map<TopicPartition, Long> seek = new HashMap<>();
        for (int i = 0; i < answer.length; i++) {
            if (answer[i] >= 0) {
                seek.put(partitions.get(i), answer[i]);
            }
        }
        return seek;
    }

    /**
     * The native counters ({@code NativeMetrics} order), or null once closed. Any thread: the handle table makes a
     * read that races with {@link #close()} fail cleanly (null here) instead of touching a freed sink.
     */
    @Override
    public long[] metrics() {
        long h = handle;
        if (h == 0) {
            return null;
        }
        try {
            return NativeMethods.metrics(h);
        } catch (NativeException e) {
            return null; // closed meanwhile
        }
    }

    @Override
    public boolean isClosed() {
        return handle == 0;
    }

    @Override
    public void close() {
        long h = handle;
        if (h == 0) {
            return;
        }
        handle = 0;
        NativeLogs.drain(h);
        // the handle is dead after this call: what close itself logs is queued as no sink's (0)
        call(0, () -> {
            NativeMethods.close(h);
            return null;
        });
    }

    /** One native call's answer ({@code null} for a void call). */
    @FunctionalInterface
    private interface Call<T> {
        T run();
    }

    /**
     * Runs one native call: a {@link NativeException} becomes the Connect exception of its kind, and the log events
     * queued for {@code drain} (a handle, or 0 for no sink's) are written out whatever happened.
     */
    private static <T> T call(long drain, Call<T> c) {
        // a sink's call may block for long (an outage): its events are logged meanwhile, not when it returns
        Future<?> meanwhile = drain != 0 ? NativeLogs.drainWhileBlocked(drain) : null;
        try {
            return c.run();
        } catch (NativeException e) {
            throw e.toConnectException();
        } finally {
            if (meanwhile != null) {
                meanwhile.cancel(false);
            }
            NativeLogs.drain(drain);
        }
    }

    private long live() {
        if (handle == 0) {
            throw new ConnectException("The StarRocks native sink is closed");
        }
        return handle;
    }

    /**
     * Decodes the preCommit answer: the offsets section ({@link #decodeOffsets}' layout), then the rejected section
     * ({@link #decodeRejected}' layout), with nothing after them.
     */
    static PreCommitAnswer decodePreCommit(byte[] answer) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        List<RejectedRecord> rejected = new ArrayList<>();
        decodeAnswer(answer, "preCommit", buf -> {
            entries(buf, () -> readOffset(buf, answer, offsets));
            entries(buf, () -> readRejected(buf, answer, rejected));
        });
        return new PreCommitAnswer(offsets, rejected);
    }

    /** Decodes {@code u32 count, (topic:string partition:i32 next_offset:i64)*count}, little-endian. */
    static Map<TopicPartition, OffsetAndMetadata> decodeOffsets(byte[] answer) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        decodeAnswer(answer, "offsets", buf -> entries(buf, () -> readOffset(buf, answer, offsets)));
        return offsets;
    }

    /** Decodes {@code u32 count, (topic:string partition:i32 offset:i64 reason:string)*count}, little-endian. */
    static List<RejectedRecord> decodeRejected(byte[] answer) {
        List<RejectedRecord> out = new ArrayList<>();
        decodeAnswer(answer, "rejected-records", buf -> entries(buf, () -> readRejected(buf, answer, out)));
        return out;
    }

    private static void readOffset(ByteBuffer buf, byte[] array, Map<TopicPartition, OffsetAndMetadata> out) {
        out.put(new TopicPartition(string(buf, array), buf.getInt()), new OffsetAndMetadata(buf.getLong()));
    }

    private static void readRejected(ByteBuffer buf, byte[] array, List<RejectedRecord> out) {
        out.add(new RejectedRecord(string(buf, array), buf.getInt(), buf.getLong(), string(buf, array)));
    }

    /**
     * Reads a whole answer ({@code null}: nothing) with {@code sections}, which must use it all; a malformed answer
     * is a ConnectException naming {@code what}.
     */
    private static void decodeAnswer(byte[] answer, String what, java.util.function.Consumer<ByteBuffer> sections) {
        if (answer == null) {
            return;
        }
        try {
            ByteBuffer buf = ByteBuffer.wrap(answer).order(ByteOrder.LITTLE_ENDIAN);
            sections.accept(buf);
            if (buf.hasRemaining()) {
                throw new IllegalArgumentException(buf.remaining() + " trailing bytes");
            }
        } catch (RuntimeException e) {
            throw new ConnectException("Malformed " + what + " answer from the native sink (" + answer.length
                    + " bytes): " + e, e);
        }
    }

    /** One section: {@code u32 count}, then {@code entry} runs that many times. */
    private static void entries(ByteBuffer buf, Runnable entry) {
        long count = buf.getInt() & 0xFFFFFFFFL;
        for (long i = 0; i < count; i++) {
            entry.run();
        }
    }

    private static String string(ByteBuffer buf, byte[] array) {
        int len = buf.getInt();
        if (len < 0 || len > buf.remaining()) {
            throw new IllegalArgumentException("string length " + (len & 0xFFFFFFFFL) + " beyond the end");
        }
        String s = new String(array, buf.position(), len, StandardCharsets.UTF_8);
        buf.position(buf.position() + len);
        return s;
    }
}
