package com.starrocks.connector.kafka.bridge;

import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * What {@code StarRocksSinkTask} needs from its sink: {@link NativeSink} in a worker, a fake in the task's unit
 * tests. Called from the task thread only, except {@link #metrics()} (JMX threads). Failures are Connect
 * exceptions of their kind ({@code RetriableException}, {@code DataException}, ...).
 */
public interface TaskSink extends AutoCloseable {

    /** One {@code put()} batch: {@code length} bytes of {@code batch} in the boundary format. */
    void put(ByteBuffer batch, int length);

    /**
     * Flushes, waits for the loads, and answers the offsets StarRocks acknowledged together with the records it
     * refused since the last answer (which those offsets count as done: report them before committing).
     */
    PreCommitAnswer preCommit();

    /** Takes the partitions a rebalance assigned; answers the offsets Connect must seek to (only those that seek). */
    Map<TopicPartition, Long> openPartitions(Collection<TopicPartition> partitions);

    /** Forgets the partitions a rebalance revoked. */
    void forget(Collection<TopicPartition> partitions);

    /** The native counters ({@code NativeMetrics} order), or null once closed. Any thread. */
    long[] metrics();

    boolean isClosed();

    /** Stops and frees the sink; idempotent. */
    @Override
    void close();
}
