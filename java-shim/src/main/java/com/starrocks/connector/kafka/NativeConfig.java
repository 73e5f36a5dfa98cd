package com.starrocks.connector.kafka;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.ConfigDef;

/**
 * The one document the Rust core is opened with (docs/architecture.md, "One config schema"): every value typed,
 * validated and defaulted by {@link StarRocksSinkConfig#CONFIG_DEF}, and everything that derives from other keys
 * resolved here (the label prefix from the connector name, the query address from the first FE, the FE list
 * split into scheme and address, the {@code format} header). The core deserializes it with serde and parses,
 * validates and defaults nothing itself. {@code tests/vectors/native_config.json} pins the format: NativeConfigTest
 * checks this class writes it, native/core's config tests read it.
 *
 * <p>Only the fields in {@link #HAND_WRITTEN} (not declared by ConfigDef, or transformed, or resolved from other
 * keys) have a line in {@link #document}. Every other ConfigDef key, but the Stream Load headers
 * ({@code sink.properties.*}) and {@link #JAVA_ONLY_KEYS}, is written generically from
 * {@code CONFIG_DEF.configKeys()} by its ConfigDef type ({@link #PLAIN}): adding a plain key of type INT, SHORT,
 * LONG, BOOLEAN or STRING needs nothing here; a key of another type fails this class's initialization until it is
 * given a hand-written field.
 */
final class NativeConfig {
    /** The PROPERTIES of a table {@code auto.create} makes: every {@code auto.create.properties.<name>}. */
    static final String AUTO_CREATE_PROPERTIES = "auto.create.properties";

    /** Where the Stream Load headers come from: {@code sink.properties.<header>}. */
    static final String HEADER_PREFIX = "sink.properties.";
    /** The connector name when Connect gives none (the Rust core's default before the document existed). */
    static final String DEFAULT_NAME = "starrocks-sink";
    /** The FE's MySQL query port when {@code starrocks.query.address} is empty. */
    static final int DEFAULT_QUERY_PORT = 9030;
    /** An undocumented override of {@code bufferflush.maxbytes} below its 64 MiB minimum, for memory tests. */
    static final String TESTING_MAX_BYTES = "testing.bufferflush.maxbytes";
    /** An undocumented failpoint for the JNI tests: the sink panics in put. */
    static final String TESTING_PANIC_ON_PUT = "testing.panic.on.put";
    /** Connect's own key (not ours to declare): {@code all} hands bad records to the errant record reporter. */
    static final String ERRORS_TOLERANCE = "errors.tolerance";
    /** The document's field for the truststore's certificates as PEM. */
    static final String TRUSTSTORE_PEM = "starrocks.ssl.truststore.pem";

    /**
     * The keys of {@link StarRocksSinkConfig#CONFIG_DEF} that stay in the JVM: the truststore is read here and only
     * its certificates ({@link #TRUSTSTORE_PEM}) cross to the core, never the password.
     */
    static final Set<String> JAVA_ONLY_KEYS = Collections.unmodifiableSet(new LinkedHashSet<>(Arrays.asList(
            StarRocksSinkConfig.SSL_TRUSTSTORE_LOCATION, StarRocksSinkConfig.SSL_TRUSTSTORE_PASSWORD,
            StarRocksSinkConfig.SSL_TRUSTSTORE_TYPE)));

    /**
     * The fields {@link #document} writes by hand, in that order: those ConfigDef does not declare (Connect's,
     * derived, undocumented) and the declared keys whose value is transformed or resolved from other keys.
     */
    static final List<String> HAND_WRITTEN = Collections.unmodifiableList(Arrays.asList(
            "name", StarRocksSinkConfig.TASK_ID, StarRocksSinkConfig.HTTP_URL, StarRocksSinkConfig.PASSWORD,
            StarRocksSinkConfig.TOPIC2TABLE, StarRocksSinkConfig.BUFFER_MAX_BYTES, StarRocksSinkConfig.LABEL_PREFIX,
            "sink.properties", ERRORS_TOLERANCE, StarRocksSinkConfig.DELIVERY_GUARANTEE,
            StarRocksSinkConfig.QUERY_ADDRESS, StarRocksSinkConfig.EO_OFFSET_COLUMN, TRUSTSTORE_PEM,
            TESTING_PANIC_ON_PUT, AUTO_CREATE_PROPERTIES));

    /**
     * Every other key of {@link StarRocksSinkConfig#CONFIG_DEF} but the Stream Load headers and
     * {@link #JAVA_ONLY_KEYS}, in declaration order: written as ConfigDef parsed it, by its type ({@link #plain}),
     * so a new plain key needs no line here.
     */
    static final List<String> PLAIN = plainKeys(StarRocksSinkConfig.CONFIG_DEF);

