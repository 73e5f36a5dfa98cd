//! JNI exports only.
