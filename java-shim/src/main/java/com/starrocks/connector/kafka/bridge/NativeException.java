package com.starrocks.connector.kafka.bridge;

import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;

/** Thrown by the native exports (Rust constructs it through JNI with the {@code (int, String)} constructor). */
public class NativeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public static final int CONFIG = 1;
    public static final int RETRIABLE = 2;
    public static final int DATA = 3;
    public static final int LOAD = 4;
    public static final int INTERNAL = 5;

    private final int kind;

    public NativeException(int kind, String message) {
        super(message);
        this.kind = kind;
    }

    public int kind() {
        return kind;
    }

    /** The Connect exception for this kind (docs/architecture.md), with this exception as its cause. */
    public RuntimeException toConnectException() {
        String message = getMessage() == null ? "(no message)" : getMessage();
        switch (kind) {
            case CONFIG:
                ConfigException config = new ConfigException(message);
                config.initCause(this);
                return config;
            case RETRIABLE:
                return new RetriableException(message, this);
            case DATA:
                return new DataException(message, this);
            case LOAD:
                return new ConnectException(message, this);
            case INTERNAL:
                return new ConnectException("Internal error in the native sink (the task must restart): "
                        + message, this);
            default:
                return new ConnectException("Native sink error (kind " + kind + "): " + message, this);
        }
    }

    @Override
    public String toString() {
        return "NativeException(kind=" + kind + "): " + getMessage();
    }
}
