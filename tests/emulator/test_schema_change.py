"""Schema change: ALTER TABLE ... ADD/MODIFY COLUMN as an asynchronous StarRocks job, seen through
SHOW ALTER TABLE COLUMN, DESC, SHOW CREATE TABLE, information_schema and Stream Load."""
import json
import time

import pymysql
import pytest

from harness.emulator import Emulator
from emu_helpers import create_table, rows, stream_load, unique

DELAY_MS = 1500
SHOW = "SHOW ALTER TABLE COLUMN FROM %s WHERE TableName = '%s' ORDER BY CreateTime DESC LIMIT 1"
COLUMNS = ["JobId", "TableName", "CreateTime", "FinishTime", "IndexName", "IndexId", "OriginIndexId",
           "SchemaVersion", "TransactionId", "State", "Msg", "Progress", "Timeout"]


@pytest.fixture(scope="module")
def slow(run_dir):
    e = Emulator(workdir=run_dir / "emulator-schema-change-slow", args=["--schema-change-delay-ms", str(DELAY_MS)])
    yield e
    e.stop()


def error(emu, statement):
    with pytest.raises(pymysql.err.MySQLError) as exc:
        emu.sql(statement)
    return exc.value.args


def job(emu, db, t):
    [row] = emu.sql(SHOW % (db, t))
    return dict(zip(COLUMNS, row))


def fields(emu, db, t):
    return [r[0] for r in emu.sql("DESC %s.%s" % (db, t))]


def load_json(emu, db, t, docs):
    r = stream_load(emu, db, t, "\n".join(json.dumps(d) for d in docs), {"format": "json"}).json()
    assert r["Status"] == "Success", r
    return r


