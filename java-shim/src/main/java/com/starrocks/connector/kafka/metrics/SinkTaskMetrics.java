package com.starrocks.connector.kafka.metrics;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import org.slf4j.Logger;

/**
 * One sink task's metrics as a JMX MBean {@code starrocks.connector.kafka:type=sink-task-metrics,connector=<name>,
 * task=<id>}, with kebab-case attribute names as Kafka's own metrics have (docs/metrics.md). Native values come
 * from one JNI call per read, cached for {@link #CACHE_NANOS} so a scraper reading every attribute costs one call;
 * Java-side values are counters the task adds to.
 *
 * <p>Thread safety: JMX reads come from other threads than the task's. The native source answers null once the
 * sink is closed (the handle table turns a read racing with close into an error, never a freed pointer); the last
 * values read are kept and shown then.
 */
public final class SinkTaskMetrics implements DynamicMBean {
    public static final String DOMAIN = "starrocks.connector.kafka";
    public static final String TYPE = "sink-task-metrics";
    static final long CACHE_NANOS = 200_000_000L;
    static final long SUMMARY_INTERVAL_NANOS = 60_000_000_000L;

    /** Attributes in the order MBeanInfo lists them: every native slot, then the derived and Java ones. */
    static final List<String> ATTRIBUTES;
    private static final Map<String, Integer> NATIVE_SLOT = new LinkedHashMap<>();
    private static final MBeanInfo INFO;

    public static final String LOAD_LATENCY_AVG_MS = "load-latency-avg-ms";
    public static final String LOAD_LATENCY_MAX_MS = "load-latency-max-ms";
    public static final String ENCODE_NS = "encode-ns";
    public static final String NATIVE_PUT_NS = "native-put-ns";
    public static final String DLQ_RECORDS = "dlq-records";

    static {
        List<String> names = new ArrayList<>();
        List<MBeanAttributeInfo> infos = new ArrayList<>();
        for (int i = 0; i < NativeMetrics.COUNT; i++) {
            if (i == NativeMetrics.LOAD_LATENCY_MAX_NS) {
                continue; // shown in ms as load-latency-max-ms
            }
            String n = NativeMetrics.NAMES[i];
            NATIVE_SLOT.put(n, i);
            names.add(n);
            infos.add(attr(n, Long.class, "native: " + n));
        }
        names.add(LOAD_LATENCY_AVG_MS);
        infos.add(attr(LOAD_LATENCY_AVG_MS, Double.class, "mean wall time of a successful load, retries included"));
        names.add(LOAD_LATENCY_MAX_MS);
        infos.add(attr(LOAD_LATENCY_MAX_MS, Double.class, "longest wall time of a successful load"));
        names.add(ENCODE_NS);
        infos.add(attr(ENCODE_NS, Long.class, "Java time encoding SinkRecords into the boundary format"));
        names.add(NATIVE_PUT_NS);
        infos.add(attr(NATIVE_PUT_NS, Long.class, "time inside the native put call"));
        names.add(DLQ_RECORDS);
        infos.add(attr(DLQ_RECORDS, Long.class, "records handed to the errant record reporter"));
        ATTRIBUTES = Collections.unmodifiableList(names);
        INFO = new MBeanInfo(SinkTaskMetrics.class.getName(), "StarRocks sink task metrics",
                infos.toArray(new MBeanAttributeInfo[0]), null, null, null);
    }

    private static MBeanAttributeInfo attr(String name, Class<?> type, String description) {
        return new MBeanAttributeInfo(name, type.getName(), description, true, false, false);
    }

    private final Supplier<long[]> source;
    private final ObjectName name;
    private final AtomicLong encodeNs = new AtomicLong();
    private final AtomicLong nativePutNs = new AtomicLong();
    private final AtomicLong dlqRecords = new AtomicLong();
    private long[] cached = new long[NativeMetrics.COUNT];
    private long cachedAt;
    private boolean everRead;
    private long lastSummary = System.nanoTime();
    private MBeanServer server;

