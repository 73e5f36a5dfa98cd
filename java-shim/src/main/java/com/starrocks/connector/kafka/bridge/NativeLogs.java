package com.starrocks.connector.kafka.bridge;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Logs the Rust core's queued events through SLF4J on the task thread, so the worker's MDC (connector and task
 * context) is on every line. Events arrive as {@code u32 count, (level:u8 message:string)*}, little-endian.
 *
 * <p>A call that blocks the task thread (a put waiting for a load's slot, a preCommit waiting for StarRocks through an
 * outage) would hold its events back until it returns: while one runs, {@link #drainWhileBlocked} logs them every
 * second from a helper thread, under the task thread's MDC.
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

    /** How often the events of a blocked call are logged from the helper thread. */
    static final long BLOCKED_DRAIN_MS = 1000;

    private static final ScheduledThreadPoolExecutor DRAINER = drainer();

    private static ScheduledThreadPoolExecutor drainer() {
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "starrocks-log-drain");
            t.setDaemon(true);
            return t;
        });
        // a returned call's ticker leaves the queue at once, and the thread ends after a few idle seconds: no
        // thread of ours outlives the calls that need it (a deleted connector leaves none behind)
        e.setRemoveOnCancelPolicy(true);
        e.setKeepAliveTime(5, TimeUnit.SECONDS);
        e.allowCoreThreadTimeOut(true);
        return e;
    }

    /**
     * Logs the events of {@code handle} every {@link #BLOCKED_DRAIN_MS} from the helper thread, under the calling
     * thread's MDC, until the answer is cancelled (when the call returns; its own drain takes the rest).
     */
    public static Future<?> drainWhileBlocked(long handle) {
        return drainWhileBlocked(handle, NativeMethods::drainLogs, LOG);
    }

    static Future<?> drainWhileBlocked(long handle, LongFunction<byte[]> source, Logger log) {
        Map<String, String> context = MDC.getCopyOfContextMap();
        return DRAINER.scheduleWithFixedDelay(() -> {
            if (context != null) {
                MDC.setContextMap(context);
            }
            try {
                log(log, source.apply(handle));
            } catch (RuntimeException | LinkageError e) {
                // the sink closed meanwhile: close drained its last events on the task thread
            } finally {
                MDC.clear();
            }
        }, BLOCKED_DRAIN_MS, BLOCKED_DRAIN_MS, TimeUnit.MILLISECONDS);
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
