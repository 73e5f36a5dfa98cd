"""CDC from a real PostgreSQL, as in the best-practice section of StarRocks' Kafka connector docs
("Debezium フォーマットの CDC データのロード"): Debezium's PostgreSQL source connector (from Maven
Central) and our sink in ONE standalone Connect worker, started as the docs start it:

    connect-standalone worker.properties pg-source.properties sr-sink.properties

with the docs' two connector files (tests/integration/seed/pg-source.properties, sr-sink.properties;
JSON bodies, which ConnectStandalone reads since Kafka 3.5), the docs' PostgreSQL table and row,
and the docs' Primary Key `customers` table in the StarRocks emulator. Then the docs' INSERT,
UPDATE and DELETE steps, each checked against PostgreSQL and against the docs' printed result,
and a few thousand seeded random inserts, updates (key changes included) and deletes, compared
row by row at the end.

Two pipelines:
- Kafka 3.9 worker + Debezium 2.7: the docs' sr-sink config verbatim (`transforms.unwrap.drop.tombstones`,
  `transforms.unwrap.delete.handling.mode=rewrite`, which Debezium removed in 3.0).
- Kafka 4.4 worker + Debezium 3.7: the same with those two options replaced by their 3.x equivalent
  `transforms.unwrap.delete.tombstone.handling.mode=rewrite`.
Both with `value.converter.schemas.enable=true` in the worker file. The docs' worker file as written
(`false`) is run by `test_cdc_docs_worker_file_verbatim`: there ExtractNewRecordState passes the
schemaless envelope through unchanged and the sink unwraps it itself (native/core/src/rows/envelope.rs).

What is substituted is listed in tests/integration/seed/README.md.
"""
import json
import random
import time

import pytest

from harness import connect, debezium, mysql
from harness.emulator import Emulator
from harness.postgres import Postgres
from harness.seed import SEED_DIR

SOURCE_NAME = "inventory-connector"
SINK_NAME = "starrocks-kafka-connector"
SINK_GROUP = "connect-" + SINK_NAME
DOCS_TOPIC = "test.public.customers"
DOCS_SINK_URL = "172.26.195.69:28030"
SR_DATABASE = "test"
SR_ROOT_PASSWORD = "StarRocks@123"  # the docs' sink logs in as root with this password

SR_SELECT = "SELECT id, first_name, last_name, email FROM test.customers ORDER BY id"
PG_SELECT = "SELECT id, first_name, last_name, email FROM customers ORDER BY id"

# The docs' walkthrough: each step's statement and the table it prints afterwards (both sides).
DOCS_INITIAL = [(1, "a", "a", "a@a.com")]
DOCS_STEPS = [
    ("INSERT", "insert into customers values (2,'b','b','b@b.com');",
     [(1, "a", "a", "a@a.com"), (2, "b", "b", "b@b.com")]),
    ("UPDATE", "update customers set email='c@c.com';",
     [(1, "a", "a", "c@c.com"), (2, "b", "b", "c@c.com")]),
    ("DELETE", "delete from customers where id=1;",
     [(2, "b", "b", "c@c.com")]),
]

# The worker: the docs' connect-standalone.properties of this section, with addresses and paths
# substituted by the harness, except for the value converter's schemas (see seed/README.md).
WORKER_OVERRIDES = {"value.converter.schemas.enable": "true"}

RANDOM_SEED = 20261125
RANDOM_CHANGES = 3000
ID_SPACE = 800


# -- the docs' files, substituted -------------------------------------------------------------------
def _replace_once(text: str, old: str, new: str, what: str) -> str:
    assert text.count(old) == 1, "%s: expected exactly one %r in the docs' file" % (what, old)
    return text.replace(old, new)


def _assert_changed_only(original: str, substituted: str, keys: set):
    """The substituted JSON body differs from the docs' in exactly these config keys."""
    before, after = json.loads(original), json.loads(substituted)
    assert before["name"] == after["name"]
    b, a = before["config"], after["config"]
    changed = {k for k in set(b) | set(a) if b.get(k) != a.get(k)}
    assert changed == keys, "substituted %s, meant only %s" % (sorted(changed), sorted(keys))


