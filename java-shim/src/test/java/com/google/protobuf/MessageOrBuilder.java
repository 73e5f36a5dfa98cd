package com.google.protobuf;

/**
 * A stand-in for protobuf's interface of the same name, for RecordEncoderTest: the shim matches protobuf messages by
 * class name (it has no protobuf dependency), so these fakes in the test sources take the real classes' place.
 */
public interface MessageOrBuilder {}
