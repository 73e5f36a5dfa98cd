"""`make demo` (scripts/demo.py) works: its own emulator, broker and worker, and it prints the
docs' table as `mysql -t` does. It runs as on a fresh machine without the mysql client
(MYSQL_CLIENT=none): the statements and the table go through PyMySQL. Needs the packaged plugin,
like the demo."""
import os
import subprocess
import sys

from harness import plugin

ROOT = plugin.ROOT

# what `mysql -t` prints for the docs' `select * from test_tbl` (tests/emulator/test_query_port.py
# holds mysql.table() to the real client's output)
DOCS_TABLE = """\
+------+-------------+
| id   | city        |
+------+-------------+
|    1 | New York    |
|    2 | Los Angeles |
|    3 | Chicago     |
+------+-------------+
"""


def test_demo_prints_the_docs_table_without_a_mysql_client(plugin_dir, workdir):
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py")], cwd=ROOT,
                         env={**os.environ, "DEMO_LOG_DIR": str(workdir / "demo"), "MYSQL_CLIENT": "none"},
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-5000:]
    assert "no mysql client here: through PyMySQL" in res.stdout, res.stdout
    assert DOCS_TABLE in res.stdout, res.stdout
