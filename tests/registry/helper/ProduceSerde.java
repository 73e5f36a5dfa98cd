/*
 * Produces Protobuf or JSON Schema records with Apicurio Registry's own serializers
 * (io.apicurio.registry.serde.protobuf.ProtobufKafkaSerializer, ...jsonschema.JsonSchemaKafkaSerializer), the ones
 * Apicurio's SerdeBasedConverter pairs with its deserializers on the sink side. Run from source like ProduceAvro.java
 * (tests/harness/registry.py: produce_serde):
 *   java -cp '<plugins>/apicurio-converters/*:<kafka>/lib/*' ProduceSerde.java spec.json records.jsonl
 * spec.json: {"bootstrap", "registry", "topic", "format": "protobuf" | "jsonschema", "schema": the .proto text
 *             (protobuf: its first message is the record type) or the JSON Schema (already registered as
 *             <topic>-value), "serde": {extra serializer keys}}
 * records.jsonl: one {"value": JSON} per line; protobuf values are in protobuf's JSON mapping, and a line may add
 * "any": {"field": f, "typeUrl": u} to set the google.protobuf.Any field f to an Any of type URL u (a type no
 * printer knows: what protobuf's JSON printer cannot print). Prints "produced N".
 */
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.AnyProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.util.JsonFormat;
import io.apicurio.registry.serde.jsonschema.JsonSchemaKafkaSerializer;
import io.apicurio.registry.serde.protobuf.ProtobufKafkaSerializer;
import io.apicurio.registry.utils.protobuf.schema.FileDescriptorUtils;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;

public class ProduceSerde {
    public static void main(String[] args) throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode spec = json.readTree(Files.readAllBytes(Paths.get(args[0])));
        Map<String, Object> serde = new HashMap<>();
        serde.put("apicurio.registry.url", spec.get("registry").asText());
        spec.get("serde").fields().forEachRemaining(e -> serde.put(e.getKey(), e.getValue().asText()));
        String format = spec.get("format").asText();
        String schema = spec.get("schema").asText();

        Descriptor message = null;
        Serializer<Object> valueSerializer;
        if (format.equals("protobuf")) {
            serde.putIfAbsent("apicurio.registry.auto-register", "true");
            // Wire's loader wants the file's path to end with its package's folders
            java.util.regex.Matcher pkg = java.util.regex.Pattern.compile("(?m)^package\\s+([\\w.]+)\\s*;").matcher(schema);
            Optional<String> packageName = pkg.find() ? Optional.of(pkg.group(1)) : Optional.empty();
            // The descriptor depends on what the file imports only (google/protobuf/any.proto at most):
            // protoFileToFileDescriptor would make it depend on every well-known file, which the serializer then
            // registers as references, and the deserializer fails to load those back ("multiple enums share
            // constant CALENDAR_PERIOD_UNSPECIFIED" between google/type/calendar_period.proto and its own copy).
            DescriptorProtos.FileDescriptorProto file =
                    FileDescriptorUtils.toFileDescriptorProto(schema, "row.proto", packageName, new HashMap<>());
            List<Descriptors.FileDescriptor> deps = new ArrayList<>();
            for (String dep : file.getDependencyList()) {
                if (!dep.equals("google/protobuf/any.proto")) {
                    throw new IllegalArgumentException("ProduceSerde knows google/protobuf/any.proto only, not " + dep);
                }
                deps.add(AnyProto.getDescriptor());
            }
            message = Descriptors.FileDescriptor.buildFrom(file, deps.toArray(new Descriptors.FileDescriptor[0]))
                    .getMessageTypes().get(0);
            ProtobufKafkaSerializer<DynamicMessage> s = new ProtobufKafkaSerializer<>();
            s.configure(serde, false);
            valueSerializer = cast(s);
        } else if (format.equals("jsonschema")) {
            serde.putIfAbsent("apicurio.registry.find-latest", "true");
            JsonSchemaKafkaSerializer<JsonNode> s = new JsonSchemaKafkaSerializer<>();
            s.configure(serde, false);
            valueSerializer = cast(s);
        } else {
            throw new IllegalArgumentException("format " + format);
        }

        Properties props = new Properties();
        props.put("bootstrap.servers", spec.get("bootstrap").asText());
        props.put("acks", "all");
        props.put("enable.idempotence", "true");
        String topic = spec.get("topic").asText();
        List<String> lines = Files.readAllLines(Paths.get(args[1]), StandardCharsets.UTF_8);
        int n = 0;
        try (KafkaProducer<byte[], Object> producer =
                     new KafkaProducer<>(props, new ByteArraySerializer(), valueSerializer)) {
            for (String line : lines) {
                if (line.trim().isEmpty()) {
                    continue;
                }
                JsonNode record = json.readTree(line);
                Object value = message == null ? record.get("value") : protobuf(message, record);
                producer.send(new ProducerRecord<>(topic, null, value)).get();
                n++;
            }
            producer.flush();
        }
        System.out.println("produced " + n);
    }

    private static DynamicMessage protobuf(Descriptor message, JsonNode record) throws Exception {
        DynamicMessage.Builder b = DynamicMessage.newBuilder(message);
        JsonFormat.parser().merge(record.get("value").toString(), b);
        JsonNode any = record.get("any");
        if (any != null) {
            FieldDescriptor field = message.findFieldByName(any.get("field").asText());
            Descriptor anyType = field.getMessageType();
            DynamicMessage value = DynamicMessage.newBuilder(anyType)
                    .setField(anyType.findFieldByName("type_url"), any.get("typeUrl").asText())
                    .setField(anyType.findFieldByName("value"), ByteString.copyFromUtf8("opaque"))
                    .build();
            b.setField(field, value);
        }
        return b.build();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Serializer<Object> cast(Serializer s) {
        return (Serializer<Object>) s;
    }
}
