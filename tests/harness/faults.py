"""What the fault campaign (tests/integration/test_fault_campaign.py), the exactly-once campaign,
the distributed test and the soak (harness/soak.py) share: the emulator's fault kinds as the
at-least-once campaign arms them, the connector config and table they load into, JSON records with
unique ids, counting ids in StarRocks, waiting for offsets, a private copy of the plugin, and a
report line that shows whatever pytest's capture mode."""
import json
import shutil
import sys
import time

from .polling import poll_until

CONNECTOR_CLASS = "com.starrocks.connector.kafka.StarRocksSinkConnector"
DB = "d"

# Every fault kind of the emulator (docs/emulator.md, "Faults"), with how the campaign arms it.
FAULT_KINDS = [
    ("http_500", {"count": 2}),
    ("no_backend", {"count": 2}),
    ("reset_mid_body", {"count": 2}),
    ("hang", {"count": 1, "seconds": 6}),  # longer than the campaign's sink.timeoutms (3 s)
    ("publish_timeout", {"count": 2, "seconds": 3}),
    ("too_many_versions", {"count": 2}),
    ("mem_limit", {"count": 2}),
    ("commit_then_drop", {"count": 2}),
    ("running_txns_limit", {"count": 2}),
    # fires on the next begin of a label that is taken: the retries after commit_then_drop (armed
    # together with it, see below) and replays after a kill.
    ("label_exists_fail_variant", {"count": 1}),
]

# What the worker's log shows when a fault reached the connector (the failed attempt that begins an
# outage is logged as WARN with its cause, later ones in the outage's summary; publish_timeout counts
# as loaded and leaves no trace at INFO).
FAULT_TRACES = {
    "http_500": r"answered HTTP 500",
    "no_backend": r"No backend alive",
    "reset_mid_body": r"Connection reset by peer",
    "hang": r"operation timed out",
    "too_many_versions": r"too many versions",
    "mem_limit": r"Memory of process exceed limit",
    "commit_then_drop": r"was already in StarRocks",
    # A begin-time refusal is answered before the BE reads the body; the client does not wait for
    # `100 Continue`, so with a large body it sometimes sees its own write fail (EPIPE) instead of
    # the answer. Retried all the same; the cause shown is then the broken pipe.
    "running_txns_limit": r"current running txns on db|error writing a body to connection: Broken pipe",
}

def report(request, line):
    """A line the CI log shows whatever pytest's capture mode: written by the terminal reporter with
    capturing suspended (also printed, for the captured-stdout section and junit)."""
    print(line)
    tr = request.config.pluginmanager.get_plugin("terminalreporter")
    cm = request.config.pluginmanager.get_plugin("capturemanager")
    if tr is None:
        sys.__stderr__.write(line + "\n")
        return
    if cm is not None:
        with cm.global_and_fixture_disabled():
            tr.write_line("")
            tr.write_line(line)
    else:
        tr.write_line("")
        tr.write_line(line)


def create_table(emulator, table):
    emulator.sql("CREATE DATABASE IF NOT EXISTS %s" % DB)
    emulator.sql("CREATE TABLE %s.%s (id BIGINT NOT NULL, payload VARCHAR(128)) DUPLICATE KEY(id) "
                 "DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')" % (DB, table))


def connector_config(emulator, topic, table, **extra):
    cfg = {
        "connector.class": CONNECTOR_CLASS,
        "tasks.max": "1",
        "topics": topic,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "starrocks.http.url": "127.0.0.1:%d" % emulator.fe_http_port,
        "starrocks.database.name": DB,
        "starrocks.username": "root",
        "starrocks.password": "",
        "starrocks.topic2table.map": "%s:%s" % (topic, table),
        "sink.properties.strip_outer_array": "true",
        "bufferflush.intervalms": "1000",
    }
    cfg.update({k: str(v) for k, v in extra.items()})
    return cfg


def records(start, stop):
    """JSON values of ~100 bytes with ids start..stop-1, and their keys."""
    values = [json.dumps({"id": i, "payload": "p%010d-%s" % (i, "x" * 60)}) for i in range(start, stop)]
    return values, [str(i) for i in range(start, stop)]


def counts(emulator, table):
    """(rows, distinct ids, min id, max id)."""
    (row,) = emulator.sql("SELECT COUNT(*), COUNT(DISTINCT id), MIN(id), MAX(id) FROM %s.%s" % (DB, table))
    return tuple(int(v) if v is not None else None for v in row)


def wait_distinct(emulator, table, n, timeout, check=None, pause=1.0):
    """Polls `counts` until `table` holds at least `n` distinct ids; returns the counts (a busy
    emulator is asked again). `check()` as in `polling.poll_until`."""
    return poll_until(lambda: counts(emulator, table), lambda c: c[1] >= n, timeout,
                      lambda last: "%s.%s: wanted %d distinct ids after %.0f s; last (rows, distinct, min, max): %r"
                      % (DB, table, n, timeout, last),
                      check=check, pause=pause)


def wait_committed(kafka_broker, group, topic, partitions, total, timeout, check=None):
    deadline = time.monotonic() + timeout
    got = {}
    while sum(got.values()) < total:
        if check is not None:
            check()
        if time.monotonic() > deadline:
            raise TimeoutError("group %s committed %s (sum %d) on %s, wanted %d in total after %.0f s"
                               % (group, got, sum(got.values()), topic, total, timeout))
        time.sleep(1)
        try:
            got = kafka_broker.committed(group, topic, partitions)
        except Exception:
            pass
    return got


def private_plugin_copy(plugin_dir, workdir):
    """The plugin copied into the test's folder, so a `make package` running meanwhile cannot swap
    the jar under a worker that the test restarts minutes later."""
    dst = workdir / "plugin" / plugin_dir.name
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(plugin_dir, dst)
    return dst.parent


def fault_remaining(emulator, kind):
    return sum(f.get("remaining", 0) for f in emulator.list_faults() if f.get("kind") == kind)
