package com.starrocks.connector.kafka;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTaskContext;

/** A task context for tests: records seeks ({@code offset()}) and reported records; the rest does nothing. */
final class RecordingContext implements SinkTaskContext {
    final List<SinkRecord> reported = new ArrayList<>();
    final List<Map<TopicPartition, Long>> seeks = new ArrayList<>();
    private final Map<String, String> configs;
    private final Set<TopicPartition> assignment;

    RecordingContext(Map<String, String> configs, Set<TopicPartition> assignment) {
        this.configs = configs;
        this.assignment = assignment;
    }

    @Override
    public Map<String, String> configs() {
        return configs;
    }

    @Override
    public void offset(Map<TopicPartition, Long> offsets) {
        seeks.add(new HashMap<>(offsets));
    }

    @Override
    public void offset(TopicPartition tp, long offset) {
        seeks.add(Collections.singletonMap(tp, offset));
    }

    @Override
    public void timeout(long timeoutMs) {
    }

    @Override
    public Set<TopicPartition> assignment() {
        return assignment;
    }

    @Override
    public void pause(TopicPartition... partitions) {
    }

    @Override
    public void resume(TopicPartition... partitions) {
    }

    @Override
    public void requestCommit() {
    }

    @Override
    public ErrantRecordReporter errantRecordReporter() {
        return new ErrantRecordReporter() {
            @Override
            public Future<Void> report(SinkRecord record, Throwable error) {
                reported.add(record);
                return CompletableFuture.completedFuture(null);
            }
        };
    }
}
