package com.starrocks.connector.kafka.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.helpers.NOPLogger;

/** The Java half of the bridge, without the native library. */
class BridgeTest {

    static byte[] le(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object p : parts) {
            ByteBuffer b;
            if (p instanceof Integer) {
                b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((Integer) p);
            } else if (p instanceof Long) {
                b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong((Long) p);
            } else if (p instanceof Byte) {
                b = ByteBuffer.allocate(1).put((Byte) p);
            } else {
                byte[] s = ((String) p).getBytes(StandardCharsets.UTF_8);
                b = ByteBuffer.allocate(4 + s.length).order(ByteOrder.LITTLE_ENDIAN).putInt(s.length).put(s);
            }
            out.write(b.array(), 0, b.capacity());
        }
        return out.toByteArray();
    }

    @Test
    void kindsMapToConnectExceptions() {
        assertTrue(new NativeException(1, "bad key x").toConnectException() instanceof ConfigException);
        assertTrue(new NativeException(2, "busy").toConnectException() instanceof RetriableException);
        assertTrue(new NativeException(3, "bad row").toConnectException() instanceof DataException);
        RuntimeException load = new NativeException(4, "Status: Fail, too many filtered rows").toConnectException();
        assertSame(ConnectException.class, load.getClass());
        assertTrue(load.getMessage().contains("too many filtered rows"));
        RuntimeException internal = new NativeException(5, "panic at x").toConnectException();
        assertSame(ConnectException.class, internal.getClass());
        assertTrue(internal.getMessage().contains("panic at x"));
        assertSame(ConnectException.class, new NativeException(99, "?").toConnectException().getClass());
        NativeException cause = new NativeException(1, "m");
        assertSame(cause, cause.toConnectException().getCause());
        assertEquals("m", cause.toConnectException().getMessage());
    }

    @Test
    void nativeExceptionHasTheConstructorRustCalls() throws Exception {
        NativeException e = NativeException.class.getConstructor(int.class, String.class).newInstance(3, "msg");
        assertEquals(3, e.kind());
        assertEquals("msg", e.getMessage());
        assertTrue(RuntimeException.class.isAssignableFrom(NativeException.class));
    }

    @Test
    void decodesOffsets() {
        Map<TopicPartition, OffsetAndMetadata> offsets = NativeSink.decodeOffsets(
                le(2, "orders", 3, 43L, "t\u00e9", 0, 7L));
        assertEquals(2, offsets.size());
        assertEquals(43L, offsets.get(new TopicPartition("orders", 3)).offset());
        assertEquals(7L, offsets.get(new TopicPartition("t\u00e9", 0)).offset());
        assertTrue(NativeSink.decodeOffsets(le(0)).isEmpty());
        assertTrue(NativeSink.decodeOffsets(null).isEmpty());
        assertThrows(ConnectException.class, () -> NativeSink.decodeOffsets(le(2, "orders", 3, 43L)));
        assertThrows(ConnectException.class, () -> NativeSink.decodeOffsets(le(1, "orders", 3, 43L, 1)));
    }

    @Test
    void seekOffsetsKeepOnlyThePartitionsToSeek() {
        java.util.List<TopicPartition> tps = java.util.Arrays.asList(new TopicPartition("orders", 0),
                new TopicPartition("orders", 1), new TopicPartition("t\u00e9", 7));
        Map<TopicPartition, Long> seek = NativeSink.seekOffsets(tps, new long[] {42L, -1L, 0L});
        assertEquals(2, seek.size());
        assertEquals(42L, (long) seek.get(new TopicPartition("orders", 0)));
        assertEquals(0L, (long) seek.get(new TopicPartition("t\u00e9", 7)));
        assertTrue(NativeSink.seekOffsets(tps, new long[] {-1L, -1L, -1L}).isEmpty()); // at_least_once
        assertTrue(NativeSink.seekOffsets(Collections.<TopicPartition>emptyList(), new long[0]).isEmpty());
        ConnectException e = assertThrows(ConnectException.class, () -> NativeSink.seekOffsets(tps, new long[] {1L}));
        assertTrue(e.getMessage().contains("1 offsets for 3 partitions"), e.getMessage());
        assertThrows(ConnectException.class, () -> NativeSink.seekOffsets(tps, null));
    }

    @Test
    void decodesRejected() {
        java.util.List<RejectedRecord> r = NativeSink.decodeRejected(le(1, "t\u00e9", 2, 9L, "bad row"));
        assertEquals(1, r.size());
        assertEquals("t\u00e9", r.get(0).topic());
        assertEquals(2, r.get(0).partition());
        assertEquals(9L, r.get(0).offset());
        assertEquals("bad row", r.get(0).reason());
        assertTrue(NativeSink.decodeRejected(null).isEmpty());
        assertThrows(ConnectException.class, () -> NativeSink.decodeRejected(le(1, "t", 2, 9L)));
    }

    @Test
    void decodesPreCommitAnswersOffsetsThenRejected() {
        PreCommitAnswer a = NativeSink.decodePreCommit(le(2, "orders", 3, 43L, "t\u00e9", 0, 7L,
                2, "orders", 3, 41L, "bad row", "t\u00e9", 0, 5L, "too long"));
        assertEquals(2, a.offsets().size());
        assertEquals(43L, a.offsets().get(new TopicPartition("orders", 3)).offset());
        assertEquals(7L, a.offsets().get(new TopicPartition("t\u00e9", 0)).offset());
        assertEquals(2, a.rejected().size());
        assertEquals("orders-3@41: bad row", a.rejected().get(0).toString());
        assertEquals("t\u00e9", a.rejected().get(1).topic());
        assertEquals(0, a.rejected().get(1).partition());
        assertEquals(5L, a.rejected().get(1).offset());
        assertEquals("too long", a.rejected().get(1).reason());

        PreCommitAnswer none = NativeSink.decodePreCommit(le(1, "orders", 3, 43L, 0));
        assertEquals(1, none.offsets().size());
        assertTrue(none.rejected().isEmpty());
        PreCommitAnswer onlyRejected = NativeSink.decodePreCommit(le(0, 1, "t", 2, 9L, "bad row"));
        assertTrue(onlyRejected.offsets().isEmpty());
        assertEquals(9L, onlyRejected.rejected().get(0).offset());
        assertTrue(NativeSink.decodePreCommit(le(0, 0)).offsets().isEmpty());
        assertTrue(NativeSink.decodePreCommit(null).rejected().isEmpty());

        // the rejected section is not optional, and nothing may follow it
        ConnectException missing = assertThrows(ConnectException.class,
                () -> NativeSink.decodePreCommit(le(1, "orders", 3, 43L)));
        assertTrue(missing.getMessage().contains("Malformed preCommit answer"), missing.getMessage());
        assertThrows(ConnectException.class, () -> NativeSink.decodePreCommit(le(0, 0, 1)));
        assertThrows(ConnectException.class, () -> NativeSink.decodePreCommit(le(0, 1, "t", 2, 9L)));
        assertThrows(ConnectException.class, () -> NativeSink.decodePreCommit(le(0, 1, "t", 2, 9L, 100)));
    }

    @Test
    void decodesLogs() {
        assertEquals(0, NativeLogs.log(NativeLogs.LOG, null));
        assertEquals(5, NativeLogs.log(NativeLogs.LOG, le(5, (byte) 1, "e", (byte) 2, "w", (byte) 3, "i {}",
                (byte) 4, "d", (byte) 5, "t")));
        // truncated: the first event is logged, then a warning, never an exception
        assertEquals(1, NativeLogs.log(NativeLogs.LOG, le(2, (byte) 3, "ok", (byte) 3, 100)));
        assertEquals(NativeLogs.ERROR, NativeLogs.enabledLevel(NOPLogger.NOP_LOGGER));
        assertTrue(NativeLogs.enabledLevel() >= NativeLogs.ERROR && NativeLogs.enabledLevel() <= NativeLogs.TRACE);
    }

    @Test
    void logsTheEventsOfABlockedCallMeanwhileFromTheHelperThread() throws InterruptedException {
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        // a Logger that keeps its warn(String) lines with the thread that logged them
        Logger capture = (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] {Logger.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("warn") && args != null && args.length == 1) {
                        seen.add(Thread.currentThread().getName() + ": " + args[0]);
                    }
                    return method.getReturnType() == boolean.class ? Boolean.TRUE : null;
                });
        AtomicInteger drains = new AtomicInteger();
        Future<?> meanwhile = NativeLogs.drainWhileBlocked(7L, handle -> {
            assertEquals(7L, handle);
            return drains.incrementAndGet() == 1 ? le(1, (byte) NativeLogs.WARN, "first failure") : null;
        }, capture);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (seen.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        meanwhile.cancel(false);
        assertEquals(Collections.singletonList("starrocks-log-drain: first failure"), seen);
        int drained = drains.get();
        Thread.sleep(3 * NativeLogs.BLOCKED_DRAIN_MS);
        assertEquals(drained, drains.get(), "no drain once the call returned");
    }

    @Test
    void platformNames() {
        assertEquals("linux", NativeLoader.os("Linux"));
        assertEquals("darwin", NativeLoader.os("Mac OS X"));
        assertEquals("darwin", NativeLoader.os("Darwin"));
        assertEquals("windows", NativeLoader.os("Windows Server 2022"));
        assertEquals("freebsd", NativeLoader.os("FreeBSD"));
        assertEquals("x86_64", NativeLoader.arch("amd64"));
        assertEquals("x86_64", NativeLoader.arch("x86_64"));
        assertEquals("aarch64", NativeLoader.arch("arm64"));
        assertEquals("aarch64", NativeLoader.arch("aarch64"));
        assertEquals("x86", NativeLoader.arch("i386"));
        assertEquals("ppc64le", NativeLoader.arch("ppc64le"));
        assertEquals("s390x", NativeLoader.arch("s390x"));
        // the JVM's (os.name, os.arch) pairs on the platforms the build can target
        assertEquals("linux-x86_64", NativeLoader.platform("Linux", "amd64"));
        assertEquals("linux-aarch64", NativeLoader.platform("Linux", "aarch64"));
        assertEquals("darwin-aarch64", NativeLoader.platform("Mac OS X", "aarch64"));
        assertEquals("darwin-x86_64", NativeLoader.platform("Mac OS X", "x86_64"));
        assertEquals("windows-x86_64", NativeLoader.platform("Windows 11", "amd64"));
        assertEquals("native/linux-x86_64/libstarrocks_kafka_native.so", NativeLoader.resourcePath("linux", "x86_64"));
        assertEquals("native/linux-aarch64/libstarrocks_kafka_native.so",
                NativeLoader.resourcePath("linux", "aarch64"));
        assertEquals("native/darwin-aarch64/libstarrocks_kafka_native.dylib",
                NativeLoader.resourcePath("darwin", "aarch64"));
        assertEquals("native/windows-x86_64/starrocks_kafka_native.dll",
                NativeLoader.resourcePath("windows", "x86_64"));
        assertEquals("", NativeLoader.libc("darwin"));
        String libc = NativeLoader.libc("linux");
        assertTrue(libc.equals("glibc") || libc.equals("musl"), libc);
    }

    @Test
    void missingPlatformMessageNamesThePlatformAndWhatTheJarCarries() {
        String m = NativeLoader.missingPlatformMessage("Mac OS X", "aarch64", "",
                java.util.Arrays.asList("linux-x86_64", "linux-aarch64"));
        assertTrue(m.startsWith("The StarRocks connector has no native library for darwin-aarch64 "
                + "(os.name=Mac OS X, os.arch=aarch64): this jar carries only linux-x86_64, linux-aarch64."), m);
        assertTrue(m.contains("NATIVE_TARGETS"), m);
        assertTrue(m.contains(NativeLoader.LIB_PROPERTY), m);

        m = NativeLoader.missingPlatformMessage("Linux", "s390x", "glibc", Collections.emptyList());
        assertTrue(m.contains("no native library for linux-s390x (os.name=Linux, os.arch=s390x, libc=glibc): "
                + "this jar carries none."), m);

        m = NativeLoader.missingPlatformMessage("Linux", "riscv64", "musl", Collections.singletonList("linux-x86_64"));
        assertTrue(m.contains("libc=musl"), m);
        assertTrue(m.contains("need glibc " + NativeLoader.GLIBC_FLOOR + " or later"), m);
    }

    @Test
    void bundledPlatformsAreListed(@TempDir Path dir) throws Exception {
        Path lib = dir.resolve("native/darwin-aarch64/libstarrocks_kafka_native.dylib");
        Path lib2 = dir.resolve("native/linux-aarch64/libstarrocks_kafka_native.so");
        Files.createDirectories(lib2.getParent());
        Files.write(lib2, new byte[] {1});
        Files.createDirectories(lib.getParent());
        Files.write(lib, new byte[] {1});
        try (java.net.URLClassLoader loader = new java.net.URLClassLoader(new java.net.URL[] {dir.toUri().toURL()},
                null)) {
            assertEquals(java.util.Arrays.asList("linux-aarch64", "darwin-aarch64"),
                    NativeLoader.bundledPlatforms(loader));
        }
    }

    @Test
    void missingPlatformSaysWhichAndWhatExists() {
        String os = NativeLoader.os(System.getProperty("os.name"));
        String arch = NativeLoader.arch(System.getProperty("os.arch"));
        // `make package` fills target/native-resources before the tests run: then the platform is there
        if (getClass().getClassLoader().getResource(NativeLoader.resourcePath(os, arch)) != null) {
            assertTrue(NativeLoader.bundledPlatforms(getClass().getClassLoader()).contains(os + "-" + arch));
            return;
        }
        String override = System.clearProperty(NativeLoader.LIB_PROPERTY); // else load() would use it
        try {
            ConnectException e = assertThrows(ConnectException.class, NativeLoader::load);
            assertTrue(e.getMessage().contains("no native library for " + os + "-" + arch), e.getMessage());
            assertTrue(e.getMessage().contains("this jar carries none"), e.getMessage());
        } finally {
            if (override != null) {
                System.setProperty(NativeLoader.LIB_PROPERTY, override);
            }
        }
    }

    @Test
    void extractionDirPrecedence() {
        String old = System.getProperty(NativeLoader.DIR_PROPERTY);
        try {
            System.setProperty(NativeLoader.DIR_PROPERTY, "/opt/sr-native");
            assertEquals(new File("/opt/sr-native"), NativeLoader.extractionDir());
            System.clearProperty(NativeLoader.DIR_PROPERTY);
            String env = System.getenv(NativeLoader.DIR_ENV);
            assertEquals(new File(env != null && !env.trim().isEmpty() ? env.trim()
                    : System.getProperty("java.io.tmpdir")), NativeLoader.extractionDir());
        } finally {
            if (old != null) {
                System.setProperty(NativeLoader.DIR_PROPERTY, old);
            }
        }
    }

    @Test
    void sweepsOnlyStaleCopies(@TempDir Path dir) throws Exception {
        File stale = dir.resolve(NativeLoader.FILE_PREFIX + "1-libstarrocks_kafka_native.so").toFile();
        File fresh = dir.resolve(NativeLoader.FILE_PREFIX + "2-libstarrocks_kafka_native.so").toFile();
        File other = dir.resolve("unrelated.so").toFile();
        for (File f : new File[] {stale, fresh, other}) {
            assertTrue(f.createNewFile());
        }
        long now = System.currentTimeMillis();
        assertTrue(stale.setLastModified(now - 2 * 24 * 3600 * 1000L));
        assertTrue(other.setLastModified(now - 2 * 24 * 3600 * 1000L));
        assertEquals(1, NativeLoader.sweepStale(dir.toFile(), now - 24 * 3600 * 1000L));
        assertFalse(stale.exists());
        assertTrue(fresh.exists());
        assertTrue(other.exists());
    }

    @Test
    void nativeMethodsAreExactlyTheDocumentedSurface() throws Exception {
        Class<?> c = NativeMethods.class;
        // the config crosses as one JSON document (StarRocksSinkConfig.nativeConfig), not as keys and values
        assertEquals(long.class, c.getMethod("open", String.class, int.class).getReturnType());
        assertThrows(NoSuchMethodException.class, () -> c.getMethod("open", String[].class, String[].class, int.class));
        assertEquals(void.class, c.getMethod("put", long.class, ByteBuffer.class, int.class).getReturnType());
        assertEquals(byte[].class, c.getMethod("preCommit", long.class).getReturnType());
        assertEquals(byte[].class, c.getMethod("drainLogs", long.class).getReturnType());
        // the rejected records come with preCommit's answer: no crossing of their own
        assertThrows(NoSuchMethodException.class, () -> c.getMethod("drainRejected", long.class));
        assertEquals(void.class, c.getMethod("forget", long.class, String[].class, int[].class).getReturnType());
        assertEquals(long[].class, c.getMethod("openPartitions", long.class, String[].class, int[].class)
                .getReturnType());
        assertEquals(void.class, c.getMethod("close", long.class).getReturnType());
        assertEquals(long[].class, c.getMethod("metrics", long.class).getReturnType());
        assertEquals(String.class, c.getMethod("clusterProblem", String.class).getReturnType());
        assertEquals(String[].class, c.getMethod("metricNames").getReturnType());
        int natives = 0;
        for (java.lang.reflect.Method m : c.getDeclaredMethods()) {
            assertTrue(java.lang.reflect.Modifier.isStatic(m.getModifiers()), m.toString());
            if (java.lang.reflect.Modifier.isNative(m.getModifiers())) {
                natives++;
            }
        }
        assertEquals(10, natives);
    }
}
