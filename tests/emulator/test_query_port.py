"""The emulator's query port (MySQL protocol), black-box: the real binary driven by the `mysql`
command-line client (as the StarRocks docs do) and by PyMySQL."""
import datetime
import decimal
import re

import pymysql
import pytest

from harness import mysql
from harness.emulator import Emulator

DOCS_DDL = """
CREATE DATABASE example_db;
USE example_db;
CREATE TABLE test_tbl (id INT, city STRING);
CREATE TABLE IF NOT EXISTS detail (
    recruit_date  DATE           NOT NULL COMMENT "YYYY-MM-DD",
    region_num    TINYINT        COMMENT "range [-128, 127]",
    id            BIGINT         COMMENT "range [-2^63 + 1, 2^63 - 1]",
    password      LARGEINT       COMMENT "range [-2^127 + 1, 2^127 - 1]",
    name          CHAR(20)       NOT NULL COMMENT "range char(m),m in (1-255)",
    profile       VARCHAR(500)   NOT NULL COMMENT "upper limit value 1048576 bytes",
    leave_time    DATETIME       COMMENT "YYYY-MM-DD HH:MM:SS",
    channel       FLOAT          COMMENT "4 bytes",
    income        DOUBLE         COMMENT "8 bytes",
    account       DECIMAL(12,4)  COMMENT "",
    ispass        BOOLEAN        COMMENT "true/false",
    attrs         JSON
)
DUPLICATE KEY(recruit_date, region_num)
PARTITION BY RANGE(recruit_date) (PARTITION p1 VALUES LESS THAN ("2030-01-01"))
DISTRIBUTED BY HASH(recruit_date, region_num) BUCKETS 8
PROPERTIES ("replication_num" = "1");
CREATE TABLE `customers` (
    `id` int(11) COMMENT "",
    `first_name` varchar(65533) NULL COMMENT "",
    `email` varchar(65533) NULL COMMENT ""
) ENGINE=OLAP
PRIMARY KEY(`id`)
DISTRIBUTED BY hash(id) buckets 1
PROPERTIES ("enable_persistent_index" = "true");
"""


@pytest.fixture
def emu(workdir):
    e = Emulator(workdir=workdir)
    yield e
    e.stop()


def cli(emu, sql, **kw):
    return mysql.cli(emu.query_port, sql, **kw)


def cells(out):
    """The rows of a `mysql -t` table (header first), as lists of stripped cell texts."""
    return [[c.strip() for c in l.strip()[1:-1].split(" | ")] for l in out.splitlines() if l.startswith("|")]


def cli_error(emu, sql, **kw):
    with pytest.raises(RuntimeError) as exc:
        mysql.cli(emu.query_port, sql, **kw)
    return str(exc.value)


def connect(emu, user="root", password="", database=None):
    return pymysql.connect(host=emu.host, port=emu.query_port, user=user, password=password,
                           database=database, autocommit=True, connect_timeout=10)


def pymysql_error(emu, sql, **kw):
    conn = connect(emu, **kw)
    try:
        with conn.cursor() as cur, pytest.raises(pymysql.MySQLError) as exc:
            cur.execute(sql)
        return exc.value.args
    finally:
        conn.close()


def test_docs_ddl_then_show_and_desc_through_the_cli(emu):
    cli(emu, DOCS_DDL)
    out = cli(emu, "SHOW DATABASES; SHOW TABLES FROM example_db;")
    assert "| example_db |" in out
    for t in ("customers", "detail", "test_tbl"):
        assert "| %s" % t in out
    desc = cli(emu, "DESC customers", database="example_db")
    lines = [l for l in desc.splitlines() if l.startswith("|")]
    assert [c.strip() for c in lines[0].strip("|").split("|")] == ["Field", "Type", "Null", "Key", "Default", "Extra"]
    assert [c.strip() for c in lines[1].strip("|").split("|")] == ["id", "int", "NO", "true", "NULL", ""]
    assert [c.strip() for c in lines[2].strip("|").split("|")] == ["first_name", "varchar(65533)", "YES", "false", "NULL", ""]
    rows = emu.sql("DESC detail", database="example_db")
    types = {r[0]: r[1] for r in rows}
    assert types == {
        "recruit_date": "date", "region_num": "tinyint", "id": "bigint", "password": "largeint",
        "name": "char(20)", "profile": "varchar(500)", "leave_time": "datetime", "channel": "float",
        "income": "double", "account": "decimal(12,4)", "ispass": "boolean", "attrs": "json",
    }
    assert [r[3] for r in rows][:3] == ["true", "true", "false"]
    assert emu.sql("SHOW COLUMNS FROM example_db.test_tbl") == [
        ("id", "int", "YES", "true", None, ""), ("city", "varchar(65533)", "YES", "true", None, "")]


