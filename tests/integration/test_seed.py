"""The docs' quick start, end to end through real Kafka Connect workers and the packaged plugin:
the docs' files run as written (only addresses and paths substituted), the docs' three records
land in example_db.test_tbl, and Connect commits their offsets."""
import json
import re
import time

import pytest

from harness import mysql, plugin, seed


def _assert_rows_and_offsets(kafka_broker, worker, query_port, timeout=120):
    rows = seed.wait_for_rows(query_port, timeout, check=lambda: worker.rest.raise_if_failed(seed.CONNECTOR_NAME))
    assert rows == seed.EXPECTED_ROWS
    # The task commits only what StarRocks acknowledged: the group must reach offset 3 (the
    # docs' worker flushes offsets every 10 s).
    deadline = time.monotonic() + 60
    committed = {}
    while committed.get(0) != len(seed.RECORDS):
        assert time.monotonic() < deadline, "offsets of %s not committed: %s" % (seed.CONSUMER_GROUP, committed)
        time.sleep(1)
        committed = kafka_broker.committed(seed.CONSUMER_GROUP, seed.TOPIC)
    # nothing loaded twice
    assert seed.rows(query_port) == seed.EXPECTED_ROWS


def start_seed_standalone(workers, workdir, plugin_dir, seed_db, line="4.4", **kw):
    """A standalone worker of `line` with the docs' connect-standalone.properties and
    connect-StarRocks-sink.properties (plugin.path = the plugin directory itself, as the docs write it);
    `kw` go to Workers.start (java=, kafka_opts=)."""
    props = workdir / "connect-StarRocks-sink.properties"
    props.write_text(seed.connector_properties(seed_db.fe_http_port), encoding="utf-8")
    w = workers.start("standalone", plugin_dir, line=line, worker_properties=seed.worker_properties("standalone"),
                      connector_files=[props], **kw)
    assert w.rest.json("GET", "/")["version"].startswith(line + "."), w.rest.json("GET", "/")
    return w


def test_seed_standalone_properties_kafka_44(kafka_broker, seed_topic, seed_db, plugin_dir, workers, workdir):
    """(a) connect-StarRocks-sink.properties + the docs' connect-standalone.properties, Kafka 4.4,
    plugin.path = the plugin directory itself (as the docs write it)."""
    w = start_seed_standalone(workers, workdir, plugin_dir, seed_db)
    w.rest.wait_running(seed.CONNECTOR_NAME, process=w.process)
    _assert_rows_and_offsets(kafka_broker, w, seed_db.query_port)
    # and the docs' query, through the mysql client
    out = mysql.cli(seed_db.query_port, "select * from test_tbl;", database="example_db")
    for id_, city in seed.EXPECTED_ROWS:
        assert re.search(r"^\|\s*%d\s*\|\s*%s\s*\|$" % (id_, re.escape(city)), out, re.M), out


def test_seed_distributed_rest_payload(kafka_broker, seed_topic, seed_db, workers, workdir):
    """(b) the docs' distributed worker settings and their exact curl payload, POST /connectors;
    the plugin unzipped from the packaged zip into a plugin.path folder."""
    plugins = workdir / "plugins"
    installed = plugin.unzip_into(plugins)
    assert plugin.jars(installed), "the zip holds no jar under lib/"
    w = workers.start("distributed", plugins, worker_properties=seed.worker_properties("distributed"))
    payload = seed.rest_payload(seed_db.fe_http_port)
    created = w.rest.post_connectors_raw(payload)
    assert created["name"] == seed.CONNECTOR_NAME
    assert created["config"]["starrocks.http.url"] == json.loads(payload)["config"]["starrocks.http.url"]
    w.rest.wait_running(seed.CONNECTOR_NAME, process=w.process)
    _assert_rows_and_offsets(kafka_broker, w, seed_db.query_port)


@pytest.mark.parametrize("line", ["3.9", "3.4"])
def test_seed_standalone_properties_older_connect(line, kafka_broker, seed_topic, seed_db, plugin_dir, workers,
                                                  workdir):
    """(e) the same files through Kafka 3.9 and 3.4 standalone workers (against the shared 4.4
    broker). 3.4 is the oldest Connect the README claims: it predates plugin.discovery (3.6) and
    KIP-793's SinkRecord.original*() (3.6), so it scans plugin.path, and the shim commits the
    visible coordinates."""
    w = start_seed_standalone(workers, workdir, plugin_dir, seed_db, line=line)
    w.rest.wait_running(seed.CONNECTOR_NAME, process=w.process)
    _assert_rows_and_offsets(kafka_broker, w, seed_db.query_port)
