"""A real PostgreSQL server (Debian's packages: `apt-get install postgresql`) for the CDC tests.

`Postgres(workdir).start()` runs `initdb` into a fresh temporary data directory and starts
`postgres` on a free loopback port with `wal_level=logical` (what Debezium's pgoutput decoding
needs), `max_wal_senders` and `max_replication_slots` of 4, and `fsync=off` (a throwaway
server). The server refuses to run as root, so when the test runner is root both run as the
`postgres` system user that Debian's package creates (the data directory is owned by it).
The server's log is `<workdir>/postgres.log`; `stop()` shuts it down (fast mode) and removes the
data directory.

Authentication on 127.0.0.1: a user whose password is empty is trusted (the seed's Debezium config
connects as `postgres` with `"database.password": ""`, as on a local install with `trust`); every
other user, replication connections included, needs its password (scram-sha-256).

SQL goes through pg8000 (pure Python, tests/requirements.txt): `pg.sql("...")` for one statement,
`pg.connect()` for a connection of one's own.
"""
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from . import ports, process
from .process import ManagedProcess, ProcessError, _set_pdeathsig

SUPERUSER = "postgres"


def bin_dir() -> Path:
    """$PG_BIN, else the newest /usr/lib/postgresql/<major>/bin that has a `postgres` binary."""
    env = os.environ.get("PG_BIN")
    if env:
        return Path(env)
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/postgres")]
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin "
                           "(apt-get install postgresql, or set PG_BIN)")
    return max(found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)


def os_user():
    """(uid, gid, name) the server runs as: the `postgres` system user when we are root, else us."""
    if os.geteuid() != 0:
        pw = pwd.getpwuid(os.geteuid())
        return None, None, pw.pw_name
    try:
        pw = pwd.getpwnam(os.environ.get("PG_OS_USER", "postgres"))
    except KeyError:
        raise RuntimeError("running as root and there is no `postgres` system user to run PostgreSQL as "
                           "(Debian's postgresql package creates it; or set PG_OS_USER)")
    return pw.pw_uid, pw.pw_gid, pw.pw_name


class _ServerProcess(ManagedProcess):
    """A ManagedProcess that drops to another user before exec (the parent-death signal is set
    after the switch, so it survives it) and shuts down with SIGINT (PostgreSQL's fast mode:
    SIGTERM would wait for Debezium's replication connection to go away)."""

    def __init__(self, name, argv, log_path, uid=None, gid=None, cwd=None):
        super().__init__(name, argv, log_path, cwd=cwd)
        self.uid = uid
        self.gid = gid

    def start(self):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab", buffering=0)
        self._log.write(("$ %s\n" % " ".join(self.argv)).encode())
        kw = {}
        if self.uid is not None:
            # Popen switches user before preexec_fn runs, so the death signal outlives the switch
            kw = {"user": self.uid, "group": self.gid, "extra_groups": []}
        self.proc = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=dict(os.environ, LC_ALL="C"), cwd=self.cwd,
                                     start_new_session=True, preexec_fn=_set_pdeathsig, **kw)
        self.started_at = time.monotonic()
        with process._registry_lock:  # stopped by process.stop_all() at exit like every harness child
            process._registry.append(self)
        return self

    def stop(self, timeout: float = 20.0):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGINT)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                pass
        return super().stop(timeout=10)