def test_select_shapes_and_value_rendering(emu):
    cli(emu, DOCS_DDL)
    emu.sql("""INSERT INTO detail VALUES
        ('2024-01-02', 1, 10, 170141183460469231731687303715884105727, 'n1', 'p1', '2024-01-02 03:04:05', 0.1, 2.5, 12.5, true, '{"b":1,"a":[1,2]}'),
        ('2024-01-03', 2, 20, -5, 'n2', 'p2', '2024-01-02 03:04:05.25', 1.5, 3, -0.125, false, NULL),
        ('2024-01-03', 2, 30, 0, 'n3', 'p3', NULL, NULL, NULL, NULL, NULL, NULL)""", database="example_db")
    # The mysql client shows values the way StarRocks prints them.
    out = cli(emu, "SELECT recruit_date, password, leave_time, channel, income, account, ispass, attrs "
                   "FROM detail WHERE id = 10", database="example_db")
    assert cells(out)[1] == ["2024-01-02", "170141183460469231731687303715884105727", "2024-01-02 03:04:05", "0.1",
                             "2.5", "12.5000", "1", '{"a": [1, 2], "b": 1}']
    out = cli(emu, "SELECT leave_time, income, account, ispass FROM detail WHERE id = 20", database="example_db")
    assert cells(out)[1] == ["2024-01-02 03:04:05.250000", "3", "-0.1250", "0"]
    # PyMySQL gets typed values.
    rows = emu.sql("SELECT recruit_date, leave_time, account, income FROM example_db.detail ORDER BY id LIMIT 2")
    assert rows == [(datetime.date(2024, 1, 2), datetime.datetime(2024, 1, 2, 3, 4, 5), decimal.Decimal("12.5000"), 2.5),
                    (datetime.date(2024, 1, 3), datetime.datetime(2024, 1, 2, 3, 4, 5, 250000), decimal.Decimal("-0.1250"), 3.0)]
    assert emu.sql("SELECT count(*) FROM detail", database="example_db") == [(3,)]
    assert emu.sql("SELECT recruit_date, count(*) AS n, sum(id), max(account) FROM detail "
                   "GROUP BY recruit_date ORDER BY recruit_date DESC", database="example_db") == [
        (datetime.date(2024, 1, 3), 2, 50, decimal.Decimal("-0.1250")),
        (datetime.date(2024, 1, 2), 1, 10, decimal.Decimal("12.5000"))]
    assert emu.sql("SELECT name FROM detail WHERE profile IN ('p2', 'p3') AND leave_time IS NULL",
                   database="example_db") == [("n3",)]
    assert emu.sql("SELECT id FROM detail ORDER BY id DESC LIMIT 1, 1", database="example_db") == [(20,)]


def test_numbers_are_right_aligned_as_in_the_docs(emu):
    cli(emu, DOCS_DDL)
    cli(emu, "INSERT INTO test_tbl VALUES (1, 'New York'), (2, 'Chicago');", database="example_db")
    out = cli(emu, "SELECT * FROM test_tbl ORDER BY id;", database="example_db")
    assert out.splitlines() == [
        "+------+----------+",
        "| id   | city     |",
        "+------+----------+",
        "|    1 | New York |",
        "|    2 | Chicago  |",
        "+------+----------+",
    ]


