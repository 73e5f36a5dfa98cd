"""Real Kafka Connect workers (standalone and distributed) started from the Maven jars, and a
small client for their REST API."""
import os
import re
import signal
import time
import uuid
from pathlib import Path

import requests

from . import jmx, kafka, ports
from .process import ProcessError

STANDALONE = "org.apache.kafka.connect.cli.ConnectStandalone"
DISTRIBUTED = "org.apache.kafka.connect.cli.ConnectDistributed"


# -- .properties text helpers ------------------------------------------------------------------
_PROP_LINE = re.compile(r"^(\s*)([^#!\s=:][^=:\s]*)(\s*[=:]\s*|\s+)(.*)$")


def parse_properties(text: str) -> dict:
    """Simple .properties parsing (no line continuations), enough for connector/worker files."""
    out = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "!")):
            continue
        m = _PROP_LINE.match(line)
        if m:
            out[m.group(2)] = m.group(4).rstrip()
    return out


def substitute_properties(text: str, values: dict, append_missing: bool = True) -> str:
    """Replace the values of the given keys where they appear in `text`, keeping everything else
    (comments, order, spacing) as written; keys that do not appear are appended at the end."""
    seen = set()
    lines = []
    for line in text.splitlines():
        m = _PROP_LINE.match(line)
        if m and not line.lstrip().startswith(("#", "!")) and m.group(2) in values:
            key = m.group(2)
            seen.add(key)
            line = "%s%s%s%s" % (m.group(1), key, m.group(3), values[key])
        lines.append(line)
    missing = [k for k in values if k not in seen]
    if missing and append_missing:
        lines.append("# added by the test harness")
        lines.extend("%s=%s" % (k, values[k]) for k in missing)
    return "\n".join(lines) + "\n"


# Keys of the StarRocks docs' distributed worker file that only a standalone worker understands.
STANDALONE_ONLY = ("offset.storage.file.filename",)


def comment_out(text: str, keys, why: str) -> str:
    """Turn `key=value` lines of the given keys into comments that say why."""
    lines = []
    for line in text.splitlines():
        m = _PROP_LINE.match(line)
        if m and not line.lstrip().startswith(("#", "!")) and m.group(2) in keys:
            line = "# %s  (commented out by the test harness: %s)" % (line, why)
        lines.append(line)
    return "\n".join(lines) + "\n"


# -- REST client --------------------------------------------------------------------------------
class ConnectError(RuntimeError):
    def __init__(self, response):
        self.status_code = response.status_code
        try:
            self.body = response.json()
        except ValueError:
            self.body = response.text
        super().__init__("%s %s -> %s: %s" % (response.request.method, response.request.url,
                                               response.status_code, self.body))


