"""Schemas through a real worker (docs/schemas.md): a table `auto.create` makes from schemaless JSON
with its key from `pk.fields`, a field the table lacks reported once at WARN without `auto.evolve`,
and the schema keys refused together by the validate endpoint, naming the key. The CDC pipeline
that creates and evolves its table is tests/integration/test_cdc_evolve.py."""
import json
import time

import pytest

from harness import mysql, starrocks

CONNECTOR = "com.starrocks.connector.kafka.StarRocksSinkConnector"


@pytest.fixture
def worker(module_worker):
    return module_worker


def columns(emulator, table):
    return [tuple(r) for r in emulator.sql(
        "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY FROM information_schema.columns "
        "WHERE TABLE_SCHEMA = 'd' AND TABLE_NAME = '%s' ORDER BY ORDINAL_POSITION" % table)]


def test_auto_create_keys_a_table_on_value_fields(worker, kafka_broker, emulator, unique):
    name = "autocreate-" + unique
    topic = kafka_broker.create_topic("ac_%s" % unique)
    emulator.sql("CREATE DATABASE IF NOT EXISTS d")
    kafka_broker.produce(topic, [json.dumps({"id": 1, "city": "Oslo", "score": 2.5, "tags": ["a"]}),
                                 json.dumps({"id": 2, "city": "Lima", "score": 1, "tags": []}),
                                 json.dumps({"id": 1, "city": "Bergen", "score": 3.5, "tags": ["b", "c"]})])
    config = starrocks.sink_config(emulator, **{
        "topics": topic,
        "starrocks.topic2table.map": "%s:cities" % topic,
        "auto.create": "true",
        "pk.mode": "record_value",
        "pk.fields": "id",
        "auto.create.properties.replication_num": "1",
    })
    worker.rest.create(name, config)
    try:
        rows = mysql.wait_for_rows(emulator.query_port, "SELECT id, city, score, tags FROM d.cities ORDER BY id", 2,
                                   timeout=90, check=lambda: worker.rest.raise_if_failed(name))
        # a Primary Key table: the third record upserted the first
        assert [tuple(r) for r in rows] == [(1, "Bergen", 3.5, '["b", "c"]'), (2, "Lima", 1.0, "[]")], rows
        cols = columns(emulator, "cities")
        assert cols[0] == ("id", "bigint", "NO", "PRI"), cols
        # the rest in the map's order, which JsonConverter (a HashMap) does not keep from the JSON text
        assert sorted(cols[1:]) == [("city", "varchar(65533)", "YES", ""), ("score", "double", "YES", ""),
                                    ("tags", "json", "YES", "")], cols
        create = emulator.sql("SHOW CREATE TABLE d.cities")[0][1]
        assert "PRIMARY KEY(`id`)" in create and "DISTRIBUTED BY HASH(`id`)" in create, create
        assert "auto.create: created d.cities" in worker.process.log_text()
    finally:
        worker.rest.delete(name)


def test_a_field_the_table_lacks_is_reported_once(worker, kafka_broker, emulator, unique):
    name = "missing-" + unique
    topic = kafka_broker.create_topic("mf_%s" % unique)
    emulator.sql("CREATE DATABASE IF NOT EXISTS d")
    emulator.sql("CREATE TABLE d.t (id INT NOT NULL, city VARCHAR(64)) DUPLICATE KEY(id) "
                 "DISTRIBUTED BY HASH(id) BUCKETS 1")
    kafka_broker.produce(topic, [json.dumps({"id": i, "city": "c%d" % i, "phone_%s" % unique: "555"})
                                 for i in range(1, 6)])
    config = starrocks.sink_config(emulator, **{"topics": topic, "starrocks.topic2table.map": "%s:t" % topic})
    worker.rest.create(name, config)
    try:
        rows = mysql.wait_for_rows(emulator.query_port, "SELECT id, city FROM d.t ORDER BY id", 5, timeout=90,
                                   check=lambda: worker.rest.raise_if_failed(name))
        assert [r[0] for r in rows] == [1, 2, 3, 4, 5], "the rows load without the field"
        needle = "table d.t has no column `phone_%s`" % unique
        deadline = time.monotonic() + 10
        while needle not in worker.process.log_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        lines = [l for l in worker.process.log_text().splitlines() if needle in l]
        assert len(lines) == 1 and "WARN" in lines[0], lines
        assert [c[0] for c in columns(emulator, "t")] == ["id", "city"], "nothing changes without auto.evolve"
    finally:
        worker.rest.delete(name)


def test_the_schema_keys_are_validated_together(worker, emulator):
    def errors(**extra):
        answer = worker.rest.validate(CONNECTOR, starrocks.sink_config(emulator, name="validate", topics="t", **extra))
        return {c["value"]["name"]: c["value"]["errors"] for c in answer["configs"] if c["value"]["errors"]}

    assert errors(**{"auto.create": "true"}) == {}
    got = errors(**{"auto.create": "true", "sink.properties.format": "csv"})
    assert list(got) == ["auto.create"] and "sink.properties.format=json" in got["auto.create"][0], got
    got = errors(**{"pk.mode": "record_value"})
    assert list(got) == ["pk.fields"] and "record_value needs pk.fields" in got["pk.fields"][0], got
    got = errors(**{"pk.mode": "kafka"})
    assert list(got) == ["pk.mode"], got
