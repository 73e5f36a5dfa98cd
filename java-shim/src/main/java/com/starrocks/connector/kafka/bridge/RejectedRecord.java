package com.starrocks.connector.kafka.bridge;

/** A record whose row StarRocks refused (or Rust could not write), by its original Kafka coordinates. */
public final class RejectedRecord {
    private final String topic;
    private final int partition;
    private final long offset;
    private final String reason;

    public RejectedRecord(String topic, int partition, long offset, String reason) {
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
        this.reason = reason;
    }

    public String topic() {
        return topic;
    }

    public int partition() {
        return partition;
    }

    public long offset() {
        return offset;
    }

    public String reason() {
        return reason;
    }

    @Override
    public String toString() {
        return topic + "-" + partition + "@" + offset + ": " + reason;
    }
}