class ConnectRest:
    def __init__(self, url: str, timeout: float = 60):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def request(self, method, path, ok=(200, 201, 202, 204), **kw):
        kw.setdefault("timeout", self.timeout)
        r = self.session.request(method, self.url + path, **kw)
        if ok and r.status_code not in ok:
            raise ConnectError(r)
        return r

    def json(self, method, path, **kw):
        r = self.request(method, path, **kw)
        return r.json() if r.content else None

    # plugins and connectors
    def health(self):
        return self.json("GET", "/health")

    def plugins(self, connectors_only: bool = False):
        path = "/connector-plugins" + ("" if connectors_only else "?connectorsOnly=false")
        return self.json("GET", path)

    def plugin_classes(self, connectors_only: bool = False) -> set:
        return {p["class"] for p in self.plugins(connectors_only)}

    def connectors(self):
        return self.json("GET", "/connectors")

    def create(self, name: str, config: dict):
        return self.json("POST", "/connectors", json={"name": name, "config": config})

    def post_connectors_raw(self, body: str):
        """POST /connectors with a JSON body exactly as given (e.g. the docs' curl payload)."""
        return self.json("POST", "/connectors", data=body.encode("utf-8"),
                         headers={"Content-Type": "application/json"})

    def put_config(self, name: str, config: dict):
        return self.json("PUT", "/connectors/%s/config" % name, json=config)

    def config(self, name: str):
        return self.json("GET", "/connectors/%s/config" % name)

    def delete(self, name: str):
        self.request("DELETE", "/connectors/%s" % name, ok=(200, 204, 404))

    def pause(self, name):
        self.request("PUT", "/connectors/%s/pause" % name)

    def resume(self, name):
        self.request("PUT", "/connectors/%s/resume" % name)

    def stop_connector(self, name):
        self.request("PUT", "/connectors/%s/stop" % name)

    def restart(self, name, include_tasks=True, only_failed=False):
        self.request("POST", "/connectors/%s/restart?includeTasks=%s&onlyFailed=%s"
                     % (name, str(include_tasks).lower(), str(only_failed).lower()))

    def status(self, name: str):
        """The connector's status, or None while the worker does not know it (404)."""
        r = self.request("GET", "/connectors/%s/status" % name, ok=None)
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise ConnectError(r)
        return r.json()

    def validate(self, connector_class: str, config: dict) -> dict:
        """PUT /connector-plugins/{class}/config/validate; the body gets connector.class."""
        body = dict(config)
        body.setdefault("connector.class", connector_class)
        return self.json("PUT", "/connector-plugins/%s/config/validate" % connector_class, json=body)

    # waiting
    def wait_for(self, name, predicate, timeout, what, process=None):
        deadline = time.monotonic() + timeout
        last = None
        while True:
            if process is not None and not process.alive():
                process.fail("exited while waiting for connector %s to be %s (last status: %s)"
                             % (name, what, last))
            try:
                last = self.status(name)
            except (requests.RequestException, ConnectError) as e:
                last = repr(e)
            if isinstance(last, dict) and predicate(last):  # may raise ConnectorFailed
                return last
            if time.monotonic() > deadline:
                msg = "connector %s not %s after %.0f s; last status: %s" % (name, what, timeout, last)
                if process is not None:
                    process.fail(msg)
                raise TimeoutError(msg)
            time.sleep(0.5)

    def wait_running(self, name, tasks: int = 1, timeout: float = 120, process=None):
        """Wait until the connector and `tasks` tasks are RUNNING; fails at once if the connector
        or a task is FAILED (with its trace)."""
        def ok(st):
            failed(st)
            ts = st.get("tasks", [])
            return (st["connector"]["state"] == "RUNNING" and len(ts) >= tasks
                    and all(t["state"] == "RUNNING" for t in ts))
        return self.wait_for(name, ok, timeout, "RUNNING with %d task(s)" % tasks, process)

    def raise_if_failed(self, name):
        """Raise ConnectorFailed if the connector or one of its tasks is FAILED."""
        st = self.status(name)
        if st:
            failed(st)
        return st

    def wait_task_state(self, name, state: str, task: int = 0, timeout: float = 120, process=None):
        def ok(st):
            return any(t["id"] == task and t["state"] == state for t in st.get("tasks", []))
        return self.wait_for(name, ok, timeout, "task %d %s" % (task, state), process)

    def wait_connector_state(self, name, state: str, timeout: float = 120, process=None):
        return self.wait_for(name, lambda st: st["connector"]["state"] == state, timeout, state, process)


class ConnectorFailed(AssertionError):
    pass


def failed(status: dict):
    """Raise ConnectorFailed (with the trace) if a connector status shows a FAILED part."""
    parts = [("connector", status.get("connector", {}))] + [
        ("task %s" % t.get("id"), t) for t in status.get("tasks", [])]
    for what, st in parts:
        if st.get("state") == "FAILED":
            raise ConnectorFailed("%s of %s FAILED:\n%s" % (what, status.get("name"), st.get("trace", "")))


def validation_errors(result: dict) -> dict:
    """{key: [messages]} for every config value with errors in a validate answer."""
    out = {}
    for c in result.get("configs", []):
        v = c.get("value", {})
        if v.get("errors"):
            out[v["name"]] = list(v["errors"])
    return out


