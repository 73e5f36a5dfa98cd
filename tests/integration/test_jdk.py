"""The docs' quick start on the newest JDK of the machine (Java 24+), started as the README tells
users to: `KAFKA_OPTS=--enable-native-access=ALL-UNNAMED bin/connect-standalone.sh ...`.

From Java 24 on, the first JNI `System.load` of a class-path (unnamed-module) caller prints
"WARNING: A restricted method in java.lang.System has been called ..." unless native access is
enabled for it. The harness normally passes that flag itself (process.java_command); here it does
not (`kafka_opts=`): the worker gets only the words of KAFKA_OPTS, where bin/kafka-run-class.sh puts
them (after `-cp "$CLASSPATH"`, before the main class), so the test sees what a user sees.

The JDK: $NEWEST_JAVA_HOME (a JDK home or a java binary) if set, else the newest under /usr/lib/jvm.
Without a Java 24+ these tests FAIL (they do not skip): the README promises that this is tested.
"""
import re

from harness import process, seed
from test_seed import _assert_rows_and_offsets, start_seed_standalone

FLAG = "--enable-native-access=ALL-UNNAMED"
KAFKA_OPTS = FLAG  # exactly what the README puts in KAFKA_OPTS
LINE = "4.4"  # the Kafka line that runs on the newest JDK (3.x supports up to Java 23)
WARNING = re.compile(r"WARNING: A restricted method in java\.lang\.System has been called")
CALLER = re.compile(r"WARNING: java\.lang\.System::load has been called by "
                    r"com\.starrocks\.connector\.kafka\.bridge\.NativeLoader")
LOADED = "Loaded the StarRocks connector's native library from"


def newest_jdk():
    """The newest JDK's java, asserting it is Java 24 or later."""
    try:
        java = process.newest_java()
    except RuntimeError as e:
        raise AssertionError("no JDK found for the Java 24+ native-access test: %s" % e)
    major = process.java_major(java)
    assert major >= 24, (
        "the newest JDK found is Java %d (%s); the README's KAFKA_OPTS=%s advice is tested on Java 24+: "
        "install one under %s or point %s at its home" % (major, java, FLAG, process.JVM_ROOT,
                                                           process.NEWEST_JAVA_ENV))
    return java, major


def _start(workers, workdir, plugin_dir, seed_db, java, kafka_opts):
    w = start_seed_standalone(workers, workdir, plugin_dir, seed_db, line=LINE, java=java, kafka_opts=kafka_opts)
    assert w.process.argv[0] == java
    return w


def _jvm_major_logged(w):
    """The Java major the worker reports at startup (Connect's WorkerInfo `jvm.spec = vendor, vm, version`)."""
    m = re.search(r"jvm\.spec = [^,\n]*, [^,\n]*, (\d+)", w.log_text())
    return int(m.group(1)) if m else None


def test_seed_newest_jdk_with_kafka_opts(kafka_broker, seed_topic, seed_db, plugin_dir, workers, workdir):
    """(a) the docs' standalone files on the newest JDK with KAFKA_OPTS as the README writes it: the
    rows land and offsets are committed, the library was loaded, and no restricted-method warning."""
    java, major = newest_jdk()
    w = _start(workers, workdir, plugin_dir, seed_db, java, KAFKA_OPTS)
    # the flag is there once, where kafka-run-class.sh puts $KAFKA_OPTS: right after the classpath
    argv = w.process.argv
    assert argv.count(FLAG) == 1, argv
    assert argv[argv.index("-cp") + 2] == FLAG, argv
    w.rest.wait_running(seed.CONNECTOR_NAME, process=w.process)
    _assert_rows_and_offsets(kafka_broker, w, seed_db.query_port)
    log = w.log_text()
    assert LOADED in log
    assert _jvm_major_logged(w) == major
    assert "restricted method" not in log.lower(), "\n".join(
        l for l in log.splitlines() if l.startswith("WARNING"))


def test_newest_jdk_without_flag_warns(kafka_broker, seed_topic, seed_db, plugin_dir, workers, workdir):
    """(b) the check of (a) can fail: the same worker without KAFKA_OPTS logs the JDK's warning,
    naming the shim's NativeLoader as the caller."""
    java, major = newest_jdk()
    w = _start(workers, workdir, plugin_dir, seed_db, java, "")
    assert not any("native-access" in a for a in w.process.argv), w.process.argv
    w.rest.wait_running(seed.CONNECTOR_NAME, process=w.process)
    w.process.wait_for_log(re.escape(LOADED), 60, "loading the native library")
    log = w.log_text()
    assert _jvm_major_logged(w) == major
    assert WARNING.search(log), "no restricted-method warning on Java %d without %s" % (major, FLAG)
    assert CALLER.search(log), "\n".join(l for l in log.splitlines() if l.startswith("WARNING"))
