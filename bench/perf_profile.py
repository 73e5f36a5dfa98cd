"""`connect_bench.py --profile`: where a worker's CPU goes, in microseconds per record.

`perf record` samples the worker process (every thread, user and kernel) for exactly the timed
window of a run. The JVM is started with `-XX:+DumpPerfMapAtExit`, so when the worker stops it
writes /tmp/perf-PID.map and perf can name the JIT-compiled Java methods too; the Rust library
carries its symbols (`debug = 1` in the release profile). The report is flat (self time): call
graphs through JIT frames are unreliable without frame pointers, and self time per place is what
a per-record budget needs.

Each sample's place is put into one bucket (ours in Rust, the Java shim, Kafka's consumer, the
converter, the JVM's GC and compiler, the kernel, ...) and a bucket's share of the samples times
the run's worker CPU seconds, divided by the records, is its cost in microseconds per record.
"""
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

JVM_OPTS = "-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit"

# (bucket, test on "dso symbol"), first match wins; the order puts the specific before the general
BUCKETS = [
    ("rust: JSON/CSV rows", re.compile(r"libstarrocks.*(rows::|serde_json|ryu|itoa|simd_json|json::)")),
    ("rust: boundary decode", re.compile(r"libstarrocks.*(boundary::|reader::)")),
    ("rust: HTTP + compression", re.compile(r"libstarrocks.*(hyper|reqwest|h2::|tokio|mio|flate2|lz4|http::)")),
    ("rust: alloc + memcpy", re.compile(r"libstarrocks.*(alloc|memcpy|memmove|realloc|counting_alloc|bumpalo)")),
    ("rust: other", re.compile(r"libstarrocks")),
    ("java: our shim (encoder, task)", re.compile(r"com\.starrocks|com/starrocks")),
    ("java: JsonConverter + Jackson", re.compile(r"org\.apache\.kafka\.connect\.json|jackson|JsonConverter|JsonDeserializer")),
    ("java: Connect data (Struct, Schema, SinkRecord)", re.compile(r"org\.apache\.kafka\.connect\.(data|sink|storage|runtime)")),
    ("java: Kafka consumer + fetch", re.compile(r"org\.apache\.kafka\.(clients|common)")),
    ("java: JDK (collections, strings, NIO)", re.compile(r"java\.|javax\.|sun\.|jdk\.")),
    ("java: other JIT code", re.compile(r"perf-\d+\.map|\[JIT\]")),
    ("jvm: GC", re.compile(r"libjvm.*(G1|GC|gc|Heap|Mark|Evacuat|Region|Card|Oop|oop|Scan)")),
    ("jvm: interpreter, compiler, runtime", re.compile(r"libjvm")),
    ("libc (memcpy, malloc, locks)", re.compile(r"libc[.-]|ld-linux|libpthread")),
    ("kernel (syscalls, network, scheduling)", re.compile(r"\[kernel|\[k\]|vmlinux")),
]


def available() -> bool:
    return shutil.which("perf") is not None


class Recording:
    """`perf record` attached to one process for one window."""

    def __init__(self, pid: int, out: Path):
        self.pid = pid
        self.out = Path(out)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        # 499 Hz: ~1,000 samples a second on two CPUs, enough for 0.1 µs resolution on a
        # million records, and too rare to show in the run's own figures
        # system-wide, filtered to the worker when reported: `-p` follows only the threads that
        # exist when it attaches, and the connector's task threads start after that
        self.proc = subprocess.Popen(["perf", "record", "-a", "-F", "499", "-q", "-o", str(self.out)],
                                     stdout=subprocess.DEVNULL, stderr=open(str(self.out) + ".log", "w"))

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=60)

    def report(self, cpu_seconds: float, records: int, library_jar: Path = None) -> dict:
        """Buckets (µs per record) and the top places; call after the worker has exited (its perf
        map is written at exit). `library_jar`: the plugin jar that carries the native library, to
        put back the extracted copy the worker deleted at exit so perf can name Rust symbols."""
        restored = _restore_native_library(self.out, library_jar) if library_jar else []
        try:
            text = subprocess.run(["perf", "script", "-i", str(self.out), "-F", "pid,ip,sym,dso", "--pid", str(self.pid)],
                                  capture_output=True, text=True, errors="replace", check=False).stdout
        finally:
            for path in restored:
                path.unlink(missing_ok=True)
        counts = {}
        for line in text.splitlines():
            m = re.match(r"\s*(\d+)\s+[0-9a-f]+\s+(.*?)\s*\(([^()]*)\)\s*$", line)
            if m:
                key = (os.path.basename(m.group(3)), m.group(2) or "[unknown]")
                counts[key] = counts.get(key, 0) + 1
        total = sum(counts.values()) or 1
        us = 1e6 * cpu_seconds / max(records, 1)
        buckets = {}
        for (dso, sym), n in counts.items():
            key = ("%s %s" % (dso, sym)).replace("/", ".")
            name = next((b for b, rx in BUCKETS if rx.search(key)), "other")
            buckets[name] = buckets.get(name, 0) + n
        top = sorted(counts.items(), key=lambda kv: -kv[1])
        Path(str(self.out) + ".txt").write_text("".join("%6.2f%%  %s  %s\n" % (100.0 * n / total, d, s) for (d, s), n in top))
        return {
            "samples": total,
            "us_per_record": round(us, 3),
            "buckets_us": {b: round(n / total * us, 3) for b, n in sorted(buckets.items(), key=lambda kv: -kv[1])},
            "top": [{"pct": round(100.0 * n / total, 2), "dso": d, "sym": s[:120]} for (d, s), n in top[:25]],
        }


def _restore_native_library(perf_data: Path, jar: Path) -> list:
    """The shim extracts its library to a temporary file and deletes it at exit; put the same bytes
    back at the recorded paths (from the jar it came from) for as long as the report runs."""
    import zipfile

    mmaps = subprocess.run(["perf", "script", "-i", str(perf_data), "--show-mmap-events", "-F", "pid"],
                           capture_output=True, text=True, errors="replace", check=False).stdout
    paths = {Path(p) for p in re.findall(r"(/\S*libstarrocks_kafka_native\.so)", mmaps)}
    restored = []
    with zipfile.ZipFile(jar) as z:
        names = [n for n in z.namelist() if n.endswith("libstarrocks_kafka_native.so") and "linux" in n and "x86" in n]
        for path in paths:
            if names and not path.exists():
                path.write_bytes(z.read(names[0]))
                restored.append(path)
    return restored


def print_profile(label: str, prof: dict):
    print("\n  profile of %s: %.2f µs of worker CPU per record" % (label, prof["us_per_record"]))
    for name, us in prof["buckets_us"].items():
        if us >= 0.01:
            print("    %-48s %6.2f µs" % (name, us))
    print("    top places (share of samples):")
    for p in prof["top"][:15]:
        print("      %5.1f%%  %-22s %s" % (p["pct"], os.path.basename(p["dso"])[:22], p["sym"]))