# -- workers ------------------------------------------------------------------------------------
def distributed_settings(suffix: str = None) -> dict:
    """What makes distributed workers one cluster: the group id and the internal topics (named
    with `suffix`, random by default). A worker started alone gets its own; pass the same dict (in
    `worker_properties`) to several workers to make them join one cluster."""
    suffix = suffix or uuid.uuid4().hex[:8]
    return {
        "group.id": "it-connect-%s" % suffix,
        "config.storage.topic": "_connect_configs_%s" % suffix,
        "config.storage.replication.factor": "1",
        "offset.storage.topic": "_connect_offsets_%s" % suffix,
        "offset.storage.replication.factor": "1",
        "offset.storage.partitions": "1",
        "status.storage.topic": "_connect_status_%s" % suffix,
        "status.storage.replication.factor": "1",
        "status.storage.partitions": "1",
        "scheduled.rebalance.max.delay.ms": "10000",
    }


def failover_settings(suffix: str = None) -> dict:
    """`distributed_settings` for campaigns that kill workers: tasks move within seconds, and
    offsets are committed every 2 s."""
    settings = distributed_settings(suffix)
    settings.update({
        "offset.flush.interval.ms": "2000",
        "plugin.discovery": "service_load",
        # a killed worker leaves the Connect group, and its tasks' consumers their groups, after
        # 6 s (the broker's minimum); its tasks are started elsewhere 4 s later at the latest
        "session.timeout.ms": "6000",
        "heartbeat.interval.ms": "1000",
        "scheduled.rebalance.max.delay.ms": "4000",
        "consumer.session.timeout.ms": "6000",
        "consumer.heartbeat.interval.ms": "1000",
        "consumer.max.poll.records": "2000",
    })
    return settings


def has_health_endpoint(line: str) -> bool:
    """GET /health exists since Kafka 3.9 (KIP-1017); a 3.4 worker answers it with 404."""
    major, minor = (int(x) for x in kafka.version_of(line).split(".")[:2])
    return (major, minor) >= (3, 9)


