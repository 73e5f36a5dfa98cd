"""Bad records through a real worker. With `errors.tolerance=all` and a dead letter queue, records
Connect cannot convert and rows StarRocks filters go to the DLQ with the reason in their headers,
while the good rows of the same batches land. With the default `errors.tolerance=none`, a filtered
row fails the task with StarRocks' reason."""
import json

import pytest

from harness import mysql, starrocks

REASON = "__connect.errors.exception.message"


@pytest.fixture
def worker(module_worker):
    return module_worker


def setup(emulator, kafka_broker, unique):
    emulator.sql("CREATE DATABASE IF NOT EXISTS d")
    emulator.sql("CREATE TABLE d.t_%s (id INT NOT NULL, city VARCHAR(8)) DUPLICATE KEY(id) "
                 "DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')" % unique)
    topic = kafka_broker.create_topic("bad_%s" % unique)
    return topic, starrocks.sink_config(emulator, **{
        "topics": topic,
        "starrocks.topic2table.map": "%s:t_%s" % (topic, unique),
        "sink.properties.strip_outer_array": "true",
    })


GOOD = [{"id": 1, "city": "Oslo"}, {"id": 2, "city": "Lima"}, {"id": 4, "city": "Pune"}]
FILTERED = [{"id": None, "city": "Nowhere"}, {"id": 3, "city": "far too long for varchar(8)"}]


def test_bad_records_go_to_the_dead_letter_queue(worker, kafka_broker, emulator, unique):
    topic, config = setup(emulator, kafka_broker, unique)
    dlq = "dlq_%s" % unique
    config.update({
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": dlq,
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
        "sink.properties.strict_mode": "true",
    })
    values = [json.dumps(GOOD[0]), json.dumps(FILTERED[0]), "{not json", json.dumps(GOOD[1]),
              json.dumps(FILTERED[1]), json.dumps(GOOD[2])]
    kafka_broker.produce(topic, values)
    name = "dlq-" + unique
    worker.rest.create(name, config)
    try:
        rows = mysql.wait_for_rows(emulator.query_port, "SELECT id, city FROM d.t_%s ORDER BY id" % unique, 3,
                                   timeout=90, check=lambda: worker.rest.raise_if_failed(name))
        assert [tuple(r) for r in rows] == [(1, "Oslo"), (2, "Lima"), (4, "Pune")]
        dead = kafka_broker.consume(dlq, 3, timeout=60, with_headers=True)
        by_value = {v.decode(): h for _, v, h in dead}
        assert set(by_value) == {values[1], values[2], values[4]}, by_value.keys()
        assert "too many filtered rows" in by_value[values[1]][REASON], by_value[values[1]]
        assert "too many filtered rows" in by_value[values[4]][REASON], by_value[values[4]]
        assert by_value[values[2]][REASON], "the converter's failure carries its reason"
        assert worker.rest.status(name)["tasks"][0]["state"] == "RUNNING"
    finally:
        worker.rest.delete(name)


def test_without_tolerance_a_filtered_row_fails_the_task(worker, kafka_broker, emulator, unique):
    topic, config = setup(emulator, kafka_broker, unique)
    kafka_broker.produce(topic, [json.dumps(GOOD[0]), json.dumps(FILTERED[0])])
    name = "strict-" + unique
    worker.rest.create(name, config)
    try:
        status = worker.rest.wait_task_state(name, "FAILED", timeout=90, process=worker.process)
        trace = status["tasks"][0].get("trace", "")
        assert "too many filtered rows" in trace, trace
        assert mysql.query(emulator.query_port, "SELECT COUNT(*) FROM d.t_%s" % unique) == [(0,)]
    finally:
        worker.rest.delete(name)