    /** {@code source}: the native counters, or null when there are none (closed); called at most every 200 ms. */
    public SinkTaskMetrics(String connector, String task, Supplier<long[]> source) {
        this.source = source;
        this.name = objectName(connector, task);
    }

    public static ObjectName objectName(String connector, String task) {
        try {
            return new ObjectName(DOMAIN + ":type=" + TYPE + ",connector=" + value(connector) + ",task="
                    + value(task));
        } catch (MalformedObjectNameException e) {
            throw new IllegalArgumentException("no JMX name for connector " + connector + " task " + task, e);
        }
    }

    /** The value as is when JMX allows it unquoted, else {@link ObjectName#quote}d. */
    static String value(String v) {
        String s = v == null ? "" : v;
        if (s.isEmpty()) {
            return ObjectName.quote(s);
        }
        for (char c : s.toCharArray()) {
            if (c == ',' || c == '=' || c == ':' || c == '"' || c == '*' || c == '?' || c == '\n' || c == '\\') {
                return ObjectName.quote(s);
            }
        }
        return s;
    }

    public ObjectName name() {
        return name;
    }

    /** Registers in the platform MBeanServer, replacing a stale MBean of the same name (a task not stopped). */
    public synchronized SinkTaskMetrics register(Logger log) {
        return register(ManagementFactory.getPlatformMBeanServer(), log);
    }

    synchronized SinkTaskMetrics register(MBeanServer mbs, Logger log) {
        try {
            try {
                mbs.registerMBean(this, name);
            } catch (InstanceAlreadyExistsException e) {
                log.warn("Replacing a stale MBean {}", name);
                try {
                    mbs.unregisterMBean(name);
                } catch (InstanceNotFoundException gone) {
                    // unregistered meanwhile
                }
                mbs.registerMBean(this, name);
            }
            server = mbs;
        } catch (JMException | RuntimeException e) {
            log.warn("Could not register the metrics MBean {}: {}", name, e.toString());
        }
        return this;
    }

    /** Unregisters (if this instance is the registered one); idempotent, never throws. */
    public synchronized void unregister() {
        MBeanServer mbs = server;
        server = null;
        if (mbs == null) {
            return;
        }
        try {
            mbs.unregisterMBean(name);
        } catch (InstanceNotFoundException e) {
            // already gone
        } catch (JMException | RuntimeException e) {
            // nothing a task stop could do about it
        }
    }

    public void addEncodeNanos(long ns) {
        encodeNs.addAndGet(ns);
    }

    public void addNativePutNanos(long ns) {
        nativePutNs.addAndGet(ns);
    }

    public void addDlqRecords(long n) {
        dlqRecords.addAndGet(n);
    }

    /** The native values (cached up to 200 ms; the last ones read once the sink is closed). */
    synchronized long[] nativeValues() {
        long now = System.nanoTime();
        if (!everRead || now - cachedAt >= CACHE_NANOS) {
            long[] fresh = null;
            try {
                fresh = source.get();
            } catch (RuntimeException | LinkageError e) {
                // keep the last values
            }
            if (fresh != null) {
                cached = Arrays.copyOf(fresh, Math.max(fresh.length, NativeMetrics.COUNT));
            }
            cachedAt = now;
            everRead = true;
        }
        return cached;
    }

    /** Drops the cache, so the next read calls the source (a final summary at stop). */
    synchronized void refresh() {
        everRead = false;
    }

