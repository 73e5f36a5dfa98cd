"""Self-tests of the harness with Kafka's own parts only (no StarRocks connector): if these pass
and the connector's tests fail, the fault is not in the harness.

Kafka's FileStreamSink is the known-good connector. Maven Central has no connect-file (nor
connect-mirror) 4.4.0, and connect-file 4.3.1 fails on a 4.4 worker (it calls
org.apache.kafka.common.utils.AppInfoParser, which 4.4 moved to ...utils.internals), so the
FileStreamSink runs on Kafka 3.9 workers (connect-file 3.9.1) against the shared 4.4 broker, and
the 4.4 workers are checked for their REST API and built-in plugins."""
import json
import time

import pytest

from harness import kafka, ports

FILE_SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"


def test_broker_produce_consume(kafka_broker, topic):
    assert kafka_broker.bootstrap.startswith("127.0.0.1:")
    values = [{"id": i, "city": "c%d" % i} for i in range(5)]
    assert kafka_broker.produce(topic, values, keys=[str(i) for i in range(5)]) == 5
    got = kafka_broker.consume(topic, 5)
    assert [json.loads(v) for _, v in got] == values
    assert [k for k, _ in got] == [str(i).encode() for i in range(5)]


def test_ports_are_loopback_and_distinct():
    a, b = ports.free_ports(2)
    assert a != b and not ports.is_listening(a)


def _wait_file_lines(path, n, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            lines = path.read_text().splitlines()
            if len(lines) >= n:
                return lines
        time.sleep(0.3)
    raise AssertionError("%s: fewer than %d lines after %d s: %r"
                         % (path, n, timeout, path.read_text() if path.exists() else None))


def test_standalone_worker_runs_file_sink(kafka_broker, topic, workers, workdir):
    """Standalone worker from jars, a plugin from plugin.path, a connector properties file."""
    out = workdir / "sink.txt"
    props = workdir / "file-sink.properties"
    kafka.write_properties(props, {"name": "file-sink-" + topic, "connector.class": FILE_SINK,
                                   "topics": topic, "file": str(out)})
    kafka_broker.produce(topic, ['{"a":1}', '{"a":2}', '{"a":3}'])
    w = workers.start("standalone", kafka.file_connector_plugins("3.9"), line="3.9", connector_files=[props])
    assert FILE_SINK in w.rest.plugin_classes(connectors_only=True)
    w.rest.wait_running("file-sink-" + topic, process=w.process)
    assert _wait_file_lines(out, 3) == ["{a=1}", "{a=2}", "{a=3}"]


def test_distributed_worker_rest_lifecycle(kafka_broker, topic, workers, workdir, unique):
    """Distributed worker: create via POST /connectors, validate, status, delete."""
    w = workers.start("distributed", kafka.file_connector_plugins("3.9"), line="3.9")
    assert FILE_SINK in w.rest.plugin_classes(connectors_only=True)
    bad = w.rest.validate(FILE_SINK, {"topics": topic})  # no name
    assert bad["error_count"] >= 1
    out = workdir / "sink.txt"
    name = "file-sink-" + unique
    w.rest.create(name, {"connector.class": FILE_SINK, "topics": topic, "file": str(out), "tasks.max": "1"})
    w.rest.wait_running(name, process=w.process)
    kafka_broker.produce(topic, ['{"v":"x"}', '{"v":"y"}'])
    assert _wait_file_lines(out, 2) == ["{v=x}", "{v=y}"]
    w.rest.delete(name)
    deadline = time.monotonic() + 30
    while name in w.rest.connectors():
        assert time.monotonic() < deadline, "connector still listed after DELETE"
        time.sleep(0.3)


@pytest.mark.parametrize("mode", ["standalone", "distributed"])
def test_kafka_44_worker_answers(kafka_broker, workers, workdir, mode):
    """Kafka 4.4 workers with an empty plugin.path: REST up, built-in plugins listed."""
    empty = workdir / "empty-plugins"
    empty.mkdir(exist_ok=True)
    w = workers.start(mode, empty)
    assert w.rest.json("GET", "/")["version"] == kafka.version_of("4.4")
    classes = w.rest.plugin_classes()
    assert "org.apache.kafka.connect.json.JsonConverter" in classes
    assert "org.apache.kafka.connect.transforms.RegexRouter" in classes
    assert w.rest.connectors() == []
