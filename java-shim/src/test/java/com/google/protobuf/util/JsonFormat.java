package com.google.protobuf.util;

import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import java.util.Map;

/**
 * Stand-in for protobuf-java-util's JsonFormat (see com.google.protobuf.MessageOrBuilder), with the printer options
 * the shim sets and the same effects: without preservingProtoFieldNames names become lowerCamelCase, without
 * alwaysPrintFieldsWithNoPresence fields at their default (0, "") are left out, without
 * omittingInsignificantWhitespace there are spaces. Values are ints and strings only.
 */
public final class JsonFormat {
    private JsonFormat() {}

    public static Printer printer() {
        return new Printer(false, false, false);
    }

    public static final class Printer {
        private final boolean protoNames;
        private final boolean compact;
        private final boolean defaults;

        Printer(boolean protoNames, boolean compact, boolean defaults) {
            this.protoNames = protoNames;
            this.compact = compact;
            this.defaults = defaults;
        }

        public Printer preservingProtoFieldNames() {
            return new Printer(true, compact, defaults);
        }

        public Printer omittingInsignificantWhitespace() {
            return new Printer(protoNames, true, defaults);
        }

        public Printer alwaysPrintFieldsWithNoPresence() {
            return new Printer(protoNames, compact, true);
        }

        public String print(MessageOrBuilder message) throws InvalidProtocolBufferException {
            DynamicMessage m = (DynamicMessage) message;
            if (!m.printable) {
                throw new InvalidProtocolBufferException("Cannot find type for url: type.googleapis.com/x.Unknown");
            }
            StringBuilder out = new StringBuilder("{");
            String sep = compact ? "," : ", ";
            String colon = compact ? ":" : ": ";
            for (Map.Entry<String, Object> e : m.fields.entrySet()) {
                Object v = e.getValue();
                if (!defaults && (Integer.valueOf(0).equals(v) || "".equals(v))) {
                    continue;
                }
                if (out.length() > 1) {
                    out.append(sep);
                }
                String name = protoNames ? e.getKey() : camel(e.getKey());
                out.append('"').append(name).append('"').append(colon);
                out.append(v instanceof String ? "\"" + v + "\"" : String.valueOf(v));
            }
            return out.append('}').toString();
        }

        private static String camel(String name) {
            StringBuilder b = new StringBuilder();
            boolean up = false;
            for (char c : name.toCharArray()) {
                if (c == '_') {
                    up = true;
                } else {
                    b.append(up ? Character.toUpperCase(c) : c);
                    up = false;
                }
            }
            return b.toString();
        }
    }
}