def wait_state(emu, db, t, state, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if job(emu, db, t)["State"] == state:
            return
        time.sleep(0.05)
    raise AssertionError("job never reached %s: %r" % (state, job(emu, db, t)))


def test_job_states_and_visibility_only_at_finished(slow):
    db, t = create_table(slow)
    load_json(slow, db, t, [{"id": 1, "name": "a", "score": 1}])
    slow.sql("ALTER TABLE %s.%s ADD COLUMN city VARCHAR(20) DEFAULT 'x' AFTER name" % (db, t))
    first = job(slow, db, t)
    assert first["State"] in ("PENDING", "WAITING_TXN") and first["FinishTime"] is None
    assert (first["TableName"], first["IndexName"], first["Timeout"], first["Msg"]) == (t, t, "86400", "")
    seen = {first["State"]}
    # Loads keep working while the job runs; the new column is not there yet.
    load_json(slow, db, t, [{"id": 2, "name": "b", "score": 2, "city": "ignored"}])
    assert fields(slow, db, t) == ["id", "name", "score"]
    deadline = time.time() + 10
    while time.time() < deadline:
        state = job(slow, db, t)["State"]
        seen.add(state)
        if state == "FINISHED":
            break
        time.sleep(0.05)
    assert {"WAITING_TXN", "RUNNING", "FINISHED"} <= seen, seen
    done = job(slow, db, t)
    assert done["FinishTime"] is not None and done["Progress"] is None
    assert fields(slow, db, t) == ["id", "name", "city", "score"]
    load_json(slow, db, t, [{"id": 3, "name": "c", "score": 3, "city": "Paris"}])
    r = stream_load(slow, db, t, "4\td\tLyon\t4\n", {"columns": "id,name,city,score"}).json()
    assert r["Status"] == "Success", r
    assert rows(slow, db, t) == [(1, "a", "x", 1), (2, "b", "x", 2), (3, "c", "Paris", 3), (4, "d", "Lyon", 4)]


def test_second_alter_while_running_is_refused(slow):
    db, t = create_table(slow)
    slow.sql("ALTER TABLE %s.%s ADD COLUMN c1 INT" % (db, t))
    code, msg = error(slow, "ALTER TABLE %s.%s ADD COLUMN c2 INT" % (db, t))
    assert code == 1064
    assert msg.startswith('A schema change operation is in progress on the table "%s". Please wait until the '
                          'current operation completes.' % t), msg
    wait_state(slow, db, t, "FINISHED")
    slow.sql("ALTER TABLE %s.%s ADD COLUMN c2 INT" % (db, t))
    assert len(slow.sql("SHOW ALTER TABLE COLUMN FROM %s WHERE TableName = '%s'" % (db, t))) == 2


def test_duplicate_column_and_other_add_errors(emu):
    db, t = create_table(emu)
    assert error(emu, "ALTER TABLE %s.%s ADD COLUMN score INT" % (db, t)) == (
        1064, "Can not add column which already exists in base table: score")
    assert error(emu, "ALTER TABLE %s.%s ADD COLUMN score BIGINT" % (db, t)) == (
        1064, "Repeatedly add same column with different definition: score")
    assert error(emu, "ALTER TABLE %s.%s ADD COLUMN x INT AFTER nope" % (db, t)) == (
        1064, "Column[nope] does not found")
    code, msg = error(emu, "ALTER TABLE %s.%s ADD COLUMN x INT NOT NULL" % (db, t))
    assert code == 1064 and "Field 'x' is not null but doesn't have a default value" in msg
    assert error(emu, "ALTER TABLE %s.nope ADD COLUMN x INT" % db) == (1051, "Unknown table '%s.nope'" % db)
    _, p = create_table(emu, keys="PRIMARY KEY(id)")
    assert error(emu, "ALTER TABLE %s.%s ADD COLUMN k INT KEY" % (db, p)) == (
        1064, "Can not add key column: k for primary key table")


def test_modify_widening_and_refused_narrowing(emu):
    db, t = create_table(emu)
    load_json(emu, db, t, [{"id": 1, "name": "abcdefghij", "score": 5}])
    emu.sql("ALTER TABLE %s.%s MODIFY COLUMN name VARCHAR(50)" % (db, t))
    emu.sql("ALTER TABLE %s.%s MODIFY COLUMN score BIGINT" % (db, t))
    assert [r[1] for r in emu.sql("DESC %s.%s" % (db, t))] == ["int", "varchar(50)", "bigint"]
    load_json(emu, db, t, [{"id": 2, "name": "x" * 40, "score": 2 ** 40}])
    assert rows(emu, db, t) == [(1, "abcdefghij", 5), (2, "x" * 40, 2 ** 40)]
    assert error(emu, "ALTER TABLE %s.%s MODIFY COLUMN name VARCHAR(5)" % (db, t)) == (
        1064, "Cannot shorten string length")
    assert error(emu, "ALTER TABLE %s.%s MODIFY COLUMN score INT" % (db, t)) == (
        1064, "Can not change BIGINT to INT")


def test_catalog_views_after_the_change(emu):
    db, t = create_table(emu, keys="PRIMARY KEY(id)")
    emu.sql("ALTER TABLE %s.%s ADD COLUMN (city VARCHAR(20) NOT NULL DEFAULT 'x', zip INT)" % (db, t))
    emu.sql("ALTER TABLE %s.%s MODIFY COLUMN name VARCHAR(30) AFTER zip" % (db, t))
    cols = emu.sql("SELECT COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLUMN_KEY "
                   "FROM information_schema.columns WHERE TABLE_SCHEMA = '%s' AND TABLE_NAME = '%s' "
                   "ORDER BY ORDINAL_POSITION" % (db, t))
    assert [tuple(c) for c in cols] == [
        ("id", 1, "int", "NO", None, "PRI"),
        ("score", 2, "int", "YES", None, ""),
        ("city", 3, "varchar(20)", "NO", "x", ""),
        ("zip", 4, "int", "YES", None, ""),
        ("name", 5, "varchar(30)", "YES", None, ""),
    ]
    [cfg] = emu.sql("SELECT TABLE_ENGINE, TABLE_MODEL, PRIMARY_KEY, PARTITION_KEY, DISTRIBUTE_KEY, DISTRIBUTE_TYPE, "
                    "DISTRIBUTE_BUCKET, SORT_KEY FROM information_schema.tables_config "
                    "WHERE TABLE_SCHEMA = '%s' AND TABLE_NAME = '%s'" % (db, t))
    assert tuple(cfg) == ("OLAP", "PRIMARY_KEYS", "`id`", "", "`id`", "HASH", 1, "`id`")
    [(_, ddl)] = emu.sql("SHOW CREATE TABLE %s.%s" % (db, t))
    assert "`city` varchar(20) NOT NULL DEFAULT \"x\"" in ddl and ddl.index("`zip`") < ddl.index("`name`")


def test_new_schema_and_job_survive_restart(tmp_path, run_dir):
    data = tmp_path / "data"
    with Emulator(workdir=run_dir / "schema-change-persist-1", data_dir=data) as e:
        db, t = create_table(e)
        load_json(e, db, t, [{"id": 1, "name": "a", "score": 1}])
        e.sql("ALTER TABLE %s.%s ADD COLUMN city VARCHAR(20) DEFAULT 'x'" % (db, t))
        e.sql("ALTER TABLE %s.%s MODIFY COLUMN name VARCHAR(40)" % (db, t))
        load_json(e, db, t, [{"id": 2, "name": "b", "score": 2, "city": "Rome"}])
        before = e.sql("SHOW ALTER TABLE COLUMN FROM %s" % db)
    with Emulator(workdir=run_dir / "schema-change-persist-2", data_dir=data) as e:
        assert fields(e, db, t) == ["id", "name", "score", "city"]
        assert e.sql("DESC %s.%s" % (db, t))[1][1] == "varchar(40)"
        assert rows(e, db, t) == [(1, "a", 1, "x"), (2, "b", 2, "Rome")]
        assert e.sql("SHOW ALTER TABLE COLUMN FROM %s" % db) == before
        load_json(e, db, t, [{"id": 3, "name": "c", "score": 3, "city": "Oslo"}])
        assert rows(e, db, t)[-1] == (3, "c", 3, "Oslo")
