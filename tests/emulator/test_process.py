"""The binary itself: port line, CLI errors, signals."""
import json
import os
import signal
import subprocess

import pytest

from harness import emulator as harness_emulator
from harness.emulator import Emulator, EmulatorError


def test_first_line_is_the_port_json(run_dir):
    argv = [harness_emulator.binary(), "--fe-http-port", "0", "--be-http-port", "0", "--query-port", "0"]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = p.stdout.readline().decode()
        ports = json.loads(line)
        assert list(ports) == ["fe_http_port", "be_http_port", "query_port"]
        assert all(isinstance(v, int) and v > 0 for v in ports.values())
        assert len(set(ports.values())) == 3
    finally:
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=10) == 0, "SIGINT exits cleanly"
    assert b"INFO" in p.stderr.read(), "logs go to stderr"


def test_sigterm_exit_code_zero(run_dir):
    emu = Emulator(workdir=run_dir / "sigterm")
    assert emu.stop() == 0


def test_unknown_option_exit_code_2():
    r = subprocess.run([harness_emulator.binary(), "--nope", "1"], capture_output=True, timeout=10)
    assert r.returncode == 2
    assert b"unknown option --nope" in r.stderr and b"usage:" in r.stderr


def test_port_in_use_fails_clearly(run_dir):
    with Emulator(workdir=run_dir / "busy") as emu:
        r = subprocess.run([harness_emulator.binary(), "--fe-http-port", str(emu.fe_http_port), "--be-http-port", "0",
                            "--query-port", "0"], capture_output=True, timeout=10)
        assert r.returncode != 0
        assert b"cannot bind the FE HTTP port" in r.stderr


def test_missing_binary_tells_to_run_make_build(monkeypatch):
    monkeypatch.setenv("STARROCKS_EMULATOR_BIN", "/nonexistent/starrocks-emulator")
    with pytest.raises(EmulatorError, match="make build"):
        Emulator()


def test_root_password(run_dir):
    with Emulator(workdir=run_dir / "rootpw", root_password="s3cret") as emu:
        assert emu.sql("SELECT 1") == [(1,)]
        import requests
        r = requests.put(emu.fe_url + "/api/db/t/_stream_load", auth=("root", ""),
                         headers={"Expect": "100-continue"}, allow_redirects=False, timeout=10)
        assert r.status_code == 401
        r = requests.put(emu.fe_url + "/api/db/t/_stream_load", auth=("root", "s3cret"),
                         headers={"Expect": "100-continue"}, allow_redirects=False, timeout=10)
        assert r.status_code == 307
