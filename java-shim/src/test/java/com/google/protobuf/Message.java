package com.google.protobuf;

/** Stand-in for protobuf's Message (see MessageOrBuilder). */
public interface Message extends MessageOrBuilder {}
