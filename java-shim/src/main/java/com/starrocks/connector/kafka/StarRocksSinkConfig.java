package com.starrocks.connector.kafka;

import com.starrocks.connector.kafka.tls.TrustedCertificates;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * Every key of StarRocks' connector documentation, with its documented default and range, plus our own
 * {@code sink.*} keys: the one config schema (docs/architecture.md). Keys under {@code sink.properties.} that are
 * not declared here pass through to Stream Load as headers. This class validates every key and every rule that
 * involves several; the Rust core gets the result as one typed document ({@link #nativeConfig}, written by
 * {@link NativeConfig}) and parses, validates and defaults nothing itself.
 */
public class StarRocksSinkConfig extends AbstractConfig {
    public static final String HTTP_URL = "starrocks.http.url";
    public static final String DATABASE = "starrocks.database.name";
    public static final String USERNAME = "starrocks.username";
    public static final String PASSWORD = "starrocks.password";
    public static final String TOPIC2TABLE = "starrocks.topic2table.map";
    public static final String BUFFER_MAX_BYTES = "bufferflush.maxbytes";
    public static final String BUFFER_INTERVAL_MS = "bufferflush.intervalms";
    public static final String CONNECT_TIMEOUT_MS = "connect.timeoutms";
    public static final String FORMAT = "sink.properties.format";
    public static final String PARTIAL_UPDATE = "sink.properties.partial_update";
    public static final String PARTIAL_UPDATE_MODE = "sink.properties.partial_update_mode";
    public static final String MAX_RETRIES = "sink.maxretries";
    public static final String RETRY_BACKOFF_MS = "sink.retry.backoffms";
    public static final String SINK_TIMEOUT_MS = "sink.timeoutms";
    public static final String STALL_TIMEOUT_MS = "sink.stall.timeoutms";
    public static final String MAX_INFLIGHT_LOADS = "sink.inflight.maxloads";
    public static final String MULTI_TABLE_TXN = "sink.transaction.multi-table.enabled";
    public static final String LABEL_PREFIX = "sink.label.prefix";
    public static final String TIMEZONE = "sink.timezone";
    public static final String TASK_ID = "task.id";
    public static final String SSL_TRUSTSTORE_LOCATION = TrustedCertificates.LOCATION;
    public static final String SSL_TRUSTSTORE_PASSWORD = TrustedCertificates.PASSWORD;
    public static final String SSL_TRUSTSTORE_TYPE = TrustedCertificates.TYPE;
    public static final String DELIVERY_GUARANTEE = "delivery.guarantee";
    public static final String AT_LEAST_ONCE = "at_least_once";
    public static final String EXACTLY_ONCE = "exactly_once";
    public static final String QUERY_ADDRESS = "starrocks.query.address";
    public static final String EO_REGISTER_TABLE = "exactly.once.register.table";
    public static final String EO_REGISTER_CREATE = "exactly.once.register.create";
    public static final String EO_OFFSET_COLUMN = "exactly.once.offset.column";
    public static final String AUTO_CREATE = "auto.create";
    public static final String AUTO_EVOLVE = "auto.evolve";
    public static final String PK_MODE = "pk.mode";
    public static final String PK_FIELDS = "pk.fields";
    public static final String AUTO_CREATE_BUCKETS = "auto.create.buckets";
    public static final String AUTO_CREATE_PROPERTIES_PREFIX = "auto.create.properties.";
    /** Not declared (it passes through as a Stream Load header), but exactly_once refuses any value but 0. */
    public static final String MAX_FILTER_RATIO = "sink.properties.max_filter_ratio";

    private static final String G_CONN = "StarRocks";
    private static final String G_LOAD = "Loading";
    private static final String G_DELIVERY = "Delivery";
    private static final String G_SCHEMA = "Schema";

    private static final Pattern URL_ENTRY =
            Pattern.compile("(?i:https?://)?([A-Za-z0-9_.-]+|\\[[0-9A-Fa-f:.]+\\]):([0-9]{1,5})/?");
    /** The width the label keeps of the prefix (native stream_load/label.rs); tests/vectors/label_prefix.json. */
    static final int LABEL_PREFIX_MAX = 32;

    private static final Pattern LABEL = Pattern.compile("[-A-Za-z0-9_]{0," + LABEL_PREFIX_MAX + "}");
    /** A plain decimal number, as the core's {@code f64} parser took {@link #MAX_FILTER_RATIO} (no NaN, no inf). */
    private static final Pattern DECIMAL = Pattern.compile("[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?");
    private static final Pattern HOST_PORT = Pattern.compile("([A-Za-z0-9_.-]+|\\[[0-9A-Fa-f:.]+\\]):([0-9]{1,5})");

    public static final ConfigDef CONFIG_DEF = new ConfigDef()
            .define(HTTP_URL, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new UrlListValidator(), Importance.HIGH,
                    "Comma-separated HTTP addresses of the StarRocks FEs, each host:port (default FE port 8030); "
                            + "http:// or https:// may prefix an entry.", G_CONN, 1, Width.LONG, "FE HTTP URLs")
            .define(DATABASE, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(),
                    Importance.HIGH, "Name of the StarRocks database.", G_CONN, 2, Width.MEDIUM, "Database")
            .define(USERNAME, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(),
                    Importance.HIGH,
                    "StarRocks user; needs INSERT privilege on the target tables.", G_CONN, 3, Width.MEDIUM, "User")
            .define(PASSWORD, Type.PASSWORD, ConfigDef.NO_DEFAULT_VALUE, Importance.HIGH,
                    "Password of the StarRocks user (may be empty).", G_CONN, 4, Width.MEDIUM, "Password")
            .define(TOPIC2TABLE, Type.STRING, "", new TopicMapValidator(), Importance.MEDIUM,
                    "Mapping of topic names to table names where they differ: topic-1:table-1,topic-2:table-2. "
                            + "A topic that is not listed loads into the table of the same name.",
                    G_CONN, 5, Width.LONG, "Topic to table map")
            .define(BUFFER_MAX_BYTES, Type.LONG, 94371840L, Range.between(67108864L, 10737418240L),
                    Importance.MEDIUM, "Most bytes of rows buffered in memory before they are loaded "
                            + "(all tables of the task together), 64 MiB to 10 GiB.",
                    G_LOAD, 1, Width.MEDIUM, "Buffer size")
            .define(BUFFER_INTERVAL_MS, Type.LONG, 1000L, Range.between(1000L, 3600000L), Importance.MEDIUM,
                    "Longest time rows wait in the buffer before they are loaded, in ms [1000, 3600000].",
                    G_LOAD, 2, Width.SHORT, "Flush interval")
            .define(CONNECT_TIMEOUT_MS, Type.LONG, 1000L, Range.between(100L, 60000L), Importance.LOW,
                    "Timeout to connect to a StarRocks HTTP address, in ms [100, 60000].",
                    G_CONN, 6, Width.SHORT, "Connect timeout")
            .define(FORMAT, Type.STRING, "json", ConfigDef.CaseInsensitiveValidString.in("json", "csv"),
                    Importance.MEDIUM, "Stream Load format of the rows: json or csv.", G_LOAD, 3, Width.SHORT,
                    "Format")
            .define(PARTIAL_UPDATE, Type.BOOLEAN, false, Importance.LOW,
                    "Whether loads update only the columns present in the rows (Primary Key tables).",
                    G_LOAD, 4, Width.SHORT, "Partial update")
            .define(PARTIAL_UPDATE_MODE, Type.STRING, "row", ConfigDef.CaseInsensitiveValidString.in("row", "column"),
                    Importance.LOW, "Partial update mode: row or column.", G_LOAD, 5, Width.SHORT,
                    "Partial update mode")
            .define(MAX_RETRIES, Type.INT, 3, Range.atLeast(0), Importance.LOW,
                    "How many times a failed load is retried (same label) before the task fails.",
                    G_LOAD, 6, Width.SHORT, "Max retries")
            .define(RETRY_BACKOFF_MS, Type.LONG, 1000L, Range.between(0L, 600000L), Importance.LOW,
                    "Wait before the first retry of a load, in ms [0, 600000].", G_LOAD, 7, Width.SHORT,
                    "Retry backoff")
            .define(SINK_TIMEOUT_MS, Type.LONG, 120000L, Range.between(1000L, 3600000L), Importance.LOW,
                    "Longest time one Stream Load HTTP request may take, in ms [1000, 3600000].",
                    G_LOAD, 8, Width.SHORT, "Load timeout")
            .define(STALL_TIMEOUT_MS, Type.LONG, 1800000L, Range.between(1000L, 86400000L), Importance.LOW,
                    "How long records may wait while no load succeeds (at_least_once: one table's load with its "
                            + "retries; exactly_once: one partition's flush or fence) before the task fails with a "
                            + "message naming the table, the label, the records waiting and what the last attempt "
                            + "was waiting for (FE redirect, BE answer, label state, transaction commit, ...), "
                            + "instead of showing RUNNING, in ms [1000, 86400000]. The default, 30 minutes, is "
                            + "comfortably above the longest legitimate wait of one load with the default retries: "
                            + "4 attempts of up to sink.timeoutms (2 minutes) each, plus as long again for an "
                            + "earlier attempt's label to settle, plus the backoff (about 17 minutes in all). Keep it "
                            + "above sink.timeoutms: one slow request is not a stall.",
                    G_LOAD, 9, Width.SHORT, "Stall timeout")
            .define(MAX_INFLIGHT_LOADS, Type.INT, 8, Range.between(1, 1000), Importance.LOW,
                    "Most Stream Loads one task runs at once (one per table at most); a table whose buffer is due "
                            + "waits for a slot. Each load is a running transaction in StarRocks, which allows "
                            + "max_running_txn_num_per_db of them per database (1000 since 3.1, 100 before) for every "
                            + "writer together: with the default, four tasks stay under a third of a 3.0 cluster's 100 "
                            + "[1, 1000]. A multi-table transaction (" + MULTI_TABLE_TXN + ") takes one slot.",
                    G_LOAD, 10, Width.SHORT, "Max loads in flight")
            .define(LABEL_PREFIX, Type.STRING, "", new LabelPrefixValidator(), Importance.LOW,
                    "Prefix of the Stream Load labels, at most " + LABEL_PREFIX_MAX + " characters of [-A-Za-z0-9_]; "
                            + "empty derives it from the connector name.", G_LOAD, 11, Width.SHORT, "Label prefix")
            .define(TIMEZONE, Type.STRING, "UTC", new TimeZoneValidator(), Importance.LOW,
                    "IANA time zone (e.g. UTC, Asia/Shanghai) in which Connect Timestamp values and Debezium "
                            + "ZonedTimestamp instants are written into DATETIME columns.",
                    G_LOAD, 12, Width.SHORT, "Time zone")
            .define(SSL_TRUSTSTORE_LOCATION, Type.STRING, null, Importance.MEDIUM,
                    "File with the CA certificates that https:// FE and BE addresses are verified against: PEM "
                            + "(one or more CERTIFICATE blocks), JKS or PKCS12. Replaces the built-in Mozilla roots. "
                            + "Unset: https:// is verified against the built-in Mozilla roots (webpki-roots).",
                    G_CONN, 7, Width.LONG, "Truststore location")
            .define(SSL_TRUSTSTORE_PASSWORD, Type.PASSWORD, null, Importance.MEDIUM,
                    "Password of a JKS or PKCS12 truststore (unused for PEM).", G_CONN, 8, Width.MEDIUM,
                    "Truststore password")
            .define(SSL_TRUSTSTORE_TYPE, Type.STRING, null, new TruststoreTypeValidator(), Importance.LOW,
                    "PEM, JKS or PKCS12. Unset: PEM when the file starts with -----BEGIN, JKS when it has the JKS "
                            + "magic number, else PKCS12.", G_CONN, 9, Width.SHORT, "Truststore type")
            .define(DELIVERY_GUARANTEE, Type.STRING, AT_LEAST_ONCE,
                    ConfigDef.CaseInsensitiveValidString.in(AT_LEAST_ONCE, EXACTLY_ONCE), Importance.MEDIUM,
                    "at_least_once: a record may be loaded again after a failure or a rebalance. "
                            + "exactly_once: every record is loaded once; needs StarRocks 4.0+ "
                            + "(multi-table transactions) and loads each partition's flush together with its "
                            + "progress row (" + EO_REGISTER_TABLE + ") in one transaction; all target tables must "
                            + "be in " + DATABASE + " and " + MAX_FILTER_RATIO + " must be 0 or unset. "
                            + "See docs/exactly-once.md.", G_DELIVERY, 1, Width.SHORT, "Delivery guarantee")
            .define(MULTI_TABLE_TXN, Type.BOOLEAN, false, Importance.LOW,
                    "at_least_once on StarRocks 4.0+: a flush commits every table of the due table's database "
                            + "that has rows waiting (and no load in flight) in one multi-table transaction, instead "
                            + "of one Stream Load per table: hundreds of tables cost one transaction and one label per "
                            + "flush, well under max_running_txn_num_per_db and label_keep_max_num. A flush of one "
                            + "table stays a plain Stream Load. Rows StarRocks refuses roll the transaction back and "
                            + "that flush loads table by table (errors.tolerance and the DLQ as usual). The task "
                            + "checks the StarRocks version over " + QUERY_ADDRESS + " on start, as validation does. "
                            + "Refused with " + DELIVERY_GUARANTEE + "=" + EXACTLY_ONCE + ", which commits this way "
                            + "already. See docs/performance.md.", G_DELIVERY, 6, Width.SHORT,
                    "Multi-table transactions")
            .define(QUERY_ADDRESS, Type.STRING, "", new QueryAddressValidator(), Importance.LOW,
                    "host:port of a StarRocks FE's MySQL query port: exactly_once reads and creates its register "
                            + "table and checks the StarRocks version there; every task reads its tables' columns "
                            + "there (to report fields a table lacks) and runs " + "auto.create/auto.evolve DDL. "
                            + "Empty: the host of the first "
                            + HTTP_URL + " entry, port 9030.", G_DELIVERY, 2, Width.MEDIUM, "FE query address")
            .define(EO_REGISTER_TABLE, Type.STRING, "kafka_connect_register",
                    new PatternValidator("[A-Za-z0-9_]{1,64}", "[A-Za-z0-9_]{1,64}",
                            "1 to 64 characters of [A-Za-z0-9_]"),
                    Importance.LOW, "exactly_once: the Primary Key table in " + DATABASE + " that holds the next "
                            + "offset of each topic-partition (one register can serve several connectors).",
                    G_DELIVERY, 3, Width.MEDIUM, "Register table")
            .define(EO_REGISTER_CREATE, Type.BOOLEAN, true, Importance.LOW,
                    "exactly_once: create the register table on start when it is missing. false: the task fails "
                            + "with the CREATE TABLE statement to run.", G_DELIVERY, 4, Width.SHORT,
                    "Create register table")
            .define(EO_OFFSET_COLUMN, Type.STRING, "",
                    new PatternValidator("|[A-Za-z_][A-Za-z0-9_]{0,63}",
                            "empty or [A-Za-z_][A-Za-z0-9_]{0,63}",
                            "empty, or a column name: a letter or _, then up to 63 of [A-Za-z0-9_]"),
                    Importance.LOW, "exactly_once only. When set, every row gets this extra column holding the "
                            + "record's Kafka offset, and loads send merge_condition: <column>, so an older record "
                            + "never overwrites a newer one: defence in depth for Primary Key targets whose keys "
                            + "always come from one partition. JSON rows only. Empty: no such column.",
                    G_DELIVERY, 5, Width.MEDIUM, "Offset column")
            .define(AUTO_CREATE, Type.BOOLEAN, false, Importance.MEDIUM,
                    "Create a target table that does not exist, before its first load, from the first record's "
                            + "schema (or, schemaless, its values), over " + QUERY_ADDRESS + ". The database must "
                            + "exist. Needs " + FORMAT + "=json. See docs/schemas.md.", G_SCHEMA, 1, Width.SHORT,
                    "Create tables")
            .define(AUTO_EVOLVE, Type.BOOLEAN, false, Importance.MEDIUM,
                    "Add a nullable column for a field its table lacks (ALTER TABLE ... ADD COLUMN, waiting until "
                            + "the schema change finishes) before loading rows that carry it, and widen a VARCHAR "
                            + "that a field's declared length outgrows. false: such a field is dropped, logged once "
                            + "per table and field at WARN and counted in fields-dropped. Needs " + FORMAT
                            + "=json. See docs/schemas.md.", G_SCHEMA, 2, Width.SHORT, "Evolve tables")
            .define(PK_MODE, Type.STRING, "none", ConfigDef.ValidString.in("none", "record_key", "record_value"),
                    Importance.MEDIUM, "The key of a table " + AUTO_CREATE + " makes. none: a Duplicate Key table "
                            + "(Debezium rows still key on the Debezium key). record_key: a Primary Key table on the "
                            + "record key's fields (a primitive key is written into each row as the column "
                            + PK_FIELDS + " names). record_value: a Primary Key table on the value fields "
                            + PK_FIELDS + " names.", G_SCHEMA, 3, Width.SHORT, "Primary key mode")
            .define(PK_FIELDS, Type.LIST, "", Importance.LOW, "record_key: the column name of a primitive "
                            + "record key (one name). record_value: the value fields that form the primary key, in "
                            + "order.", G_SCHEMA, 4, Width.MEDIUM, "Primary key fields")
            .define(AUTO_CREATE_BUCKETS, Type.INT, 0, Range.between(0, 1024), Importance.LOW,
                    "BUCKETS of a table " + AUTO_CREATE + " makes. 0: StarRocks chooses (its default "
                            + "distribution). Table PROPERTIES come from " + AUTO_CREATE_PROPERTIES_PREFIX
                            + "<name> keys, e.g. " + AUTO_CREATE_PROPERTIES_PREFIX + "replication_num=1.",
                    G_SCHEMA, 5, Width.SHORT, "Buckets of created tables");

    /** The truststore's certificates as PEM, for the Rust core; null without a truststore. */
    private final String trustedPem;

    public StarRocksSinkConfig(Map<?, ?> props) {
        super(CONFIG_DEF, props);
        if (getLong(SINK_TIMEOUT_MS) < getLong(CONNECT_TIMEOUT_MS)) {
            throw new ConfigException(SINK_TIMEOUT_MS, getLong(SINK_TIMEOUT_MS),
                    "must not be less than " + CONNECT_TIMEOUT_MS + " (" + getLong(CONNECT_TIMEOUT_MS) + ")");
        }
        for (Problem p : crossKeyProblems(getString(DELIVERY_GUARANTEE), getString(DATABASE), getString(TOPIC2TABLE),
                getString(EO_OFFSET_COLUMN), getString(FORMAT), maxFilterRatio(originals()))) {
            throw new ConfigException(p.key, p.value, p.message);
        }
        for (Problem p : multiTableProblems(getString(DELIVERY_GUARANTEE), getBoolean(MULTI_TABLE_TXN))) {
            throw new ConfigException(p.key, p.value, p.message);
        }
        for (Problem p : undeclaredProblems(originals())) {
            throw new ConfigException(p.key, p.value, p.message);
        }
        for (Problem p : schemaProblems(getBoolean(AUTO_CREATE), getBoolean(AUTO_EVOLVE), getString(PK_MODE),
                getList(PK_FIELDS), getString(FORMAT), originals())) {
            throw new ConfigException(p.key, p.value, p.message);
        }
        trustedPem = readTruststore(getString(SSL_TRUSTSTORE_LOCATION), getPassword(SSL_TRUSTSTORE_PASSWORD),
                getString(SSL_TRUSTSTORE_TYPE));
    }

    /** Whether {@link #DELIVERY_GUARANTEE} is exactly_once. */
    public boolean exactlyOnce() {
        return EXACTLY_ONCE.equalsIgnoreCase(getString(DELIVERY_GUARANTEE));
    }

    /**
     * What the schema keys rule out together: {@code auto.create}/{@code auto.evolve} name columns by JSON member, so
     * they need JSON rows that {@code sink.properties.columns}/{@code jsonpaths} do not remap; {@code pk.mode}
     * record_value needs {@code pk.fields}, and a primitive record key is named by one {@code pk.fields} entry at
     * most. Arguments are the keys' parsed values (null when invalid themselves: their checks are skipped).
     */
    static List<Problem> schemaProblems(Boolean autoCreate, Boolean autoEvolve, String pkMode, List<String> pkFields,
            String format, Map<String, ?> props) {
        List<Problem> problems = new ArrayList<>();
        boolean acts = Boolean.TRUE.equals(autoCreate) || Boolean.TRUE.equals(autoEvolve);
        String key = Boolean.TRUE.equals(autoCreate) ? AUTO_CREATE : AUTO_EVOLVE;
        if (acts && format != null && !"json".equalsIgnoreCase(format)) {
            problems.add(new Problem(key, true, key + " works with " + FORMAT + "=json only (it is " + format
                    + "): CSV columns are positional, not named by the record's fields"));
        }
        if (acts) {
            for (String header : new String[] {"columns", "jsonpaths"}) {
                for (String k : props.keySet()) {
                    if (k != null && k.equalsIgnoreCase(NativeConfig.HEADER_PREFIX + header)) {
                        problems.add(new Problem(key, true, key + " cannot follow the records' fields while " + k
                                + " chooses the columns; unset one of them"));
                    }
                }
            }
        }
        if ("record_value".equals(pkMode) && pkFields != null && pkFields.isEmpty()) {
            problems.add(new Problem(PK_FIELDS, "", PK_MODE + "=record_value needs " + PK_FIELDS
                    + ": the value fields that form the primary key"));
        }
        if ("none".equals(pkMode) && pkFields != null && !pkFields.isEmpty()) {
            problems.add(new Problem(PK_FIELDS, String.join(",", pkFields), PK_FIELDS + " applies to " + PK_MODE
                    + "=record_key or record_value (it is none)"));
        }
        if ("record_key".equals(pkMode) && pkFields != null && pkFields.size() > 1) {
            problems.add(new Problem(PK_FIELDS, String.join(",", pkFields), PK_MODE + "=record_key takes the key "
                    + "columns from the record key's fields; " + PK_FIELDS + " names the column of a primitive key "
                    + "only (one name)"));
        }
        return problems;
    }

    /** A refusal that involves more than one key: the key it is shown on, that key's value, and why. */
    static final class Problem {
        final String key;
        final Object value;
        final String message;

        Problem(String key, Object value, String message) {
            this.key = key;
            this.value = value;
            this.message = message;
        }
    }

    /**
     * The value of {@link #MAX_FILTER_RATIO} among {@code props}, found by case-insensitive name as the native side
     * finds Stream Load headers; null when unset. Of several spellings, one that is not 0 when there is one.
     */
    static String maxFilterRatio(Map<String, ?> props) {
        String found = null;
        for (Map.Entry<String, ?> e : props.entrySet()) {
            if (e.getKey() != null && e.getValue() != null && e.getKey().equalsIgnoreCase(MAX_FILTER_RATIO)) {
                found = e.getValue().toString();
                if (filterRatio(found) != 0) {
                    break;
                }
            }
        }
        return found;
    }

    /**
     * What {@code delivery.guarantee} rules out in other keys. Every argument is the key's value as ConfigDef parsed
     * it (null when that key is invalid itself: its checks are skipped), except {@code maxFilterRatio}, the raw
     * value of the undeclared {@link #MAX_FILTER_RATIO} or null.
     */
    static List<Problem> crossKeyProblems(String guarantee, String database, String topicMap, String offsetColumn,
            String format, String maxFilterRatio) {
        List<Problem> problems = new ArrayList<>();
        if (guarantee == null) {
            return problems;
        }
        if (!EXACTLY_ONCE.equalsIgnoreCase(guarantee)) {
            if (offsetColumn != null && !offsetColumn.isEmpty()) {
                problems.add(new Problem(EO_OFFSET_COLUMN, offsetColumn, EO_OFFSET_COLUMN + " applies only to "
                        + DELIVERY_GUARANTEE + "=" + EXACTLY_ONCE + " (it is " + guarantee + "): unset it or set "
                        + DELIVERY_GUARANTEE + "=" + EXACTLY_ONCE));
            }
            return problems;
        }
        if (offsetColumn != null && !offsetColumn.isEmpty() && format != null && !"json".equalsIgnoreCase(format)) {
            problems.add(new Problem(EO_OFFSET_COLUMN, offsetColumn, EO_OFFSET_COLUMN + " works with " + FORMAT
                    + "=json only (it is " + format + ")"));
        }
        if (database != null && topicMap != null) {
            List<String> elsewhere = new ArrayList<>();
            for (Map.Entry<String, String> e : parseTopicMap(topicMap).entrySet()) {
                String target = e.getValue();
                int dot = target.indexOf('.');
                if (dot > 0 && dot < target.length() - 1 && !target.substring(0, dot).equals(database)) {
                    elsewhere.add(e.getKey() + ":" + target);
                }
            }
            if (!elsewhere.isEmpty()) {
                problems.add(new Problem(TOPIC2TABLE, topicMap, EXACTLY_ONCE + " commits all tables of a flush in "
                        + "one transaction, which StarRocks allows only within one database: "
                        + String.join(", ", elsewhere) + " load into another database than " + DATABASE + " ("
                        + database + ")"));
            }
        }
        if (maxFilterRatio != null) {
            // anything but 0: an empty, negative or unreadable value too
            if (filterRatio(maxFilterRatio) != 0) { // NaN too
                problems.add(new Problem(DELIVERY_GUARANTEE, guarantee, EXACTLY_ONCE + " loads a flush's rows all "
                        + "or none, so " + MAX_FILTER_RATIO + " must be 0 or unset (it is '" + maxFilterRatio
                        + "'); with errors.tolerance=all, rows StarRocks refuses go to the dead letter queue instead"));
            }
        }
        return problems;
    }

    /**
     * What {@link #MULTI_TABLE_TXN} rules out: exactly_once (its flushes are multi-table transactions already, with
     * their own labels and register row: the key would say something the task does not do). Null arguments are keys
     * invalid themselves (their checks are skipped).
     */
    static List<Problem> multiTableProblems(String guarantee, Boolean multiTable) {
        List<Problem> problems = new ArrayList<>();
        if (Boolean.TRUE.equals(multiTable) && EXACTLY_ONCE.equalsIgnoreCase(guarantee)) {
            problems.add(new Problem(MULTI_TABLE_TXN, true, MULTI_TABLE_TXN + " applies to " + DELIVERY_GUARANTEE
                    + "=" + AT_LEAST_ONCE + " only: " + EXACTLY_ONCE + " commits every flush in a multi-table "
                    + "transaction already; unset it or set it to false"));
        }
        return problems;
    }

    /** A max_filter_ratio as a number, NaN unless a plain decimal (Double.parseDouble would also take 0f or 0x0p0). */
    private static double filterRatio(String value) {
        String s = value.trim();
        return DECIMAL.matcher(s).matches() ? Double.parseDouble(s) : Double.NaN;
    }

    /**
     * What keys ConfigDef does not declare rule out, each on its own key (Connect's validate endpoint shows an
     * undeclared key's errors too): a {@code sink.properties.} key without a header name, and an
     * {@link NativeConfig#TESTING_MAX_BYTES} that is not a positive integer (blank counts as unset).
     */
    static List<Problem> undeclaredProblems(Map<String, ?> props) {
        List<Problem> problems = new ArrayList<>();
        for (Map.Entry<String, ?> e : props.entrySet()) {
            if (NativeConfig.HEADER_PREFIX.equals(e.getKey())) {
                problems.add(new Problem(e.getKey(), e.getValue(), "empty header name: a Stream Load header is "
                        + NativeConfig.HEADER_PREFIX + "<name>"));
            }
        }
        Object testing = props.get(NativeConfig.TESTING_MAX_BYTES);
        String bytes = testing == null ? "" : testing.toString().trim();
        if (!bytes.isEmpty()) {
            long n;
            try {
                n = Long.parseLong(bytes);
            } catch (NumberFormatException e) {
                n = 0;
            }
            if (n < 1) {
                problems.add(new Problem(NativeConfig.TESTING_MAX_BYTES, testing, "expected a positive integer"));
            }
        }
        return problems;
    }

    /**
     * The truststore's certificates as PEM, or null when no location is set. Throws a
     * {@link TrustedCertificates.Problem} naming the location, password or type key.
     */
    static String readTruststore(String location, Password password, String type) {
        if (location == null || location.trim().isEmpty()) {
            return null;
        }
        return TrustedCertificates.toPem(TrustedCertificates.load(location.trim(),
                password == null ? null : password.value(), type));
    }

    /**
     * The config the Rust core is opened with: one JSON document (tests/vectors/native_config.json) of this config's
     * parsed values, with what derives from other keys resolved, the Stream Load headers of {@code props} and the
     * truststore's certificates as PEM (the core reads no keystore and never sees the truststore password).
     * {@code props} is the config this one was built from, as Connect gave it (plus {@code task.id} in a task).
     */
    public String nativeConfig(Map<String, String> props) {
        return NativeConfig.document(this, props, trustedPem);
    }

    /** Parses {@code topic:table,topic:table}; throws naming the malformed entry. Empty input maps nothing. */
    public static Map<String, String> parseTopicMap(String value) {
        Map<String, String> map = new LinkedHashMap<>();
        if (value == null || value.trim().isEmpty()) {
            return map;
        }
        for (String raw : value.split(",", -1)) {
            String entry = raw.trim();
            int colon = entry.indexOf(':');
            if (colon <= 0 || colon == entry.length() - 1 || entry.indexOf(':', colon + 1) >= 0) {
                throw new ConfigException(TOPIC2TABLE, value,
                        "malformed entry '" + entry + "': expected topic:table");
            }
            String topic = entry.substring(0, colon).trim();
            String table = entry.substring(colon + 1).trim();
            if (topic.isEmpty() || table.isEmpty()) {
                throw new ConfigException(TOPIC2TABLE, value,
                        "malformed entry '" + entry + "': expected topic:table");
            }
            if (map.put(topic, table) != null) {
                throw new ConfigException(TOPIC2TABLE, value, "topic '" + topic + "' is mapped more than once");
            }
        }
        return map;
    }

    /** Empty, or host:port of an FE's MySQL query port. */
    static final class QueryAddressValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            String s = value == null ? "" : value.toString().trim();
            if (s.isEmpty()) {
                return;
            }
            java.util.regex.Matcher m = HOST_PORT.matcher(s);
            int port = m.matches() ? Integer.parseInt(m.group(2)) : 0;
            if (port < 1 || port > 65535) {
                throw new ConfigException(name, value, "expected host:port (port 1 to 65535), or empty");
            }
        }

        @Override
        public String toString() {
            return "host:port, or empty (first " + HTTP_URL + " host, port 9030)";
        }
    }

    /** The whole value matches a regular expression. */
    static final class PatternValidator implements ConfigDef.Validator {
        private final Pattern pattern;
        private final String shown;
        private final String expected;

        /** {@code shown} is the valid values in the docs, {@code expected} what an error says is expected. */
        PatternValidator(String regex, String shown, String expected) {
            this.pattern = Pattern.compile(regex);
            this.shown = shown;
            this.expected = expected;
        }

        @Override
        public void ensureValid(String name, Object value) {
            String s = value == null ? "" : value.toString();
            if (!pattern.matcher(s).matches()) {
                throw new ConfigException(name, s, "expected " + expected);
            }
        }

        @Override
        public String toString() {
            return shown;
        }
    }

    static final class UrlListValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            String s = value == null ? "" : value.toString();
            if (s.trim().isEmpty()) {
                throw new ConfigException(name, s, "at least one host:port is required");
            }
            for (String raw : s.split(",", -1)) {
                String entry = raw.trim();
                java.util.regex.Matcher m = URL_ENTRY.matcher(entry);
                int port = m.matches() ? Integer.parseInt(m.group(2)) : 0;
                if (port < 1 || port > 65535) {
                    throw new ConfigException(name, s, "malformed entry '" + entry
                            + "': expected host:port, optionally prefixed by http:// or https://");
                }
            }
        }

        @Override
        public String toString() {
            return "host:port[,host:port...] (http:// or https:// optional)";
        }
    }

    static final class TopicMapValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            parseTopicMap(value == null ? null : value.toString());
        }

        @Override
        public String toString() {
            return "topic:table[,topic:table...]";
        }
    }

    static final class LabelPrefixValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            String s = value == null ? "" : value.toString();
            if (!LABEL.matcher(s).matches()) {
                throw new ConfigException(name, s, "at most " + LABEL_PREFIX_MAX + " characters of [-A-Za-z0-9_]");
            }
        }

        @Override
        public String toString() {
            return "[-A-Za-z0-9_]{0," + LABEL_PREFIX_MAX + "}";
        }
    }

    static final class TruststoreTypeValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            String s = value == null ? "" : value.toString().trim().toUpperCase(java.util.Locale.ROOT);
            if (!s.isEmpty() && !s.equals("PEM") && !s.equals("JKS") && !s.equals("PKCS12")) {
                throw new ConfigException(name, value, "must be PEM, JKS or PKCS12 (or unset to infer it from the file)");
            }
        }

        @Override
        public String toString() {
            return "[PEM, JKS, PKCS12] or unset (inferred from the file)";
        }
    }

    static final class TimeZoneValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            String s = value == null ? "" : value.toString();
            // Region names only: the native side resolves zones from the IANA database by name.
            if (!s.equals("UTC") && !java.time.ZoneId.getAvailableZoneIds().contains(s)) {
                throw new ConfigException(name, s, "not an IANA time zone name such as UTC or Asia/Shanghai");
            }
        }

        @Override
        public String toString() {
            return "an IANA time zone name, e.g. UTC or Asia/Shanghai";
        }
    }
}