    /** Every field of the document, in the order {@link #document} writes them: {@link #HAND_WRITTEN}, then {@link #PLAIN}. */
    static final List<String> FIELDS = Collections.unmodifiableList(concat(HAND_WRITTEN, PLAIN));

    /** One {@code starrocks.http.url} entry: scheme prefix, address, a trailing slash (UrlListValidator's shape). */
    private static final Pattern FE_ENTRY = Pattern.compile("(?i:(https?)://)?(.*?)/?");

    private NativeConfig() {
    }

    /**
     * The document for a config ConfigDef accepted: {@code config} holds the parsed values, {@code props} the task
     * config as Connect gave it (for what ConfigDef does not parse: the connector name, {@code task.id}, the
     * password untrimmed, the Stream Load headers, Connect's and the testing keys), {@code trustedPem} the
     * truststore's certificates or null.
     */
    static String document(StarRocksSinkConfig config, Map<String, String> props, String trustedPem) {
        String name = nonBlank(props.get("name"), DEFAULT_NAME);
        List<String[]> fe = feList(config.getString(StarRocksSinkConfig.HTTP_URL));
        String[] query = queryAddress(config.getString(StarRocksSinkConfig.QUERY_ADDRESS), fe.get(0)[1]);
        String password = props.get(StarRocksSinkConfig.PASSWORD);
        String offsetColumn = config.getString(StarRocksSinkConfig.EO_OFFSET_COLUMN);

        Json json = new Json();
        json.beginObject();
        json.field("name").string(name);
        json.field(StarRocksSinkConfig.TASK_ID).string(nonBlank(props.get(StarRocksSinkConfig.TASK_ID), "0"));
        json.field(StarRocksSinkConfig.HTTP_URL).beginArray();
        for (String[] entry : fe) {
            json.beginObject();
            json.field("https").bool("https".equals(entry[0]));
            json.field("host_port").string(entry[1]);
            json.endObject();
        }
        json.endArray();
        json.field(StarRocksSinkConfig.PASSWORD).string(password == null ? "" : password); // not trimmed
        json.field(StarRocksSinkConfig.TOPIC2TABLE).stringMap(
                StarRocksSinkConfig.parseTopicMap(config.getString(StarRocksSinkConfig.TOPIC2TABLE)));
        json.field(StarRocksSinkConfig.BUFFER_MAX_BYTES).number(flushMaxBytes(config, props));
        json.field(StarRocksSinkConfig.LABEL_PREFIX).string(
                labelPrefix(config.getString(StarRocksSinkConfig.LABEL_PREFIX), name));
        json.field("sink.properties").stringMap(headers(props));
        json.field(ERRORS_TOLERANCE).string(tolerateErrors(props) ? "all" : "none");
        json.field(StarRocksSinkConfig.DELIVERY_GUARANTEE).string(
                config.getString(StarRocksSinkConfig.DELIVERY_GUARANTEE).toLowerCase(Locale.ROOT));
        json.field(StarRocksSinkConfig.QUERY_ADDRESS).beginObject();
        json.field("host").string(query[0]);
        json.field("port").number(Integer.parseInt(query[1]));
        json.endObject();
        json.field(StarRocksSinkConfig.EO_OFFSET_COLUMN).string(
                offsetColumn == null || offsetColumn.isEmpty() ? null : offsetColumn);
        json.field(TRUSTSTORE_PEM).string(trustedPem);
        json.field(TESTING_PANIC_ON_PUT).bool("true".equals(trimmed(props.get(TESTING_PANIC_ON_PUT))));
        json.field(AUTO_CREATE_PROPERTIES).stringMap(prefixed(props, StarRocksSinkConfig.AUTO_CREATE_PROPERTIES_PREFIX));
        for (String key : PLAIN) {
            plain(json.field(key), config, key, StarRocksSinkConfig.CONFIG_DEF.configKeys().get(key).type);
        }
        json.endObject();
        return json.toString();
    }

    /**
     * The keys of {@code def} the document carries as ConfigDef parsed them: all but {@link #HAND_WRITTEN}, the
     * Stream Load headers ({@link #HEADER_PREFIX}) and {@link #JAVA_ONLY_KEYS}. Fails (at class init) on a type
     * {@link #plain} does not write, so a key of a new type is noticed and given a hand-written field.
     */
    static List<String> plainKeys(ConfigDef def) {
        List<String> keys = new ArrayList<>();
        for (ConfigDef.ConfigKey key : def.configKeys().values()) {
            if (HAND_WRITTEN.contains(key.name) || key.name.startsWith(HEADER_PREFIX)
                    || JAVA_ONLY_KEYS.contains(key.name)) {
                continue;
            }
            if (!isPlain(key.type)) {
                throw new IllegalStateException(key.name + ": ConfigDef type " + key.type + " has no generic form in "
                        + "the native config document; write the field by hand in NativeConfig");
            }
            keys.add(key.name);
        }
        return Collections.unmodifiableList(keys);
    }

