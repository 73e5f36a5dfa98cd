package bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;

/** Counts records and drops them; see {@link NullSinkConnector}. */
public class NullSinkTask extends SinkTask {
    // Shared by the connector's tasks: they run in one worker and one plugin class loader.
    private static final AtomicLong SEEN = new AtomicLong();
    private static final AtomicBoolean DONE = new AtomicBoolean();

    private String doneFile;
    private long expected;

    static void reset() {
        SEEN.set(0);
        DONE.set(false);
    }

    @Override
    public String version() {
        return "1";
    }

    @Override
    public void start(Map<String, String> props) {
        doneFile = props.getOrDefault("done.file", "");
        String n = props.get("expected.records");
        expected = n == null ? Long.MAX_VALUE : Long.parseLong(n);
    }

    @Override
    public void put(Collection<SinkRecord> records) {
        long seen = SEEN.addAndGet(records.size());
        if (seen >= expected && !doneFile.isEmpty() && DONE.compareAndSet(false, true)) {
            try {
                // Written beside and renamed into place: the benchmark polls for the file and must
                // never read it created but still empty.
                Path done = Paths.get(doneFile);
                Path partial = done.resolveSibling(done.getFileName() + ".partial");
                Files.write(partial, Long.toString(System.currentTimeMillis()).getBytes(StandardCharsets.UTF_8));
                Files.move(partial, done, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new ConnectException("cannot write " + doneFile, e);
            }
        }
    }

    @Override
    public void stop() {
    }
}
