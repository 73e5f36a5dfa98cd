package com.google.protobuf;

/** Stand-in for protobuf's checked exception of the same name, which JsonFormat's printer throws. */
public class InvalidProtocolBufferException extends java.io.IOException {
    private static final long serialVersionUID = 1L;

    public InvalidProtocolBufferException(String message) {
        super(message);
    }
}
