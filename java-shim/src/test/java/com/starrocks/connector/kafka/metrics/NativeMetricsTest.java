package com.starrocks.connector.kafka.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The index constants and {@link NativeMetrics#NAMES} say the same thing: each constant is the slot of its name
 * (RECORDS_RECEIVED is "records-received"), and every name has its constant. NativeBridgeIT checks NAMES against
 * the library's own list, so a metric added on one side only fails a test.
 */
class NativeMetricsTest {
    @Test
    void everyConstantIsTheSlotOfItsName() throws Exception {
        Set<String> named = new HashSet<>();
        for (Field f : NativeMetrics.class.getFields()) {
            int m = f.getModifiers();
            if (f.getType() != int.class || !Modifier.isStatic(m) || !Modifier.isFinal(m) || f.getName().equals("COUNT")) {
                continue;
            }
            int slot = f.getInt(null);
            assertEquals(f.getName().toLowerCase(java.util.Locale.ROOT).replace('_', '-'), NativeMetrics.NAMES[slot],
                    f.getName());
            named.add(NativeMetrics.NAMES[slot]);
        }
        assertEquals(NativeMetrics.NAMES.length, NativeMetrics.COUNT);
        assertEquals(NativeMetrics.COUNT, named.size(), "a name without its constant, or two constants for one slot");
    }
}
