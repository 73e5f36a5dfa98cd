package com.starrocks.connector.kafka.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.management.AttributeNotFoundException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class SinkTaskMetricsTest {
    static final MBeanServer MBS = ManagementFactory.getPlatformMBeanServer();

    static long[] values() {
        long[] v = new long[NativeMetrics.COUNT];
        for (int i = 0; i < v.length; i++) {
            v[i] = 100 + i;
        }
        v[NativeMetrics.LOADS] = 4;
        v[NativeMetrics.LOAD_LATENCY_TOTAL_NS] = 10_000_000L;
        v[NativeMetrics.LOAD_LATENCY_MAX_NS] = 4_500_000L;
        return v;
    }

    @Test
    void registersUnderTheDocumentedNameWithKebabCaseAttributes() throws Exception {
        SinkTaskMetrics m = new SinkTaskMetrics("my-sink", "3", SinkTaskMetricsTest::values);
        ObjectName name = new ObjectName("starrocks.connector.kafka:type=sink-task-metrics,connector=my-sink,task=3");
        assertEquals(name, m.name());
        m.register(LoggerFactory.getLogger(getClass()));
        try {
            assertTrue(MBS.isRegistered(name));
            List<String> attrs = new ArrayList<>();
            for (MBeanAttributeInfo a : MBS.getMBeanInfo(name).getAttributes()) {
                attrs.add(a.getName());
                assertTrue(a.getName().matches("[a-z]+(-[a-z]+)*"), a.getName());
                assertTrue(a.isReadable() && !a.isWritable(), a.getName());
            }
            for (String expected : Arrays.asList("records-received", "rows-loaded", "rows-filtered", "bytes-loaded",
                    "loads", "load-failures", "retries", "load-latency-avg-ms", "load-latency-max-ms",
                    "buffer-bytes", "buffer-bytes-peak", "buffer-budget-bytes", "oldest-buffered-record-age-ms",
                    "rejected-records", "decode-serialize-ns", "backpressure-wait-ns", "http-ns", "put-calls",
                    "native-allocated-bytes", "encode-ns", "native-put-ns", "dlq-records")) {
                assertTrue(attrs.contains(expected), expected + " in " + attrs);
            }
            assertEquals(100L + NativeMetrics.RECORDS_RECEIVED, MBS.getAttribute(name, "records-received"));
            assertEquals(100L + NativeMetrics.BUFFER_BYTES_PEAK, MBS.getAttribute(name, "buffer-bytes-peak"));
            assertEquals(100L + NativeMetrics.PUT_CALLS, MBS.getAttribute(name, "put-calls"));
            assertEquals(100L + NativeMetrics.NATIVE_ALLOCATED_BYTES, MBS.getAttribute(name, "native-allocated-bytes"));
            assertEquals(2.5, (Double) MBS.getAttribute(name, "load-latency-avg-ms"), 1e-9);
            assertEquals(4.5, (Double) MBS.getAttribute(name, "load-latency-max-ms"), 1e-9);
            m.addEncodeNanos(5);
            m.addNativePutNanos(7);
            m.addDlqRecords(2);
            assertEquals(5L, MBS.getAttribute(name, "encode-ns"));
            assertEquals(7L, MBS.getAttribute(name, "native-put-ns"));
            assertEquals(2L, MBS.getAttribute(name, "dlq-records"));
            assertEquals(3, MBS.getAttributes(name, new String[] {"loads", "nope", "retries", "dlq-records"}).size());
            assertThrows(AttributeNotFoundException.class, () -> m.getAttribute("nope"));
        } finally {
            m.unregister();
        }
        assertFalse(MBS.isRegistered(name));
        m.unregister(); // idempotent
    }

    @Test
    void aStaleMBeanOfTheSameNameIsReplaced() throws Exception {
        SinkTaskMetrics stale = new SinkTaskMetrics("dup", "0", () -> new long[NativeMetrics.COUNT]);
        stale.register(LoggerFactory.getLogger(getClass()));
        SinkTaskMetrics fresh = new SinkTaskMetrics("dup", "0", SinkTaskMetricsTest::values);
        fresh.register(LoggerFactory.getLogger(getClass()));
        try {
            assertEquals(100L, MBS.getAttribute(fresh.name(), "records-received"));
        } finally {
            fresh.unregister();
        }
        assertFalse(MBS.isRegistered(fresh.name()));
        stale.unregister(); // the name is gone already: harmless
    }

    @Test
    void oddNamesAreQuoted() throws Exception {
        ObjectName n = SinkTaskMetrics.objectName("a,b=c:d", "1");
        assertEquals("a,b=c:d", ObjectName.unquote(n.getKeyProperty("connector")));
        assertEquals("1", n.getKeyProperty("task"));
        assertEquals("plain.name-1", SinkTaskMetrics.objectName("plain.name-1", "0").getKeyProperty("connector"));
        assertEquals("", ObjectName.unquote(SinkTaskMetrics.objectName(null, "0").getKeyProperty("connector")));
    }

    @Test
    void readsAreCachedAndSurviveAClosedSink() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        AtomicReference<long[]> answer = new AtomicReference<>(values());
        SinkTaskMetrics m = new SinkTaskMetrics("c", "0", () -> {
            calls.incrementAndGet();
            return answer.get();
        });
        for (String a : SinkTaskMetrics.ATTRIBUTES) {
            m.getAttribute(a);
        }
        assertEquals(1, calls.get(), "one native call for a whole scrape");
        answer.set(null); // closed
        Thread.sleep(SinkTaskMetrics.CACHE_NANOS / 1_000_000 + 50);
        assertEquals(100L, m.getAttribute("records-received"), "the last values stay");
        assertEquals(2, calls.get());
        assertTrue(m.summary().contains("records-received=100"), m.summary());
        assertEquals(SinkTaskMetrics.ATTRIBUTES.size(), m.values().size());
        // an older library answering fewer slots reads as zeros for the missing ones
        answer.set(new long[] {7});
        m.refresh();
        assertEquals(7L, m.getAttribute("records-received"));
        assertEquals(0L, m.getAttribute("put-calls"));
    }
}