def source_config_text(pg_port: int, prefix: str) -> str:
    """pg-source.properties as written, but database.hostname/port and topic.prefix."""
    text = (SEED_DIR / "pg-source.properties").read_text(encoding="utf-8")
    out = _replace_once(text, '"database.hostname": "localhost"', '"database.hostname": "127.0.0.1"', "pg-source")
    out = _replace_once(out, '"database.port": "5432"', '"database.port": "%d"' % pg_port, "pg-source")
    out = _replace_once(out, '"topic.prefix": "test"', '"topic.prefix": "%s"' % prefix, "pg-source")
    _assert_changed_only(text, out, {"database.hostname", "database.port", "topic.prefix"})
    return out


def sink_config_text(fe_http_port: int, prefix: str, debezium_major: int) -> str:
    """sr-sink.properties as written, but starrocks.http.url, the topic prefix (in `topics` and
    `starrocks.topic2table.map`) and, for Debezium 3.x, the unwrap options that 3.0 removed."""
    text = (SEED_DIR / "sr-sink.properties").read_text(encoding="utf-8")
    out = _replace_once(text, DOCS_SINK_URL, "127.0.0.1:%d" % fe_http_port, "sr-sink")
    assert out.count(DOCS_TOPIC) == 2, out
    out = out.replace(DOCS_TOPIC, "%s.public.customers" % prefix)
    if debezium_major >= 3:
        out = _replace_once(out, '"transforms.unwrap.drop.tombstones": "true",\n'
                                 '"transforms.unwrap.delete.handling.mode": "rewrite"',
                            '"transforms.unwrap.delete.tombstone.handling.mode": "rewrite"', "sr-sink")
    keys = {"starrocks.http.url", "topics", "starrocks.topic2table.map"}
    if debezium_major >= 3:
        keys |= {"transforms.unwrap.drop.tombstones", "transforms.unwrap.delete.handling.mode",
                 "transforms.unwrap.delete.tombstone.handling.mode"}
    _assert_changed_only(text, out, keys)
    return out


def worker_text() -> str:
    text = (SEED_DIR / "cdc-connect-standalone.properties").read_text(encoding="utf-8")
    return connect.substitute_properties(text, WORKER_OVERRIDES, append_missing=False)


def statements(sql: str):
    return [s.strip() for s in sql.split(";") if s.strip()]


# -- comparing both sides --------------------------------------------------------------------------
def pg_rows(pg):
    return [tuple(r) for r in pg.sql(PG_SELECT)]


def sr_rows(emu):
    return [tuple(r) for r in emu.sql(SR_SELECT)]


def describe_diff(expected, actual, limit=8) -> str:
    exp = {r[0]: r for r in expected}
    act = {r[0]: r for r in actual}
    missing = sorted(set(exp) - set(act))
    extra = sorted(set(act) - set(exp))
    differ = sorted(k for k in set(exp) & set(act) if exp[k] != act[k])
    lines = ["PostgreSQL has %d rows, StarRocks %d" % (len(expected), len(actual))]
    if missing:
        lines.append("missing in StarRocks (%d): %s" % (len(missing), [exp[k] for k in missing[:limit]]))
    if extra:
        lines.append("only in StarRocks (%d): %s" % (len(extra), [act[k] for k in extra[:limit]]))
    if differ:
        lines.append("different (%d): %s" % (len(differ), ["pg %r / sr %r" % (exp[k], act[k]) for k in differ[:limit]]))
    return "\n".join(lines)


def worker_log_tail(worker, lines: int = 40) -> str:
    """The worker log's last lines, without the REST access log lines of our own polling."""
    text = worker.process.log_text().splitlines()
    return "\n".join([l for l in text if "(RestServer)" not in l][-lines:])