def test_table_without_the_client_prints_what_the_client_prints(emu):
    """mysql.table() (the demo's output on a machine without the mysql client) matches the real
    client's `-t` output byte for byte: alignment, NULL, widths, decimals, dates, JSON, wide text."""
    cli(emu, DOCS_DDL)
    emu.sql("""INSERT INTO detail VALUES
        ('2024-01-02', 1, 10, 170141183460469231731687303715884105727, 'n1', 'p1', '2024-01-02 03:04:05', 0.1, 2.5, 12.5, true, '{"b":1,"a":[1,2]}'),
        ('2024-01-03', -2, 20, -5, 'n2', '東京 p2', '2024-01-02 03:04:05.25', 1.5, 3, -0.125, false, NULL),
        ('2024-01-03', 2, 30, 0, 'n3', '', NULL, NULL, NULL, NULL, NULL, NULL)""", database="example_db")
    cli(emu, "INSERT INTO test_tbl VALUES (1, 'New York'), (2, 'Los Angeles'), (3, NULL);", database="example_db")
    queries = ["SELECT * FROM test_tbl ORDER BY id", "select * from test_tbl;", "SELECT * FROM detail ORDER BY id",
               "SELECT id, profile FROM detail WHERE id = 20", "SELECT count(*) AS n FROM test_tbl",
               "SELECT city FROM test_tbl WHERE id = 99"]
    for q in queries:
        want = cli(emu, q, database="example_db")
        got = mysql.table(emu.query_port, q, database="example_db")
        assert got == want, "%s\n--- client ---\n%s--- table() ---\n%s" % (q, want, got)
    assert mysql.table(emu.query_port, "SELECT * FROM test_tbl ORDER BY id", database="example_db").splitlines()[3] \
        == "|    1 | New York    |"


def test_primary_key_table_upserts_through_insert(emu):
    cli(emu, DOCS_DDL)
    emu.sql("INSERT INTO customers VALUES (1,'a','a@a.com'), (2,'b','b@b.com')", database="example_db")
    emu.sql("INSERT INTO customers (id, first_name) VALUES (1,'z')", database="example_db")
    assert emu.sql("SELECT * FROM customers ORDER BY id", database="example_db") == [
        (1, "z", None), (2, "b", "b@b.com")]


def test_show_create_table_and_insert_answer(emu):
    cli(emu, DOCS_DDL)
    rows = emu.sql("SHOW CREATE TABLE example_db.customers")
    assert rows[0][0] == "customers"
    ddl = rows[0][1]
    assert ddl.startswith("CREATE TABLE `customers` (\n  `id` int NOT NULL")
    assert "PRIMARY KEY(`id`)" in ddl and "DISTRIBUTED BY HASH(`id`) BUCKETS 1" in ddl
    conn = connect(emu, database="example_db")
    try:
        with conn.cursor() as cur:
            assert cur.execute("INSERT INTO test_tbl VALUES (1, 'a'), (2, 'b')") == 2
            assert re.fullmatch(r"\{'label':'insert_[0-9a-f]+', 'status':'VISIBLE', 'txnId':'\d+'\}",
                                cur._result.message.decode())
    finally:
        conn.close()


def test_delete_where_on_both_table_models(emu):
    cli(emu, DOCS_DDL)
    cli(emu, "INSERT INTO test_tbl VALUES (1, 'a'), (2, 'b'), (2, 'b'), (3, 'c');"
             "INSERT INTO customers VALUES (1, 'x', NULL), (2, 'y', 'y@y'), (3, 'z', NULL);", database="example_db")
    out = mysql.cli(emu.query_port, "DELETE FROM test_tbl WHERE id = 2;", database="example_db", table=False)
    assert emu.sql("SELECT * FROM example_db.test_tbl ORDER BY id") == [(1, "a"), (3, "c")]
    conn = connect(emu, database="example_db")
    try:
        with conn.cursor() as cur:
            assert cur.execute("DELETE FROM customers WHERE email IS NULL") == 2
    finally:
        conn.close()
    assert emu.sql("SELECT id FROM example_db.customers") == [(2,)]
    assert out == ""


