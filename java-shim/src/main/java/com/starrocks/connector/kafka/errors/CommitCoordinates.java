package com.starrocks.connector.kafka.errors;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * The Kafka coordinates Connect commits offsets in: the record's original topic, partition and offset (an SMT
 * may have changed the visible ones; KIP-793, Connect 3.6+), or the visible ones on older Connect.
 */
public final class CommitCoordinates {
    private static volatile boolean hasOriginal = true;

    private CommitCoordinates() {
    }

    public static String topic(SinkRecord r) {
        if (hasOriginal) {
            try {
                return r.originalTopic();
            } catch (NoSuchMethodError e) {
                hasOriginal = false;
            }
        }
        return r.topic();
    }

    public static Integer kafkaPartition(SinkRecord r) {
        if (hasOriginal) {
            try {
                return r.originalKafkaPartition();
            } catch (NoSuchMethodError e) {
                hasOriginal = false;
            }
        }
        return r.kafkaPartition();
    }

    public static long offset(SinkRecord r) {
        if (hasOriginal) {
            try {
                return r.originalKafkaOffset();
            } catch (NoSuchMethodError e) {
                hasOriginal = false;
            }
        }
        return r.kafkaOffset();
    }

    public static TopicPartition partition(SinkRecord r) {
        Integer p = kafkaPartition(r);
        return new TopicPartition(topic(r), p == null ? -1 : p);
    }
}
