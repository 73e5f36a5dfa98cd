package com.starrocks.connector.kafka;

import com.starrocks.connector.kafka.bridge.NativeLoader;
import com.starrocks.connector.kafka.bridge.NativeSink;
import com.starrocks.connector.kafka.tls.TrustedCertificates;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.sink.SinkConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Sink connector loading Kafka records into StarRocks through Stream Load; the work happens in the Rust core. */
public class StarRocksSinkConnector extends SinkConnector {
    private static final Logger LOG = LoggerFactory.getLogger(StarRocksSinkConnector.class);

    /** Asks StarRocks what ConfigDef cannot know; config in, the problem or null out. */
    private final Function<Map<String, String>, String> cluster;
    private Map<String, String> props;

    public StarRocksSinkConnector() {
        this(StarRocksSinkConnector::clusterProblem);
    }

    /** For tests that validate configs without a library or a cluster. */
    StarRocksSinkConnector(Function<Map<String, String>, String> cluster) {
        this.cluster = cluster;
    }

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        new StarRocksSinkConfig(props); // fail fast on a config the validate endpoint would have refused
        this.props = new HashMap<>(props);
    }

    @Override
    public Class<? extends Task> taskClass() {
        return StarRocksSinkTask.class;
    }

    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        List<Map<String, String>> configs = new ArrayList<>(maxTasks);
        for (int i = 0; i < maxTasks; i++) {
            Map<String, String> config = new HashMap<>(props);
            config.put(StarRocksSinkConfig.TASK_ID, Integer.toString(i));
            configs.add(config);
        }
        return configs;
    }

    @Override
    public void stop() {
    }

    @Override
    public ConfigDef config() {
        return StarRocksSinkConfig.CONFIG_DEF;
    }

    /**
     * ConfigDef's per-key checks, plus the checks that involve more than one key and those of keys ConfigDef does not
     * declare (each on an entry of its own, which Connect's validate endpoint shows too).
     */
    @Override
    public Config validate(Map<String, String> connectorConfigs) {
        Config declared = super.validate(connectorConfigs);
        List<ConfigValue> all = new ArrayList<>(declared.configValues());
        for (StarRocksSinkConfig.Problem p : StarRocksSinkConfig.undeclaredProblems(connectorConfigs)) {
            all.add(new ConfigValue(p.key, p.value, new ArrayList<Object>(),
                    new ArrayList<>(java.util.Collections.singletonList(p.message))));
        }
        Config config = new Config(all);
        Map<String, ConfigValue> values = new HashMap<>();
        for (ConfigValue v : config.configValues()) {
            values.put(v.name(), v);
        }
        ConfigValue sinkTimeout = values.get(StarRocksSinkConfig.SINK_TIMEOUT_MS);
        ConfigValue connectTimeout = values.get(StarRocksSinkConfig.CONNECT_TIMEOUT_MS);
        if (valid(sinkTimeout) && valid(connectTimeout)
                && (Long) sinkTimeout.value() < (Long) connectTimeout.value()) {
            sinkTimeout.addErrorMessage(StarRocksSinkConfig.SINK_TIMEOUT_MS + " (" + sinkTimeout.value()
                    + ") must not be less than " + StarRocksSinkConfig.CONNECT_TIMEOUT_MS + " ("
                    + connectTimeout.value() + ")");
        }
        ConfigValue guarantee = values.get(StarRocksSinkConfig.DELIVERY_GUARANTEE);
        if (valid(guarantee)) {
            ConfigValue offsetColumn = values.get(StarRocksSinkConfig.EO_OFFSET_COLUMN);
            for (StarRocksSinkConfig.Problem p : StarRocksSinkConfig.crossKeyProblems((String) guarantee.value(),
                    validString(values.get(StarRocksSinkConfig.DATABASE)),
                    validString(values.get(StarRocksSinkConfig.TOPIC2TABLE)),
                    validString(offsetColumn), validString(values.get(StarRocksSinkConfig.FORMAT)),
                    StarRocksSinkConfig.maxFilterRatio(connectorConfigs))) {
                values.get(p.key).addErrorMessage(p.message);
            }
        }
        ConfigValue multiTable = values.get(StarRocksSinkConfig.MULTI_TABLE_TXN);
        boolean multi = valid(multiTable) && (Boolean) multiTable.value();
        for (StarRocksSinkConfig.Problem p : StarRocksSinkConfig.multiTableProblems(validString(guarantee), multi)) {
            values.get(p.key).addErrorMessage(p.message);
        }
        ConfigValue autoCreate = values.get(StarRocksSinkConfig.AUTO_CREATE);
        ConfigValue autoEvolve = values.get(StarRocksSinkConfig.AUTO_EVOLVE);
        ConfigValue pkFields = values.get(StarRocksSinkConfig.PK_FIELDS);
        @SuppressWarnings("unchecked")
        List<String> fields = valid(pkFields) ? (List<String>) pkFields.value() : null;
        for (StarRocksSinkConfig.Problem p : StarRocksSinkConfig.schemaProblems(
                valid(autoCreate) ? (Boolean) autoCreate.value() : null,
                valid(autoEvolve) ? (Boolean) autoEvolve.value() : null,
                validString(values.get(StarRocksSinkConfig.PK_MODE)), fields,
                validString(values.get(StarRocksSinkConfig.FORMAT)), connectorConfigs)) {
            values.get(p.key).addErrorMessage(p.message);
        }
        boolean exactlyOnce = valid(guarantee)
                && StarRocksSinkConfig.EXACTLY_ONCE.equalsIgnoreCase((String) guarantee.value());
        if ((exactlyOnce || multi) && noErrors(config)) {
            // the problem names the setting that needs StarRocks 4.0; it is shown on that key
            String problem = cluster.apply(connectorConfigs);
            if (problem != null) {
                (exactlyOnce ? guarantee : multiTable).addErrorMessage(problem);
            }
        }
        ConfigValue location = values.get(StarRocksSinkConfig.SSL_TRUSTSTORE_LOCATION);
        ConfigValue password = values.get(StarRocksSinkConfig.SSL_TRUSTSTORE_PASSWORD);
        ConfigValue type = values.get(StarRocksSinkConfig.SSL_TRUSTSTORE_TYPE);
        if (valid(location) && password.errorMessages().isEmpty() && type.errorMessages().isEmpty()) {
            try {
                StarRocksSinkConfig.readTruststore((String) location.value(), (Password) password.value(),
                        (String) type.value());
            } catch (TrustedCertificates.Problem e) {
                values.get(e.key()).addErrorMessage(e.key() + ": " + e.reason());
            }
        }
        return config;
    }

    /**
     * Asks StarRocks what ConfigDef cannot know (exactly-once, multi-table transactions: is it 4.0 or later?). A library that cannot load
     * or a cluster that cannot be reached passes here: the task checks again on start and says why it fails.
     */
    private static String clusterProblem(Map<String, String> connectorConfigs) {
        try {
            NativeLoader.load();
            return NativeSink.clusterProblem(new StarRocksSinkConfig(connectorConfigs).nativeConfig(connectorConfigs));
        } catch (RuntimeException | LinkageError e) {
            LOG.warn("could not ask StarRocks whether it can take this config; the task will check on start", e);
            return null;
        }
    }

    private static boolean noErrors(Config config) {
        for (ConfigValue v : config.configValues()) {
            if (!v.errorMessages().isEmpty()) {
                return false;
            }
        }
        return true;
    }

    private static boolean valid(ConfigValue v) {
        return v != null && v.errorMessages().isEmpty() && v.value() != null;
    }

    /** The parsed value of a valid string key, else null (its own error is shown already). */
    private static String validString(ConfigValue v) {
        return valid(v) ? (String) v.value() : null;
    }
}