def test_information_schema_lists_tables_and_columns(emu):
    cli(emu, DOCS_DDL)
    assert emu.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'example_db' "
                   "ORDER BY table_name") == [("customers",), ("detail",), ("test_tbl",)]
    assert emu.sql("SELECT column_name, column_type, is_nullable, column_key FROM information_schema.columns "
                   "WHERE table_schema = 'example_db' AND table_name = 'customers' ORDER BY ordinal_position") == [
        ("id", "int", "NO", "PRI"), ("first_name", "varchar(65533)", "YES", ""), ("email", "varchar(65533)", "YES", "")]


def test_truncate_and_drop(emu):
    cli(emu, DOCS_DDL)
    cli(emu, "INSERT INTO test_tbl VALUES (1, 'x'); TRUNCATE TABLE test_tbl;", database="example_db")
    assert emu.sql("SELECT count(*) FROM example_db.test_tbl") == [(0,)]
    cli(emu, "DROP TABLE example_db.test_tbl; DROP TABLE IF EXISTS example_db.test_tbl;")
    assert ("test_tbl",) not in emu.sql("SHOW TABLES", database="example_db")
    cli(emu, "DROP DATABASE example_db")
    assert emu.sql("SHOW DATABASES") == []


def test_connect_time_queries_of_clients(emu):
    assert emu.sql("SELECT @@version_comment LIMIT 1") == [("StarRocks version 3.3.0-emulator",)]
    assert emu.sql("SELECT DATABASE()") == [(None,)]
    conn = connect(emu)
    try:
        with conn.cursor() as cur:
            cur.execute("SET NAMES utf8mb4")
            cur.execute("SELECT VERSION(), @@session.autocommit, @@max_allowed_packet")
            assert cur.fetchall() == (("8.0.33", 1, 67108864),)
            cur.execute("SHOW VARIABLES LIKE 'lower_case%'")
            assert cur.fetchall() == (("lower_case_table_names", "0"),)
    finally:
        conn.close()
    out = cli(emu, "CREATE DATABASE d1; USE d1; SELECT DATABASE();")
    assert "| d1         |" in out


def test_errors_name_what_is_wrong(emu):
    cli(emu, DOCS_DDL)
    # ADD/MODIFY COLUMN are emulated (test_schema_change.py); other ALTER TABLE clauses are not.
    msg = cli_error(emu, "ALTER TABLE example_db.test_tbl DROP COLUMN city")
    assert "ERROR 1064" in msg and "ALTER TABLE ... DROP" in msg and "not supported by the StarRocks emulator" in msg
    assert pymysql_error(emu, "SELECT * FROM nosuch.t") == (1049, "Unknown database 'nosuch'")
    assert pymysql_error(emu, "SELECT * FROM nosuch", database="example_db") == (1051, "Unknown table 'example_db.nosuch'")
    assert pymysql_error(emu, "CREATE DATABASE example_db")[0] == 1007
    assert pymysql_error(emu, "CREATE TABLE example_db.test_tbl (a INT)") == (1050, "Table 'test_tbl' already exists")
    assert pymysql_error(emu, "SHOW TABLES")[0] == 1046
    code, text = pymysql_error(emu, "CREATE TABLE example_db.agg (k INT, v BIGINT SUM) AGGREGATE KEY(k)")
    assert code == 1064 and "AGGREGATE KEY" in text
    assert "Unknown database 'nope'" in cli_error(emu, "SELECT 1", database="nope")


