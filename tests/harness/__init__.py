"""Test harness: runs real processes (starrocks-emulator, Kafka broker, Connect workers) on loopback."""