    @Override
    public Object getAttribute(String attribute) throws AttributeNotFoundException {
        Integer slot = NATIVE_SLOT.get(attribute);
        if (slot != null) {
            return nativeValues()[slot];
        }
        switch (attribute == null ? "" : attribute) {
            case LOAD_LATENCY_AVG_MS: {
                long[] v = nativeValues();
                long loads = v[NativeMetrics.LOADS];
                return loads == 0 ? 0.0 : v[NativeMetrics.LOAD_LATENCY_TOTAL_NS] / 1e6 / loads;
            }
            case LOAD_LATENCY_MAX_MS:
                return nativeValues()[NativeMetrics.LOAD_LATENCY_MAX_NS] / 1e6;
            case ENCODE_NS:
                return encodeNs.get();
            case NATIVE_PUT_NS:
                return nativePutNs.get();
            case DLQ_RECORDS:
                return dlqRecords.get();
            default:
                throw new AttributeNotFoundException(attribute);
        }
    }

    @Override
    public AttributeList getAttributes(String[] attributes) {
        AttributeList list = new AttributeList();
        for (String a : attributes) {
            try {
                list.add(new Attribute(a, getAttribute(a)));
            } catch (AttributeNotFoundException e) {
                // JMX convention: unknown names are left out
            }
        }
        return list;
    }

    @Override
    public void setAttribute(Attribute attribute) throws AttributeNotFoundException {
        throw new AttributeNotFoundException(attribute.getName() + " is read-only");
    }

    @Override
    public AttributeList setAttributes(AttributeList attributes) {
        return new AttributeList();
    }

    @Override
    public Object invoke(String actionName, Object[] params, String[] signature) {
        throw new UnsupportedOperationException("no operations");
    }

    @Override
    public MBeanInfo getMBeanInfo() {
        return INFO;
    }

    /** Every attribute's current value, in MBeanInfo order. */
    public Map<String, Object> values() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String a : ATTRIBUTES) {
            try {
                out.put(a, getAttribute(a));
            } catch (AttributeNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }
        return out;
    }

    /** Logs {@link #summary()} at INFO if 60 s passed since the last one (task thread). */
    public void maybeLogSummary(Logger log) {
        long now = System.nanoTime();
        if (now - lastSummary >= SUMMARY_INTERVAL_NANOS) {
            lastSummary = now;
            log.info("StarRocks sink metrics: {}", summary());
        }
    }

    /** Logs the summary now, with fresh native values (at stop, before the sink closes). */
    public void logSummary(Logger log) {
        refresh();
        lastSummary = System.nanoTime();
        log.info("StarRocks sink metrics at stop: {}", summary());
    }

    /** The main counters on one line. */
    public String summary() {
        long[] v = nativeValues();
        return String.format(java.util.Locale.ROOT,
                "records-received=%d rows-loaded=%d rows-filtered=%d bytes-loaded=%d loads=%d load-failures=%d "
                        + "retries=%d load-latency-avg-ms=%.1f load-latency-max-ms=%.1f buffer-bytes=%d "
                        + "buffer-bytes-peak=%d buffer-budget-bytes=%d rejected-records=%d dlq-records=%d "
                        + "backpressure-wait-ms=%d",
                v[NativeMetrics.RECORDS_RECEIVED], v[NativeMetrics.ROWS_LOADED], v[NativeMetrics.ROWS_FILTERED],
                v[NativeMetrics.BYTES_LOADED], v[NativeMetrics.LOADS], v[NativeMetrics.LOAD_FAILURES],
                v[NativeMetrics.RETRIES],
                v[NativeMetrics.LOADS] == 0 ? 0.0 : v[NativeMetrics.LOAD_LATENCY_TOTAL_NS] / 1e6 / v[NativeMetrics.LOADS],
                v[NativeMetrics.LOAD_LATENCY_MAX_NS] / 1e6, v[NativeMetrics.BUFFER_BYTES],
                v[NativeMetrics.BUFFER_BYTES_PEAK], v[NativeMetrics.BUFFER_BUDGET_BYTES],
                v[NativeMetrics.REJECTED_RECORDS], dlqRecords.get(), v[NativeMetrics.BACKPRESSURE_WAIT_NS] / 1_000_000);
    }
}
