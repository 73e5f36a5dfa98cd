"""Protobuf and JSON Schema through a real schema registry and a real worker: records serialized by
Apicurio's own serializers (tests/registry/helper/ProduceSerde.java) and read by Apicurio's
`SerdeBasedConverter` with the matching deserializer. Those values reach the sink WITHOUT a Connect
schema, as the deserializer's own objects: a protobuf `DynamicMessage`, a Jackson `ObjectNode`. The
shim writes them as their JSON text (java-shim/.../encode/ForeignJson.java: a JSON node's text;
a protobuf message through protobuf's own `JsonFormat` printer from the converter's class loader,
with the .proto field names and fields at their default value), which the core loads as the JSON row.

A protobuf message the printer refuses (here: a `google.protobuf.Any` of a type nobody knows) cannot be
turned into JSON: a bad record, to the dead letter queue under `errors.tolerance=all` with the reason
in its headers, and a task failure naming it otherwise.
"""
import json

import pytest

from harness import mysql, registry as schema_registry, starrocks

REASON = "__connect.errors.exception.message"

PROTO = """syntax = "proto3";
package it.registry;

import "google/protobuf/any.proto";

message Row {
  int32 id = 1;
  string first_name = 2;
  int64 big = 3;
  double score = 4;
  bool active = 5;
  repeated string tags = 6;
  Address address = 7;
  Color color = 8;
  map<string, int32> counts = 9;
  google.protobuf.Any extra = 10;

  message Address {
    string city = 1;
    int32 zip = 2;
  }
  enum Color {
    RED = 0;
    GREEN = 1;
  }
}
"""
PROTO_TABLE = ("id INT NOT NULL, first_name VARCHAR(16), big BIGINT, score DOUBLE, active BOOLEAN, tags JSON, "
               "address JSON, color VARCHAR(8), counts JSON")
PROTO_COLUMNS = "id, first_name, big, score, active, tags, address, color, counts"
PROTO_GOOD = [
    {"value": {"id": 1, "first_name": "Ada", "big": "9007199254740993", "score": 0.5, "active": True,
               "tags": ["a", "b"], "address": {"city": "Oslo", "zip": 150}, "color": "GREEN", "counts": {"x": 1}}},
    # every field at its proto3 default: printed all the same (a 0 is a value, not a missing column), the
    # unset message field `address` is absent, i.e. NULL
    {"value": {"id": 2}},
]
PROTO_STORED = [
    (1, "Ada", 9007199254740993, 0.5, 1, '["a", "b"]', '{"city": "Oslo", "zip": 150}', "GREEN", '{"x": 1}'),
    (2, "", 0, 0.0, 0, "[]", None, "RED", "{}"),
]
UNKNOWN_ANY = "type.googleapis.com/it.registry.NotAnywhere"
PROTO_BAD = {"value": {"id": 3, "first_name": "unprintable"}, "any": {"field": "extra", "typeUrl": UNKNOWN_ANY}}

JSON_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Row",
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["string", "null"]},
        "price": {"type": "number"},
        "day": {"type": "string", "format": "date"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "meta": {"type": "object"},
    },
    "required": ["id"],
}
JSON_TABLE = "id INT NOT NULL, name VARCHAR(16), price DECIMAL(8,2), day DATE, tags JSON, meta JSON"
JSON_COLUMNS = "id, name, price, day, tags, meta"
JSON_VALUES = [
    {"value": {"id": 1, "name": "Oslo \"N\"", "price": 12.5, "day": "2024-01-02", "tags": ["a"],
               "meta": {"k": [1, 2], "b": None}}},
    {"value": {"id": 2, "name": None, "price": -0.01, "day": "1969-12-31", "tags": [], "meta": {}}},
]
JSON_STORED = [
    (1, 'Oslo "N"', "12.50", "2024-01-02", '["a"]', '{"b": null, "k": [1, 2]}'),
    (2, None, "-0.01", "1969-12-31", "[]", "{}"),
]


@pytest.fixture
def worker(registry_worker):
    return registry_worker


def shown(row):
    import datetime
    from decimal import Decimal

    out = []
    for v in row:
        if isinstance(v, (datetime.date, Decimal)):
            v = str(v)
        out.append(v)
    return tuple(out)


