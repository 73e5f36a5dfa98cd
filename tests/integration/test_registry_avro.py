"""Avro through a real schema registry and a real worker: records serialized by Apicurio's own
`AvroKafkaSerializer` (tests/registry/helper/ProduceAvro.java), read back by Apicurio's
`AvroConverter` for keys and values, in both wire modes:

- "headers": Apicurio's default, the schema's global id in the record headers
  (`apicurio.key.globalId`, `apicurio.value.globalId`), the bare Avro binary as the payload;
- "confluent": Confluent's framing, a magic byte 0 and the 4-byte content id in front of the payload
  (`apicurio.registry.headers.enabled=false`, `as-confluent=true`, `use-id=contentId`).

Table-driven: CASES holds one Avro field per case (every logical type, nullable unions, an enum, a
nested record, an array and a map), one table column each and the exact values StarRocks stores for
two records. Per wire mode ONE topic, ONE table and ONE connector load both records (the module-scoped
`loaded` fixture); the parametrized tests then check a case each. The key is an Avro record too: its
`region` field exists only in the key and reaches its column through the key merge (docs/type-mapping.md).

The registry (Apicurio Registry 2.4.2.Final) is the session's `registry` fixture, the worker the
module's `registry_worker` (the packaged connector and Apicurio's converters on `plugin.path`).
"""
import datetime
import struct
from collections import namedtuple
from decimal import Decimal

import pytest

from harness import mysql, registry as schema_registry, starrocks

Case = namedtuple("Case", "name avro column datums expected xfail")
Case.__new__.__defaults__ = (None,)


def unscaled(value: str, scale: int, size: int = None) -> str:
    """A decimal's unscaled two's complement big-endian bytes in Avro's JSON encoding (for bytes, or a
    fixed of `size` bytes)."""
    n = int((Decimal(value) * (10 ** scale)).to_integral_exact())
    length = size or max(1, (n.bit_length() + 8) // 8)
    return schema_registry.avro_bytes(n.to_bytes(length, "big", signed=True))


def epoch_ms(text: str) -> int:
    dt = datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp() * 1000)


def epoch_us(text: str) -> int:
    dt = datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc)
    delta = dt - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def day(text: str) -> int:
    return (datetime.date.fromisoformat(text) - datetime.date(1970, 1, 1)).days


TS1 = "2024-01-02 03:04:05.123456"
TS2 = "1969-12-31 23:59:59.999000"
ADDRESS = {"type": "record", "name": "Address", "fields": [
    {"name": "city", "type": "string"}, {"name": "zip", "type": "int"}]}
