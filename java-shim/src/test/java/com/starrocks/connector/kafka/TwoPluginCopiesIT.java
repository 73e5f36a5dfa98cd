package com.starrocks.connector.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.starrocks.connector.kafka.bridge.NativeLoader;
import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Two copies of the plugin on one worker: Connect gives each plugin directory its own classloader, and the JVM
 * lets only one classloader own a given native library file. Each copy must extract and load its own.
 * Runs against the packaged jar in target/, which carries the library when built by {@code make}.
 */
@EnabledIfSystemProperty(named = NativeLoader.LIB_PROPERTY, matches = ".+")
class TwoPluginCopiesIT {

    /** Loads the plugin's classes itself (as Connect's PluginClassLoader does), the rest from the parent. */
    static final class PluginLoader extends URLClassLoader {
        PluginLoader(URL jar, ClassLoader parent) {
            super(new URL[] {jar}, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.startsWith("com.starrocks.")) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c == null) {
                    c = findClass(name);
                }
                if (resolve) {
                    resolveClass(c);
                }
                return c;
            }
        }

        @Override
        public URL getResource(String name) {
            URL own = findResource(name);
            return own != null ? own : super.getResource(name);
        }
    }

    static File shimJar() {
        File[] jars = new File("target").listFiles((d, n) -> n.startsWith("starrocks-kafka-connector-")
                && n.endsWith(".jar") && !n.contains("sources") && !n.contains("tests"));
        assertTrue(jars != null && jars.length == 1, "expected one shim jar in target/");
        return jars[0];
    }

    @Test
    void eachCopyLoadsItsOwnLibraryAndOpensASink() throws Exception {
        URL jar = shimJar().toURI().toURL();
        String override = System.clearProperty(NativeLoader.LIB_PROPERTY);
        try (PluginLoader a = new PluginLoader(jar, getClass().getClassLoader());
             PluginLoader b = new PluginLoader(jar, getClass().getClassLoader())) {
            String pathA = loadIn(a);
            String pathB = loadIn(b);
            assertNotEquals(pathA, pathB, "both copies loaded the same file");
            Class<?> sinkA = a.loadClass("com.starrocks.connector.kafka.bridge.NativeSink");
            Class<?> sinkB = b.loadClass("com.starrocks.connector.kafka.bridge.NativeSink");
            assertNotSame(sinkA, sinkB);
            for (Class<?> sink : new Class<?>[] {sinkA, sinkB}) {
                Method open = sink.getMethod("open", String.class, int.class);
                Object s = open.invoke(null, NativeBridgeIT.document(NativeBridgeIT.config()), 3);
                assertEquals(Boolean.FALSE, sink.getMethod("isClosed").invoke(s));
                sink.getMethod("close").invoke(s);
            }
        } finally {
            System.setProperty(NativeLoader.LIB_PROPERTY, override);
        }
    }

    private static String loadIn(ClassLoader loader) throws Exception {
        Class<?> nativeLoader = Class.forName("com.starrocks.connector.kafka.bridge.NativeLoader", true, loader);
        String path = (String) nativeLoader.getMethod("load").invoke(null);
        assertTrue(new File(path).isFile(), path);
        return path;
    }
}