def test_users_grants_and_password_login(emu):
    cli(emu, DOCS_DDL)
    cli(emu, "CREATE USER 'user1'@'%' IDENTIFIED BY '123456'; GRANT INSERT ON example_db.* TO user1;"
             "CREATE USER reader IDENTIFIED BY 'r'; GRANT SELECT ON TABLE example_db.test_tbl TO USER 'reader'@'%';")
    # INSERT granted, SELECT not.
    cli(emu, "INSERT INTO test_tbl VALUES (7, 'Paris')", user="user1", password="123456", database="example_db")
    code, text = pymysql_error(emu, "SELECT * FROM example_db.test_tbl", user="user1", password="123456")
    assert code == 1142 and "SELECT privilege" in text
    assert mysql.query(emu.query_port, "SELECT * FROM test_tbl", user="reader", password="r",
                       database="example_db") == [(7, "Paris")]
    code, _ = pymysql_error(emu, "INSERT INTO example_db.test_tbl VALUES (8, 'x')", user="reader", password="r")
    assert code == 1142
    # Wrong or missing passwords and unknown users are rejected at login, in StarRocks' words.
    with pytest.raises(pymysql.err.OperationalError) as exc:
        connect(emu, user="user1", password="wrong")
    assert exc.value.args == (1045, "Access denied for user 'user1'@'127.0.0.1' (using password: YES)")
    with pytest.raises(pymysql.err.OperationalError) as exc:
        connect(emu, user="user1", password="")
    assert exc.value.args == (1045, "Access denied for user 'user1'@'127.0.0.1' (using password: NO)")
    with pytest.raises(pymysql.err.OperationalError) as exc:
        connect(emu, user="nobody", password="")
    assert exc.value.args[0] == 1045
    assert "ERROR 1045 (28000): Access denied for user 'user1'@'127.0.0.1' (using password: YES)" in \
        cli_error(emu, "SELECT 1", user="user1", password="nope")
    out = cli(emu, "SHOW GRANTS FOR user1")
    assert "GRANT INSERT ON ALL TABLES IN DATABASE example_db TO USER 'user1'@'%'" in out
    cli(emu, "DROP USER user1")
    with pytest.raises(pymysql.err.OperationalError):
        connect(emu, user="user1", password="123456")


def test_root_password_from_the_command_line(workdir):
    with Emulator(workdir=workdir, root_password="s3cret") as e:
        assert e.sql("SELECT 1") == [(1,)]
        assert "1" in mysql.cli(e.query_port, "SELECT 1", password="s3cret")
        with pytest.raises(pymysql.err.OperationalError):
            connect(e, password="")
        with pytest.raises(RuntimeError):
            mysql.cli(e.query_port, "SELECT 1")


def test_data_dir_keeps_catalog_data_and_users_across_restarts(workdir):
    data = workdir / "data"
    with Emulator(workdir=workdir, data_dir=data) as e:
        mysql.cli(e.query_port, DOCS_DDL + """
            CREATE USER user1 IDENTIFIED BY '123456'; GRANT INSERT ON example_db.* TO user1;
            INSERT INTO test_tbl VALUES (1, 'New York'), (2, 'Chicago');
            INSERT INTO customers VALUES (1, 'a', 'a@a.com'), (2, 'b', NULL);
            INSERT INTO customers VALUES (2, 'bb', 'b@b.com');
            CREATE DATABASE gone; DROP DATABASE gone;""")
    with Emulator(workdir=workdir, data_dir=data) as e:
        assert e.sql("SHOW DATABASES") == [("example_db",)]
        assert e.sql("SELECT * FROM test_tbl ORDER BY id", database="example_db") == [(1, "New York"), (2, "Chicago")]
        assert e.sql("SELECT * FROM customers ORDER BY id", database="example_db") == [
            (1, "a", "a@a.com"), (2, "bb", "b@b.com")]
        mysql.cli(e.query_port, "INSERT INTO test_tbl VALUES (3, 'Paris')", user="user1", password="123456",
                  database="example_db")
    with Emulator(workdir=workdir, data_dir=data) as e:
        assert e.sql("SELECT count(*) FROM example_db.test_tbl") == [(3,)]


def test_without_data_dir_nothing_survives(workdir):
    with Emulator(workdir=workdir) as e:
        e.sql("CREATE DATABASE d")
    with Emulator(workdir=workdir) as e:
        assert e.sql("SHOW DATABASES") == []
