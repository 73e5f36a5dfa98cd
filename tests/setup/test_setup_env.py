"""The set-up `make` does by itself (scripts/setup_env.py) and the build's refusal to fall back
silently to a non-release library (scripts/build_native.py)."""
import os
import subprocess
import sys
import time

import pytest

from harness import plugin

ROOT = plugin.ROOT
sys.path.insert(0, str(ROOT / "scripts"))

import build_native  # noqa: E402
import setup_env  # noqa: E402


def test_the_environment_is_the_one_running_the_tests():
    """make runs every suite with .venv's python, not the system's."""
    assert sys.prefix != sys.base_prefix, "pytest runs outside a virtual environment: %s" % sys.prefix
    assert (ROOT / ".venv").resolve() == __import__("pathlib").Path(sys.prefix).resolve()


def test_venv_is_not_made_again_while_the_requirements_are_unchanged():
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "setup_env.py"), "venv"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "", "the environment was set up again: %s" % res.stdout
    assert time.monotonic() - t0 < 30


def test_a_missing_debian_package_stops_with_the_command_when_not_root(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(setup_env, "postgres_installed", lambda: False)
    monkeypatch.setenv("MYSQL_CLIENT", "none")
    with pytest.raises(SystemExit) as e:
        setup_env.test_tools(None)
    msg = str(e.value)
    assert "apt-get install -y --no-install-recommends postgresql mariadb-client" in msg, msg
    assert msg.startswith("setup: make test needs postgresql and mariadb-client"), msg
    assert "make test" in msg, msg


def test_nothing_is_missing_here(monkeypatch):
    """On this machine make test has installed both, so test_tools does nothing (no apt-get)."""
    monkeypatch.setattr(setup_env, "apt_install", lambda *a: pytest.fail("would install %r" % (a,)))
    setup_env.test_tools(None)


def test_no_silent_fallback_without_zig(monkeypatch, tmp_path):
    monkeypatch.setattr(build_native, "zigbuild_available", lambda cargo: False)
    monkeypatch.delenv("ZIGBUILD", raising=False)
    ran = []
    monkeypatch.setattr(build_native, "run", lambda argv, **kw: ran.append(argv))
    with pytest.raises(SystemExit) as e:
        build_native.main(["--out", str(tmp_path), "x86_64-unknown-linux-gnu"])
    assert "ZIGBUILD=0" in str(e.value) and "cargo-zigbuild or Zig is missing" in str(e.value)
    assert ran == []


def test_zigbuild_0_asks_for_plain_cargo(monkeypatch, tmp_path):
    monkeypatch.setenv("ZIGBUILD", "0")
    ran = []

    def fake_run(argv, **kw):
        ran.append(argv)
        raise SystemExit("stop after the command")

    monkeypatch.setattr(build_native, "run", fake_run)
    with pytest.raises(SystemExit):
        build_native.main(["--out", str(tmp_path), "x86_64-unknown-linux-gnu"])
    assert ran and ran[0][1] == "build" and "zigbuild" not in ran[0], ran
