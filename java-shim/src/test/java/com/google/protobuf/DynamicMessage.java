package com.google.protobuf;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Stand-in for protobuf's DynamicMessage (see MessageOrBuilder): fields by their .proto names; {@code printable =
 * false} makes the fake JsonFormat refuse it, as the real one refuses an Any of an unknown type.
 */
public final class DynamicMessage implements Message {
    public final Map<String, Object> fields;
    public final boolean printable;

    public DynamicMessage(Map<String, Object> fields, boolean printable) {
        this.fields = new LinkedHashMap<>(fields);
        this.printable = printable;
    }
}