def wait_same(pg, emu, worker, what: str, timeout: float = 60):
    """Poll until the emulator's customers table equals PostgreSQL's; fails at once if a
    connector or task FAILED, and with the difference on timeout. Returns the rows."""
    expected = pg_rows(pg)
    deadline = time.monotonic() + timeout
    actual = None
    while True:
        for name in (SOURCE_NAME, SINK_NAME):
            worker.rest.raise_if_failed(name)
        try:
            actual = sr_rows(emu)
        except Exception as e:  # the emulator busy: keep polling
            actual = e
        if actual == expected:
            return actual
        if time.monotonic() > deadline:
            detail = describe_diff(expected, actual) if isinstance(actual, list) else repr(actual)
            pytest.fail("%s: StarRocks does not match PostgreSQL after %.0f s\n%s\n--- worker log ---\n%s"
                        % (what, timeout, detail, worker_log_tail(worker)))
        if not worker.process.alive():
            worker.process.fail("worker exited during %s" % what)
        time.sleep(0.3)


# -- random changes -----------------------------------------------------------------------------
ALPHABET = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "
            "'\"\\,;|\t\n\r{}[]:%_-.@/") + "éüñßø日本語中文한국어😀🚀€"


def random_text(rng: random.Random):
    r = rng.random()
    if r < 0.08:
        return None
    if r < 0.12:
        return ""
    if r < 0.14:
        # long, but the row stays under PostgreSQL's TOAST threshold (about 2 kB): an UPDATE that
        # leaves a TOASTed column unchanged makes Debezium send `__debezium_unavailable_value` for it
        # (REPLICA IDENTITY DEFAULT), which any sink then writes (see docs/cdc.md)
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(100, 250)))
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 24)))


def apply_random_changes(pg, rng: random.Random, count: int) -> dict:
    """`count` random changes in transactions of 1-25 statements; returns counts per kind. The
    ids present are read from PostgreSQL, so every statement changes exactly one row."""
    conn = pg.connect()
    kinds = {"insert": 0, "update": 0, "delete": 0, "key change": 0, "delete+reinsert": 0}
    try:
        present = {r[0] for r in conn.run("SELECT id FROM customers")}
        done = 0
        while done < count:
            conn.run("BEGIN")
            for _ in range(min(rng.randint(1, 25), count - done)):
                absent_ok = len(present) < ID_SPACE
                r = rng.random()
                if not present or (r < 0.40 and absent_ok):
                    new_id = _random_absent(rng, present)
                    conn.run("INSERT INTO customers VALUES (:i, :f, :l, :e)", i=new_id,
                             f=random_text(rng), l=random_text(rng), e=random_text(rng))
                    present.add(new_id)
                    kinds["insert"] += 1
                elif r < 0.75:
                    row_id = rng.choice(sorted(present))
                    cols = rng.sample(["first_name", "last_name", "email"], rng.randint(1, 3))
                    params = {"c%d" % n: random_text(rng) for n in range(len(cols))}
                    sets = ", ".join("%s = :c%d" % (c, n) for n, c in enumerate(cols))
                    conn.run("UPDATE customers SET %s WHERE id = :i" % sets, i=row_id, **params)
                    kinds["update"] += 1
                elif r < 0.92:
                    row_id = rng.choice(sorted(present))
                    conn.run("DELETE FROM customers WHERE id = :i", i=row_id)
                    present.discard(row_id)
                    kinds["delete"] += 1
                elif r < 0.96 and absent_ok:
                    # a primary key change: Debezium emits a delete of the old key and a create
                    old_id = rng.choice(sorted(present))
                    new_id = _random_absent(rng, present)
                    conn.run("UPDATE customers SET id = :n, email = :e WHERE id = :o", n=new_id, o=old_id,
                             e=random_text(rng))
                    present.discard(old_id)
                    present.add(new_id)
                    kinds["key change"] += 1
                else:
                    # delete and insert the same key in one transaction
                    row_id = rng.choice(sorted(present))
                    conn.run("DELETE FROM customers WHERE id = :i", i=row_id)
                    conn.run("INSERT INTO customers VALUES (:i, :f, :l, :e)", i=row_id,
                             f=random_text(rng), l=random_text(rng), e=random_text(rng))
                    kinds["delete+reinsert"] += 1
                done += 1
            conn.run("COMMIT")
    finally:
        conn.close()
    return kinds


