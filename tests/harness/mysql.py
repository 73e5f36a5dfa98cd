"""Talking to StarRocks (or the emulator) over the MySQL protocol: the real `mysql` command-line
client (Debian's mariadb-client) as a user would, pymysql for assertions, and `table()`, which
prints a result the way `mysql -t` does for the demo on a machine without the client."""
import os
import shutil
import subprocess
import unicodedata

from .polling import poll_until


def mysql_bin(required: bool = True):
    """The `mysql` client: $MYSQL_CLIENT, else `mysql` on PATH. Without one, raises (or returns None
    when not `required`). MYSQL_CLIENT=none stands for a machine without it."""
    env = os.environ.get("MYSQL_CLIENT")
    path = (None if env == "none" else env) if env else shutil.which("mysql")
    if path and os.path.exists(path):
        return path
    if required:
        raise RuntimeError("no `mysql` client (apt-get install mariadb-client; `make test` installs it)")
    return None


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


def _connect(port, user, password, database, host, **kw):
    import pymysql

    return pymysql.connect(host=host, port=port, user=user, password=password, database=database,
                           connect_timeout=10, read_timeout=60, write_timeout=60, autocommit=True, **kw)


def query(port: int, sql: str, user: str = "root", password: str = "", database: str = None,
          host: str = "127.0.0.1"):
    """Rows of one statement, as tuples, through pymysql."""
    conn = _connect(port, user, password, database, host)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall()) if cur.description else []
    finally:
        conn.close()


# MySQL column types the client right-aligns (its IS_NUM: DECIMAL..INT24 but TIMESTAMP, YEAR, NEWDECIMAL)
_NUMERIC_TYPES = {0, 1, 2, 3, 4, 5, 6, 8, 9, 13, 246}


def _cells(text: str) -> int:
    """Terminal cells of `text`, as the client counts them (wide East Asian characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _table_text(names, numeric, nullable, rows) -> str:
    # The client sizes a column by the longest value in bytes (MYSQL_FIELD.max_length), then pads
    # each value to that width in terminal cells: a column with non-ASCII text is wider than its text.
    widths = []
    for i, name in enumerate(names):
        w = max([len(name.encode())] + [len(r[i].encode()) for r in rows])
        widths.append(max(w, 4) if nullable[i] else w)  # room for NULL, as the client keeps
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+\n"

    def line(values, align_right):
        out = []
        for v, w, right in zip(values, widths, align_right):
            pad = " " * (w - _cells(v))
            out.append(" " + (pad + v if right else v + pad) + " ")
        return "|" + "|".join(out) + "|\n"

    return (rule + line(names, [False] * len(names)) + rule
            + "".join(line(r, numeric) for r in rows) + rule)


def table(port: int, sql: str, user: str = "root", password: str = "", database: str = None,
          host: str = "127.0.0.1") -> str:
    """What `mysql -t -e sql` prints, through pymysql: the server's text values as sent (no Python
    conversion), numbers right-aligned, NULL as NULL, nothing for a statement without rows.
    Written by hand because no Python client library prints the mysql client's table layout."""
    from pymysql.converters import conversions

    # the encoders only (type keys), no decoders (int keys): values stay the server's text
    conn = _connect(port, user, password, database, host, conv={k: v for k, v in conversions.items()
                                                                if not isinstance(k, int)})
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            if not cur.description:
                return ""
            rows = [["NULL" if v is None else (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))
                     for v in r] for r in cur.fetchall()]
            desc = cur.description  # PEP 249: (name, type_code, ..., null_ok)
    finally:
        conn.close()
    if not rows:
        return ""
    return _table_text([d[0] for d in desc], [d[1] in _NUMERIC_TYPES for d in desc], [d[6] for d in desc], rows)


def show(port: int, sql: str, database: str = None, **kw) -> str:
    """`sql`'s result as `mysql -t` prints it: through the client when there is one, else `table()`."""
    if mysql_bin(required=False):
        return cli(port, sql, database=database, **kw)
    return "".join(table(port, s, database=database, **kw) for s in statements(sql))


def statements(sql: str):
    """The statements of a script, split at `;` (for the docs' short scripts: no `;` inside quotes)."""
    return [s.strip() for s in sql.split(";") if s.strip()]


def run_script(port: int, sql: str, database: str = None, **kw):
    """Run the statements of `sql` as `mysql < script` would, `USE db` included: through the client when
    there is one, else through pymysql."""
    if mysql_bin(required=False):
        return cli(port, sql, database=database, table=False, **kw)
    for stmt in statements(sql):
        if stmt.split(None, 1)[0].upper() == "USE":
            database = stmt.split(None, 1)[1].strip().strip("`")
            continue
        query(port, stmt, database=database, **kw)


def wait_for_rows(port: int, sql: str, expected_count: int, timeout: float = 120, check=None, **kw):
    """Poll `sql` until it returns at least `expected_count` rows; returns the rows (raises with
    the last rows or error on timeout). `check()`, if given, runs every round and may raise to
    stop waiting (e.g. when the connector's task has failed). The table may not exist yet, or the
    server may be busy: asked again."""
    return poll_until(lambda: query(port, sql, **kw), lambda rows: len(rows) >= expected_count, timeout,
                      lambda last: "%r: wanted %d rows after %.0f s, last result: %r" % (sql, expected_count, timeout, last),
                      check=check, pause=0.5)
