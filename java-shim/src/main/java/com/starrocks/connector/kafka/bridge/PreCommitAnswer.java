package com.starrocks.connector.kafka.bridge;

import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * One {@link TaskSink#preCommit()} answer: the offsets safe to commit, in the records' original coordinates, and
 * the records refused since the last answer (only with {@code errors.tolerance=all}; else empty). The offsets
 * count the refused records as done, so they must reach the errant record reporter before the offsets reach
 * Connect.
 */
public final class PreCommitAnswer {
    private final Map<TopicPartition, OffsetAndMetadata> offsets;
    private final List<RejectedRecord> rejected;

    public PreCommitAnswer(Map<TopicPartition, OffsetAndMetadata> offsets, List<RejectedRecord> rejected) {
        this.offsets = offsets == null ? new HashMap<TopicPartition, OffsetAndMetadata>() : offsets;
        this.rejected = rejected == null ? Collections.<RejectedRecord>emptyList() : rejected;
    }

    /** The offsets to commit (the map preCommit answers Connect). */
    public Map<TopicPartition, OffsetAndMetadata> offsets() {
        return offsets;
    }

    /** The refused records, oldest first. */
    public List<RejectedRecord> rejected() {
        return rejected;
    }

    @Override
    public String toString() {
        return "offsets " + offsets + ", rejected " + rejected;
    }
}
