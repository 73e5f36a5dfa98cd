"""Debezium's PostgreSQL source connector from Maven Central, as a Connect plugin folder.

`tests/kafka/debezium/pom.xml` unpacks `io.debezium:debezium-connector-postgres:<v>:tar.gz:plugin`
into `tests/.cache/debezium-postgres-<v>/plugins/debezium-connector-postgres/`, once per version
(like the Kafka jars in harness/kafka.py). The `plugins` folder goes on a worker's `plugin.path`.

Two lines, one per Connect worker line:
- Debezium 2.7 for Kafka 3.9: the last line that still has the seed's ExtractNewRecordState options
  `drop.tombstones` and `delete.handling.mode` (deprecated since 2.5, removed in 3.0).
- Debezium 3.7 for Kafka 4.4 (3.3+ are built for Kafka 4; 3.7+ run on 4.4, see VERSIONS):
  `delete.tombstone.handling.mode`.
"""
import fcntl
import subprocess
import time
from pathlib import Path

from .kafka import CACHE, KAFKA_DIR, line_of

POM = KAFKA_DIR / "debezium" / "pom.xml"

# Kafka worker line -> the Debezium version run on it.
# Kafka 4.4 moved org.apache.kafka.common.utils.Sanitizer to ...utils.internals; Debezium up to 3.6
# calls the old class from its metrics (the source task dies with NoClassDefFoundError on a 4.4
# worker), 3.7 no longer does. 3.7.1's parent POM (debezium-build-parent) is missing on Maven Central,
# so its archive does not resolve: 3.7.0.
VERSIONS = {"3.9": "2.7.4.Final", "4.4": "3.7.0.Final"}

CONNECTOR_CLASS = "io.debezium.connector.postgresql.PostgresConnector"
UNWRAP_CLASS = "io.debezium.transforms.ExtractNewRecordState"


def version_for(line: str) -> str:
    return VERSIONS[line_of(line)]


def major(version: str) -> int:
    return int(version.split(".")[0])


def plugins_dir(version: str) -> Path:
    """The plugin.path folder holding `debezium-connector-postgres/` of that version; resolved and
    unpacked with Maven on first use."""
    root = CACHE / ("debezium-postgres-%s" % version)
    plugins = root / "plugins"
    marker = root / ".complete"
    if marker.exists():
        return plugins
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            t0 = time.monotonic()
            cmd = ["mvn", "-B", "-q", "-Dstyle.color=never", "-f", str(POM), "dependency:unpack",
                   "-Ddebezium.version=%s" % version, "-Dcache.dir=%s" % plugins]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                raise RuntimeError("resolving Debezium %s failed:\n$ %s\n%s%s"
                                   % (version, " ".join(cmd), res.stdout[-4000:], res.stderr[-4000:]))
            jar = plugins / "debezium-connector-postgres" / ("debezium-connector-postgres-%s.jar" % version)
            if not jar.exists():
                raise RuntimeError("unpacking Debezium %s left no %s" % (version, jar))
            marker.write_text("unpacked in %.1f s\n" % (time.monotonic() - t0))
    return plugins
