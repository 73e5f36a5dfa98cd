"""The docs' quick start (tests/integration/seed/): its files with addresses substituted, its
records, its table, and the expected result."""
import json
from pathlib import Path

from . import mysql
from .connect import substitute_properties

ROOT = Path(__file__).resolve().parents[2]
SEED_DIR = ROOT / "tests" / "integration" / "seed"

TOPIC = "test"
CONNECTOR_NAME = "starrocks-kafka-connector"
CONSUMER_GROUP = "connect-" + CONNECTOR_NAME
DOCS_URL = "192.168.xxx.xxx:8030"
RECORDS = ['{"id":1,"city":"New York"}', '{"id":2,"city":"Los Angeles"}', '{"id":3,"city":"Chicago"}']
EXPECTED_ROWS = [(1, "New York"), (2, "Los Angeles"), (3, "Chicago")]
SELECT = "SELECT id, city FROM example_db.test_tbl ORDER BY id"


def read(name: str) -> str:
    return (SEED_DIR / name).read_text(encoding="utf-8")


def connector_properties(fe_http_port: int, host: str = "127.0.0.1") -> str:
    """connect-StarRocks-sink.properties as written, but `starrocks.http.url` (only that line differs)."""
    text = read("connect-StarRocks-sink.properties")
    out = substitute_properties(text, {"starrocks.http.url": "%s:%d" % (host, fe_http_port)}, append_missing=False)
    assert out.count("\n") == text.count("\n") and DOCS_URL not in out
    return out


def worker_properties(mode: str) -> str:
    """The docs' worker file, unmodified (the harness substitutes addresses and paths)."""
    return read("connect-%s.properties" % mode)


def rest_payload(fe_http_port: int, host: str = "127.0.0.1") -> str:
    """The docs' curl -d body, with only the URL substituted."""
    text = read("starrocks-sink.json")
    assert text.count(DOCS_URL) == 1
    out = text.replace(DOCS_URL, "%s:%d" % (host, fe_http_port))
    json.loads(out)
    return out


def create_table_and_user(query_port: int, require_cli: bool = True):
    """The docs' CREATE DATABASE/USE/CREATE TABLE, then user1 with INSERT on example_db: through the
    real mysql client (the tests prove the docs' CLI session), or with `require_cli=False` through it
    only when the machine has it, else PyMySQL (the demo)."""
    sql = read("create_table.sql") + read("users.sql")
    if require_cli:
        return mysql.cli(query_port, sql, table=False)
    return mysql.run_script(query_port, sql)


def rows(query_port: int):
    return [tuple(r) for r in mysql.query(query_port, SELECT)]


def wait_for_rows(query_port: int, timeout: float = 120, check=None):
    return [tuple(r) for r in mysql.wait_for_rows(query_port, SELECT, len(EXPECTED_ROWS), timeout, check=check)]
