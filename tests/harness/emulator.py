"""The StarRocks emulator as a child process: `Emulator()` starts target/release/starrocks-emulator
(or $STARROCKS_EMULATOR_BIN) on free loopback ports, reads the port line it prints first, and stops
it with SIGTERM (then SIGKILL). Its stderr goes to `<workdir>/emulator.log` when a workdir is given.
With `tls_cert`/`tls_key` (PEM files, e.g. from harness.tls.make_pki) both HTTP ports serve HTTPS;
`tls_ca` is the CA file `requests` verifies them against (`.verify`).

    with Emulator(workdir=tmp) as emu:
        emu.sql("CREATE DATABASE db")
        requests.put(emu.fe_url + "/api/db/t/_stream_load", ...)
"""
import json
import os
import select
import subprocess
import time
from pathlib import Path

from . import mysql, process

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


class EmulatorError(RuntimeError):
    pass


def binary() -> str:
    path = os.environ.get("STARROCKS_EMULATOR_BIN") or str(ROOT / "target" / "release" / "starrocks-emulator")
    if not os.path.exists(path):
        raise EmulatorError("no emulator binary at %s: run `make build` (or set STARROCKS_EMULATOR_BIN)" % path)
    return path


class Emulator:
    def __init__(self, workdir=None, args=(), root_password="", data_dir=None, start=True, timeout=30.0,
                 tls_cert=None, tls_key=None, tls_ca=None):
        self.workdir = Path(workdir) if workdir else None
        self.args = list(args)
        self.root_password = root_password
        self.data_dir = Path(data_dir) if data_dir else None
        self.timeout = timeout
        self.tls_cert, self.tls_key = tls_cert, tls_key
        self.scheme = "https" if tls_cert else "http"
        # what `requests` verifies the HTTPS ports against (the default bundle without tls_ca)
        self.verify = str(tls_ca) if tls_ca else True
        self.host = HOST
        self.fe_http_port = self.be_http_port = self.query_port = None
        self.proc = None
        self._log = None
        if start:
            self.start()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self):
        argv = [binary(), "--host", HOST, "--fe-http-port", "0", "--be-http-port", "0", "--query-port", "0"]
        if self.root_password:
            argv += ["--root-password", self.root_password]
        if self.data_dir:
            argv += ["--data-dir", str(self.data_dir)]
        if self.tls_cert:
            argv += ["--tls-cert", str(self.tls_cert), "--tls-key", str(self.tls_key)]
        argv += [str(a) for a in self.args]
        if self.workdir:
            self.workdir.mkdir(parents=True, exist_ok=True)
            self._log = open(self.workdir / "emulator.log", "ab", buffering=0)
            self._log.write(("$ %s\n" % " ".join(argv)).encode())
            stderr = self._log
        else:
            stderr = subprocess.DEVNULL
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL,
                                     start_new_session=True, preexec_fn=process._set_pdeathsig)
        line = self._first_line()
        try:
            ports = json.loads(line)
            self.fe_http_port = int(ports["fe_http_port"])
            self.be_http_port = int(ports["be_http_port"])
            self.query_port = int(ports["query_port"])
        except (ValueError, KeyError, TypeError):
            self.stop()
            raise EmulatorError("emulator printed %r instead of its port line%s" % (line, self._log_hint()))
        return self

    def _first_line(self) -> str:
        deadline = time.monotonic() + self.timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise EmulatorError("emulator did not print its ports within %.0f s%s" % (self.timeout, self._log_hint()))
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    code = self.proc.wait(timeout=5)
                    raise EmulatorError("emulator exited with code %s before printing its ports%s" % (code, self._log_hint()))
                buf += chunk
        return buf.split(b"\n", 1)[0].decode("utf-8", "replace")

    def _log_hint(self) -> str:
        if self.workdir:
            return "\n--- %s ---\n%s" % (self.workdir / "emulator.log", process.tail(self.workdir / "emulator.log", 30))
        return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0):
        """SIGTERM, wait, then SIGKILL. Returns the exit code."""
        if self.proc is None:
            return None
        process.terminate(self.proc, timeout)
        if self.proc.stdout:
            self.proc.stdout.close()
        if self._log:
            self._log.close()
            self._log = None
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- access ------------------------------------------------------------------------------
    @property
    def fe_url(self) -> str:
        return "%s://%s:%d" % (self.scheme, self.host, self.fe_http_port)

    @property
    def be_url(self) -> str:
        return "%s://%s:%d" % (self.scheme, self.host, self.be_http_port)

    def sql(self, statement: str, database: str = None, user: str = "root", password: str = None):
        """Rows of one statement through pymysql, as tuples."""
        pw = self.root_password if password is None and user == "root" else (password or "")
        return mysql.query(self.query_port, statement, user=user, password=pw, database=database, host=self.host)

    def faults(self, kind: str, count: int = 1, **kw):
        """Arm a fault for the next `count` matching requests (kw: table=, seconds=)."""
        import requests

        body = {"kind": kind, "count": count}
        body.update(kw)
        r = requests.post(self.fe_url + "/api/_emulator/faults", json=body, timeout=10, verify=self.verify)
        r.raise_for_status()
        return r.json()

    def list_faults(self):
        import requests

        return requests.get(self.fe_url + "/api/_emulator/faults", timeout=10, verify=self.verify).json()

    def clear_faults(self):
        import requests

        requests.delete(self.fe_url + "/api/_emulator/faults", timeout=10, verify=self.verify).raise_for_status()