AMOUNT = {"type": "record", "name": "Amount", "fields": [
    {"name": "value", "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2}},
    {"name": "due", "type": {"type": "int", "logicalType": "date"}}]}

# name, Avro type, column type, the datums of records 1 and 2 (Avro JSON encoding), what StarRocks
# shows for them (harness `shown`: DATETIME with .ffffff only when not zero, DECIMAL with its scale,
# JSON with sorted keys and ", " / ": " separators)
CASES = [
    Case("dec_bytes", {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}, "DECIMAL(10,2)",
         (unscaled("12345.67", 2), unscaled("-0.05", 2)), ("12345.67", "-0.05")),
    # a decimal on a fixed passes Apicurio's AvroData only with Connect's name on the fixed (what Confluent's and
    # Apicurio's converters write for a Connect Decimal); without it see FIXED_DECIMAL_PLAIN below
    Case("dec_fixed", {"type": "fixed", "name": "Dec9", "size": 5, "logicalType": "decimal", "precision": 9,
                       "scale": 3, "connect.name": "org.apache.kafka.connect.data.Decimal"}, "DECIMAL(9,3)",
         (unscaled("123456.789", 3, 5), unscaled("-1", 3, 5)), ("123456.789", "-1.000")),
    Case("d", {"type": "int", "logicalType": "date"}, "DATE",
         (day("2024-01-02"), -1), ("2024-01-02", "1969-12-31")),
    Case("t_millis", {"type": "int", "logicalType": "time-millis"}, "VARCHAR(32)",
         (3723004, 0), ("01:02:03.004000", "00:00:00")),
    # Apicurio's AvroData (like Confluent's) maps only decimal, date, time-millis and timestamp-millis to Connect's
    # logical types; time-micros, timestamp-micros and both local-timestamp types arrive as a plain INT64 (Connect
    # has no logical type for them), so the connector stores the number: into a BIGINT column as here, while a
    # DATETIME column would get NULL (a filtered row under strict_mode). docs/converters.md says so.
    Case("t_micros", {"type": "long", "logicalType": "time-micros"}, "BIGINT", (3723004005, 0), (3723004005, 0)),
    Case("ts_millis", {"type": "long", "logicalType": "timestamp-millis"}, "DATETIME",
         (epoch_ms("2024-01-02 03:04:05.123"), -1), ("2024-01-02 03:04:05.123000", "1969-12-31 23:59:59.999000")),
    Case("ts_micros", {"type": "long", "logicalType": "timestamp-micros"}, "BIGINT",
         (epoch_us(TS1), epoch_us(TS2)), (1704164645123456, -1000)),
    Case("lts_millis", {"type": "long", "logicalType": "local-timestamp-millis"}, "BIGINT",
         (epoch_ms("2024-01-02 03:04:05.123"), 0), (1704164645123, 0)),
    Case("lts_micros", {"type": "long", "logicalType": "local-timestamp-micros"}, "BIGINT",
         (epoch_us(TS1), 0), (1704164645123456, 0)),
    Case("id_uuid", {"type": "string", "logicalType": "uuid"}, "VARCHAR(36)",
         ("123e4567-e89b-12d3-a456-426614174000", "00000000-0000-0000-0000-000000000000"),
         ("123e4567-e89b-12d3-a456-426614174000", "00000000-0000-0000-0000-000000000000")),
    Case("opt_str", ["null", "string"], "VARCHAR(16)", ({"string": "x,\"y\""}, None), ("x,\"y\"", None)),
    Case("opt_long", ["null", "long"], "BIGINT", ({"long": -9223372036854775808}, None),
         (-9223372036854775808, None)),
    Case("opt_date", ["null", {"type": "int", "logicalType": "date"}], "DATE",
         ({"int": day("2000-02-29")}, None), ("2000-02-29", None)),
    Case("opt_dec", ["null", {"type": "bytes", "logicalType": "decimal", "precision": 5, "scale": 1}],
         "DECIMAL(5,1)", ({"bytes": unscaled("-1234.5", 1)}, None), ("-1234.5", None)),
    Case("color", {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN", "BLUE"]}, "VARCHAR(8)",
         ("GREEN", "RED"), ("GREEN", "RED")),
    Case("flag", "boolean", "BOOLEAN", (True, False), (1, 0)),
    Case("ratio", "double", "DOUBLE", (0.1, -2.5e-7), (0.1, -2.5e-7)),
    Case("raw", "bytes", "VARCHAR(16)", (schema_registry.avro_bytes(b"abc"), ""), ("abc", "")),
    Case("address", ADDRESS, "JSON", ({"city": "Oslo", "zip": 150}, {"city": "", "zip": -1}),
         ('{"city": "Oslo", "zip": 150}', '{"city": "", "zip": -1}')),
    Case("amount", AMOUNT, "JSON",
         ({"value": unscaled("1.50", 2), "due": day("2024-01-02")}, {"value": unscaled("-0.01", 2), "due": -1}),
         ('{"due": "2024-01-02", "value": "1.50"}', '{"due": "1969-12-31", "value": "-0.01"}')),
    Case("tags", {"type": "array", "items": "string"}, "JSON", (["a", "b"], []), ('["a", "b"]', "[]")),
    Case("attrs", {"type": "map", "values": "long"}, "JSON", ({"k": 1, "j": -2}, {}), ('{"j": -2, "k": 1}', "{}")),
    Case("opt_tags", ["null", {"type": "array", "items": "int"}], "JSON", ({"array": [1, 2]}, None), ("[1, 2]", None)),
]

# A decimal on a fixed WITHOUT Connect's name: Apicurio's AvroData refuses the record ("Mismatched names:
# name already added to SchemaBuilder (org.apache.kafka.connect.data.Decimal) differs from name in source
# schema (it.registry.Plain9)"), a converter error, so Connect's own error handling sends it to the DLQ
# (errors.tolerance=all) before the sink sees it.
FIXED_DECIMAL_PLAIN = {"type": "record", "name": "Row", "namespace": "it.registry", "fields": [
    {"name": "id", "type": "int"},
    {"name": "dec_fixed", "type": {"type": "fixed", "name": "Plain9", "size": 5, "logicalType": "decimal",
                                   "precision": 9, "scale": 3}}]}
FIXED_DECIMAL_PLAIN_VALUE = {"id": 3, "dec_fixed": unscaled("1.5", 3, 5)}
REASON = "__connect.errors.exception.message"

KEY_SCHEMA = {"type": "record", "name": "RowKey", "namespace": "it.registry",
              "fields": [{"name": "id", "type": "int"}, {"name": "region", "type": "string"}]}
VALUE_SCHEMA = {"type": "record", "name": "Row", "namespace": "it.registry",
                "fields": [{"name": "id", "type": "int"}] + [{"name": c.name, "type": c.avro} for c in CASES]}
KEYS = [{"id": 1, "region": "eu-north"}, {"id": 2, "region": "ap-south"}]
IDS = (1, 2)


def shown(v):
    """A pymysql value as StarRocks' client shows it."""
    if isinstance(v, datetime.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S") + (".%06d" % v.microsecond if v.microsecond else "")
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    return v


@pytest.fixture(scope="module")
def avro_emulator(run_dir):
    emu = starrocks.start_emulator(run_dir / "registry-avro-emulator")
    emu.sql("CREATE DATABASE IF NOT EXISTS d")
    yield emu
    emu.stop()


@pytest.fixture(scope="module", params=["headers", "confluent"])
def loaded(request, registry, registry_worker, kafka_broker, avro_emulator, run_dir):
    """Both records through one connector in wire mode `request.param`; returns what the test needs."""
    wire = request.param
    worker, emu = registry_worker, avro_emulator
    table = "avro_%s" % wire
    columns = ", ".join("%s %s" % (c.name, c.column) for c in CASES)
    emu.sql("CREATE TABLE d.%s (id INT NOT NULL, region VARCHAR(16), %s) DUPLICATE KEY(id) "
            "DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')" % (table, columns))
    topic = kafka_broker.create_topic("registry_avro_%s" % wire)
    values = [dict({"id": i}, **{c.name: c.datums[n] for c in CASES}) for n, i in enumerate(IDS)]
    schema_registry.produce_avro(kafka_broker.bootstrap, registry.apicurio_url, topic, wire, VALUE_SCHEMA, values,
                                 key_schema=KEY_SCHEMA, keys=KEYS, workdir=run_dir)
    schema_registry.produce_avro(kafka_broker.bootstrap, registry.apicurio_url, topic, wire, FIXED_DECIMAL_PLAIN,
                                 [FIXED_DECIMAL_PLAIN_VALUE], key_schema=KEY_SCHEMA,
                                 keys=[{"id": 3, "region": "plain"}], workdir=run_dir)
    dlq = "%s_dlq" % topic
    config = starrocks.sink_config(emu, **{
        "topics": topic,
        "starrocks.topic2table.map": "%s:%s" % (topic, table),
        "sink.properties.strip_outer_array": "true",
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": dlq,
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
    })
    config.update(schema_registry.avro_converter("key.converter", registry.apicurio_url, wire))
    config.update(schema_registry.avro_converter("value.converter", registry.apicurio_url, wire))
    name = "registry-avro-%s" % wire
    worker.rest.create(name, config)
    try:
        names = ["id", "region"] + [c.name for c in CASES]
        rows = mysql.wait_for_rows(emu.query_port, "SELECT %s FROM d.%s ORDER BY id" % (", ".join(names), table),
                                   len(IDS), timeout=90, check=lambda: worker.rest.raise_if_failed(name))
        stored = {r[0]: dict(zip(names, (shown(v) for v in r))) for r in rows}
        raw = kafka_broker.consume(topic, len(IDS) + 1, with_headers=True)
        dead = kafka_broker.consume(dlq, 1, timeout=60, with_headers=True)
        yield {"wire": wire, "topic": topic, "stored": stored, "raw": raw, "dead": dead,
               "status": worker.rest.status(name)}
    finally:
        worker.rest.delete(name)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)]
                                                if c.xfail else []) for c in CASES])
