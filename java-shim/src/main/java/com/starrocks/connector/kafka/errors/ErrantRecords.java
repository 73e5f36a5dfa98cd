package com.starrocks.connector.kafka.errors;

import com.starrocks.connector.kafka.bridge.RejectedRecord;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * With {@code errors.tolerance=all}, StarRocks may refuse a row long after {@code put()} returned, when its
 * load runs. Connect's reporter needs the original {@link SinkRecord}, so the records are kept here, by their
 * original Kafka coordinates, until the offsets that cover them are committed; rejected ones are then handed to
 * the reporter (or logged when Connect has none). Only used when bad records are tolerated: otherwise nothing
 * is kept.
 */
public final class ErrantRecords {
    private static final Logger LOG = LoggerFactory.getLogger(ErrantRecords.class);

    private final ErrantRecordReporter reporter;
    private final Map<TopicPartition, ArrayDeque<SinkRecord>> kept = new HashMap<>();

    public ErrantRecords(ErrantRecordReporter reporter) {
        this.reporter = reporter;
    }

    public void keep(Collection<SinkRecord> records) {
        for (SinkRecord r : records) {
            kept.computeIfAbsent(CommitCoordinates.partition(r), tp -> new ArrayDeque<>()).add(r);
        }
    }

    /** Reports each rejected record with StarRocks' reason; answers how many reached the reporter. */
    public int report(List<RejectedRecord> rejected) {
        int reported = 0;
        for (RejectedRecord rej : rejected) {
            SinkRecord record = find(new TopicPartition(rej.topic(), rej.partition()), rej.offset());
            DataException reason = new DataException("StarRocks refused the row of " + rej.topic() + "-"
                    + rej.partition() + "@" + rej.offset() + ": " + rej.reason());
            if (record == null) {
                LOG.error("A rejected record is no longer held and cannot be reported: {}", reason.getMessage());
            } else if (reporter == null) {
                LOG.warn("Skipping a record (errors.tolerance=all, no errant record reporter): {}", reason.getMessage());
            } else {
                reporter.report(record, reason);
                reported++;
            }
        }
        return reported;
    }

    /** Drops the records below the committed offsets: they are loaded or reported. */
    public void release(Map<TopicPartition, OffsetAndMetadata> committed) {
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : committed.entrySet()) {
            ArrayDeque<SinkRecord> q = kept.get(e.getKey());
            while (q != null && !q.isEmpty() && CommitCoordinates.offset(q.peekFirst()) < e.getValue().offset()) {
                q.pollFirst();
            }
        }
    }

    /** Forgets partitions Connect took away. */
    public void forget(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            kept.remove(tp);
        }
    }

    int size() {
        int n = 0;
        for (ArrayDeque<SinkRecord> q : kept.values()) {
            n += q.size();
        }
        return n;
    }

    private SinkRecord find(TopicPartition tp, long offset) {
        ArrayDeque<SinkRecord> q = kept.get(tp);
        if (q == null) {
            return null;
        }
        // Rejections are rare: a scan is fine. The newest record with that offset wins after a rewind.
        SinkRecord found = null;
        for (Iterator<SinkRecord> it = q.iterator(); it.hasNext(); ) {
            SinkRecord r = it.next();
            if (CommitCoordinates.offset(r) == offset) {
                found = r;
            }
        }
        return found;
    }
}
