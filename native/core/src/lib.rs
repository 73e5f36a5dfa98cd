//! Pure-Rust core of the StarRocks sink (no JNI).
