"""Talking to StarRocks (or the emulator) over the MySQL protocol: the real `mysql` command-line
client (Debian's mariadb-client) as a user would, and pymysql for assertions."""
import os
import shutil
import subprocess
import time


def mysql_bin() -> str:
    path = os.environ.get("MYSQL_CLIENT") or shutil.which("mysql") or "/usr/bin/mysql"
    if not os.path.exists(path):
        raise RuntimeError("no `mysql` client (apt-get install mariadb-client)")
    return path


def cli(port: int, sql: str, user: str = "root", password: str = "", database: str = None,
        table: bool = True, host: str = "127.0.0.1", timeout: float = 60) -> str:
    """Run `sql` through `mysql -h host -P port -u user [-t] [-D db]` (statements on stdin) and
    return what it prints. Raises with its stderr if it fails."""
    argv = [mysql_bin(), "-h", host, "-P", str(port), "-u", user, "--protocol=TCP", "--connect-timeout=10"]
    if password:
        argv.append("-p" + password)
    if table:
        argv.append("-t")
    if database:
        argv += ["-D", database]
    res = subprocess.run(argv, input=sql, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError("mysql client failed (%s): %s\n$ %s <<< %r"
                           % (res.returncode, res.stderr.strip(), " ".join(argv), sql))
    return res.stdout


def query(port: int, sql: str, user: str = "root", password: str = "", database: str = None,
          host: str = "127.0.0.1"):
    """Rows of one statement, as tuples, through pymysql."""
    import pymysql

    conn = pymysql.connect(host=host, port=port, user=user, password=password, database=database,
                           connect_timeout=10, read_timeout=60, write_timeout=60, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall()) if cur.description else []
    finally:
        conn.close()


def wait_for_rows(port: int, sql: str, expected_count: int, timeout: float = 120, check=None, **kw):
    """Poll `sql` until it returns at least `expected_count` rows; returns the rows (raises with
    the last rows or error on timeout). `check()`, if given, runs every round and may raise to
    stop waiting (e.g. when the connector's task has failed)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        if check is not None:
            check()
        try:
            last = query(port, sql, **kw)
            if len(last) >= expected_count:
                return last
        except Exception as e:  # table may not exist yet, or the server may be busy
            last = e
        if time.monotonic() > deadline:
            raise TimeoutError("%r: wanted %d rows after %.0f s, last result: %r"
                               % (sql, expected_count, timeout, last))
        time.sleep(0.5)
