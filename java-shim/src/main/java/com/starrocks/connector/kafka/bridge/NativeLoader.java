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
    private static final String[] OSES = {"linux", "macos", "windows"};
    private static final String[] ARCHES = {"x86_64", "aarch64"};

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
                    + "system property " + DIR_PROPERTY + " or the environment variable " + DIR_ENV, e);
        }
        loadedFrom = file.getAbsolutePath();
        LOG.info("Loaded the StarRocks connector's native library from {}", loadedFrom);
        return loadedFrom;
    }

    static String os(String osName) {
        String n = osName.toLowerCase(Locale.ROOT);
        if (n.startsWith("linux")) {
            return "linux";
        } else if (n.startsWith("mac") || n.startsWith("darwin")) {
            return "macos";
        } else if (n.startsWith("windows")) {
            return "windows";
        }
        return n.replaceAll("[^a-z0-9]", "");
    }

    static String arch(String osArch) {
        String a = osArch.toLowerCase(Locale.ROOT);
        if (a.equals("amd64") || a.equals("x86_64") || a.equals("x64")) {
            return "x86_64";
        } else if (a.equals("aarch64") || a.equals("arm64")) {
            return "aarch64";
        }
        return a.replaceAll("[^a-z0-9_]", "");
    }

    static String libraryFile(String os) {
        if (os.equals("macos")) {
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
        String os = os(System.getProperty("os.name", "unknown"));
        String arch = arch(System.getProperty("os.arch", "unknown"));
        ClassLoader loader = NativeLoader.class.getClassLoader();
        String resource = resourcePath(os, arch);
        URL url = loader.getResource(resource);
        if (url == null) {
            List<String> bundled = bundledPlatforms(loader);
            throw new ConnectException("The StarRocks connector has no native library for " + os + "-" + arch
                    + " (os.name=" + System.getProperty("os.name") + ", os.arch=" + System.getProperty("os.arch")
                    + "): this jar carries " + (bundled.isEmpty() ? "none" : "only " + String.join(", ", bundled))
                    + ". Build one for this platform, or set the system property " + LIB_PROPERTY
                    + " to a built library.");
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
