"""The packaged connector: `make package` writes
`target/plugin/starrocks-kafka-connector-<version>/` (lib/<jar>, doc/) and a `.zip` of it.

`STARROCKS_PLUGIN_DIR=/path/to/starrocks-kafka-connector-<version>` makes `plugin_dir()` return that
packaged plugin directory instead (never building it), e.g. one built in another clone, for running the
end-to-end suites from a checkout that has not built the native library."""
import os
import re
import subprocess
import threading
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_ROOT = ROOT / "target" / "plugin"
CONNECTOR_CLASS = "com.starrocks.connector.kafka.StarRocksSinkConnector"
TRANSFORM_CLASS = "com.starrocks.connector.kafka.transforms.AddOpFieldForDebeziumRecord"

_lock = threading.Lock()
_built = False


def version() -> str:
    """The connector version: java-shim/pom.xml's project version."""
    pom = (ROOT / "java-shim" / "pom.xml").read_text()
    pom = re.sub(r"<parent>.*?</parent>", "", pom, flags=re.S)
    m = re.search(r"<artifactId>starrocks-kafka-connector</artifactId>\s*<version>([^<]+)</version>", pom)
    if not m:
        raise RuntimeError("no project version in java-shim/pom.xml")
    return m.group(1).strip()


def name() -> str:
    return "starrocks-kafka-connector-%s" % version()


def plugin_dir(build: bool = True) -> Path:
    """The packaged plugin directory. If it is missing and `build` is true, runs `make package`
    once (set STARROCKS_NO_BUILD=1 to forbid that)."""
    global _built
    forced = os.environ.get("STARROCKS_PLUGIN_DIR")
    if forced:
        if not jars(forced):
            raise RuntimeError("STARROCKS_PLUGIN_DIR=%s holds no lib/*.jar" % forced)
        return Path(forced)
    d = PLUGIN_ROOT / name()
    with _lock:
        if not jars(d) and build and not _built and not os.environ.get("STARROCKS_NO_BUILD"):
            _built = True
            res = subprocess.run(["make", "-C", str(ROOT), "package"], capture_output=True, text=True)
            if res.returncode != 0:
                raise RuntimeError("`make package` failed (%s):\n%s\n%s"
                                   % (res.returncode, res.stdout[-6000:], res.stderr[-6000:]))
    if not jars(d):
        raise RuntimeError("no packaged plugin at %s: run `make package`" % d)
    return d


def jars(d=None):
    d = Path(d) if d else PLUGIN_ROOT / name()
    return sorted((d / "lib").glob("*.jar")) if (d / "lib").is_dir() else []


def zip_path() -> Path:
    return PLUGIN_ROOT / (name() + ".zip")


def unzip_into(dest) -> Path:
    """Unzip the packaged zip into `dest` (as a user would into a plugin.path folder); returns the
    plugin directory inside it."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path()) as z:
        z.extractall(dest)
    return dest / name()


def native_library() -> Path:
    """The linux x86_64 library `make build` puts into the jar (built by cargo zigbuild against glibc 2.17)."""
    return ROOT / "target" / "x86_64-unknown-linux-gnu" / "release" / "libstarrocks_kafka_native.so"
