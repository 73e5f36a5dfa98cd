package com.starrocks.connector.kafka.bridge;

import java.nio.ByteBuffer;

/**
 * The JNI surface of the Rust core (see docs/architecture.md). Called only from the task thread (except {@link #clusterProblem} and
 * {@link #metrics}), only after {@link NativeLoader#load()}. Every method throws {@link NativeException} on error.
 */
public final class NativeMethods {
    private NativeMethods() {
    }

    /**
     * Builds a sink from the task's config document (JSON, {@code StarRocksSinkConfig.nativeConfig}:
     * tests/vectors/native_config.json); {@code logLevel} is the most verbose enabled level, 1 ERROR .. 5 TRACE.
     */
    public static native long open(String config, int logLevel);

    /**
     * For the connector's validation, from any thread and without a sink: why the StarRocks cluster of this config
     * cannot take it (with {@code delivery.guarantee=exactly_once}: older than 4.0), or null. Null too when the
     * cluster cannot be reached within 10 s; the task checks again on start. {@code config}: the document
     * {@link #open} takes.
     */
    public static native String clusterProblem(String config);

    /** One {@code put()} batch in the boundary format: {@code length} bytes of the direct buffer {@code batch}. */
    public static native void put(long handle, ByteBuffer batch, int length);

    /**
     * Flushes and answers, in one array, the acknowledged offsets {@code u32 count, (topic:string partition:i32
     * next_offset:i64)*} followed by the records refused since the last answer {@code u32 count, (topic:string
     * partition:i32 offset:i64 reason:string)*}: rows StarRocks refused or Rust could not write, only with
     * {@code errors.tolerance=all} (else the count is 0). The offsets count those records as done: the task reports
     * them to the errant record reporter before it answers the offsets to Connect.
     */
    public static native byte[] preCommit(long handle);

    /**
     * Forgets the partitions {@code (topics[i], partitions[i])} Connect revoked: no offsets are answered for them
     * until records of them come again (a rebalance's {@code close(partitions)}).
     */
    public static native void forget(long handle, String[] topics, int[] partitions);

    /**
     * Takes the partitions {@code (topics[i], partitions[i])} Connect assigned (a rebalance's
     * {@code open(partitions)}, possibly before any {@link #put}). With {@code delivery.guarantee=exactly_once} each
     * is fenced (ownership taken in the register table) and answered with the offset Connect must seek it to;
     * otherwise, and for a partition that needs no seek, the answer is -1. One answer per partition, same order.
     */
    public static native long[] openPartitions(long handle, String[] topics, int[] partitions);

    /** Queued log events {@code u32 count, (level:u8 message:string)*}, or null when none; handle 0: no sink's. */
    public static native byte[] drainLogs(long handle);

    /**
     * The sink's counters, in the order of {@code com.starrocks.connector.kafka.metrics.NativeMetrics}. Safe from
     * any thread, also racing with {@link #close}: a closed handle throws, it never reads freed memory.
     */
    public static native long[] metrics(long handle);

    /** Stops and frees the sink; the handle is dead afterwards. */
    public static native void close(long handle);

    /** The names of {@link #metrics}' slots, in order (native {@code metrics::NAMES}). */
    public static native String[] metricNames();
}