def test_avro_value_is_stored_exactly(loaded, case):
    got = tuple(loaded["stored"][i][case.name] for i in IDS)
    assert got == case.expected, "%s (%s) in %s mode" % (case.name, case.avro, loaded["wire"])


def test_avro_keys_fill_the_key_only_columns(loaded):
    """The key's `region` is not in the value: the key merge puts it in its column; `id` is in both."""
    assert [(i, loaded["stored"][i]["region"]) for i in IDS] == [(k["id"], k["region"]) for k in KEYS]
    assert loaded["status"]["tasks"][0]["state"] == "RUNNING"


def test_avro_records_carry_the_wire_mode_asked_for(loaded, registry):
    """The serializer wrote what the mode says, and the converter read it: ids in the headers, or
    Confluent's magic byte and content id in front of key and value; the registry holds the topic's
    key and value schemas (TopicIdStrategy), also through its Confluent-compatible API."""
    topic = loaded["topic"]
    assert registry.info()["version"] == schema_registry.REGISTRY_VERSION
    assert {"%s-key" % topic, "%s-value" % topic} <= set(registry.subjects())
    assert len(loaded["raw"]) == len(IDS) + 1
    for key, value, headers in loaded["raw"]:
        if loaded["wire"] == "headers":
            assert {"apicurio.key.globalId", "apicurio.value.globalId"} <= set(headers), headers
            assert value[0] != 0 or len(value) < 5, "no Confluent framing in headers mode"
        else:
            assert not [h for h in headers if h.startswith("apicurio.")], headers
    if loaded["wire"] == "confluent":
        # records 1 and 2 carry the value schema's first version, record 3 (FIXED_DECIMAL_PLAIN) its second
        key_id = registry.artifact_meta("%s-key" % topic)["contentId"]
        value_ids = [registry.artifact_meta("%s-value" % topic, version=v)["contentId"] for v in (1, 1, 2)]
        for (key, value, _), value_id in zip(loaded["raw"], value_ids):
            assert key[0] == 0 and value[0] == 0, "magic byte"
            assert struct.unpack(">I", key[1:5])[0] == key_id
            assert struct.unpack(">I", value[1:5])[0] == value_id


def test_a_fixed_decimal_without_connect_name_is_refused_by_apicurios_converter(loaded):
    """Apicurio's AvroData cannot read a decimal on a plain fixed: the converter fails the record, which
    Connect sends to the DLQ under errors.tolerance=all; the other records of the topic are loaded."""
    assert len(loaded["dead"]) == 1, loaded["dead"]
    key, value, headers = loaded["dead"][0]
    assert (key, value) == loaded["raw"][2][:2], "the DLQ holds the record as it was on the topic"
    assert "Mismatched names" in headers[REASON] and "it.registry.Plain9" in headers[REASON], headers[REASON]
    assert headers["__connect.errors.stage"] == "VALUE_CONVERTER", headers
    assert sorted(loaded["stored"]) == list(IDS)
