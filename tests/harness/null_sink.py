"""The benchmark's do-nothing sink (tests/plugins/null-sink): compiled with the JDK's javac against
the harness' Kafka jars into a plugin folder of its own, on first use."""
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import kafka, process

SOURCE = Path(__file__).resolve().parents[1] / "plugins" / "null-sink" / "src"
CONNECTOR_CLASS = "bench.NullSinkConnector"


def plugin_path(line: str = kafka.DEFAULT) -> Path:
    """A plugin.path entry holding only the null sink (rebuilt when a source is newer)."""
    root = kafka.CACHE / "null-sink" / kafka.version_of(line)
    jar = root / "null-sink" / "null-sink.jar"
    sources = sorted(SOURCE.rglob("*.java"))
    newest = max(p.stat().st_mtime for p in SOURCE.rglob("*") if p.is_file())
    if jar.exists() and jar.stat().st_mtime >= newest:
        return root
    jar.parent.mkdir(parents=True, exist_ok=True)
    jdk = Path(process.java_bin()).resolve().parent
    javac, jar_tool = (str(jdk / t) if (jdk / t).exists() else t for t in ("javac", "jar"))
    with tempfile.TemporaryDirectory() as tmp:
        classes = Path(tmp) / "classes"
        subprocess.run([javac, "-nowarn", "--release", "8", "-d", str(classes), "-cp", kafka.classpath(line)]
                       + [str(s) for s in sources], check=True, capture_output=True, text=True)
        shutil.copytree(SOURCE / "META-INF", classes / "META-INF")
        subprocess.run([jar_tool, "cf", str(jar), "-C", str(classes), "."], check=True)
    return root
