package com.starrocks.connector.kafka.encode;

import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;

/** A record the encoder cannot write; names the record's coordinates and, through the cause, the value's class. */
public class RecordEncodingException extends DataException {
    private static final long serialVersionUID = 1L;
    private final transient SinkRecord record;

    public RecordEncodingException(SinkRecord record, String part, Throwable cause) {
        super("Cannot encode the " + part + " of the record at topic=" + record.topic() + " partition="
                + record.kafkaPartition() + " offset=" + record.kafkaOffset() + ": " + cause.getMessage(), cause);
        this.record = record;
    }

    public SinkRecord record() {
        return record;
    }
}
