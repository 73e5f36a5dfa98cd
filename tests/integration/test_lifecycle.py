"""Lifecycle without leaks (issue 24): one distributed Connect worker with the packaged plugin goes
through LIFECYCLES steps (100 in `make test`, 1,000 in `make soak`), each one REST operation on a
connector, chosen in a seeded random order from what its state allows:

    no connector   -> create (a new name, a new 2-partition topic and table, tasks.max 1 or 2)
    RUNNING        -> pause, restart (?includeTasks=true), config update (PUT config: tasks.max
                      flips between 1 and 2, bufferflush.intervalms changes), delete
    PAUSED         -> resume, restart (the new tasks start paused), delete

A few records are produced whenever a step leaves the connector RUNNING, and before every pause and
delete the test waits until StarRocks (the emulator) has every one of them, so each incarnation of
each connector is proven to load.

After each step settles (the REST status shows the target state; for restart, update and delete the
log shows every old task's native sink closed) the test samples the worker: its threads by name
(/proc/<pid>/task/*/comm, trailing numbers stripped: `sr-rows-1` counts as `sr-rows-`), its open
file descriptors, its RSS in and outside the Java heap (/proc/<pid>/smaps), and the native library's
own heap counter (`native-allocated-bytes`, read over JMX from any sink task's MBean: the value is
the process's, see docs/metrics.md). After a warm-up, each must come back to its baseline within the
tolerances below (RSS outside the Java heap; the heap's own share is printed, not checked), and so
must the Java heap after a full GC (`jcmd GC.run`, once after the warm-up and once at the end); a
leak fails the test with the series printed. The summary and the series are also written to
`lifecycle-series.txt` in the test's log folder.

After each delete, within DELETE_GRACE_S: no thread of ours is left (the native I/O runtime's
`starrocks-sink-io` and the serializers' `sr-rows-<task>` in /proc; every Java thread whose name
holds the connector's, such as Connect's `task-thread-<name>-0`, in `jcmd <pid> Thread.print`; the
I/O runtime also carries the library's timers, so no timer is left either), no socket of the
worker's goes to an emulator port, and the task's MBean is gone.

`LIFECYCLES` sets the number of steps, `LIFECYCLE_SEED` the seed (printed, so a failure replays).
100 steps take about 2 minutes on the 2-core build machine, 1,000 about 17 (docs/delivery-guarantees.md,
"Lifecycle: nothing left behind").
"""
import collections
import os
import random
import re
import shutil
import subprocess
import time

from harness import connect, jmx, kafka, starrocks
from harness.process import java_bin

from harness.faults import report

