package com.starrocks.connector.kafka.encode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.storage.Converter;
import org.apache.kafka.connect.storage.StringConverter;

/**
 * The Java half of {@code put()} on its own: {@link RecordEncoder#encode} over batches of 500 records (Connect's
 * {@code max.poll.records}) of the Connect benchmark's 200-byte JSON, as JsonConverter without schemas (Map values)
 * and StringConverter give them. Prints nanoseconds per record, the median of the measured rounds. {@code make bench}
 * runs it; the figures go into docs/performance.md.
 */
public final class EncoderBench {
    static final String[] CITIES = {"Tokyo", "New York", "Los Angeles", "Chicago", "São Paulo"};

    /** One record of bench/connect_bench.py's mix, as JSON text. */
    static String json(int i) {
        return String.format("{\"id\":%d,\"user_id\":%d,\"name\":\"user-%08d\",\"email\":\"user%d@example.com\","
                        + "\"city\":\"%s\",\"amount\":%s,\"quantity\":%d,\"active\":%s,"
                        + "\"created_at\":\"2024-05-01 12:%02d:%02d\",\"note\":\"a fairly ordinary order placed\"}",
                i, 1_000_003L * i % 9_999_991, i * 7919L % 100_000_000, i % 100_000, CITIES[i % 5],
                (i % 100_000) / 100.0, i % 50, i % 3 != 0, i / 60 % 60, i % 60);
    }

    static List<List<SinkRecord>> batches(Converter converter, int batches, int perBatch) {
        List<List<SinkRecord>> out = new ArrayList<>();
        int n = 0;
        for (int b = 0; b < batches; b++) {
            List<SinkRecord> batch = new ArrayList<>(perBatch);
            for (int i = 0; i < perBatch; i++, n++) {
                SchemaAndValue v = converter.toConnectData("bench", json(n).getBytes(StandardCharsets.UTF_8));
                batch.add(new SinkRecord("bench", n % 4, null, null, v.schema(), v.value(), n));
            }
            out.add(batch);
        }
        return out;
    }

    /** Median nanoseconds per record over {@code rounds} passes, after {@code warmup} unmeasured ones. */
    static double measure(List<List<SinkRecord>> batches, int warmup, int rounds) {
        RecordEncoder encoder = new RecordEncoder();
        long records = 0;
        for (List<SinkRecord> b : batches) {
            records += b.size();
        }
        double[] perRecord = new double[rounds];
        long sink = 0;
        for (int r = -warmup; r < rounds; r++) {
            long t0 = System.nanoTime();
            for (List<SinkRecord> b : batches) {
                encoder.encode(b);
                sink += encoder.length();
            }
            if (r >= 0) {
                perRecord[r] = (System.nanoTime() - t0) / (double) records;
            }
        }
        if (sink == 0) {
            throw new IllegalStateException("nothing was encoded");
        }
        Arrays.sort(perRecord);
        return perRecord[rounds / 2];
    }

    public static void main(String[] args) {
        JsonConverter schemaless = new JsonConverter();
        schemaless.configure(Collections.singletonMap("schemas.enable", "false"), false);
        StringConverter string = new StringConverter();
        string.configure(Collections.emptyMap(), false);
        Object[][] cases = {{"Map values (JsonConverter, schemas.enable=false)", schemaless},
                {"String values (StringConverter)", string}};
        System.out.println("RecordEncoder.encode, 40 batches of 500 records, median of 20 passes after 20 warm-up passes:");
        for (Object[] c : cases) {
            List<List<SinkRecord>> batches = batches((Converter) c[1], 40, 500);
            RecordEncoder probe = new RecordEncoder();
            probe.encode(batches.get(0));
            System.out.printf("  %-50s %7.0f ns/record  (%d bytes/batch)%n", c[0], measure(batches, 20, 20),
                    probe.length());
        }
    }
}
