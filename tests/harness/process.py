"""Child processes for the harness: started with their output in a log file, polled for
readiness, stopped with SIGTERM then SIGKILL, and always cleaned up.

Cleanup happens three ways: the owner calls `stop()` (fixtures do, in finalizers); an `atexit`
hook stops whatever is still running when Python exits; and on Linux every child gets
PR_SET_PDEATHSIG=SIGKILL, so even a killed test runner leaves no server behind.
"""
import atexit
import ctypes
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

_registry = []
_registry_lock = threading.Lock()


class ProcessError(RuntimeError):
    """A child process failed to start, died, or never became ready. The message carries the
    tail of its log."""


def _set_pdeathsig():  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def tail(path, lines: int = 60) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError as e:
        return "<no log: %s>" % e
    return "\n".join(data.splitlines()[-lines:])


def terminate(proc: subprocess.Popen, timeout: float):
    """SIGTERM `proc`, wait up to `timeout` seconds, then SIGKILL it."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass


class ManagedProcess:
    """One child process whose stdout and stderr go to `log_path`."""

    def __init__(self, name, argv, log_path, env=None, cwd=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self.env = env
        self.cwd = cwd
        self.proc = None
        self.started_at = None
        self._log = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab", buffering=0)
        self._log.write(("$ %s\n" % " ".join(self.argv)).encode())
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen(
            self.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=self.cwd,
            start_new_session=True,
            preexec_fn=_set_pdeathsig,
        )
        self.started_at = time.monotonic()
        with _registry_lock:
            _registry.append(self)
        return self

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20.0):
        """SIGTERM, wait up to `timeout` seconds, then SIGKILL. Returns the exit code."""
        if self.proc is None:
            return None
        terminate(self.proc, timeout)
        with _registry_lock:
            if self in _registry:
                _registry.remove(self)
        if self._log:
            self._log.close()
            self._log = None
        return self.proc.returncode

    # -- logs and readiness ----------------------------------------------------------------
    def log_text(self) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return tail(self.log_path, lines)

    def fail(self, message: str):
        raise ProcessError(
            "%s: %s\n--- last lines of %s ---\n%s" % (self.name, message, self.log_path, self.log_tail())
        )

    def wait_for(self, predicate, timeout: float, what: str, interval: float = 0.5):
        """Poll `predicate()` until it returns a truthy value (which is returned). Exceptions from
        the predicate count as "not yet". Fails early if the process exits."""
        deadline = time.monotonic() + timeout
        last_error = None
        while True:
            if not self.alive():
                self.fail("exited with code %s while waiting for %s" % (self.proc.returncode, what))
            try:
                result = predicate()
                if result:
                    return result
            except Exception as e:  # not ready yet
                last_error = e
            if time.monotonic() > deadline:
                extra = " (last error: %r)" % (last_error,) if last_error else ""
                self.fail("not %s after %.0f s%s" % (what, timeout, extra))
            time.sleep(interval)

    def wait_for_log(self, pattern: str, timeout: float, what: str = None):
        rx = re.compile(pattern)
        return self.wait_for(lambda: rx.search(self.log_text()), timeout, what or "logging %r" % pattern)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def running():
    with _registry_lock:
        return list(_registry)


def stop_all():
    for p in reversed(running()):
        try:
            p.stop(timeout=10)
        except Exception:
            pass


atexit.register(stop_all)


# -- Java --------------------------------------------------------------------------------------
def java_bin() -> str:
    """`$JAVA_HOME/bin/java` if JAVA_HOME is set, else `java` on PATH."""
    home = os.environ.get("KAFKA_JAVA_HOME") or os.environ.get("JAVA_HOME")
    if home and os.path.exists(os.path.join(home, "bin", "java")):
        return os.path.join(home, "bin", "java")
    found = shutil.which("java")
    if not found:
        raise RuntimeError("no java on PATH and JAVA_HOME is not set")
    return found


_major_cache = {}


def java_major(java: str = None) -> int:
    java = java or java_bin()
    if java not in _major_cache:
        out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
        m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
        major = int(m.group(1)) if m else 0
        if major == 1 and m.group(2):  # 1.8
            major = int(m.group(2))
        _major_cache[java] = major
    return _major_cache[java]


def java_command(main_class, classpath, args=(), heap="512m", sysprops=None, java=None, jvm_args=(),
                 native_access=True, after_classpath=()):
    """argv for `java -Xms.. -Xmx.. [-Dk=v ...] -cp <classpath> [after_classpath ...] main args...`.

    `native_access`: on Java 22+ the harness adds `--enable-native-access=ALL-UNNAMED` itself (so the
    JNI load of the plugin prints no warning); pass False to leave that to `after_classpath`, as a
    user's KAFKA_OPTS does (see `kafka_opts_words`)."""
    java = java or java_bin()
    argv = [java, "-Xms128m", "-Xmx" + heap, "-XX:+UseG1GC", "-Djava.awt.headless=true"]
    if native_access and java_major(java) >= 22:
        argv.append("--enable-native-access=ALL-UNNAMED")
    argv.extend(jvm_args)
    for k, v in (sysprops or {}).items():
        argv.append("-D%s=%s" % (k, v))
    if isinstance(classpath, (list, tuple)):
        classpath = os.pathsep.join(str(c) for c in classpath)
    argv += ["-cp", str(classpath)]
    argv += [str(a) for a in after_classpath]
    argv.append(main_class)
    argv += [str(a) for a in args]
    return argv


def kafka_opts_words(kafka_opts: str) -> list:
    """The words `bin/kafka-run-class.sh` makes of $KAFKA_OPTS: it expands the variable unquoted
    (`exec "$JAVA" $KAFKA_HEAP_OPTS ... -cp "$CLASSPATH" $KAFKA_OPTS "$@"`), so the shell splits it
    on whitespace and does not interpret quotes."""
    return (kafka_opts or "").split()


# -- the newest JDK on the machine ---------------------------------------------------------------
JVM_ROOT = "/usr/lib/jvm"
NEWEST_JAVA_ENV = "NEWEST_JAVA_HOME"


def _java_of(home_or_binary: str):
    p = Path(home_or_binary)
    for cand in (p / "bin" / "java", p):
        if cand.is_file() and os.access(str(cand), os.X_OK):
            return str(cand)
    return None


def newest_java(root: str = JVM_ROOT) -> str:
    """The `java` of the newest JDK: `$NEWEST_JAVA_HOME` (a JDK home or a java binary) if set, else
    the one under `root` (/usr/lib/jvm) with the highest `java -version` major (aliases and
    symlinks to the same JDK count once). Raises RuntimeError if none is found."""
    forced = os.environ.get(NEWEST_JAVA_ENV)
    if forced:
        java = _java_of(forced)
        if not java:
            raise RuntimeError("%s=%s holds no bin/java" % (NEWEST_JAVA_ENV, forced))
        return java
    best, seen = None, set()
    for home in sorted(Path(root).glob("*")) if Path(root).is_dir() else []:
        java = _java_of(str(home))
        if not java or os.path.realpath(java) in seen:
            continue
        seen.add(os.path.realpath(java))
        major = java_major(java)
        if best is None or major > best[0]:
            best = (major, java)
    if best is None:
        raise RuntimeError("no JDK under %s (set %s to one)" % (root, NEWEST_JAVA_ENV))
    return best[1]