def _random_absent(rng, present):
    while True:
        i = rng.randint(1, ID_SPACE)
        if i not in present:
            return i


# -- fixtures ------------------------------------------------------------------------------------
@pytest.fixture
def postgres(workdir):
    """The docs' PostgreSQL side: a fresh server (wal_level=logical) with the docs' customers table
    and first row."""
    pg = Postgres(workdir / "postgres")
    try:
        pg.start()
        for stmt in statements((SEED_DIR / "cdc-postgres.sql").read_text(encoding="utf-8")):
            pg.sql(stmt)
        yield pg
    finally:
        pg.stop()


@pytest.fixture
def starrocks(workdir):
    """The emulator with the docs' root password, database `test` and Primary Key table `customers`."""
    emu = Emulator(workdir=workdir, root_password=SR_ROOT_PASSWORD)
    try:
        emu.sql("CREATE DATABASE %s" % SR_DATABASE)
        emu.sql((SEED_DIR / "cdc-create_table.sql").read_text(encoding="utf-8"), database=SR_DATABASE)
        yield emu
    finally:
        emu.stop()


# -- the tests -----------------------------------------------------------------------------------
def start_pipeline(line, worker_properties, kafka_broker, plugin_dir, workers, workdir, unique, postgres, starrocks):
    """Debezium's and our plugin on one standalone worker of that Kafka line, started with the
    docs' two connector files; returns (worker, change topic, Debezium version)."""
    dbz_version = debezium.version_for(line)
    dbz_plugins = debezium.plugins_dir(dbz_version)
    prefix = "cdc%s" % unique
    topic = "%s.public.customers" % prefix

    # The broker does not auto-create topics (as a production broker often does not), and the docs'
    # source config sets no topic.creation.* keys: create the change topic beforehand.
    kafka_broker.create_topic(topic)
    # The docs fix the sink's name, hence its consumer group on the shared broker: start it afresh.
    kafka_broker.delete_group(SINK_GROUP)

    source_file = workdir / "pg-source.properties"
    source_file.write_text(source_config_text(postgres.port, prefix), encoding="utf-8")
    sink_file = workdir / "sr-sink.properties"
    sink_file.write_text(sink_config_text(starrocks.fe_http_port, prefix, debezium.major(dbz_version)),
                         encoding="utf-8")

    worker = workers.start("standalone", [plugin_dir, dbz_plugins], line=line, worker_properties=worker_properties,
                           connector_files=[source_file, sink_file])
    assert worker.rest.json("GET", "/")["version"].startswith(line + ".")
    plugins = {p["class"]: p["version"] for p in worker.rest.plugins()}
    assert plugins.get(debezium.CONNECTOR_CLASS) == dbz_version, plugins
    worker.rest.wait_running(SOURCE_NAME, process=worker.process)
    worker.rest.wait_running(SINK_NAME, process=worker.process)
    return worker, topic, dbz_version


def run_docs_steps(postgres, starrocks, worker):
    """The docs' first row (Debezium's initial snapshot, op "r"), then its INSERT, UPDATE and
    DELETE, each compared with PostgreSQL and with the result the docs print."""
    assert pg_rows(postgres) == DOCS_INITIAL
    assert wait_same(postgres, starrocks, worker, "initial snapshot", timeout=90) == DOCS_INITIAL
    for step, sql, docs_result in DOCS_STEPS:
        postgres.sql(sql)
        assert pg_rows(postgres) == docs_result, step
        assert wait_same(postgres, starrocks, worker, "the docs' %s step" % step) == docs_result, step

    # ... and the docs' query through the mysql client, as the docs show it.
    out = mysql.cli(starrocks.query_port, "select * from customers;", password=SR_ROOT_PASSWORD,
                    database=SR_DATABASE)
    cells = [[c.strip() for c in l.strip("|").split("|")] for l in out.splitlines() if l.startswith("|")]
    assert cells == [["id", "first_name", "last_name", "email"], ["2", "b", "b", "c@c.com"]], out


