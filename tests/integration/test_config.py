"""Config checks through Connect's own REST API (PUT /connector-plugins/{class}/config/validate),
and a wrong password failing the task with StarRocks' message, on one Kafka 4.4 standalone worker
with the packaged plugin."""
import json
import time

import pytest

from harness import connect, plugin, seed
from harness.emulator import Emulator


@pytest.fixture(scope="module")
def worker(kafka_broker, plugin_dir, run_dir):
    # hybrid_fail: the worker refuses to start if a plugin lacks its META-INF/services manifest
    # config.providers: Kafka's FileConfigProvider, so a connector can name its password by reference
    w = connect.ConnectWorker("standalone", kafka_broker.bootstrap, run_dir / "test_config-worker", plugin_dir,
                              worker_properties={"plugin.discovery": "hybrid_fail",
                                                 "config.providers": "file",
                                                 "config.providers.file.class":
                                                     "org.apache.kafka.common.config.provider.FileConfigProvider"})
    try:
        w.start()
        yield w
    finally:
        w.stop()


def seed_config(fe_http_port=8030):
    """The docs' REST payload as one config map (with `name`, as the validate endpoint wants)."""
    payload = json.loads(seed.rest_payload(fe_http_port))
    return dict(payload["config"], name=payload["name"])


def test_plugin_and_transform_listed_with_version(worker):
    listed = {p["class"]: p for p in worker.rest.plugins()}
    assert plugin.CONNECTOR_CLASS in listed, sorted(listed)
    assert listed[plugin.CONNECTOR_CLASS]["type"] == "sink"
    assert listed[plugin.CONNECTOR_CLASS]["version"] == plugin.version()
    assert plugin.TRANSFORM_CLASS in listed, sorted(listed)


def test_docs_config_is_valid(worker):
    result = worker.rest.validate(plugin.CONNECTOR_CLASS, seed_config())
    assert result["error_count"] == 0, connect.validation_errors(result)


BAD_CONFIGS = [
    # id, key expected in the errors, changes (None removes the key)
    ("missing-url", "starrocks.http.url", {"starrocks.http.url": None}),
    ("bad-url", "starrocks.http.url", {"starrocks.http.url": "not a url"}),
    ("interval-out-of-range", "bufferflush.intervalms", {"bufferflush.intervalms": "10"}),
    ("unknown-format", "sink.properties.format", {"sink.properties.format": "xml"}),
    ("malformed-topic2table", "starrocks.topic2table.map", {"starrocks.topic2table.map": "test-test_tbl"}),
]


@pytest.mark.parametrize("key,changes", [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_rejected_by_validate(worker, key, changes):
    config = seed_config()
    for k, v in changes.items():
        if v is None:
            config.pop(k)
        else:
            config[k] = v
    result = worker.rest.validate(plugin.CONNECTOR_CLASS, config)
    errors = connect.validation_errors(result)
    assert result["error_count"] >= 1, result
    assert set(errors) == {key}, errors
    assert any(key in message for message in errors[key]), errors


@pytest.mark.parametrize("version,refused", [("3.3.9", True), ("4.0.0", False)])
def test_exactly_once_validation_asks_the_starrocks_version(worker, workdir, version, refused):
    """Multi-table transactions came in StarRocks 4.0: validation asks the cluster over the query
    port and refuses an older one on `delivery.guarantee`, naming both versions."""
    emu = Emulator(workdir / ("emulator-" + version), args=["--starrocks-version", version])
    try:
        seed.create_table_and_user(emu.query_port)  # the docs' user1 asks
        config = dict(seed_config(emu.fe_http_port), **{
            "delivery.guarantee": "exactly_once",
            "starrocks.query.address": "127.0.0.1:%d" % emu.query_port})
        result = worker.rest.validate(plugin.CONNECTOR_CLASS, config)
    finally:
        emu.stop()
    errors = connect.validation_errors(result)
    if not refused:
        assert result["error_count"] == 0, errors
        return
    assert result["error_count"] == 1 and list(errors) == ["delivery.guarantee"], errors
    message = errors["delivery.guarantee"][0]
    assert "4.0 or later" in message and version in message, message


def test_wrong_password_fails_the_task(worker, kafka_broker, topic, seed_db, unique):
    """(d) The task fails (FAILED) and its trace carries StarRocks' `Access denied`."""
    name = "wrong-password-" + unique
    config = seed_config(seed_db.fe_http_port)
    config.update({"name": name, "topics": topic, "starrocks.topic2table.map": "%s:test_tbl" % topic,
                   "starrocks.password": "not-the-password"})
    kafka_broker.produce(topic, seed.RECORDS)
    worker.rest.create(name, config)
    try:
        status = worker.rest.wait_task_state(name, "FAILED", timeout=120, process=worker.process)
        trace = status["tasks"][0].get("trace", "")
        assert "Access denied" in trace, trace
        assert "not-the-password" not in trace
        assert "not-the-password" not in worker.log_text(), "the password reached the worker's log"
        assert seed.rows(seed_db.query_port) == []
    finally:
        worker.rest.delete(name)
        deadline = time.monotonic() + 30
        while name in worker.rest.connectors() and time.monotonic() < deadline:
            time.sleep(0.3)


def test_password_by_reference_never_shown(worker, kafka_broker, topic, seed_db, unique, workdir):
    """With a ConfigProvider reference (as docs/configuration.md advises), the REST API shows the
    reference, never the password: in the connector config, in the task configs our connector
    generates, in the status, and the worker log; the rows still land, so the task got the real
    password."""
    name = "password-ref-" + unique
    secret = workdir / "starrocks-secret.properties"
    secret.write_text("password=123456\n")
    reference = "${file:%s:password}" % secret
    config = seed_config(seed_db.fe_http_port)
    config.update({"name": name, "topics": topic, "starrocks.topic2table.map": "%s:test_tbl" % topic,
                   "starrocks.password": reference})
    assert config["starrocks.username"] == "user1"
    kafka_broker.produce(topic, seed.RECORDS)
    worker.rest.create(name, config)
    try:
        worker.rest.wait_running(name, process=worker.process)
        rows = seed.wait_for_rows(seed_db.query_port, check=lambda: worker.rest.raise_if_failed(name))
        assert rows == seed.EXPECTED_ROWS
        shown = {
            "config": worker.rest.json("GET", "/connectors/%s/config" % name),
            "tasks": worker.rest.json("GET", "/connectors/%s/tasks" % name),
            "connector": worker.rest.json("GET", "/connectors/%s" % name),
            "status": worker.rest.status(name),
        }
        for what, body in shown.items():
            assert "123456" not in json.dumps(body), (what, body)
        task_configs = [t["config"] for t in shown["tasks"]]
        assert task_configs and all(c["starrocks.password"] == reference for c in task_configs), task_configs
        assert "123456" not in worker.log_text(), "the password reached the worker's log"
    finally:
        worker.rest.delete(name)
