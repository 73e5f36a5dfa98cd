#!/usr/bin/env python3
"""What `make` sets up by itself before it builds, demos or tests, each part only when it is missing:

    python3 scripts/setup_env.py venv [--venv .venv]   the project's Python environment
    python3 scripts/setup_env.py build-tools           a C toolchain for Rust's linker
    python3 scripts/setup_env.py test-tools            what only `make test` needs from Debian

`venv` makes `.venv/` (git-ignored) from the pinned `tests/requirements.txt`: the harness's and the
demo's packages, and Zig with cargo-zigbuild, which build the release library against glibc 2.17.
Nothing goes into the system Python. It is done again only when the requirements file changes
(a stamp in the environment holds the file's hash).

`build-tools` and `test-tools` install Debian packages with apt-get when they are missing and we
are root; otherwise they stop at once with the exact command to run. `test-tools` is PostgreSQL
(the CDC suite runs Debezium against a real server) and the `mysql` command-line client (the tests
that prove the docs' CLI session works); the demo needs neither.

Standard library only: it runs before the environment exists.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "tests" / "requirements.txt"
T0 = time.monotonic()


def say(msg):
    print("[setup %5.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


def run(argv, **kw):
    say("$ " + " ".join(str(a) for a in argv))
    subprocess.run([str(a) for a in argv], check=True, **kw)


# -- Debian packages ----------------------------------------------------------------------------------
def apt_install(packages, who, why):
    """Install Debian `packages`, which `who` needs for `why`, when we are root with apt-get; else
    stop with the command to run."""
    cmd = "apt-get update && apt-get install -y --no-install-recommends " + " ".join(packages)
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        where = "as root" if shutil.which("apt-get") else "(or your system's equivalent)"
        raise SystemExit("setup: %s needs %s (%s), not installed here. Run %s:\n\n    %s\n"
                         % (who, " and ".join(packages), why, where, ("sudo " if shutil.which("sudo") else "") + cmd))
    say("installing %s from Debian for %s (%s)" % (" and ".join(packages), who, why))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-q"], env=env)
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + list(packages), env=env)


# The harness finds the tools the same way when the tests run (its modules are standard library).
sys.path.insert(0, str(ROOT / "tests"))
from harness import mysql, postgres  # noqa: E402


def postgres_installed() -> bool:
    try:
        postgres.bin_dir()
        return True
    except RuntimeError:
        return False


def mysql_cli_installed() -> bool:
    return mysql.mysql_bin(required=False) is not None


def build_tools(_args):
    # Rust links its host binaries (the emulator, the tests) with the system's C compiler
    if not (shutil.which("cc") or shutil.which("gcc")):
        apt_install(["gcc", "libc6-dev"], "cargo build", "Rust links with the system's C compiler")


def test_tools(_args):
    missing = []
    if not postgres_installed():
        missing.append("postgresql")
    if not mysql_cli_installed():
        missing.append("mariadb-client")
    if missing:
        apt_install(missing, "make test", "PostgreSQL for the CDC suite, the mysql client for the docs' CLI session")


# -- the Python environment -------------------------------------------------------------------------
def _stamp_value() -> str:
    h = hashlib.sha256(REQUIREMENTS.read_bytes())
    h.update(sys.version.encode())
    return h.hexdigest()


def _make_venv(venv: Path):
    try:
        run([sys.executable, "-m", "venv", str(venv)])
    except subprocess.CalledProcessError:
        shutil.rmtree(venv, ignore_errors=True)
        # Debian splits venv (and the ensurepip it needs) out of python3
        minor = "python3.%d-venv" % sys.version_info[1]
        apt_install(["python3-venv", minor], "the project's Python environment", "python3 -m venv needs ensurepip")
        run([sys.executable, "-m", "venv", str(venv)])


def venv(args):
    venv = Path(args.venv)
    if not venv.is_absolute():
        venv = ROOT / venv
    stamp = venv / ".requirements-sha256"
    python = venv / "bin" / "python"
    want = _stamp_value()
    if python.exists() and stamp.exists() and stamp.read_text().strip() == want:
        stamp.touch()  # newer than what make compares it with: no rerun until the requirements change
        return
    if not python.exists():
        say("creating the Python environment %s (once)" % venv)
        _make_venv(venv)
    say("installing tests/requirements.txt into %s (the harness, the demo, Zig and cargo-zigbuild: "
        "about 100 MB of wheels from PyPI the first time)" % venv.name)
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PIP_BREAK_SYSTEM_PACKAGES", None)
    env.pop("PIP_USER", None)
    run([python, "-m", "pip", "install", "-q", "-r", REQUIREMENTS], env=env)
    stamp.write_text(want + "\n")
    say("Python environment ready")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    v = sub.add_parser("venv", help="the project's Python environment from tests/requirements.txt")
    v.add_argument("--venv", default=".venv")
    v.set_defaults(fn=venv)
    sub.add_parser("build-tools", help="a C toolchain for Rust").set_defaults(fn=build_tools)
    sub.add_parser("test-tools", help="PostgreSQL and the mysql client for make test").set_defaults(fn=test_tools)
    args = ap.parse_args(argv)
    args.fn(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
