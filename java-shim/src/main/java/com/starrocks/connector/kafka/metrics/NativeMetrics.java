package com.starrocks.connector.kafka.metrics;

/**
 * Slots of the {@code long[]} that {@code NativeMethods.metrics(handle)} answers. Mirrors
 * {@code native/core/src/metrics.rs} ({@code NAMES} and its constants), which defines the order; docs/metrics.md
 * describes each value.
 */
public final class NativeMetrics {
    public static final int RECORDS_RECEIVED = 0;
    public static final int ROWS_LOADED = 1;
    public static final int ROWS_FILTERED = 2;
    public static final int BYTES_LOADED = 3;
    public static final int LOADS = 4;
    public static final int LOAD_FAILURES = 5;
    public static final int RETRIES = 6;
    public static final int LOAD_LATENCY_TOTAL_NS = 7;
    public static final int LOAD_LATENCY_MAX_NS = 8;
    public static final int BUFFER_BYTES = 9;
    public static final int BUFFER_BYTES_PEAK = 10;
    public static final int BUFFER_BUDGET_BYTES = 11;
    public static final int OLDEST_BUFFERED_RECORD_AGE_MS = 12;
    public static final int REJECTED_RECORDS = 13;
    public static final int DECODE_SERIALIZE_NS = 14;
    public static final int BACKPRESSURE_WAIT_NS = 15;
    public static final int HTTP_NS = 16;
    public static final int PUT_CALLS = 17;
    public static final int TABLES_CREATED = 18;
    public static final int COLUMNS_ADDED = 19;
    public static final int SCHEMA_CHANGE_WAIT_NS = 20;
    public static final int FIELDS_DROPPED = 21;
    /** Process-wide, not per task: the bytes the native library holds on its heap (the same value in every task). */
    public static final int NATIVE_ALLOCATED_BYTES = 22;
    /** Multi-table transactions committed ({@code sink.transaction.multi-table.enabled}). */
    public static final int MULTI_TABLE_TRANSACTIONS = 23;

    /** How many slots this shim knows; a newer library may answer more (appended), an older one fewer. */
    public static final int COUNT = 24;

    /** The Rust names of the slots, in order (the same strings as {@code metrics::NAMES}). */
    static final String[] NAMES = {
        "records-received", "rows-loaded", "rows-filtered", "bytes-loaded", "loads", "load-failures", "retries",
        "load-latency-total-ns", "load-latency-max-ns", "buffer-bytes", "buffer-bytes-peak", "buffer-budget-bytes",
        "oldest-buffered-record-age-ms", "rejected-records", "decode-serialize-ns", "backpressure-wait-ns",
        "http-ns", "put-calls",
        "tables-created", "columns-added", "schema-change-wait-ns", "fields-dropped", "native-allocated-bytes",
        "multi-table-transactions",
    };

    /** A copy of {@link #NAMES}, for the checks against the library's own list ({@code NativeMethods.metricNames}). */
    public static String[] names() {
        return NAMES.clone();
    }

    private NativeMetrics() {
    }
}
