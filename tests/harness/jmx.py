"""Reading a worker's MBeans over JMX from the tests: `JmxDump.java` (next to this file) runs as a
single-file Java program (Java 11+ source launch, nothing to build) and prints the attributes of
the MBeans matching a pattern as JSON.

Workers started with `jmx_port=` (tests/harness/connect.py) listen for JMX on 127.0.0.1 only,
without authentication or TLS: test use only."""
import json
import subprocess
import threading
import time
from pathlib import Path

from .process import java_bin

DUMP = Path(__file__).resolve().parent / "JmxDump.java"
SINK_TASK_PATTERN = "starrocks.connector.kafka:type=sink-task-metrics,*"


def sysprops(port: int) -> dict:
    """JVM system properties that open an unauthenticated JMX/RMI endpoint on 127.0.0.1:`port`."""
    return {
        "com.sun.management.jmxremote.port": str(port),
        "com.sun.management.jmxremote.rmi.port": str(port),
        "com.sun.management.jmxremote.authenticate": "false",
        "com.sun.management.jmxremote.ssl": "false",
        "com.sun.management.jmxremote.local.only": "false",
        "com.sun.management.jmxremote.host": "127.0.0.1",
        "java.rmi.server.hostname": "127.0.0.1",
    }


def dump(port: int, pattern: str = SINK_TASK_PATTERN, host: str = "127.0.0.1", timeout: float = 60) -> dict:
    """{object name: {attribute: value}} of the MBeans matching `pattern` (empty when none)."""
    res = subprocess.run([java_bin(), str(DUMP), "%s:%d" % (host, port), pattern],
                         capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError("JmxDump failed (%s): %s" % (res.returncode, res.stderr.strip()[-2000:]))
    return json.loads(res.stdout)


def sink_task(port: int, connector: str, task: int = 0, **kw) -> dict:
    """The attributes of one sink task's MBean, or None while it is not registered."""
    beans = dump(port, "starrocks.connector.kafka:type=sink-task-metrics,connector=%s,task=%d" % (connector, task),
                 **kw)
    return next(iter(beans.values()), None)


class Sampler:
    """Samples the MBeans matching `pattern` every `interval_ms` in one background JmxDump process
    (one JVM for the whole run instead of one per sample). `samples` holds (monotonic time, dict)
    pairs; use as a context manager or call `stop()`."""

    def __init__(self, port: int, pattern: str = SINK_TASK_PATTERN, interval_ms: int = 250, host: str = "127.0.0.1"):
        self.samples = []
        self.errors = []
        self._proc = subprocess.Popen([java_bin(), str(DUMP), "%s:%d" % (host, port), pattern, str(interval_ms)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self._proc.stdout:
            line = line.strip()
            if line:
                try:
                    self.samples.append((time.monotonic(), json.loads(line)))
                except ValueError as e:
                    self.errors.append("%s: %r" % (e, line[:200]))

    def stop(self):
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._reader.join(timeout=10)
        if not self.samples:
            self.errors.append(self._proc.stderr.read()[-2000:])

    def values(self, attribute: str) -> list:
        """Every sampled value of `attribute` (over all matching MBeans)."""
        return [attrs[attribute] for _, beans in self.samples for attrs in beans.values() if attribute in attrs]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
