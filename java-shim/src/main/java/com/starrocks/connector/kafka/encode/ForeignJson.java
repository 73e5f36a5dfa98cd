package com.starrocks.connector.kafka.encode;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import org.apache.kafka.connect.errors.DataException;

/**
 * The JSON text of values that reach the sink without a Connect schema as a deserializer's own objects rather than
 * Connect data. Apicurio Registry's {@code SerdeBasedConverter} does that: with its Protobuf serde a value is a
 * {@code com.google.protobuf.DynamicMessage}, with its JSON Schema serde a Jackson {@code JsonNode} (no Apicurio
 * converter builds Connect schemas for those two formats; docs/converters.md). The encoder writes that text as a
 * STRING, which the core loads as the row itself (a JSON object) in JSON format.
 *
 * <ul>
 *   <li>a Jackson {@code com.fasterxml.jackson.databind.JsonNode}: its {@code toString()}, which is its JSON text
 *       (Jackson 2.10 and later);</li>
 *   <li>a protobuf {@code com.google.protobuf.MessageOrBuilder} ({@code DynamicMessage} and generated messages):
 *       protobuf's own JSON printer {@code com.google.protobuf.util.JsonFormat} (protobuf-java-util), found through
 *       the message's class loader, printing the {@code .proto} field names (the table's column names, not
 *       lowerCamelCase), fields at their default value too (a proto3 {@code 0} or {@code ""} is a value, not a
 *       missing column) and no whitespace. Without protobuf-java-util beside the message classes, or when the printer
 *       refuses the message (an {@code Any} of an unknown type, say), the value cannot be turned into JSON and
 *       {@link #toJson} throws a {@link DataException} naming why: the record becomes a bad record.</li>
 * </ul>
 *
 * <p>Why by class name and reflection, not by type: the shim compiles against connect-api only and bundles no
 * third-party jar (the plugin ships its own jar alone), and the classes a converter hands over are loaded by the
 * converter's plugin class loader, which the connector's loader cannot see. A compile-time reference to protobuf or
 * Jackson would need those jars in the plugin (a second, different copy of the classes, so {@code instanceof} would
 * be false for the converter's objects anyway). So the value's own class and its supertypes are matched by name, and
 * the printer is looked up on the value's own class loader. The lookups are cached per value class in a
 * {@link ClassValue}, which lives as long as that class: a converter's loader that goes away takes its entry along.
 */
final class ForeignJson {
    static final String JACKSON_NODE = "com.fasterxml.jackson.databind.JsonNode";
    static final String PROTOBUF_MESSAGE = "com.google.protobuf.MessageOrBuilder";
    static final String PROTOBUF_JSON_FORMAT = "com.google.protobuf.util.JsonFormat";

    private ForeignJson() {}

    /** How one class of values becomes JSON text. */
    private interface Printer {
        String print(Object value);
    }

    private static final Printer NONE = value -> null;
    private static final Printer JACKSON = Object::toString;

    private static final ClassValue<Printer> PRINTERS = new ClassValue<Printer>() {
        @Override
        protected Printer computeValue(Class<?> type) {
            Class<?> message = supertypeNamed(type, PROTOBUF_MESSAGE);
            if (message != null) {
                return protobufPrinter(type, message);
            }
            return supertypeNamed(type, JACKSON_NODE) != null ? JACKSON : NONE;
        }
    };

    /**
     * The value's JSON text when it is a Jackson node or a protobuf message, else {@code null} (not a class this
     * knows). Throws {@link DataException} when it is a protobuf message that cannot be printed.
     */
    static String toJson(Object value) {
        return PRINTERS.get(value.getClass()).print(value);
    }

    /** The class or interface named {@code name} among {@code type}, its superclasses and their interfaces. */
    static Class<?> supertypeNamed(Class<?> type, String name) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if (c.getName().equals(name)) {
                return c;
            }
            Class<?> found = interfaceNamed(c, name);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    private static Class<?> interfaceNamed(Class<?> type, String name) {
        for (Class<?> i : type.getInterfaces()) {
            if (i.getName().equals(name)) {
                return i;
            }
            Class<?> found = interfaceNamed(i, name);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    private static Printer protobufPrinter(Class<?> type, Class<?> messageInterface) {
        String what = "a protobuf message (" + type.getName() + ") without a Connect schema cannot be turned into JSON";
        Object printer;
        Method print;
        try {
            Class<?> jsonFormat = Class.forName(PROTOBUF_JSON_FORMAT, true, messageInterface.getClassLoader());
            printer = jsonFormat.getMethod("printer").invoke(null);
            printer = configure(printer, "preservingProtoFieldNames");
            printer = configure(printer, "omittingInsignificantWhitespace");
            // protobuf-java 3.25 renamed includingDefaultValueFields (removed in 4.x) to alwaysPrintFieldsWithNoPresence
            Object withDefaults = configureIfPresent(printer, "alwaysPrintFieldsWithNoPresence");
            printer = withDefaults != null ? withDefaults : configure(printer, "includingDefaultValueFields");
            print = printer.getClass().getMethod("print", messageInterface);
        } catch (ClassNotFoundException | LinkageError e) {
            String reason = what + ": " + PROTOBUF_JSON_FORMAT + " (protobuf-java-util) is not on the converter's"
                    + " class path";
            return value -> {
                throw new DataException(reason);
            };
        } catch (ReflectiveOperationException | RuntimeException e) {
            String reason = what + ": " + PROTOBUF_JSON_FORMAT + " has no usable printer (" + e + ")";
            return value -> {
                throw new DataException(reason);
            };
        }
        Object jsonPrinter = printer;
        return value -> {
            try {
                return (String) print.invoke(jsonPrinter, value);
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                throw new DataException(what + ": " + cause.getMessage(), cause);
            } catch (IllegalAccessException e) {
                throw new DataException(what + ": " + e, e);
            }
        };
    }

    private static Object configure(Object printer, String method) throws ReflectiveOperationException {
        return printer.getClass().getMethod(method).invoke(printer);
    }

    private static Object configureIfPresent(Object printer, String method) throws ReflectiveOperationException {
        Method m;
        try {
            m = printer.getClass().getMethod(method);
        } catch (NoSuchMethodException e) {
            return null;
        }
        return m.invoke(printer);
    }
}
