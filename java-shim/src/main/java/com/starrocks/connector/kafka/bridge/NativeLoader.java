package com.starrocks.connector.kafka.bridge;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the Rust library once per classloader, lazily at task start (never in a static initializer: the worker
 * instantiates plugin classes while it scans). The library rides in the jar as
 * {@code native/<os>-<arch>/<file>}; it is copied to a file unique to this classloader, because the JVM lets
 * one classloader own a given library file, and loaded with {@code System.load}.
 */
public final class NativeLoader {
    private static final Logger LOG = LoggerFactory.getLogger(NativeLoader.class);

    /** Absolute path of a built library; skips extraction (development and tests). */
    public static final String LIB_PROPERTY = "starrocks.connector.native.lib";
    /** Folder to extract the library into (the default, java.io.tmpdir, may be mounted noexec). */
    public static final String DIR_PROPERTY = "starrocks.connector.native.dir";
    public static final String DIR_ENV = "STARROCKS_CONNECTOR_NATIVE_DIR";

    static final String FILE_PREFIX = "starrocks-kafka-native-";
    private static final long STALE_MILLIS = 24L * 60 * 60 * 1000;
    /** The oldest glibc the Linux libraries load on (the build links against it: scripts/build_native.py). */
    static final String GLIBC_FLOOR = "2.17";
    private static final String[] OSES = {"linux", "darwin", "windows"};
    private static final String[] ARCHES = {"x86_64", "aarch64", "x86", "arm", "ppc64le", "s390x", "riscv64"};

    private static String loadedFrom;

    private NativeLoader() {
    }

    /** Loads the library unless this classloader already did; returns the file it was loaded from. */
    public static synchronized String load() {
        if (loadedFrom != null) {
            return loadedFrom;
        }
        String override = System.getProperty(LIB_PROPERTY);
        File file;
        if (override != null && !override.trim().isEmpty()) {
            file = new File(override.trim());
            if (!file.isAbsolute() || !file.isFile()) {
                throw new ConnectException("System property " + LIB_PROPERTY + " must name an existing library "
                        + "file by absolute path, but is '" + override + "'");
            }
        } else {
            file = extract();
        }
        try {
            System.load(file.getAbsolutePath());
        } catch (UnsatisfiedLinkError e) {
            throw new ConnectException("Could not load the StarRocks connector's native library " + file
                    + " (" + e.getMessage() + "). If its folder is mounted noexec, choose another one with the "
                    + "system property " + DIR_PROPERTY + " or the environment variable " + DIR_ENV
                    + "; on Linux the library needs glibc " + GLIBC_FLOOR + " or later", e);
        }
        loadedFrom = file.getAbsolutePath();
        LOG.info("Loaded the StarRocks connector's native library from {}", loadedFrom);
        return loadedFrom;
    }

    /** The OS part of a platform folder: {@code linux}, {@code darwin}, {@code windows}, else os.name simplified. */
    static String os(String osName) {
        String n = osName.toLowerCase(Locale.ROOT);
        if (n.startsWith("linux")) {
            return "linux";
        } else if (n.startsWith("mac") || n.startsWith("darwin")) {
            return "darwin";
        } else if (n.startsWith("windows")) {
            return "windows";
        }
        return n.replaceAll("[^a-z0-9]", "");
    }

    /** The architecture part of a platform folder, as Rust names it ({@code x86_64}, {@code aarch64}, ...). */
    static String arch(String osArch) {
        String a = osArch.toLowerCase(Locale.ROOT);
        if (a.equals("amd64") || a.equals("x86_64") || a.equals("x64") || a.equals("x86-64")) {
            return "x86_64";
        } else if (a.equals("aarch64") || a.equals("arm64")) {
            return "aarch64";
        } else if (a.equals("x86") || a.equals("i386") || a.equals("i486") || a.equals("i586") || a.equals("i686")) {
            return "x86";
        } else if (a.equals("ppc64le") || a.equals("powerpc64le")) {
            return "ppc64le";
        } else if (a.startsWith("arm")) {
            return "arm";
        }
        return a.replaceAll("[^a-z0-9_]", "");
    }

