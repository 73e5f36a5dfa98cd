"""HTTPS to the FE with a private CA, through a real Kafka 4.4 worker and the packaged plugin: the
emulator serves HTTPS on its FE and BE ports with a certificate from a CA made by the test, the
connector names `https://` and a truststore holding that CA (PKCS12 with a password, as keytool
writes it) and the rows land; a truststore without that CA fails the task with a trace that names
the FE and says its certificate is not trusted; the validate endpoint shows truststore problems on
their key, and the truststore password is never shown."""
import json
import time

import pytest

from harness import connect, mysql, plugin, starrocks
from harness.emulator import Emulator
from harness.tls import java_truststore, make_pki

TRUSTSTORE_PASSWORD = "trust-s3cret-pw"


@pytest.fixture
def worker(module_worker):
    return module_worker


@pytest.fixture(scope="module")
def pki(run_dir):
    return make_pki(run_dir / "test_tls-pki")


@pytest.fixture
def tls_emulator(workdir, pki):
    emu = Emulator(workdir=workdir, tls_cert=pki.cert, tls_key=pki.key, tls_ca=pki.ca)
    yield emu
    emu.stop()


def create_table(emulator, name):
    emulator.sql("CREATE DATABASE IF NOT EXISTS d")
    emulator.sql("CREATE TABLE d.%s (id INT NOT NULL, city VARCHAR(64)) DUPLICATE KEY(id) "
                 "DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')" % name)


def https_config(emulator, topic, table, truststore, password=TRUSTSTORE_PASSWORD):
    return starrocks.sink_config(emulator, **{
        "topics": topic,
        "starrocks.topic2table.map": "%s:%s" % (topic, table),
        "starrocks.http.url": "https://127.0.0.1:%d" % emulator.fe_http_port,
        "starrocks.ssl.truststore.location": str(truststore),
        "starrocks.ssl.truststore.password": password,
        "sink.maxretries": "1",
        "sink.retry.backoffms": "100",
    })


def delete(worker, name):
    worker.rest.delete(name)
    deadline = time.monotonic() + 30
    while name in worker.rest.connectors() and time.monotonic() < deadline:
        time.sleep(0.3)


def test_rows_land_over_https_with_a_pkcs12_truststore(worker, kafka_broker, tls_emulator, pki, unique, workdir):
    name = "tls-" + unique
    topic = kafka_broker.create_topic("tls_%s" % unique)
    create_table(tls_emulator, "cities")
    truststore = java_truststore(workdir / "truststore.p12", [pki.ca], TRUSTSTORE_PASSWORD, "PKCS12")
    kafka_broker.produce(topic, [json.dumps({"id": 1, "city": "Oslo"}), json.dumps({"id": 2, "city": "Lima"})])
    worker.rest.create(name, https_config(tls_emulator, topic, "cities", truststore))
    try:
        rows = mysql.wait_for_rows(tls_emulator.query_port, "SELECT id, city FROM d.cities ORDER BY id", 2,
                                   timeout=90, check=lambda: worker.rest.raise_if_failed(name))
        assert [tuple(r) for r in rows] == [(1, "Oslo"), (2, "Lima")]
        shown = json.dumps([worker.rest.config(name), worker.rest.status(name)])
        assert TRUSTSTORE_PASSWORD not in worker.log_text(), "the truststore password reached the worker's log"
        assert "BEGIN CERTIFICATE" not in worker.log_text(), "the certificates handed to the core were logged"
        assert "https://127.0.0.1:%d" % tls_emulator.fe_http_port in shown
    finally:
        delete(worker, name)


def test_a_truststore_without_the_ca_fails_the_task_clearly(worker, kafka_broker, tls_emulator, unique, workdir):
    name = "tls-untrusted-" + unique
    topic = kafka_broker.create_topic("tls_untrusted_%s" % unique)
    create_table(tls_emulator, "cities")
    other = make_pki(workdir / "other-pki", ca_name="some other CA")
    truststore = java_truststore(workdir / "other.jks", [other.ca], TRUSTSTORE_PASSWORD, "JKS")
    kafka_broker.produce(topic, [json.dumps({"id": 1, "city": "Oslo"})])
    worker.rest.create(name, https_config(tls_emulator, topic, "cities", truststore))
    try:
        status = worker.rest.wait_task_state(name, "FAILED", timeout=120, process=worker.process)
        trace = status["tasks"][0].get("trace", "")
        fe = "https://127.0.0.1:%d" % tls_emulator.fe_http_port
        assert "the TLS certificate of FE %s is not trusted" % fe in trace, trace
        assert "starrocks.ssl.truststore.location" in trace, trace
        assert TRUSTSTORE_PASSWORD not in trace
        assert tls_emulator.sql("SELECT COUNT(*) FROM d.cities") == [(0,)]
    finally:
        delete(worker, name)


def test_validate_shows_truststore_problems_on_their_key(worker, tls_emulator, pki, workdir):
    truststore = java_truststore(workdir / "truststore.p12", [pki.ca], TRUSTSTORE_PASSWORD, "PKCS12")
    base = dict(https_config(tls_emulator, "t", "t", truststore), name="tls-validate")
    result = worker.rest.validate(plugin.CONNECTOR_CLASS, base)
    assert result["error_count"] == 0, connect.validation_errors(result)
    cases = [
        ("starrocks.ssl.truststore.password", {"starrocks.ssl.truststore.password": "wrong"}, "wrong password"),
        ("starrocks.ssl.truststore.location", {"starrocks.ssl.truststore.location": str(workdir / "missing.p12")},
         "cannot read the truststore"),
        ("starrocks.ssl.truststore.location", {"starrocks.ssl.truststore.location": str(pki.key)},
         "holds no certificates"),
        ("starrocks.ssl.truststore.type", {"starrocks.ssl.truststore.type": "PFX"}, "PEM, JKS or PKCS12"),
    ]
    for key, changes, fragment in cases:
        result = worker.rest.validate(plugin.CONNECTOR_CLASS, dict(base, **changes))
        errors = connect.validation_errors(result)
        assert set(errors) == {key}, (changes, errors)
        assert any(fragment in m for m in errors[key]), errors
        assert TRUSTSTORE_PASSWORD not in json.dumps(result)