class ConnectWorker:
    """One Connect worker JVM.

    `worker_properties` is either a dict (the harness' defaults are filled in) or the text of a
    worker file as a user would write it: then only the addresses and paths are substituted
    (`bootstrap.servers`, `plugin.path`, `offset.storage.file.filename`) and the REST listener
    (loopback, free port) is added; in distributed mode the keys it requires (group id, internal
    topics) are added when missing.

    `sysprops`: more JVM system properties (e.g. `log4j2.configurationFile`, which replaces the
    harness' logging config).

    `jmx=True` opens JMX on a free loopback port (`jmx_port`, no auth, no TLS) for tests/harness/jmx.py.

    `java` runs that java binary; `kafka_opts` (a str) starts the worker as a user does with
    `KAFKA_OPTS=... bin/connect-standalone.sh ...`: no `--enable-native-access` from the harness,
    the words of `kafka_opts` where kafka-run-class.sh puts them (see `kafka.kafka_java`).
    """

    def __init__(self, mode, bootstrap, workdir, plugin_path, line=kafka.DEFAULT,
                 worker_properties=None, connector_files=(), heap="768m", name=None,
                 extra_classpath=(), jmx=False, java=None, kafka_opts=None, sysprops=None):
        assert mode in ("standalone", "distributed")
        self.mode = mode
        self.bootstrap = bootstrap
        self.workdir = Path(workdir)
        self.plugin_path = plugin_path
        self.line = line
        self.worker_properties = worker_properties
        self.connector_files = [str(f) for f in connector_files]
        self.heap = heap
        self.name = name or "connect-%s-%s" % (mode, kafka.version_of(line))
        self.extra_classpath = extra_classpath
        self.jmx_port = ports.free_port() if jmx else None
        self.java = java
        self.kafka_opts = kafka_opts
        self.sysprops = dict(sysprops or {})
        self.port = None
        self.process = None
        self.rest = None
        self.properties_file = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def _properties_text(self) -> str:
        self.port = ports.free_port()
        suffix = uuid.uuid4().hex[:8]
        plugin_path = self.plugin_path if isinstance(self.plugin_path, str) else ",".join(
            str(p) for p in ([self.plugin_path] if isinstance(self.plugin_path, Path) else self.plugin_path))
        fixed = {
            "bootstrap.servers": self.bootstrap,
            "plugin.path": plugin_path,
            "listeners": "http://127.0.0.1:%d" % self.port,
            "rest.advertised.host.name": "127.0.0.1",
            "rest.advertised.port": str(self.port),
        }
        if self.mode == "standalone":
            fixed["offset.storage.file.filename"] = str(self.workdir / "connect.offsets")
        defaults = {
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
            "offset.flush.interval.ms": "1000",
            # the plugins here all carry ServiceLoader manifests: a worker starts in seconds
            # instead of scanning every class of plugin.path
            "plugin.discovery": "service_load",
        }
        distributed = distributed_settings(suffix)
        if isinstance(self.worker_properties, str):
            text = self.worker_properties
            present = parse_properties(text)
            values = dict(fixed)
            if self.mode == "distributed":
                values.update({k: v for k, v in distributed.items() if k not in present})
                text = comment_out(text, STANDALONE_ONLY,
                                   "standalone-only key; distributed workers pass offset.storage.* to the "
                                   "offsets topic as topic configs, which Kafka 4 brokers reject")
            return substitute_properties(text, values)
        props = dict(defaults)
        if self.mode == "distributed":
            props.update(distributed)
        props.update(self.worker_properties or {})
        props.update(fixed)
        return "".join("%s=%s\n" % kv for kv in props.items())

    def start(self, timeout: float = 180):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.properties_file = kafka.write_properties(self.workdir / "worker.properties", self._properties_text())
        main = STANDALONE if self.mode == "standalone" else DISTRIBUTED
        sysprops = dict(self.sysprops)
        if self.jmx_port:
            sysprops.update(jmx.sysprops(self.jmx_port))
        self.process = kafka.kafka_java(main, [self.properties_file] + self.connector_files,
                                        self.workdir / "worker.log", self.name, self.line,
                                        heap=self.heap, sysprops=sysprops,
                                        extra_classpath=self.extra_classpath, java=self.java,
                                        kafka_opts=self.kafka_opts).start()
        self.rest = ConnectRest(self.url)
        if has_health_endpoint(self.line):
            self.process.wait_for(lambda: self.rest.request("GET", "/health", timeout=5).status_code == 200,
                                  timeout, "healthy (GET /health)")
        else:  # before 3.9 the REST resources (all of them) appear once the herder has started
            self.process.wait_for(lambda: self.rest.request("GET", "/connectors", timeout=5).status_code == 200,
                                  timeout, "answering GET /connectors (Kafka %s has no GET /health)"
                                  % kafka.version_of(self.line))
        self.process.wait_for(lambda: self.rest.connectors() is not None, 60, "answering GET /connectors")
        return self

    def stop(self):
        if self.process:
            self.process.stop(timeout=30)

    def log_text(self):
        return self.process.log_text() if self.process else ""


class WorkerGroup:
    """Distributed workers sharing one group id and internal topics, some killed on purpose. REST
    calls go to any live, started worker and are retried while the group rebalances (409), a
    forwarded request fails (500, 503) or the connector is not known there yet (404)."""

    def __init__(self):
        self.members = []
        self.kills = 0

    def alive(self):
        return [w for w in self.members if w.rest is not None and w.process is not None and w.process.alive()]

    def by_id(self):
        """Live workers by the id Connect's status API gives them (`host:port`)."""
        return {"127.0.0.1:%d" % w.port: w for w in self.alive()}

    def call(self, fn, what, timeout=90):
        deadline = time.monotonic() + timeout
        last = None
        while True:
            for w in self.alive():
                try:
                    return fn(w.rest)
                except ConnectError as e:
                    if e.status_code not in (404, 409, 500, 503):
                        raise
                    last = e
                except requests.RequestException as e:
                    last = e
            if time.monotonic() > deadline:
                raise TimeoutError("%s: no worker answered in %.0f s (last: %s)" % (what, timeout, last))
            time.sleep(0.5)

    def kill(self, w):
        os.kill(w.process.pid, signal.SIGKILL)
        w.process.proc.wait(timeout=30)
        w.stop()  # closes the log, forgets the process
        self.kills += 1
