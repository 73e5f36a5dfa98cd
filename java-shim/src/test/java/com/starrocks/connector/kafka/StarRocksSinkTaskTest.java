package com.starrocks.connector.kafka;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** Task behaviour that needs no native library; the rest is in NativeBridgeIT. */
class StarRocksSinkTaskTest {

    @Test
    void badConfigFailsStartBeforeTheLibraryIsLoaded() {
        ConfigException e = assertThrows(ConfigException.class, () -> new StarRocksSinkTask()
                .start(StarRocksSinkConfigTest.with("bufferflush.intervalms", "10")));
        assertTrue(e.getMessage().contains("bufferflush.intervalms"), e.getMessage());
    }

    @Test
    void preCommitAndStopBeforeStartAreHarmless() {
        StarRocksSinkTask task = new StarRocksSinkTask();
        assertTrue(task.preCommit(Collections.emptyMap()).isEmpty());
        task.stop();
        task.stop();
    }
}
