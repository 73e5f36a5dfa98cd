"""Routing through a real worker: `topics.regex`, topic names changed by a RegexRouter SMT,
`starrocks.topic2table.map` entries naming another database, and CSV rows from Struct values
(JsonConverter with schemas) — each asserted through the emulator's query port."""
import json

import pytest

from harness import mysql, starrocks


@pytest.fixture
def worker(module_worker):
    return module_worker


def base_config(emulator):
    return starrocks.sink_config(emulator)


def create_table(emulator, name, db="d"):
    emulator.sql("CREATE DATABASE IF NOT EXISTS %s" % db)
    emulator.sql("CREATE TABLE %s.%s (id INT NOT NULL, city VARCHAR(64)) DUPLICATE KEY(id) "
                 "DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')" % (db, name))


def rows(emulator, table, n, worker, name):
    return [tuple(r) for r in mysql.wait_for_rows(emulator.query_port, "SELECT id, city FROM %s ORDER BY id" % table, n,
                                                    timeout=90, check=lambda: worker.rest.raise_if_failed(name))]


def test_topics_regex_and_regex_router(worker, kafka_broker, emulator, unique):
    name = "routing-" + unique
    for t in ("a", "b"):
        kafka_broker.create_topic("rt_%s_%s" % (t, unique))
        create_table(emulator, "%s_%s" % (t, unique))
    kafka_broker.produce("rt_a_%s" % unique, [json.dumps({"id": 1, "city": "Oslo"})])
    kafka_broker.produce("rt_b_%s" % unique, [json.dumps({"id": 2, "city": "Lima"}), json.dumps({"id": 3, "city": "Pune"})])
    config = dict(base_config(emulator), **{
        "topics.regex": "rt_[ab]_%s" % unique,
        "transforms": "route",
        "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.route.regex": "rt_(.*)",
        "transforms.route.replacement": "$1",
    })
    worker.rest.create(name, config)
    try:
        assert rows(emulator, "d.a_%s" % unique, 1, worker, name) == [(1, "Oslo")]
        assert rows(emulator, "d.b_%s" % unique, 2, worker, name) == [(2, "Lima"), (3, "Pune")]
    finally:
        worker.rest.delete(name)


def test_topic2table_into_another_database_as_csv_from_structs(worker, kafka_broker, emulator, unique):
    name = "routing-csv-" + unique
    topic = kafka_broker.create_topic("rc_%s" % unique)
    create_table(emulator, "cities", db="other_%s" % unique)
    schema = {"type": "struct", "fields": [{"field": "id", "type": "int32"}, {"field": "city", "type": "string"}]}
    values = [json.dumps({"schema": schema, "payload": {"id": i, "city": c}})
              for i, c in [(1, "Quito, Ecuador"), (2, 'The "Big" Apple')]]
    kafka_broker.produce(topic, values)
    config = dict(base_config(emulator), **{
        "topics": topic,
        "value.converter.schemas.enable": "true",
        "starrocks.topic2table.map": "%s:other_%s.cities" % (topic, unique),
        "sink.properties.format": "csv",
        "sink.properties.column_separator": ",",
    })
    worker.rest.create(name, config)
    try:
        got = rows(emulator, "other_%s.cities" % unique, 2, worker, name)
        assert got == [(1, "Quito, Ecuador"), (2, 'The "Big" Apple')]
    finally:
        worker.rest.delete(name)
