"""Makes `import harness` work for every test under tests/, and the shared fixtures of the
end-to-end suites: ONE Kafka broker for the whole session, one StarRocks emulator per test, Connect
workers started per test (or per module) and always stopped, and per-test names and folders.

Logs: every process writes into target/test-runs/<session>/<test>/; a failing test's report shows
the folder and the tail of each log in it.
"""
import os
import re
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pytest  # noqa: E402

from harness import connect, kafka, plugin, process, seed, starrocks  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# -- folders and names ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def run_dir():
    d = Path(os.environ.get("TEST_RUN_DIR") or ROOT / "target" / "test-runs" / time.strftime("%Y%m%d-%H%M%S"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:80]


@pytest.fixture
def workdir(request, run_dir):
    d = run_dir / _slug(request.node.name)
    d.mkdir(parents=True, exist_ok=True)
    request.node._workdir = d
    return d


@pytest.fixture
def unique():
    """A short suffix that makes topic, connector and group names unique to the test."""
    return uuid.uuid4().hex[:8]


# -- Kafka ---------------------------------------------------------------------------------------
def _serve(server, describe):
    """Starts a session's shared server (stopped again if it cannot start), says when it is ready,
    yields it and stops it at the end: the body of the session-scoped server fixtures."""
    t0 = time.monotonic()
    try:
        server.start()
    except Exception:
        server.stop()
        raise
    sys.stderr.write("\n[harness] %s ready in %.1f s\n" % (describe(server), time.monotonic() - t0))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def kafka_broker(run_dir):
    """The one Kafka 4.4 KRaft broker all tests share."""
    yield from _serve(kafka.KafkaBroker(run_dir / "broker"),
                      lambda b: "Kafka %s broker on %s" % (kafka.version_of(b.line), b.bootstrap))


@pytest.fixture
def topic(kafka_broker, unique):
    """A fresh single-partition topic with a unique name."""
    return kafka_broker.create_topic("t_%s" % unique)


@pytest.fixture
def seed_topic(kafka_broker):
    """The docs' topic `test` with the docs' three records, from scratch: the docs' files name the
    topic and the connector (hence the consumer group), so those are reset instead of made unique."""
    kafka_broker.delete_group(seed.CONSUMER_GROUP)
    kafka_broker.delete_topic(seed.TOPIC)
    kafka_broker.create_topic(seed.TOPIC)
    kafka_broker.produce(seed.TOPIC, seed.RECORDS)
    return seed.TOPIC


# -- the connector ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def plugin_dir():
    """target/plugin/starrocks-kafka-connector-<version>/ (built with `make package` if missing)."""
    return plugin.plugin_dir()


@pytest.fixture(scope="module")
def module_worker(request, kafka_broker, plugin_dir, run_dir):
    """One standalone Kafka 4.4 worker with the packaged plugin, shared by a test module's tests
    (each test creates and deletes its own connectors)."""
    w = connect.ConnectWorker("standalone", kafka_broker.bootstrap,
                              run_dir / ("%s-worker" % Path(request.module.__file__).stem), plugin_dir)
    try:
        w.start()
        yield w
    finally:
        w.stop()


@pytest.fixture(scope="session")
def registry(run_dir):
    """The one Apicurio Registry of the session (harness/registry.py: built once into the test cache,
    on a loopback port), started when a suite first asks for it and stopped at the end."""
    from harness import registry as schema_registry

    yield from _serve(schema_registry.Registry(run_dir / "registry"),
                      lambda r: "Apicurio Registry %s on %s" % (schema_registry.REGISTRY_VERSION, r.url))


@pytest.fixture(scope="module")
def registry_worker(request, kafka_broker, plugin_dir, run_dir):
    """Like `module_worker`, with Apicurio's converters (harness/registry.py) on plugin.path too."""
    from harness import registry as schema_registry

    w = connect.ConnectWorker("standalone", kafka_broker.bootstrap,
                              run_dir / ("%s-worker" % Path(request.module.__file__).stem),
                              [plugin_dir, schema_registry.converter_plugins()])
    try:
        w.start()
        yield w
    finally:
        w.stop()


# -- StarRocks emulator --------------------------------------------------------------------------
@pytest.fixture
def emulator(workdir):
    emu = starrocks.start_emulator(workdir)
    yield emu
    emu.stop()


@pytest.fixture
def seed_db(emulator):
    """The emulator with the docs' example_db.test_tbl and user1/123456 (created through the real
    mysql client, as the docs do)."""
    seed.create_table_and_user(emulator.query_port)
    return emulator


# -- Connect workers -----------------------------------------------------------------------------
class Workers:
    """Starts Connect workers for one test (or module) and stops them all at teardown."""

    def __init__(self, bootstrap, workdir):
        self.bootstrap = bootstrap
        self.workdir = Path(workdir)
        self.started = []

    def start(self, mode, plugin_path, line=kafka.DEFAULT, worker_properties=None, connector_files=(),
              name=None, timeout=180, jmx=False, java=None, kafka_opts=None, sysprops=None):
        n = len(self.started)
        w = connect.ConnectWorker(mode, self.bootstrap, self.workdir / ("%s-%s-%d" % (mode, line, n)),
                                  plugin_path, line=line, worker_properties=worker_properties,
                                  connector_files=connector_files, name=name, jmx=jmx, java=java,
                                  kafka_opts=kafka_opts, sysprops=sysprops)
        self.started.append(w)
        t0 = time.monotonic()
        w.start(timeout=timeout)
        sys.stderr.write("[harness] %s worker (Kafka %s) ready in %.1f s: %s\n"
                         % (mode, kafka.version_of(line), time.monotonic() - t0, w.url))
        return w

    def stop_all(self):
        for w in reversed(self.started):
            w.stop()


@pytest.fixture
def workers(kafka_broker, workdir):
    ws = Workers(kafka_broker.bootstrap, workdir)
    yield ws
    ws.stop_all()


# -- failure reports -------------------------------------------------------------------------------
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test's report names its log folder and shows the tail of every log in it and of
    every harness process still running (module- or session-wide workers, the broker)."""
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    d = getattr(item, "_workdir", None)
    logs = []
    parts = []
    if d is not None and d.exists():
        parts.append("logs in %s" % d)
        logs = sorted(p for p in d.rglob("*.log") if p.is_file())
    for p in process.running():
        if p.log_path not in logs:
            logs.append(p.log_path)
    for p in logs:
        parts.append("--- %s (last 40 lines) ---\n%s" % (p, process.tail(p, 40)))
    if parts:
        rep.sections.append(("harness logs", "\n".join(parts)))
