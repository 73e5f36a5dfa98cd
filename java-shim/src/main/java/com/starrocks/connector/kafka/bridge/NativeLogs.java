package com.starrocks.connector.kafka.bridge;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs the Rust core's queued events through SLF4J on the task thread, so the worker's MDC (connector and task
 * context) is on every line. Events arrive as {@code u32 count, (level:u8 message:string)*}, little-endian.
 */
public final class NativeLogs {
    static final Logger LOG = LoggerFactory.getLogger("com.starrocks.connector.kafka.native");

    public static final int ERROR = 1;
    public static final int WARN = 2;
    public static final int INFO = 3;
    public static final int DEBUG = 4;
    public static final int TRACE = 5;

    private NativeLogs() {
    }

    /** The most verbose level enabled for native events (1 ERROR .. 5 TRACE), passed to {@code open}. */
    public static int enabledLevel() {
        return enabledLevel(LOG);
    }

    static int enabledLevel(Logger log) {
        if (log.isTraceEnabled()) {
            return TRACE;
        } else if (log.isDebugEnabled()) {
            return DEBUG;
        } else if (log.isInfoEnabled()) {
            return INFO;
        } else if (log.isWarnEnabled()) {
            return WARN;
        }
        return ERROR;
    }

    /** Drains the events of {@code handle} (0: events of no sink) and logs them; never throws. */
    public static void drain(long handle) {
        try {
            log(LOG, NativeMethods.drainLogs(handle));
        } catch (RuntimeException | LinkageError e) {
            LOG.warn("Could not drain native log events", e);
        }
    }

    /** Logs every event of one drained buffer; returns how many were logged. */
    static int log(Logger log, byte[] events) {
        if (events == null) {
            return 0;
        }
        ByteBuffer buf = ByteBuffer.wrap(events).order(ByteOrder.LITTLE_ENDIAN);
        int logged = 0;
        try {
            long count = buf.getInt() & 0xFFFFFFFFL;
            for (; logged < count; logged++) {
                int level = buf.get();
                int len = buf.getInt();
                if (len < 0 || len > buf.remaining()) {
                    throw new IllegalArgumentException("message length " + (len & 0xFFFFFFFFL) + " beyond the end");
                }
                String message = new String(events, buf.position(), len, StandardCharsets.UTF_8);
                buf.position(buf.position() + len);
                switch (level) {
                    case ERROR: log.error(message); break;
                    case WARN: log.warn(message); break;
                    case DEBUG: log.debug(message); break;
                    case TRACE: log.trace(message); break;
                    default: log.info(message); break;
                }
            }
        } catch (RuntimeException e) {
            log.warn("Malformed native log buffer ({} bytes) after {} events: {}", events.length, logged, e.toString());
        }
        return logged;
    }
}
