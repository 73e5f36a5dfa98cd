package com.starrocks.connector.kafka.errors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.starrocks.connector.kafka.bridge.RejectedRecord;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class ErrantRecordsTest {
    static SinkRecord record(String topic, int partition, long offset) {
        return new SinkRecord(topic, partition, null, null, null, "v" + offset, offset);
    }

    @Test
    void reportsTheKeptRecordWithTheReasonAndReleasesCommittedOnes() {
        List<SinkRecord> reported = new ArrayList<>();
        List<Throwable> reasons = new ArrayList<>();
        ErrantRecords errant = new ErrantRecords((r, e) -> {
            reported.add(r);
            reasons.add(e);
            return CompletableFuture.completedFuture(null);
        });
        SinkRecord a = record("t", 0, 5);
        SinkRecord b = record("t", 0, 6);
        SinkRecord c = record("t", 1, 6);
        errant.keep(Arrays.asList(a, b, c));
        errant.report(Collections.singletonList(new RejectedRecord("t", 0, 6, "NULL value in non-nullable column 'id'")));
        assertEquals(1, reported.size());
        assertSame(b, reported.get(0));
        assertTrue(reasons.get(0).getMessage().contains("t-0@6") && reasons.get(0).getMessage().contains("non-nullable"));

        errant.release(Collections.singletonMap(new TopicPartition("t", 0), new OffsetAndMetadata(6)));
        assertEquals(2, errant.size(), "only t-0@5 is below the committed offset");
        errant.forget(Collections.singletonList(new TopicPartition("t", 1)));
        assertEquals(1, errant.size());
    }

    @Test
    void unknownRecordsAndAMissingReporterAreLoggedNotThrown() {
        ErrantRecords errant = new ErrantRecords(null);
        errant.keep(Collections.singletonList(record("t", 0, 1)));
        errant.report(Arrays.asList(new RejectedRecord("t", 0, 1, "x"), new RejectedRecord("t", 0, 99, "y")));
        assertEquals(1, errant.size());
    }
}
