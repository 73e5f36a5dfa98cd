"""Tables that create themselves and follow their source, end to end with the seed's CDC pipeline
(real PostgreSQL, real Debezium, our sink on one standalone worker; tests/integration/test_cdc.py
runs the pipeline itself): the seed's two connector files, plus `auto.create` and `auto.evolve` on
the sink. StarRocks starts with the database only:

1. the first change event (Debezium's snapshot of the seed's row) creates `customers`, a Primary
   Key table on the Debezium key, with no manual step;
2. `ALTER TABLE customers ADD COLUMN phone` in PostgreSQL mid-stream, then inserts and updates that
   set it: StarRocks gets the column and the values;
3. both tables match row by row.

Run with schemas on in two ways: JsonConverter with schemas (the seed's worker file with
`value.converter.schemas.enable=true`, as test_cdc.py does) and Avro through the schema registry
(Apicurio's AvroConverter on both connectors). docs/schemas.md describes what the sink does.
"""
import json
import time

import pytest

from harness import debezium, mysql, registry as schema_registry
from harness.emulator import Emulator
from test_cdc import (SINK_GROUP, SINK_NAME, SOURCE_NAME, SR_DATABASE, SR_ROOT_PASSWORD, sink_config_text,
                      source_config_text, worker_log_tail, worker_text)
from test_cdc import postgres  # noqa: F401 (the fixture: the seed's PostgreSQL table and row)

LINE = "4.4"
COLUMNS = "id, first_name, last_name, email, phone"
PG_SELECT = "SELECT %s FROM customers ORDER BY id" % COLUMNS
SR_SELECT = "SELECT %s FROM test.customers ORDER BY id" % COLUMNS


@pytest.fixture
def starrocks(workdir):
    """The emulator with the seed's root password and database `test`, and no table in it."""
    emu = Emulator(workdir=workdir, root_password=SR_ROOT_PASSWORD)
    try:
        emu.sql("CREATE DATABASE %s" % SR_DATABASE)
        yield emu
    finally:
        emu.stop()


def sr_columns(emu):
    rows = emu.sql("SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY FROM information_schema.columns "
                   "WHERE TABLE_SCHEMA = 'test' AND TABLE_NAME = 'customers' ORDER BY ORDINAL_POSITION")
    return [tuple(r) for r in rows]


def wait_for(what, probe, worker, timeout=90):
    deadline = time.monotonic() + timeout
    while True:
        for name in (SOURCE_NAME, SINK_NAME):
            worker.rest.raise_if_failed(name)
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail("%s: not within %.0f s\n--- worker log ---\n%s" % (what, timeout, worker_log_tail(worker)))
        time.sleep(0.3)


def same_rows(pg, emu):
    def probe():
        try:
            sr = [tuple(r) for r in emu.sql(SR_SELECT)]
        except Exception:  # no phone column yet
            return None
        return sr if sr == [tuple(r) for r in pg.sql(PG_SELECT)] else None
    return probe


@pytest.mark.parametrize("converter", ["json-schemas", "avro-registry"])
def test_cdc_creates_and_evolves_the_table(converter, request, kafka_broker, plugin_dir, workdir, unique, postgres,
                                           starrocks, workers):
    dbz_version = debezium.version_for(LINE)
    prefix = "evolve%s" % unique
    topic = "%s.public.customers" % prefix
    kafka_broker.create_topic(topic)
    kafka_broker.delete_group(SINK_GROUP)

    source = json.loads(source_config_text(postgres.port, prefix))
    sink = json.loads(sink_config_text(starrocks.fe_http_port, prefix, debezium.major(dbz_version)))
    sink["config"].update({"auto.create": "true", "auto.evolve": "true",
                           "starrocks.query.address": "127.0.0.1:%d" % starrocks.query_port})
    plugin_path = [plugin_dir, debezium.plugins_dir(dbz_version)]
    if converter == "avro-registry":
        registry = request.getfixturevalue("registry")
        plugin_path.append(schema_registry.converter_plugins())
        for prefix_key in ("key.converter", "value.converter"):
            avro = schema_registry.avro_converter(prefix_key, registry.apicurio_url, "headers")
            # the source's converter serializes, registering each schema Debezium makes
            source["config"].update(avro)
            source["config"][prefix_key + ".apicurio.registry.auto-register"] = "true"
            sink["config"].update(avro)
    source_file, sink_file = workdir / "pg-source.json", workdir / "sr-sink.json"
    source_file.write_text(json.dumps(source), encoding="utf-8")
    sink_file.write_text(json.dumps(sink), encoding="utf-8")

    worker = workers.start("standalone", plugin_path, line=LINE, worker_properties=worker_text(),
                           connector_files=[source_file, sink_file])
    worker.rest.wait_running(SOURCE_NAME, process=worker.process)
    worker.rest.wait_running(SINK_NAME, process=worker.process)

    # 1. the snapshot's row creates the table: a Primary Key table on the Debezium key, no __op column
    def seed_row_landed():
        try:
            return [tuple(r) for r in starrocks.sql("SELECT id, email FROM test.customers")] == [(1, "a@a.com")]
        except Exception:  # no table yet
            return False
    wait_for("customers created with the seed's row", seed_row_landed, worker)
    cols = sr_columns(starrocks)
    assert cols[0] == ("id", "int", "NO", "PRI"), cols
    names = [c[0] for c in cols]
    assert names[:4] == ["id", "first_name", "last_name", "email"] and "__op" not in names, cols
    assert "phone" not in names

    # 2. a column added in PostgreSQL mid-stream, then rows that set it
    postgres.sql("ALTER TABLE customers ADD COLUMN phone varchar(20)")
    postgres.sql("INSERT INTO customers VALUES (2, 'b', 'b', 'b@b.com', '555-0100')")
    postgres.sql("UPDATE customers SET phone = '555-0199' WHERE id = 1")
    postgres.sql("INSERT INTO customers VALUES (3, 'c', 'c', 'c@c.com', NULL)")
    postgres.sql("UPDATE customers SET email = 'b2@b.com' WHERE id = 2")
    postgres.sql("DELETE FROM customers WHERE id = 3")
    rows = wait_for("StarRocks matching PostgreSQL with phone", same_rows(postgres, starrocks), worker)
    assert rows == [(1, "a", "a", "a@a.com", "555-0199"), (2, "b", "b", "b2@b.com", "555-0100")], rows
    phone = [c for c in sr_columns(starrocks) if c[0] == "phone"]
    assert phone == [("phone", "varchar(65533)", "YES", "")], phone

    # 3. the task counted what it did, and nothing failed
    status = worker.rest.raise_if_failed(SINK_NAME)
    assert status["tasks"][0]["state"] == "RUNNING", status
    # (native log lines reach the worker's log when the task next calls into the library)
    wait_for("the schema changes in the worker log",
             lambda: all(line in worker.process.log_text() for line in
                         ("auto.create: created test.customers", "added 1 column(s) to test.customers")), worker,
             timeout=30)
    out = mysql.cli(starrocks.query_port, "select %s from customers order by id;" % COLUMNS,
                    password=SR_ROOT_PASSWORD, database=SR_DATABASE)
    assert "555-0199" in out and "b2@b.com" in out, out
    print("%s: table created and evolved, %d rows match PostgreSQL" % (converter, len(rows)))