class Postgres:
    def __init__(self, workdir, users=None, database: str = "postgres", settings=None):
        """`users`: {name: password}; `postgres` (the superuser, password "" unless given) always
        exists, the others are created with LOGIN REPLICATION. `settings`: extra postgresql.conf
        lines as a dict."""
        self.workdir = Path(workdir)
        self.users = {SUPERUSER: ""}
        self.users.update(users or {})
        self.database = database
        self.settings = dict(settings or {})
        self.host = "127.0.0.1"
        self.port = None
        self.data_dir = None
        self.process = None
        self.bin = bin_dir()

    # -- lifecycle ---------------------------------------------------------------------------
    def _run_as(self, argv, what, uid, gid, cwd):
        kw = {"user": uid, "group": gid, "extra_groups": []} if uid is not None else {}
        res = subprocess.run([str(a) for a in argv], capture_output=True, text=True, cwd=cwd,
                             env=dict(os.environ, LC_ALL="C"), **kw)
        with open(self.workdir / "initdb.log", "a") as f:
            f.write("$ %s\n%s%s\n" % (" ".join(str(a) for a in argv), res.stdout, res.stderr))
        if res.returncode != 0:
            raise ProcessError("%s failed (%s):\n%s%s" % (what, res.returncode, res.stdout[-3000:], res.stderr[-3000:]))

    def start(self, timeout: float = 60):
        self.workdir.mkdir(parents=True, exist_ok=True)
        uid, gid, user = os_user()
        base = Path(tempfile.mkdtemp(prefix="it-pg-"))
        self.data_dir = base / "data"
        self.data_dir.mkdir(mode=0o700)
        if uid is not None:
            for p in (base, self.data_dir):
                os.chown(p, uid, gid)
        os.chmod(base, 0o755)
        self.port = ports.free_port()

        initdb = [self.bin / "initdb", "-D", self.data_dir, "-U", SUPERUSER, "-E", "UTF8", "--locale=C",
                  "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"]
        pw_file = None
        if self.users[SUPERUSER]:
            pw_file = base / "pwfile"
            pw_file.write_text(self.users[SUPERUSER] + "\n")
            if uid is not None:
                os.chown(pw_file, uid, gid)
            initdb.append("--pwfile=%s" % pw_file)
        self._run_as(initdb, "initdb (as %s)" % user, uid, gid, str(base))
        if pw_file:
            pw_file.unlink()

        conf = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": "'%s'" % base,
            "wal_level": "logical",
            "max_wal_senders": "4",
            "max_replication_slots": "4",
            "max_connections": "40",
            "shared_buffers": "32MB",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "log_min_messages": "info",
            "log_connections": "on",
            "log_replication_commands": "on",
        }
        conf.update(self.settings)
        with open(self.data_dir / "postgresql.conf", "a") as f:
            f.write("\n# added by tests/harness/postgres.py\n")
            f.write("".join("%s = %s\n" % kv for kv in conf.items()))
        hba = ["# written by tests/harness/postgres.py",
               "local all all trust",
               "local replication all trust"]
        for name, password in self.users.items():
            if not password:
                hba += ["host all %s 127.0.0.1/32 trust" % name,
                        "host replication %s 127.0.0.1/32 trust" % name]
        hba += ["host all all 127.0.0.1/32 scram-sha-256",
                "host replication all 127.0.0.1/32 scram-sha-256"]
        (self.data_dir / "pg_hba.conf").write_text("\n".join(hba) + "\n")

        self.process = _ServerProcess("postgres", [self.bin / "postgres", "-D", self.data_dir],
                                      self.workdir / "postgres.log", uid=uid, gid=gid, cwd=str(base)).start()
        self.process.wait_for_log(r"database system is ready to accept connections", timeout, "ready")
        self.process.wait_for(lambda: self.sql("SELECT 1") == [[1]], 30, "answering SQL")
        for name, password in self.users.items():
            if name != SUPERUSER:
                self.sql("CREATE ROLE %s WITH LOGIN REPLICATION PASSWORD %s"
                         % (_ident(name), _literal(password)))
        return self

    def stop(self):
        if self.process:
            self.process.stop()
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)
            self.data_dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- SQL -----------------------------------------------------------------------------------
    def connect(self, user: str = SUPERUSER, database: str = None):
        """A pg8000.native.Connection (autocommit unless you run BEGIN ... COMMIT)."""
        import pg8000.native

        return pg8000.native.Connection(user, host=self.host, port=self.port,
                                        database=database or self.database,
                                        password=self.users.get(user) or None, timeout=30)

    def sql(self, statement: str, user: str = SUPERUSER, **params):
        """Rows of one statement (lists), parameters as `:name`."""
        conn = self.connect(user)
        try:
            return conn.run(statement, **params) or []
        finally:
            conn.close()

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines) if self.process else ""


def _ident(name: str) -> str:
    return '"%s"' % name.replace('"', '""')


def _literal(text: str) -> str:
    return "'%s'" % text.replace("'", "''")