@pytest.mark.parametrize("line", [
    pytest.param("3.9", id="kafka39-debezium27-docs-verbatim"),
    pytest.param("4.4", id="kafka44-debezium3"),
])
def test_cdc_postgres_to_primary_key_table(line, kafka_broker, plugin_dir, workdir, unique, postgres, starrocks,
                                           workers):
    # (fixtures in this order so that teardown stops the worker before PostgreSQL and the emulator)
    worker, topic, dbz_version = start_pipeline(line, worker_text(), kafka_broker, plugin_dir, workers, workdir,
                                                unique, postgres, starrocks)
    run_docs_steps(postgres, starrocks, worker)

    # Thousands of random changes with a fixed seed, then both tables row by row.
    t0 = time.monotonic()
    kinds = apply_random_changes(postgres, random.Random(RANDOM_SEED), RANDOM_CHANGES)
    assert all(kinds.values()), kinds
    expected = pg_rows(postgres)
    assert len(expected) > 100, "the random changes left too few rows to compare: %d" % len(expected)
    actual = wait_same(postgres, starrocks, worker, "%d random changes %s" % (RANDOM_CHANGES, kinds), timeout=90)
    assert actual == expected
    took = time.monotonic() - t0

    # Every change event the sink consumed (delete tombstones included, which the unwrap transform
    # drops) has its offset committed (the docs' worker commits every 10 s), and nothing failed.
    end = _end_offset(kafka_broker, topic)
    assert end > RANDOM_CHANGES, "only %d change events in %s" % (end, topic)
    deadline = time.monotonic() + 40
    committed = {}
    while committed.get(0) != end:
        assert time.monotonic() < deadline, \
            "the sink committed %s of %s (end offset %d)\n%s" % (committed, topic, end, worker_log_tail(worker))
        worker.rest.raise_if_failed(SINK_NAME)
        time.sleep(1)
        committed = kafka_broker.committed(SINK_GROUP, topic)
    for name in (SOURCE_NAME, SINK_NAME):
        status = worker.rest.raise_if_failed(name)
        assert status["connector"]["state"] == "RUNNING" and status["tasks"][0]["state"] == "RUNNING", status
    assert sr_rows(starrocks) == expected
    print("Kafka %s + Debezium %s: %s, %d rows at the end, caught up in %.1f s, %d change events"
          % (line, dbz_version, kinds, len(expected), took, end))


def test_cdc_docs_worker_file_verbatim(kafka_broker, plugin_dir, workdir, unique, postgres, starrocks, workers):
    """Everything as the docs write it, the worker file included (Kafka 3.9 + Debezium 2.7)."""
    text = (SEED_DIR / "cdc-connect-standalone.properties").read_text(encoding="utf-8")
    worker, _, _ = start_pipeline("3.9", text, kafka_broker, plugin_dir, workers, workdir, unique, postgres,
                                  starrocks)
    # the first row lands in one load: compare as soon as it is there rather than waiting for a match
    rows = mysql.wait_for_rows(starrocks.query_port, SR_SELECT, 1, timeout=90, password=SR_ROOT_PASSWORD,
                               check=lambda: worker.rest.raise_if_failed(SINK_NAME))
    assert [tuple(r) for r in rows] == DOCS_INITIAL, describe_diff(DOCS_INITIAL, [tuple(r) for r in rows])
    run_docs_steps(postgres, starrocks, worker)


def _end_offset(kafka_broker, topic: str) -> int:
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": kafka_broker.bootstrap, "group.id": "harness-unused", "log_level": 3})
    try:
        return c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
    finally:
        c.close()
