package bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.sink.SinkConnector;

/**
 * The benchmark's ceiling: a sink that takes every record Connect converts and drops it. Run on the
 * same topic, converter and worker settings as the StarRocks connector, it measures what Kafka
 * and Connect alone cost (fetching, deserializing, converting, committing), so the connector's
 * throughput can be reported as a share of it.
 *
 * <p>{@code done.file} and {@code expected.records}: when the tasks of this connector have together
 * seen {@code expected.records} records, the first task to notice writes the wall-clock time (epoch
 * milliseconds) into {@code done.file}; the benchmark polls for it.
 */
public class NullSinkConnector extends SinkConnector {
    private Map<String, String> props;

    @Override
    public String version() {
        return "1";
    }

    @Override
    public void start(Map<String, String> props) {
        this.props = props;
        NullSinkTask.reset();
    }

    @Override
    public Class<? extends Task> taskClass() {
        return NullSinkTask.class;
    }

    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        List<Map<String, String>> configs = new ArrayList<>();
        for (int i = 0; i < maxTasks; i++) {
            configs.add(new HashMap<>(props));
        }
        return configs;
    }

    @Override
    public void stop() {
    }

    @Override
    public ConfigDef config() {
        return new ConfigDef()
                .define("done.file", ConfigDef.Type.STRING, "", ConfigDef.Importance.LOW, "where to write the finish time")
                .define("expected.records", ConfigDef.Type.LONG, Long.MAX_VALUE, ConfigDef.Importance.LOW,
                        "records to see before writing done.file");
    }
}