    /** The platform folder for this JVM's os.name and os.arch, e.g. {@code linux-x86_64}. */
    static String platform(String osName, String osArch) {
        return os(osName) + "-" + arch(osArch);
    }

    /** The C library on Linux ({@code musl} if its loader is present, else {@code glibc}); empty elsewhere. */
    static String libc(String os) {
        if (!os.equals("linux")) {
            return "";
        }
        for (String dir : new String[] {"/lib", "/usr/lib"}) {
            String[] names = new File(dir).list((d, name) -> name.startsWith("ld-musl-"));
            if (names != null && names.length > 0) {
                return "musl";
            }
        }
        return "glibc";
    }

    /** The error when the jar has no library for this platform: names what was found and what the jar carries. */
    static String missingPlatformMessage(String osName, String osArch, String libc, List<String> bundled) {
        return "The StarRocks connector has no native library for " + platform(osName, osArch)
                + " (os.name=" + osName + ", os.arch=" + osArch + (libc.isEmpty() ? "" : ", libc=" + libc)
                + "): this jar carries " + (bundled.isEmpty() ? "none" : "only " + String.join(", ", bundled))
                + (libc.equals("musl") ? " (the Linux libraries need glibc " + GLIBC_FLOOR + " or later)" : "")
                + ". Build one for this platform (NATIVE_TARGETS in the Makefile, see docs/architecture.md "
                + "\"Packaging\"), or set the system property " + LIB_PROPERTY + " to a built library.";
    }

    static String libraryFile(String os) {
        if (os.equals("darwin")) {
            return "libstarrocks_kafka_native.dylib";
        } else if (os.equals("windows")) {
            return "starrocks_kafka_native.dll";
        }
        return "libstarrocks_kafka_native.so";
    }

    static String resourcePath(String os, String arch) {
        return "native/" + os + "-" + arch + "/" + libraryFile(os);
    }

    /** The platforms whose library this jar carries, e.g. {@code [linux-x86_64]}. */
    static List<String> bundledPlatforms(ClassLoader loader) {
        List<String> found = new ArrayList<>();
        for (String os : OSES) {
            for (String arch : ARCHES) {
                if (loader.getResource(resourcePath(os, arch)) != null) {
                    found.add(os + "-" + arch);
                }
            }
        }
        return found;
    }

    static File extractionDir() {
        String dir = System.getProperty(DIR_PROPERTY);
        if (dir == null || dir.trim().isEmpty()) {
            dir = System.getenv(DIR_ENV);
        }
        if (dir == null || dir.trim().isEmpty()) {
            dir = System.getProperty("java.io.tmpdir");
        }
        return new File(dir.trim());
    }

    private static File extract() {
        String osName = System.getProperty("os.name", "unknown");
        String osArch = System.getProperty("os.arch", "unknown");
        String os = os(osName);
        String arch = arch(osArch);
        ClassLoader loader = NativeLoader.class.getClassLoader();
        String resource = resourcePath(os, arch);
        URL url = loader.getResource(resource);
        if (url == null) {
            throw new ConnectException(missingPlatformMessage(osName, osArch, libc(os), bundledPlatforms(loader)));
        }
        File dir = extractionDir();
        try {
            Files.createDirectories(dir.toPath());
            sweepStale(dir, System.currentTimeMillis() - STALE_MILLIS);
            Path target = Files.createTempFile(dir.toPath(), FILE_PREFIX, "-" + libraryFile(os));
            target.toFile().deleteOnExit();
            try (InputStream in = url.openStream()) {
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            }
            return target.toFile();
        } catch (IOException e) {
            throw new ConnectException("Could not extract the StarRocks connector's native library " + resource
                    + " into " + dir + " (choose another folder with the system property " + DIR_PROPERTY
                    + " or the environment variable " + DIR_ENV + "): " + e, e);
        }
    }

    /** Deletes copies left by earlier workers (killed before delete-on-exit ran) older than {@code before}. */
    static int sweepStale(File dir, long before) {
        File[] stale = dir.listFiles((d, name) -> name.startsWith(FILE_PREFIX));
        int deleted = 0;
        if (stale != null) {
            for (File f : stale) {
                if (f.isFile() && f.lastModified() < before && f.delete()) {
                    deleted++;
                }
            }
        }
        return deleted;
    }
}