    /** Whether {@link #plain} writes a value of this type. */
    static boolean isPlain(ConfigDef.Type type) {
        switch (type) {
            case INT:
            case SHORT:
            case LONG:
            case BOOLEAN:
            case STRING:
            case LIST:
                return true;
            default:
                return false;
        }
    }

    /** Writes {@code key}'s parsed value: a number, a boolean, a string (null when ConfigDef's value is) or a list of strings. */
    private static void plain(Json json, StarRocksSinkConfig config, String key, ConfigDef.Type type) {
        switch (type) {
            case INT:
                json.number(config.getInt(key));
                break;
            case SHORT:
                json.number(config.getShort(key));
                break;
            case LONG:
                json.number(config.getLong(key));
                break;
            case BOOLEAN:
                json.bool(config.getBoolean(key));
                break;
            case STRING:
                json.string(config.getString(key));
                break;
            case LIST:
                json.beginArray();
                for (String item : config.getList(key)) {
                    json.string(item);
                }
                json.endArray();
                break;
            default:
                throw new IllegalStateException(key + ": no generic form for ConfigDef type " + type); // plainKeys
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    /** Connect's {@code errors.tolerance=all} (any case): bad records go to the errant record reporter. */
    static boolean tolerateErrors(Map<String, String> props) {
        return "all".equalsIgnoreCase(trimmed(props.get(ERRORS_TOLERANCE)));
    }

    /**
     * {@code bufferflush.maxbytes} as ConfigDef parsed it, or {@link #TESTING_MAX_BYTES} when set (the config
     * refused it already unless it is a positive integer: {@link StarRocksSinkConfig#undeclaredProblems}).
     */
    static long flushMaxBytes(StarRocksSinkConfig config, Map<String, String> props) {
        String testing = trimmed(props.get(TESTING_MAX_BYTES));
        return testing == null || testing.isEmpty() ? config.getLong(StarRocksSinkConfig.BUFFER_MAX_BYTES)
                : Long.parseLong(testing);
    }

    /**
     * The Stream Load headers: every {@code sink.properties.<header>} in {@code props}, names and values as given
     * (declared or not; ConfigDef's defaults of the declared ones are not headers), sorted, plus
     * {@code format=json} when no header is {@code format} in any case.
     */
    /** Every {@code <prefix><name>} of {@code props} with a name, as name → value, sorted. */
    static Map<String, String> prefixed(Map<String, String> props, String prefix) {
        Map<String, String> out = new TreeMap<>();
        for (Map.Entry<String, String> e : props.entrySet()) {
            if (e.getKey() != null && e.getKey().startsWith(prefix) && e.getKey().length() > prefix.length()) {
                out.put(e.getKey().substring(prefix.length()), e.getValue() == null ? "" : e.getValue());
            }
        }
        return out;
    }

    static Map<String, String> headers(Map<String, String> props) {
        Map<String, String> headers = new TreeMap<>();
        boolean format = false;
        for (Map.Entry<String, String> e : props.entrySet()) {
            if (e.getKey() != null && e.getKey().startsWith(HEADER_PREFIX)) {
                String header = e.getKey().substring(HEADER_PREFIX.length());
                headers.put(header, e.getValue() == null ? "" : e.getValue());
                format |= header.equalsIgnoreCase("format");
            }
        }
        if (!format) {
            headers.put("format", "json");
        }
        return headers;
    }

    /**
     * {@code sink.label.prefix}: the configured one when set (LabelPrefixValidator checked it), else the connector
     * name with every character but {@code [-A-Za-z0-9_]} replaced by {@code _}, cut to
     * {@link StarRocksSinkConfig#LABEL_PREFIX_MAX} characters, {@code sink} when that leaves nothing
     * (tests/vectors/label_prefix.json).
     */
    static String labelPrefix(String configured, String name) {
        if (configured != null && !configured.isEmpty()) {
            return configured;
        }
        StringBuilder out = new StringBuilder();
        int i = 0;
        // by code point, as the core counted characters: a character outside the BMP is one '_'
        while (i < name.length() && out.length() < StarRocksSinkConfig.LABEL_PREFIX_MAX) {
            int c = name.codePointAt(i);
            i += Character.charCount(c);
            boolean keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
                    || c == '_';
            out.append(keep ? (char) c : '_');
        }
        return out.length() == 0 ? "sink" : out.toString();
    }

    /**
     * {@code starrocks.http.url} as {@code {scheme, host:port}} pairs, scheme {@code http} or {@code https}: each
     * entry trimmed, its {@code http://} or {@code https://} (any case) and a trailing {@code /} taken off.
     */
    static List<String[]> feList(String urls) {
        List<String[]> out = new ArrayList<>();
        for (String raw : urls.split(",", -1)) {
            Matcher m = FE_ENTRY.matcher(raw.trim());
            if (!m.matches()) {
                throw new IllegalStateException("UrlListValidator let '" + raw + "' pass"); // cannot happen
            }
            String scheme = m.group(1) == null ? "http" : m.group(1).toLowerCase(Locale.ROOT);
            out.add(new String[] {scheme, m.group(2)});
        }
        return out;
    }

    /**
     * {@code {host, port}} of the FE's query port: {@code configured} (host:port, QueryAddressValidator checked it)
     * or, when empty, the host of {@code firstFe} (host:port) and {@link #DEFAULT_QUERY_PORT}; an IPv6 host loses
     * its brackets ({@code [::1]} in a URL, {@code ::1} on a socket).
     */
    static String[] queryAddress(String configured, String firstFe) {
        String address = configured == null ? "" : configured.trim();
        String host;
        String port;
        if (address.isEmpty()) {
            host = firstFe.substring(0, firstFe.lastIndexOf(':'));
            port = Integer.toString(DEFAULT_QUERY_PORT);
        } else {
            int colon = address.lastIndexOf(':');
            host = address.substring(0, colon);
            port = Integer.toString(Integer.parseInt(address.substring(colon + 1)));
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new String[] {host, port};
    }

    private static String trimmed(String s) {
        return s == null ? null : s.trim();
    }

    private static String nonBlank(String s, String otherwise) {
        return s == null || s.trim().isEmpty() ? otherwise : s.trim();
    }

    /**
     * A JSON writer for this document only. Hand-written on purpose: the shim bundles no dependency (a JSON library
     * in the plugin could clash with the one the worker has, and the worker's own is not ours to rely on), and the
     * document is ours, flat, and written in this one place. Strings are escaped per RFC 8259: quote, backslash and
     * control characters (as {@code \}{@code uXXXX}); other characters pass as they are (UTF-8 on the JNI side). A
     * lone surrogate, which has no UTF-8 form, is escaped too, so the core refuses it rather than seeing a U+FFFD.
     */
    static final class Json {
        private final StringBuilder out = new StringBuilder(1024);
        /** Whether the innermost open object or array has an element yet. */
        private final List<Boolean> hasElement = new ArrayList<>();
        /** A field name was just written: the next value is its value, no comma. */
        private boolean afterName;

        private void beforeValue() {
            if (afterName) {
                afterName = false;
                return;
            }
            int top = hasElement.size() - 1;
            if (top >= 0) {
                if (hasElement.get(top)) {
                    out.append(',');
                }
                hasElement.set(top, true);
            }
        }

        Json beginObject() {
            beforeValue();
            out.append('{');
            hasElement.add(false);
            return this;
        }

        Json endObject() {
            hasElement.remove(hasElement.size() - 1);
            out.append('}');
            return this;
        }

        Json beginArray() {
            beforeValue();
            out.append('[');
            hasElement.add(false);
            return this;
        }

        Json endArray() {
            hasElement.remove(hasElement.size() - 1);
            out.append(']');
            return this;
        }

        Json field(String name) {
            beforeValue();
            quoted(name);
            out.append(':');
            afterName = true;
            return this;
        }

        /** A string, or {@code null}. */
        Json string(String value) {
            beforeValue();
            if (value == null) {
                out.append("null");
            } else {
                quoted(value);
            }
            return this;
        }

        Json number(long value) {
            beforeValue();
            out.append(value);
            return this;
        }

        Json bool(boolean value) {
            beforeValue();
            out.append(value);
            return this;
        }

        Json stringMap(Map<String, String> map) {
            beginObject();
            for (Map.Entry<String, String> e : map.entrySet()) {
                field(e.getKey()).string(e.getValue());
            }
            return endObject();
        }

        private void quoted(String s) {
            out.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '"' || c == '\\') {
                    out.append('\\').append(c);
                } else if (c < 0x20 || lone(s, i)) {
                    out.append(String.format("\\u%04x", (int) c));
                } else {
                    out.append(c);
                }
            }
            out.append('"');
        }

        /** Whether the char at {@code i} is a surrogate that is not half of a pair. */
        private static boolean lone(String s, int i) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                return i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
            }
            if (Character.isLowSurrogate(c)) {
                return i == 0 || !Character.isHighSurrogate(s.charAt(i - 1));
            }
            return false;
        }

        @Override
        public String toString() {
            return out.toString();
        }
    }
}