def make_table(emulator, table, columns):
    emulator.sql("CREATE DATABASE IF NOT EXISTS d")
    emulator.sql("CREATE TABLE d.%s (%s) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1 "
                 "PROPERTIES ('replication_num' = '1')" % (table, columns))


def connector_config(emulator, registry, topic, table, fmt, **extra):
    config = starrocks.sink_config(emulator, **{"topics": topic, "starrocks.topic2table.map": "%s:%s" % (topic, table),
                                                "sink.properties.strip_outer_array": "true"})
    config.update(schema_registry.serde_converter("value.converter", registry.apicurio_url, fmt))
    config.update(extra)
    return config


@pytest.fixture(scope="module")
def proto_topic(registry, kafka_broker, run_dir):
    """One topic for both protobuf tests (each connector is its own consumer group): a good message, the
    unprintable one at offset 1, another good one."""
    topic = kafka_broker.create_topic("registry_proto")
    schema_registry.produce_serde(kafka_broker.bootstrap, registry.apicurio_url, topic, "protobuf", PROTO,
                                  [PROTO_GOOD[0], PROTO_BAD, PROTO_GOOD[1]], workdir=run_dir)
    return topic


def test_protobuf_values_load_as_json_rows_and_an_unprintable_one_goes_to_the_dlq(
        worker, registry, kafka_broker, emulator, unique, proto_topic):
    table = "proto_%s" % unique
    make_table(emulator, table, PROTO_TABLE)
    topic = proto_topic
    dlq = "dlq_%s" % unique
    name = "proto-" + unique
    worker.rest.create(name, connector_config(emulator, registry, topic, table, "protobuf", **{
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": dlq,
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
    }))
    try:
        rows = mysql.wait_for_rows(emulator.query_port, "SELECT %s FROM d.%s ORDER BY id" % (PROTO_COLUMNS, table),
                                   2, timeout=90, check=lambda: worker.rest.raise_if_failed(name))
        assert [shown(r) for r in rows] == PROTO_STORED
        dead = kafka_broker.consume(dlq, 1, timeout=60, with_headers=True)
        assert len(kafka_broker.consume(dlq, 2, timeout=5)) == 1, "more in the DLQ than the bad one"
        reason = dead[0][2][REASON]
        for part in ("com.google.protobuf.DynamicMessage", "cannot be turned into JSON", UNKNOWN_ANY, "offset=1"):
            assert part in reason, reason
        assert dead[0][2]["__connect.errors.topic"] == topic
        assert worker.rest.status(name)["tasks"][0]["state"] == "RUNNING"
    finally:
        worker.rest.delete(name)


def test_without_tolerance_an_unprintable_protobuf_value_fails_the_task_naming_it(
        worker, registry, kafka_broker, emulator, unique, proto_topic):
    table = "proto_strict_%s" % unique
    make_table(emulator, table, PROTO_TABLE)
    topic = proto_topic
    name = "proto-strict-" + unique
    worker.rest.create(name, connector_config(emulator, registry, topic, table, "protobuf"))
    try:
        status = worker.rest.wait_task_state(name, "FAILED", timeout=90, process=worker.process)
        trace = status["tasks"][0].get("trace", "")
        for part in ("cannot be turned into JSON", UNKNOWN_ANY, "topic=%s partition=0 offset=1" % topic):
            assert part in trace, trace
    finally:
        worker.rest.delete(name)


def test_json_schema_values_load_as_json_rows(worker, registry, kafka_broker, emulator, unique, run_dir):
    table = "jsonschema_%s" % unique
    make_table(emulator, table, JSON_TABLE)
    topic = kafka_broker.create_topic("jsonschema_%s" % unique)
    registry.register("%s-value" % topic, json.dumps(JSON_SCHEMA), "JSON")
    schema_registry.produce_serde(kafka_broker.bootstrap, registry.apicurio_url, topic, "jsonschema",
                                  json.dumps(JSON_SCHEMA), JSON_VALUES, workdir=run_dir)
    name = "jsonschema-" + unique
    worker.rest.create(name, connector_config(emulator, registry, topic, table, "jsonschema"))
    try:
        rows = mysql.wait_for_rows(emulator.query_port, "SELECT %s FROM d.%s ORDER BY id" % (JSON_COLUMNS, table),
                                   2, timeout=90, check=lambda: worker.rest.raise_if_failed(name))
        assert [shown(r) for r in rows] == JSON_STORED
    finally:
        worker.rest.delete(name)
