package com.starrocks.connector.kafka.encode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import java.util.List;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/** A smoke run of the encoder benchmark, so it cannot rot: its records encode and decode as the JSON they came from. */
class EncoderBenchTest {
    @Test
    void benchRecordsRoundTripAndAreTimed() throws Exception {
        JsonConverter c = new JsonConverter();
        c.configure(Collections.singletonMap("schemas.enable", "false"), false);
        List<List<SinkRecord>> batches = EncoderBench.batches(c, 2, 3);
        assertTrue(EncoderBench.measure(batches, 1, 3) > 0);
        RecordEncoder encoder = new RecordEncoder();
        encoder.encode(batches.get(1));
        byte[] bytes = new byte[encoder.length()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = encoder.buffer().get(i);
        }
        List<ReferenceDecoder.Row> rows = ReferenceDecoder.decode(bytes);
        assertEquals(3, rows.size());
        // through text, so that a Long and an Integer of the same value compare equal
        assertEquals(BoundaryVectorsTest.MAPPER.readTree(EncoderBench.json(4)),
                BoundaryVectorsTest.MAPPER.readTree(rows.get(1).value.toString()));
    }
}
