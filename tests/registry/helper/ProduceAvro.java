/*
 * Produces Avro records with Apicurio Registry's own serializer (io.apicurio.registry.serde.avro.AvroKafkaSerializer),
 * so the suites read what a real Apicurio producer writes, in either wire mode: ids in record headers
 * (apicurio.registry.headers.enabled=true, Apicurio's default) or Confluent's framing (a magic byte and a 4-byte id
 * in front of the payload: headers.enabled=false, as-confluent=true, use-id=contentId).
 *
 * Run from source (Java 11+ launches a single .java file) on the classpath of the converter plugin
 * (tests/registry/converters/pom.xml: Avro, Jackson, Apicurio's serdes) and Kafka's jars:
 *   java -cp '<plugins>/apicurio-converters/*:<kafka>/lib/*' ProduceAvro.java spec.json records.jsonl
 * spec.json: {"bootstrap", "registry" (Apicurio's API URL), "topic", "serde": {extra serializer keys},
 *             "valueSchema": Avro schema, "keySchema": Avro schema or null}
 * records.jsonl: one {"key": datum, "value": datum} per line, datums in Avro's JSON encoding (unions as
 * {"type": value}, bytes and fixed as strings of code points 0-255). Auto-registers the schemas
 * (TopicIdStrategy: <topic>-value, <topic>-key). Prints "produced N". tests/harness/registry.py runs it.
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;

public class ProduceAvro {
    public static void main(String[] args) throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode spec = json.readTree(Files.readAllBytes(Paths.get(args[0])));
        Map<String, Object> serde = new HashMap<>();
        serde.put("apicurio.registry.url", spec.get("registry").asText());
        serde.put("apicurio.registry.auto-register", "true");
        spec.get("serde").fields().forEachRemaining(e -> serde.put(e.getKey(), e.getValue().asText()));

        Schema valueSchema = new Schema.Parser().parse(spec.get("valueSchema").toString());
        JsonNode keySchemaNode = spec.get("keySchema");
        Schema keySchema = keySchemaNode == null || keySchemaNode.isNull() ? null
                : new Schema.Parser().parse(keySchemaNode.toString());

        AvroKafkaSerializer<Object> valueSerializer = new AvroKafkaSerializer<>();
        valueSerializer.configure(serde, false);
        Serializer<Object> keySerializer;
        if (keySchema != null) {
            AvroKafkaSerializer<Object> s = new AvroKafkaSerializer<>();
            s.configure(serde, true);
            keySerializer = s;
        } else {
            Serializer<byte[]> raw = new ByteArraySerializer();
            @SuppressWarnings({"unchecked", "rawtypes"})
            Serializer<Object> cast = (Serializer) raw;
            keySerializer = cast;
        }

        Properties props = new Properties();
        props.put("bootstrap.servers", spec.get("bootstrap").asText());
        props.put("acks", "all");
        props.put("enable.idempotence", "true");
        String topic = spec.get("topic").asText();
        List<String> lines = Files.readAllLines(Paths.get(args[1]), StandardCharsets.UTF_8);
        int n = 0;
        try (KafkaProducer<Object, Object> producer = new KafkaProducer<>(props, keySerializer, valueSerializer)) {
            for (String line : lines) {
                if (line.trim().isEmpty()) {
                    continue;
                }
                JsonNode record = json.readTree(line);
                Object key = keySchema == null ? null : datum(keySchema, record.get("key"));
                Object value = datum(valueSchema, record.get("value"));
                producer.send(new ProducerRecord<>(topic, key, value)).get();
                n++;
            }
            producer.flush();
        }
        System.out.println("produced " + n);
    }

    private static Object datum(Schema schema, JsonNode node) throws Exception {
        if (node == null || node.isNull()) {
            return null;
        }
        GenericDatumReader<Object> reader = new GenericDatumReader<>(schema);
        return reader.read(null, DecoderFactory.get().jsonDecoder(schema, node.toString()));
    }
}
