package com.starrocks.connector.kafka;

import java.io.InputStream;
import java.util.Properties;

/** The connector's version, from the build (the filtered resource {@code starrocks-kafka-connector.properties}). */
public final class Version {
    private static final String VERSION = read();

    private Version() {
    }

    public static String get() {
        return VERSION;
    }

    private static String read() {
        try (InputStream in = Version.class.getResourceAsStream("/starrocks-kafka-connector.properties")) {
            if (in != null) {
                Properties props = new Properties();
                props.load(in);
                return props.getProperty("version", "unknown").trim();
            }
        } catch (Exception e) {
            // fall through: a missing version must never stop the worker's plugin scan
        }
        return "unknown";
    }
}