LIFECYCLES = int(os.environ.get("LIFECYCLES", "100"))
SEED = int(os.environ.get("LIFECYCLE_SEED", "24"))
# Steps before the baseline is taken: the JVM loads the plugin's classes, the JIT compiles, Connect
# creates its executors' threads and the heap finds its size during the first connectors.
WARMUP_STEPS = max(20, LIFECYCLES // 5)
RECORDS_PER_STEP = 5
DB = "d"

# How far the end of the run may be above the baseline. Each is compared at the same point of a
# connector's life (threads, fds, RSS: right after a delete, with no connector; native bytes: right
# before a delete, every record loaded, with as many sinks open) between the highest of the first
# END_SAMPLES such points after the warm-up (the baseline) and the lowest of the last END_SAMPLES
# (the end): a leak raises the floor, noise does not.
END_SAMPLES = 3
# Connect keeps idle threads of its cached executors for 60 s ("pool-N-thread-N" runs each task,
# StartAndStopExecutor starts and stops them), and JMX's RMI connection threads come and go.
THREADS_TOLERANCE = 6
# Those threads' sockets, and the consumers' broker connections that close a moment after the task.
FDS_TOLERANCE = 12
# RSS outside the Java heap. The heap's share of RSS is left out of the check (it is in the series):
# G1 sizes the heap between -Xms128m and -Xmx768m by how much of the time GC takes, whatever the
# heap holds (on the build machine, shared with other jobs, RSS rose by 155 MiB in one 100-step run
# with 20 MiB in the heap after a full GC and the native counter flat, and by 5 MiB in the others);
# what it holds is checked after a full GC (HEAP_TOLERANCE). Outside the heap, over 1,000 steps
# (measured with -XX:NativeMemoryTracking): the JIT's code cache grew 9 MiB, metaspace 2 MiB (with
# fewer classes loaded), and about 7 MiB NMT does not see, most likely glibc's malloc arenas, while
# the native library's own heap stayed flat: 15-18 MiB in all.
RSS_TOLERANCE = 48 << 20
# The library's heap right before a delete is 90-160 KiB (measured): the I/O runtime, the HTTP client
# and 30-65 KiB per open sink, depending on what its buffers grew to. A quarter of a MiB is a few
# sinks' worth: one sink left behind per connector shows after a handful of connectors.
NATIVE_TOLERANCE = 256 << 10
# The Java heap after a full GC (jcmd GC.run) after the warm-up and at the end (measured: 20 MiB
# both times). Connect's own state of a deleted connector is gone; what a task leaked would stay.
HEAP_TOLERANCE = 8 << 20
# A deleted connector's threads, sockets and MBean must be gone within this many seconds.
DELETE_GRACE_S = 10

# Threads of ours that only exist while a sink is open (Linux shows 15 characters of a name).
NATIVE_THREADS = ("starrocks-sink-", "sr-rows-")


# -- sampling the worker ---------------------------------------------------------------------------
def group_name(name: str) -> str:
    return re.sub(r"\d+$", "", name)


def thread_names(pid: int) -> collections.Counter:
    names = collections.Counter()
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                names[f.read().strip()] += 1
        except OSError:
            pass  # ended meanwhile
    return names


def fd_count(pid: int) -> int:
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_in(pid: int, lo: int, hi: int) -> int:
    """RSS bytes of the worker's mappings inside [lo, hi) (/proc/<pid>/smaps)."""
    total, inside = 0, False
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            if line[0].isdigit() or line[0].islower():  # a mapping's header: "start-end perms ..."
                start, end = (int(x, 16) for x in line.split(" ", 1)[0].split("-"))
                inside = lo <= start and end <= hi
            elif inside and line.startswith("Rss:"):
                total += int(line.split()[1]) * 1024
    return total


def java_heap_range(pid: int) -> tuple:
    """The address range the JVM reserved for its heap (`jcmd GC.heap_info`)."""
    out = subprocess.run([jcmd(), str(pid), "GC.heap_info"], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    m = re.search(r"\[0x([0-9a-f]+), 0x([0-9a-f]+)\)", out)
    assert m, out
    return int(m.group(1), 16), int(m.group(2), 16)


def rss_bytes(pid: int) -> int:
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for %d" % pid)


def sockets_to(pid: int, ports) -> list:
    """The worker's TCP sockets whose remote port is one of `ports`, as 'local -> remote state'."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    out = []
    for table in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, table)) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local, remote, state, inode = parts[1], parts[2], parts[3], parts[9]
            if inode in inodes and int(remote.rsplit(":", 1)[1], 16) in ports:
                out.append("%s -> %s state %s" % (local, remote, state))
    return out


def jcmd() -> str:
    beside = os.path.join(os.path.dirname(os.path.realpath(java_bin())), "jcmd")
    return beside if os.path.exists(beside) else (shutil.which("jcmd") or "jcmd")


def java_threads(pid: int) -> list:
    """Names of the worker's Java threads (`jcmd <pid> Thread.print`)."""
    out = subprocess.run([jcmd(), str(pid), "Thread.print"], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError("jcmd Thread.print failed: %s" % (out.stderr or out.stdout)[-2000:])
    return re.findall(r'^"(.*?)" ', out.stdout, re.M)


def heap_after_gc(pid: int) -> tuple:
    """(used, committed) bytes of the Java heap after a full GC (`jcmd GC.run`, then `GC.heap_info`)."""
    subprocess.run([jcmd(), str(pid), "GC.run"], capture_output=True, text=True, timeout=120, check=True)
    out = subprocess.run([jcmd(), str(pid), "GC.heap_info"], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    m = re.search(r"heap\s+total (\d+)K, used (\d+)K", out)
    assert m, out
    return int(m.group(2)) * 1024, int(m.group(1)) * 1024


class LogWatch:
    """Counts the native sinks closed per connector in the worker's log, reading only what is new."""

    CLOSED = re.compile(r"StarRocks sink task \d+ of (\S+) closed")

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.rest = b""
        self.closed = collections.Counter()

    def poll(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        lines = (self.rest + data).split(b"\n")
        self.rest = lines.pop()
        for line in lines:
            m = self.CLOSED.search(line.decode("utf-8", "replace"))
            if m:
                self.closed[m.group(1)] += 1
        return self.closed


# -- the connector under test ------------------------------------------------------------------------
class Lifecycle:
    """Drives connectors one at a time through the worker's REST API and samples the worker."""

    def __init__(self, worker, emulator, kafka_broker, sampler, unique, rnd):
        self.w = worker
        self.rest = worker.rest
        self.pid = worker.process.pid
        self.emulator = emulator
        self.broker = kafka_broker
        self.sampler = sampler
        self.unique = unique
        self.rnd = rnd
        self.log = LogWatch(worker.workdir / "worker.log")
        self.producer = kafka.ReliableProducer(kafka_broker.bootstrap)
        self.ports = {emulator.fe_http_port, emulator.be_http_port, emulator.query_port}
        self.serial = 0
        self.next_id = 0
        # the connector now: None, or its name, topic/table, tasks, state and records produced
        self.name = None
        self.tasks = 0
        self.state = None
        # native sinks open: a task (re)started while its connector is paused waits for the resume
        # before Connect calls its start(), so it has none yet
        self.open = 0
        self.produced = 0
        self.interval = 1000
        self.steps = 0  # steps done
        self.samples = []  # one dict per step, and one before each delete
        self.heap_range = java_heap_range(self.pid)
        self.durations = collections.defaultdict(list)
        self.cleanup_s = []  # per delete: from the REST answer to nothing of the connector left

    # connector config
    def config(self):
        return starrocks.sink_config(self.emulator, DB, **{
            "topics": self.topic,
            "tasks.max": str(self.tasks),
            "starrocks.topic2table.map": "%s:%s" % (self.topic, self.table),
            "sink.properties.strip_outer_array": "true",
            "bufferflush.intervalms": str(self.interval),
        })

    def call(self, fn, *args, timeout=60):
        """A REST call, retried while the worker answers 409 (a rebalance in progress)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return fn(*args)
            except connect.ConnectError as e:
                if e.status_code != 409 or time.monotonic() > deadline:
                    raise
                time.sleep(0.25)

    # waiting
    def wait_status(self, state, tasks, timeout=120):
        def ok(st):
            connect.failed(st)
            ts = st.get("tasks", [])
            return (st["connector"]["state"] == state and len(ts) == tasks
                    and all(t["state"] == state for t in ts))
        self.rest.wait_for(self.name, ok, timeout, "%s with %d task(s)" % (state, tasks), self.w.process)

    def wait_closed(self, count, timeout=120):
        """Until the log shows `count` native sinks of this connector closed in all."""
        deadline = time.monotonic() + timeout
        while self.log.poll()[self.name] < count:
            if not self.w.process.alive():
                self.w.process.fail("exited while %s's tasks were closing" % self.name)
            if time.monotonic() > deadline:
                raise TimeoutError("%s: %d native sink(s) closed after %.0f s, wanted %d"
                                   % (self.name, self.log.closed[self.name], timeout, count))
            time.sleep(0.1)

    def distinct_loaded(self):
        return self.emulator.sql("SELECT COUNT(DISTINCT id) FROM %s.%s" % (DB, self.table))[0][0]

    def wait_loaded(self, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            got = self.distinct_loaded()
            if got >= self.produced:
                assert got == self.produced, "%s: %d distinct ids, only %d produced" % (self.table, got, self.produced)
                return
            self.rest.raise_if_failed(self.name)
            if time.monotonic() > deadline:
                raise TimeoutError("%s: %d of %d records loaded after %.0f s"
                                   % (self.table, got, self.produced, timeout))
            time.sleep(0.2)

    def produce(self):
        for _ in range(RECORDS_PER_STEP):
            self.producer.send(self.topic, ('{"id":%d,"payload":"step %d"}' % (self.next_id, self.serial)).encode(),
                               key=str(self.next_id).encode())
            self.next_id += 1
        self.producer.flush()
        self.produced += RECORDS_PER_STEP

    # the operations
    def create(self):
        self.serial += 1
        self.name = "lc%s%04d" % (self.unique, self.serial)
        self.topic = self.broker.create_topic("lc_%s_%04d" % (self.unique, self.serial), partitions=2)
        self.table = "lc%04d" % self.serial
        self.emulator.sql("CREATE TABLE %s.%s (id BIGINT NOT NULL, payload VARCHAR(64)) DUPLICATE KEY(id) "
                          "DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')" % (DB, self.table))
        self.tasks = self.rnd.choice((1, 2))
        self.produced = 0
        self.call(self.rest.create, self.name, self.config())
        self.state = "RUNNING"
        self.wait_status("RUNNING", self.tasks)
        self.open = self.tasks

    def pause(self):
        self.wait_loaded()
        self.call(self.rest.pause, self.name)
        self.state = "PAUSED"
        self.wait_status("PAUSED", self.tasks)

    def resume(self):
        self.call(self.rest.resume, self.name)
        self.state = "RUNNING"
        self.wait_status("RUNNING", self.tasks)
        self.open = self.tasks

    def restart(self):
        closed = self.log.poll()[self.name]
        self.call(self.rest.restart, self.name)
        self.wait_closed(closed + self.open)
        self.wait_status(self.state, self.tasks)
        self.open = self.tasks if self.state == "RUNNING" else 0

    def update(self):
        closed = self.log.poll()[self.name]
        self.tasks = 3 - self.tasks
        self.interval = 1000 if self.interval != 1000 else 1200
        self.call(self.rest.put_config, self.name, self.config())
        self.wait_closed(closed + self.open)
        self.wait_status(self.state, self.tasks)
        self.open = self.tasks

    def delete(self):
        if self.state == "RUNNING":
            self.wait_loaded()
        self.sample("before delete")
        closed = self.log.poll()[self.name]
        self.call(self.rest.delete, self.name)
        deleted = time.monotonic()
        self.wait_closed(closed + self.open)
        self.open = 0
        deadline = time.monotonic() + 60
        while self.rest.status(self.name) is not None:
            assert time.monotonic() < deadline, "%s still has a status 60 s after its delete" % self.name
            time.sleep(0.2)
        self.check_nothing_left()
        self.cleanup_s.append(time.monotonic() - deleted)
        self.admin_delete_topic()
        self.name, self.state, self.tasks = None, None, 0

    def admin_delete_topic(self):
        # not waited for: the broker deletes it while the next steps run
        self.broker.admin.delete_topics([self.topic], operation_timeout=30)

    def check_nothing_left(self):
        """Within DELETE_GRACE_S of a delete: no thread, socket or MBean of the connector."""
        deadline = time.monotonic() + DELETE_GRACE_S
        pattern = re.compile(re.escape(self.name) + r"(?![0-9])")
        while True:
            left = []
            native = {n: c for n, c in thread_names(self.pid).items() if n.startswith(NATIVE_THREADS)}
            if native:
                left.append("native threads %s" % native)
            socks = sockets_to(self.pid, self.ports)
            if socks:
                left.append("sockets to the emulator %s" % socks)
            beans = self.task_beans(fresh_after=time.monotonic())
            if beans is None or any(self.name in b for b in beans):
                left.append("MBeans %s" % (beans if beans is not None else "(no fresh JMX sample)"))
            if not left:
                java = [t for t in java_threads(self.pid) if pattern.search(t)]
                if java:
                    left.append("Java threads %s" % java)
            if not left:
                return
            if time.monotonic() > deadline:
                raise AssertionError("%.0f s after deleting %s: %s" % (DELETE_GRACE_S, self.name, "; ".join(left)))
            time.sleep(0.25)

    def task_beans(self, fresh_after, timeout=5.0):
        """The sink-task MBeans of the first JMX sample taken after `fresh_after`, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, beans in reversed(self.sampler.samples):
                if t > fresh_after:
                    return beans
                break
            time.sleep(0.05)
        return None

    # sampling
    def sample(self, op):
        now = time.monotonic()
        threads = thread_names(self.pid)
        native = None
        if self.name is not None:
            beans = self.task_beans(fresh_after=now) or {}
            values = [b["native-allocated-bytes"] for n, b in beans.items()
                      if self.name in n and "native-allocated-bytes" in b]
            native = values[0] if values else None
        s = {
            "step": self.steps, "op": op, "connector": self.name, "state": self.state, "tasks": self.tasks,
            "open": self.open,
            "threads": sum(threads.values()), "groups": collections.Counter(group_name(n) for n in threads.elements()),
            "fds": fd_count(self.pid), "rss": rss_bytes(self.pid), "heap_rss": rss_in(self.pid, *self.heap_range),
            "native": native,
        }
        self.samples.append(s)
        return s

    def step(self, op):
        self.steps += 1
        t0 = time.monotonic()
        getattr(self, op)()
        if self.state == "RUNNING" and op != "delete":
            self.produce()
        self.durations[op].append(time.monotonic() - t0)
        return self.sample(op)

    def choose(self):
        if self.name is None:
            return "create"
        if self.state == "RUNNING":
            return self.rnd.choice(("pause", "restart", "update", "delete"))
        # (not update: Connect makes no task configs for a paused connector, the new ones come at resume)
        return self.rnd.choice(("resume", "restart", "delete"))


# -- reporting -------------------------------------------------------------------------------------------
def mib(b):
    return "%.1f" % (b / 1048576.0)


def series_table(samples) -> str:
    rows = ["step op            connector          state   tasks threads fds  rss_MiB (heap, other) native_KiB"]
    for s in samples:
        rows.append("%4d %-13s %-18s %-7s %5d %7d %4d %8s %6s %6s %10s" % (
            s["step"], s["op"], s["connector"] or "-", s["state"] or "-", s["tasks"], s["threads"], s["fds"],
            mib(s["rss"]), mib(s["heap_rss"]), mib(s["rss"] - s["heap_rss"]),
            "-" if s["native"] is None else "%.1f" % (s["native"] / 1024.0)))
    return "\n".join(rows)


def check_back_to_baseline(what, baseline_points, end_points, key, tolerance, fmt=str):
    """(ok, line): the lowest of the end points against the highest baseline point plus `tolerance`;
    `key` is a sample's key or a function of the sample."""
    value = key if callable(key) else (lambda s: s[key])
    base = max(value(s) for s in baseline_points)
    end = min(value(s) for s in end_points)
    ok = end <= base + tolerance
    return ok, "%s: baseline %s, end %s (tolerance +%s)%s" % (what, fmt(base), fmt(end), fmt(tolerance),
                                                               "" if ok else "  <-- LEAK")


# -- the test ------------------------------------------------------------------------------------------
def test_lifecycles_leak_nothing(request, workers, plugin_dir, kafka_broker, emulator, unique, workdir):
    rnd = random.Random(SEED)
    emulator.sql("CREATE DATABASE IF NOT EXISTS %s" % DB)
    worker = workers.start("distributed", plugin_dir, jmx=True)
    pid = worker.process.pid
    t_start = time.monotonic()
    with jmx.Sampler(worker.jmx_port, interval_ms=250) as sampler:
        lc = Lifecycle(worker, emulator, kafka_broker, sampler, unique, rnd)
        java_threads(pid)  # the first attach starts the JVM's Attach Listener thread for good
        lc.sample("start")
        heap_base = None
        for i in range(LIFECYCLES):
            op = lc.choose()
            lc.step(op)
            if heap_base is None and i + 1 >= WARMUP_STEPS and lc.name is None:
                heap_base = heap_after_gc(pid)
        if lc.name is not None:
            lc.step("delete")
        heap_end = heap_after_gc(pid)
    elapsed = time.monotonic() - t_start
    samples = lc.samples

    # the points compared: threads/fds/RSS right after each delete, native bytes right before it
    idle = [s for s in samples if s["op"] == "delete"]
    loaded = [s for s in samples if s["op"] == "before delete" and s["native"] is not None]
    warm_idle = [s for s in idle if s["step"] > WARMUP_STEPS]
    warm_loaded = [s for s in loaded if s["step"] > WARMUP_STEPS]
    assert len(warm_idle) >= 2 * END_SAMPLES, (
        "too few deletes after the warm-up to compare (%d): raise LIFECYCLES" % len(warm_idle))
    base_idle, end_idle = warm_idle[:END_SAMPLES], warm_idle[-END_SAMPLES:]
    checks = [
        check_back_to_baseline("threads", base_idle, end_idle, "threads", THREADS_TOLERANCE),
        check_back_to_baseline("open fds", base_idle, end_idle, "fds", FDS_TOLERANCE),
        check_back_to_baseline("RSS outside the Java heap MiB", base_idle, end_idle,
                               lambda s: s["rss"] - s["heap_rss"], RSS_TOLERANCE, mib),
    ]
    rss_line = "RSS MiB (not checked: the Java heap's share follows G1's sizing): baseline %s, end %s" % (
        mib(max(s["rss"] for s in base_idle)), mib(min(s["rss"] for s in end_idle)))
    # native bytes: compared among the points with as many sinks open (1 or 2 tasks)
    for sinks in sorted({s["open"] for s in warm_loaded}):
        same = [s for s in warm_loaded if s["open"] == sinks]
        if len(same) >= 2 * END_SAMPLES:
            checks.append(check_back_to_baseline(
                "native-allocated-bytes KiB with %d sink(s) open" % sinks, same[:END_SAMPLES], same[-END_SAMPLES:],
                "native", NATIVE_TOLERANCE, lambda b: "%.1f" % (b / 1024.0)))
    assert any(line.startswith("native") for _, line in checks), "too few deletes to compare the native bytes"
    # thread names: no group may have grown by more than the tolerance either
    base_groups = collections.Counter()
    for s in base_idle:
        base_groups |= s["groups"]
    end_groups = end_idle[0]["groups"]
    for s in end_idle[1:]:
        end_groups &= s["groups"]
    grown = {g: (base_groups[g], c) for g, c in end_groups.items() if c > base_groups[g] + THREADS_TOLERANCE}
    checks.append((not grown, "thread groups grown (baseline, end): %s" % (grown or "none")))

    heap_ok = heap_base is not None and heap_end[0] <= heap_base[0] + HEAP_TOLERANCE
    heap_base = heap_base or (0, 0)
    checks.append((heap_ok, "Java heap after a full GC MiB: baseline %s, end %s (tolerance +%s; committed %s, "
                   "then %s)%s" % (mib(heap_base[0]), mib(heap_end[0]), mib(HEAP_TOLERANCE), mib(heap_base[1]),
                                   mib(heap_end[1]), "" if heap_ok else "  <-- LEAK")))

    ops = collections.Counter(s["op"] for s in samples if s["op"] not in ("start", "before delete"))
    summary = ["lifecycle: %d steps (seed %d) in %.0f s over %d connectors: %s" % (
        sum(ops.values()), SEED, elapsed, lc.serial, ", ".join("%s %d (%.2f s avg)" % (
            op, n, sum(lc.durations[op]) / max(1, len(lc.durations[op]))) for op, n in sorted(ops.items())))]
    summary += ["  " + line for _, line in checks] + ["  " + rss_line]
    summary.append("  after a delete, no thread, socket or MBean of the connector left after %.1f s at most "
                   "(%.2f s on average, the status gone included)"
                   % (max(lc.cleanup_s), sum(lc.cleanup_s) / len(lc.cleanup_s)))
    summary.append("  threads by name at the end (after the last delete): %s"
                   % ", ".join("%s=%d" % kv for kv in sorted(samples[-1]["groups"].items())))
    with open(workdir / "lifecycle-series.txt", "w") as f:
        f.write("\n".join(summary) + "\n\n" + series_table(samples) + "\n")
    for line in summary:
        report(request, line)
    if not all(ok for ok, _ in checks):
        raise AssertionError("a leak over %d lifecycle steps:\n%s\n\nseries:\n%s"
                             % (len(samples), "\n".join(summary), series_table(samples)))
