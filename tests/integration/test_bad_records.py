"""Bad records through a real worker. With `errors.tolerance=all` and a dead letter queue, records
Connect cannot convert and rows StarRocks filters go to the DLQ with the reason in their headers,
while the good rows of the same batches land. With the default `errors.tolerance=none`, a filtered
row fails the task with StarRocks' reason."""
import json
import re

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


def tolerate_into(dlq):
    """errors.tolerance=all with a DLQ that carries the reason headers, and strict_mode (a value
    that does not convert is a filtered row, not a NULL)."""
    return {
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": dlq,
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
        "sink.properties.strict_mode": "true",
    }


GOOD = [{"id": 1, "city": "Oslo"}, {"id": 2, "city": "Lima"}, {"id": 4, "city": "Pune"}]
FILTERED = [{"id": None, "city": "Nowhere"}, {"id": 3, "city": "far too long for varchar(8)"}]


def test_bad_records_go_to_the_dead_letter_queue(worker, kafka_broker, emulator, unique):
    topic, config = setup(emulator, kafka_broker, unique)
    dlq = "dlq_%s" % unique
    config.update(tolerate_into(dlq))
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


# -- dirty data under StringConverter / ByteArrayConverter and CSV lines (issue 20) ---------------
def dirty_setup(emulator, kafka_broker, unique, **extra):
    emulator.sql("CREATE DATABASE IF NOT EXISTS d")
    emulator.sql("CREATE TABLE d.dirty_%s (id INT NOT NULL, city VARCHAR(8), d DATE) DUPLICATE KEY(id) "
                 "DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')" % unique)
    topic = kafka_broker.create_topic("dirty_%s" % unique)
    dlq = "dlq_%s" % unique
    config = starrocks.sink_config(emulator, **{"topics": topic, "starrocks.topic2table.map": "%s:dirty_%s" % (topic, unique)})
    config.update(tolerate_into(dlq))
    config.update(extra)
    return topic, dlq, config


def run_dirty(worker, kafka_broker, emulator, unique, name, topic, dlq, config, values, good_ids, bad):
    """Produce `values`, run the connector: the rows of `good_ids` land, exactly the values of
    `bad` reach the DLQ, each with a reason containing bad[value], the task stays RUNNING and no
    load is retried (a data error is not transient)."""
    kafka_broker.produce(topic, values)
    worker.rest.create(name, config)
    try:
        rows = mysql.wait_for_rows(emulator.query_port, "SELECT id FROM d.dirty_%s ORDER BY id" % unique,
                                   len(good_ids), timeout=90, check=lambda: worker.rest.raise_if_failed(name))
        assert [r[0] for r in rows] == good_ids
        dead = kafka_broker.consume(dlq, len(bad), timeout=60, with_headers=True)
        by_value = {v.decode(): h for _, v, h in dead}
        assert set(by_value) == set(bad), sorted(by_value)
        for value, reason in bad.items():
            assert reason in by_value[value][REASON], (value, by_value[value])
            assert by_value[value]["__connect.errors.topic"] == topic
        assert len(kafka_broker.consume(dlq, len(bad) + 1, timeout=5)) == len(bad), "more in the DLQ than the bad ones"
        assert worker.rest.status(name)["tasks"][0]["state"] == "RUNNING"
        # a data error is never retried: no retry line (DEBUG), and no outage begun by a failed
        # attempt (the outage log's first line, WARN: native/core/src/stall.rs)
        log = worker.log_text()
        retried = re.findall(r"Stream Load %s-\S+ into \S+: attempt \d+ in .*" % re.escape(name), log)
        retried += re.findall(r"StarRocks load failed: [^\n]*\(label %s-[^\n]*" % re.escape(name), log)
        assert not retried, retried
    finally:
        worker.rest.delete(name)


def dirty_json_values():
    good = [json.dumps({"id": i, "city": "c%d" % i, "d": "2024-01-02"}) for i in range(1, 37)]
    bad = {
        json.dumps({"id": 37, "city": "far too long for varchar(8)", "d": "2024-01-02"}): "too many filtered rows",
        json.dumps({"id": None, "city": "null id", "d": "2024-01-02"}): "too many filtered rows",
        json.dumps({"id": 38, "city": "bad date", "d": "2024-13-45"}): "too many filtered rows",
        "this is not json {": "not a row",
    }
    values = list(good)
    for i, v in zip((5, 15, 25, 35), bad):
        values.insert(i, v)
    assert len(values) == 40
    return values, list(range(1, 37)), bad


@pytest.mark.parametrize("converter", ["org.apache.kafka.connect.storage.StringConverter",
                                       "org.apache.kafka.connect.converters.ByteArrayConverter"])
def test_text_that_is_not_a_row_goes_to_the_dlq_with_the_filtered_rows(converter, worker, kafka_broker, emulator,
                                                                       unique):
    """40 records through StringConverter (or ByteArrayConverter): 36 rows, 3 that StarRocks filters
    (a VARCHAR(8) overflow, NULL into NOT NULL, a bad date under strict_mode) and the text
    `this is not json {`, which is not a row at all: the 36 land, the 4 reach the DLQ."""
    topic, dlq, config = dirty_setup(emulator, kafka_broker, unique, **{
        "value.converter": converter, "sink.properties.strip_outer_array": "true"})
    values, good_ids, bad = dirty_json_values()
    run_dirty(worker, kafka_broker, emulator, unique, "dirty-" + unique, topic, dlq, config, values, good_ids, bad)


def test_csv_lines_with_the_wrong_number_of_columns_go_to_the_dlq(worker, kafka_broker, emulator, unique):
    topic, dlq, config = dirty_setup(emulator, kafka_broker, unique, **{
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "sink.properties.format": "csv", "sink.properties.column_separator": ","})
    good = ["%d,c%d,2024-01-02" % (i, i) for i in range(1, 21)]
    bad = {"21,two columns": "too many filtered rows", "22,four,2024-01-02,columns": "too many filtered rows",
           "23,bad date,2024-13-45": "too many filtered rows"}
    values = list(good)
    for i, v in zip((3, 10, 17), bad):
        values.insert(i, v)
    run_dirty(worker, kafka_broker, emulator, unique, "dirty-csv-" + unique, topic, dlq, config, values,
              list(range(1, 21)), bad)


def test_without_tolerance_text_that_is_not_a_row_fails_the_task_naming_it(worker, kafka_broker, emulator, unique):
    topic, _, config = dirty_setup(emulator, kafka_broker, unique, **{
        "value.converter": "org.apache.kafka.connect.storage.StringConverter", "errors.tolerance": "none"})
    kafka_broker.produce(topic, [json.dumps({"id": 1, "city": "Oslo", "d": "2024-01-02"}), "this is not json {"])
    name = "strict-text-" + unique
    worker.rest.create(name, config)
    try:
        status = worker.rest.wait_task_state(name, "FAILED", timeout=90, process=worker.process)
        trace = status["tasks"][0].get("trace", "")
        assert "not a row" in trace and "topic %s, partition 0, offset 1" % topic in trace, trace
    finally:
        worker.rest.delete(name)
