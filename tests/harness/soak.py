"""The soak of issue 24, shared by its two forms: tests/soak/test_soak.py (`make soak`, 60 minutes by
default, SOAK_MINUTES) and tests/integration/test_soak_short.py (3 minutes, in `make test`).

What runs, for `minutes` of steady production:

* a distributed Connect cluster of two workers (A stays up the whole run; B is the one SIGKILLed
  and started again), the packaged plugin, the session's broker and a StarRocks 4.0 emulator;
* two connectors side by side, each on its own 4-partition topic and Duplicate Key table, with
  `tasks.max=2`: one `delivery.guarantee=at_least_once`, one `exactly_once`;
* a producer thread at a steady RATE records/s in all (half per topic), each record carrying its
  id (`id % 4` is its partition, so offset `o` of partition `p` holds id `4 * o + p`) and the time
  it was produced;
* an emulator fault every FAULT_EVERY_S seconds, cycling through every fault kind the emulator has
  (docs/emulator.md, "Faults"; the request-level kinds round-robin over the requests they can
  target), armed for the next matching request of either connector;
* events scaled from the 60-minute plan (`schedule`): a SIGKILL of worker B every minutes/6 (B is
  started again at once), a rebalance every minutes/4 (a third worker joins, and leaves again
  minutes/24 later: two real Connect rebalances), and one outage of minutes/12 (in the short form:
  one kill, one rebalance and a 20 s outage). The outage refuses every load of the at-least-once
  connector (`http_500` on its table, so the FE answers 500 to each attempt): exactly-once has a
  fixed budget of 10 attempts at most 10 s apart for a flush (docs/exactly-once.md, "Failures"), so
  a longer outage fails its task by design, and it keeps loading meanwhile;
* a sampler: every SAMPLE_S the connectors' status (never FAILED), and each connector's lag as a
  latency: the age of the oldest record whose offset its group has not committed yet (Connect
  commits an offset only after StarRocks acknowledged the row, every `offset.flush.interval.ms`
  = 2 s here; exactly-once commits what its register holds); every RSS_EVERY_S the RSS of each
  worker and of the emulator.

At the end the faults are disarmed, every task must be RUNNING, each group must have committed the
end of every partition, and StarRocks must hold every id: at-least-once 0 missing (duplicates from
the kills are counted), exactly-once 0 missing and 0 duplicated. The report (printed, and
`soak.json` in the test's folder) gives the RSS slope per worker process (MB/hour, least squares
over the samples after a warm-up), the log volume per hour by level (all loggers, and the
connector's own `com.starrocks` loggers), the worst latency (whole run, and outside the outage),
and the connector's log lines during the outage (asserted: first failure, a summary a minute,
recovery; never a line per record or retry).
"""
import bisect
import json
import math
import os
import re
import threading
import time
from datetime import datetime
from pathlib import Path

from . import connect, kafka
from .faults import DB, connector_config, private_plugin_copy, report

PARTITIONS = 4
TASKS = 2
REGISTER = "kafka_connect_register"
# The steady rate, records/s over both topics. The connector measured ~90,000-130,000 records/s for
# one task with JsonConverter on this 2-core machine (docs/performance.md), with nothing else
# running. Here the same 2 cores also run the broker, 2-3 workers, the emulator, this producer
# (Python, about a third of a core at this rate) and an exactly-once connector, under a fault every
# few seconds, kills and rebalances; the fault campaigns load at roughly 2,000-3,000 records/s of
# wall time once their restarts are counted. 20,000 records/s in all (10,000 per connector) is
# about half of what the pair sustains with the faults on: the backlog of a kill (tens of seconds
# without a task) drains within a minute.
# The emulator holds every row in memory (about 150 bytes each) and its final count copies them
# once more, so a run loads at most ROWS_BUDGET rows: the hour runs at ~11,000 records/s (40
# million rows, ~12 GB at the peak of the check on this 24 GB machine), shorter runs at 20,000.
RATE = int(os.environ.get("SOAK_RATE", "20000"))
ROWS_BUDGET = 40_000_000


def rate_for(minutes: float) -> int:
    """The run's rate: RATE, unless that would pass ROWS_BUDGET rows (SOAK_RATE set: as given)."""
    if "SOAK_RATE" in os.environ:
        return RATE
    return min(RATE, int(ROWS_BUDGET / (minutes * 60)))
FAULT_EVERY_S = 4.0
SAMPLE_S = 2.0
RSS_EVERY_S = 10.0
CLIENT_TIMEOUT_MS = 3000  # sink.timeoutms: the stall faults below hold a request longer than this
STALL_S = 5  # how long hang, fe_silent, stall_mid_body, hold_prepare and no_reply hold a request
SHORT_OUTAGE_S = 20
OUTAGE_QUIET_BEFORE_S = 30
OUTAGE_QUIET_AFTER_S = 240
RECOVERY_WAIT_S = 180
# The connector's loggers (the shim's classes and the Rust core's `com.starrocks.connector.kafka.native`).
OUR_LOGGER = "com.starrocks"

# Every fault kind of the emulator, as the soak arms it (count 1 each; the stall kinds for STALL_S,
# longer than sink.timeoutms, so the client gives up and retries). commit_then_drop is followed by
# label_exists_fail_variant: the retry of the dropped answer begins with a taken label.
DATA_FAULTS = [
    ("http_500", {}),
    ("no_backend", {}),
    ("throttle", {"count": 2, "bytes_per_second": 1 << 20}),
    ("hang", {"seconds": STALL_S}),
    ("reset_mid_body", {}),
    ("publish_timeout", {"seconds": 2}),
    ("too_many_versions", {}),
    ("mem_limit", {}),
    ("commit_then_drop", {}),
    ("label_exists_fail_variant", {}),
    ("running_txns_limit", {}),
    ("fe_silent", {"seconds": STALL_S}),
    ("stall_mid_body", {"seconds": STALL_S}),
    ("hold_prepare", {"seconds": STALL_S}),
]
# The request-level kinds, each on every request the two connectors send: at-least-once sends
# stream loads (and get_load_state after a lost answer), exactly-once begin, load, commit, rollback,
# get_load_state and the register's fence writes (stream_load).
REQUEST_KINDS = [("fail_before", {}), ("drop_after", {}), ("no_reply", {"seconds": STALL_S})]
REQUEST_OPS = ["stream_load", "begin", "load", "commit", "get_load_state", "rollback"]
# Kinds that fire only when a matching request comes (a taken label), so they may never fire in a
# short run; they are reported, not required.
MAY_NOT_FIRE = {"label_exists_fail_variant"}


def fault_cycle():
    """The faults in the order they are armed, repeated: the data kinds interleaved with the
    request-level kinds (which go round the ops, one op per round)."""
    req = [(k, dict(kw, op=op)) for op in REQUEST_OPS for k, kw in REQUEST_KINDS]
    out = []
    for i in range(max(len(DATA_FAULTS), len(req))):
        if i < len(DATA_FAULTS):
            out.append(DATA_FAULTS[i])
        if i < len(req):
            out.append(req[i])
    return out


def schedule(minutes):
    """[(seconds from the start, event)] for a run of `minutes`. From 10 minutes on, the 60-minute
    plan scaled: kills at every sixth, a worker joining at every quarter and leaving a 24th later,
    the outage from 0.35 of the run for a twelfth (between the second kill and the third, clear of
    the rebalances: 21-26 min of 60), with no kill or rebalance from 30 s before it until 240 s
    after it (a 12-minute run keeps 2 kills and 1 rebalance). Shorter runs keep one of each: kill
    at 0.2, join at 0.4, leave at 0.55, outage from 0.7 for SHORT_OUTAGE_S."""
    d = minutes * 60.0
    ev = []
    if minutes >= 10:
        start, end = 0.35 * d, 0.35 * d + d / 12
        # no kill or rebalance from just before the outage until the connector has recovered
        # (its backoff, up to 60 s, then the backlog): they would end the measured window early.
        # None falls there in the hour's plan; shorter long runs (12 minutes) lose a few.
        quiet = (start - OUTAGE_QUIET_BEFORE_S, end + OUTAGE_QUIET_AFTER_S)
        ev += [(d * k / 6, "kill") for k in range(1, 6) if not quiet[0] <= d * k / 6 < quiet[1]]
        for k in range(1, 4):
            j, lv = d * k / 4, d * k / 4 + d / 24
            if not (quiet[0] <= j < quiet[1] or quiet[0] <= lv < quiet[1]):
                ev += [(j, "join"), (lv, "leave")]
        ev += [(start, "outage_start"), (end, "outage_end")]
    else:
        ev += [(0.2 * d, "kill"), (0.4 * d, "join"), (0.55 * d, "leave"),
               (0.7 * d, "outage_start"), (0.7 * d + SHORT_OUTAGE_S, "outage_end")]
    return sorted(ev, key=lambda e: e[0])


# -- measurements ----------------------------------------------------------------------------------
def rss_mb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def slope_per_hour(points):
    """Least-squares slope of [(seconds, MB)] in MB/hour (None with fewer than 3 points)."""
    if len(points) < 3:
        return None
    n = float(len(points))
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if sxx == 0:
        return None
    sxy = sum((p[0] - mx) * (p[1] - my) for p in points)
    return sxy / sxx * 3600.0


LOG_LINE = re.compile(r"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d),(\d{3})\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) (.*)$")
LOG_PATTERN = "[%d{ISO8601}] %p %X{connector.context}%m (%c)%n"


def log4j2_config(workdir):
    """The harness' logging config (tests/kafka/log4j2.properties) with the connector context
    (`[name|task-0] `, Connect's MDC) and the full logger name on every line, so lines can be told
    apart by connector and by logger."""
    text = (kafka.KAFKA_DIR / "log4j2.properties").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^appender\.out\.layout\.pattern = .*$", "appender.out.layout.pattern = %s" % LOG_PATTERN, text)
    p = Path(workdir) / "log4j2-soak.properties"
    p.write_text(text, encoding="utf-8")
    return p


def log_events(path):
    """(epoch seconds, level, message, logger) of each log event in a worker log (continuation
    lines, e.g. stack traces, belong to the event before them)."""
    out = []
    try:
        f = open(path, encoding="utf-8", errors="replace")
    except OSError:
        return out
    with f:
        for line in f:
            m = LOG_LINE.match(line.rstrip("\n"))
            if not m:
                continue
            ts = time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + int(m.group(2)) / 1000.0
            rest = m.group(4)
            lm = re.search(r" \(([\w.$]+)\)$", rest)
            out.append((ts, m.group(3), rest, lm.group(1) if lm else ""))
    return out


# -- the cluster ----------------------------------------------------------------------------------
class SoakCluster(connect.WorkerGroup):
    """Distributed workers started through the session's `workers` fixture (which stops them at the
    end), all in the calling (main) thread: the harness ties a child's life to the thread that
    forked it."""

    def __init__(self, workers, plugin_path, settings, sysprops):
        super().__init__()
        self.workers, self.plugin_path, self.settings, self.sysprops = workers, plugin_path, settings, sysprops
        self.started_at = {}  # worker name -> monotonic start
        self.startup_seconds = []

    def add(self, role):
        name = "connect-soak-%s%d" % (role, len(self.members))
        t0 = time.monotonic()
        w = self.workers.start("distributed", self.plugin_path, worker_properties=self.settings, name=name,
                               sysprops=self.sysprops)
        self.startup_seconds.append(round(time.monotonic() - t0, 1))
        w.soak_name = name
        w.soak_log = w.workdir / "worker.log"
        self.members.append(w)
        self.started_at[name] = time.monotonic()
        return w

    def logs(self):
        return [w.soak_log for w in self.members]


# -- the producer ---------------------------------------------------------------------------------
class Producer(threading.Thread):
    """Produces ids 0, 1, 2, ... to each topic at `rate_per_topic` records/s (id % 4 is the
    partition), in slices every 50 ms; remembers when each slice began (`produced_at`)."""

    def __init__(self, bootstrap, topics, rate_per_topic, seconds):
        super().__init__(daemon=True)
        self.topics, self.rate, self.seconds = topics, rate_per_topic, seconds
        self.producers = {t: kafka.ReliableProducer(bootstrap) for t in topics}
        self.next_id = {t: 0 for t in topics}
        self.slices = {t: ([], []) for t in topics}  # first ids, epoch ms
        self.lock = threading.Lock()
        self.error = None
        self.started = self.finished = None

    def produced_at(self, topic, id_):
        """Epoch ms at which `id_` of `topic` was produced."""
        with self.lock:
            ids, times = self.slices[topic]
            i = bisect.bisect_right(ids, id_) - 1
            return times[max(i, 0)] if times else None

    def sent(self, topic):
        with self.lock:
            return self.next_id[topic]

    def run(self):
        try:
            self.started = time.monotonic()
            end = self.started + self.seconds
            pad = "x" * 16
            while True:
                now = time.monotonic()
                if now >= end:
                    break
                target = int((now - self.started) * self.rate)
                ms = int(time.time() * 1000)
                for t in self.topics:
                    lo = self.next_id[t]
                    if target <= lo:
                        continue
                    with self.lock:
                        self.slices[t][0].append(lo)
                        self.slices[t][1].append(ms)
                    p = self.producers[t]
                    for i in range(lo, target):
                        p.send(t, b'{"id":%d,"ts":%d,"payload":"%s"}' % (i, ms, pad.encode()), partition=i % PARTITIONS)
                    with self.lock:
                        self.next_id[t] = target
                time.sleep(0.05)
            for p in self.producers.values():
                p.flush(120)
        except Exception as e:  # reported by the main thread
            self.error = e
        finally:
            self.finished = time.monotonic()


# -- the soak -------------------------------------------------------------------------------------
class Soak:
    def __init__(self, request, kafka_broker, emulator, workers, plugin_dir, workdir, unique, minutes, rate=None):
        self.request, self.kafka_broker, self.emulator, self.workers = request, kafka_broker, emulator, workers
        self.workdir, self.unique, self.minutes = Path(workdir), unique, minutes
        self.rate = rate or rate_for(minutes)
        self.plugin_dir = plugin_dir
        self.t0 = time.monotonic()
        self.timeline = []
        self.lock = threading.Lock()  # the fault thread against the outage
        self.stop_event = threading.Event()
        self.faults_paused = False
        self.armed = {}  # "kind" or "kind/op" -> count armed
        self.left = {}  # -> count still armed when the faults were cleared
        self.fault_errors = []
        self.failures = []  # FAILED parts of a status
        self.states = {}
        self.latency = {}  # connector -> [(t, seconds)]
        self.rss = {}  # worker name -> [(t, MB)]
        self.emu_rss = []
        self.outage = None  # {"start": epoch, "end": epoch, ...}
        self.kills = []
        self.rebalances = []
        self.c = {}  # "alo"/"eo" -> {name, topic, table, group}

    def note(self, what):
        line = "%7.1f s  %s" % (time.monotonic() - self.t0, what)
        self.timeline.append(line)
        print(line, flush=True)

    # -- set-up
    def setup(self):
        u = self.unique
        self.emulator.sql("CREATE DATABASE IF NOT EXISTS %s" % DB)
        for mode in ("alo", "eo"):
            name, table = "soak-%s-%s" % (mode, u), "soak_%s_%s" % (mode, u)
            topic = self.kafka_broker.create_topic("soak_%s_%s" % (mode, u), partitions=PARTITIONS)
            self.emulator.sql("CREATE TABLE %s.%s (id BIGINT NOT NULL, ts BIGINT, payload VARCHAR(32)) DUPLICATE KEY(id) "
                              "DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')" % (DB, table))
            self.c[mode] = {"name": name, "topic": topic, "table": table, "group": "connect-" + name}
        settings = connect.failover_settings("soak-" + u)
        sysprops = {"log4j2.configurationFile": "file:%s" % log4j2_config(self.workdir)}
        self.cluster = SoakCluster(self.workers, private_plugin_copy(self.plugin_dir, self.workdir), settings, sysprops)
        self.a = self.cluster.add("A")
        self.b = self.cluster.add("B")
        self.joiner = None
        self.note("2 workers up: A %s, B %s" % (self.a.url, self.b.url))
        common = {"tasks.max": TASKS, "sink.timeoutms": CLIENT_TIMEOUT_MS, "bufferflush.intervalms": 1000}
        emu = self.emulator
        alo = self.c["alo"]
        self.configs = {
            # 15 retries from 500 ms, doubling up to the 60 s cap: at least ~400 s of retries even
            # with the full jitter, longer than the 5-minute outage of the 60-minute run
            "alo": connector_config(emu, alo["topic"], alo["table"], **dict(
                common, **{"name": alo["name"], "sink.maxretries": 15, "sink.retry.backoffms": 500})),
            "eo": connector_config(emu, self.c["eo"]["topic"], self.c["eo"]["table"], **dict(common, **{
                "name": self.c["eo"]["name"], "delivery.guarantee": "exactly_once",
                "starrocks.query.address": "127.0.0.1:%d" % emu.query_port,
                "exactly.once.register.table": REGISTER, "sink.retry.backoffms": 200})),
        }
        for mode in ("alo", "eo"):
            cfg = self.configs[mode]
            self.cluster.call(lambda r: r.create(cfg["name"], cfg), "create %s" % cfg["name"])
        self.wait_all_running("created")

    def status(self, name):
        for w in self.cluster.alive():
            try:
                st = connect.ConnectRest(w.url, timeout=5).status(name)
            except Exception:
                continue
            if st is not None:
                return st
        return None

    def wait_all_running(self, what, timeout=180):
        deadline = time.monotonic() + timeout
        last = None
        while True:
            self.check()
            alive = self.cluster.by_id()
            ok = True
            last = {}
            for mode in ("alo", "eo"):
                st = self.status(self.c[mode]["name"])
                last[mode] = st
                ts = (st or {}).get("tasks", [])
                if not (st and st["connector"]["state"] == "RUNNING" and len(ts) == TASKS
                        and all(t["state"] == "RUNNING" and t["worker_id"] in alive for t in ts)):
                    ok = False
            if ok:
                self.note("%s: all tasks RUNNING (%s)" % (what, "; ".join(
                    "%s on %s" % (m, sorted(t["worker_id"] for t in last[m]["tasks"])) for m in ("alo", "eo"))))
                return last
            assert time.monotonic() < deadline, "%s: not every task RUNNING on a live worker after %.0f s: %s" % (
                what, timeout, last)
            time.sleep(1)

    # -- the background threads
    def fault_loop(self):
        cycle = fault_cycle()
        i = 0
        while not self.stop_event.wait(FAULT_EVERY_S):
            with self.lock:
                if self.faults_paused:
                    continue
                kind, kw = cycle[i % len(cycle)]
                i += 1
                body = dict(kw)
                body.setdefault("count", 1)
                try:
                    self.emulator.faults(kind, **body)
                    key = "%s/%s" % (kind, body["op"]) if "op" in body else kind
                    self.armed[key] = self.armed.get(key, 0) + body["count"]
                    if kind == "commit_then_drop":  # its retry begins with a taken label
                        self.emulator.faults("label_exists_fail_variant", count=1)
                        self.armed["label_exists_fail_variant"] = self.armed.get("label_exists_fail_variant", 0) + 1
                except Exception as e:  # a busy emulator: the next one comes in a moment
                    self.fault_errors.append(repr(e))

    def clear_faults(self):
        """Disarms every fault (caller holds self.lock); what was still armed is not counted as
        fired."""
        for f in self.emulator.list_faults():
            key = "%s/%s" % (f["kind"], f["op"]) if f.get("op") else f["kind"]
            self.left[key] = self.left.get(key, 0) + f.get("remaining", 0)
        self.emulator.clear_faults()

    def sample_loop(self):
        next_rss = 0.0
        while not self.stop_event.is_set():
            now = time.monotonic()
            t = now - self.t0
            for mode in ("alo", "eo"):
                c = self.c[mode]
                st = self.status(c["name"])
                if st:
                    for what, part in [("connector", st.get("connector", {}))] + [
                            ("task %s" % x.get("id"), x) for x in st.get("tasks", [])]:
                        self.states[part.get("state")] = self.states.get(part.get("state"), 0) + 1
                        if part.get("state") == "FAILED":
                            self.failures.append("%s %s at %.0f s: %s" % (c["name"], what, t, part.get("trace", "")[:3000]))
                try:
                    committed = self.kafka_broker.committed(c["group"], c["topic"], PARTITIONS)
                except Exception:
                    committed = None
                if committed is not None:
                    sent = self.producer.sent(c["topic"])
                    worst = 0.0
                    now_ms = time.time() * 1000
                    for p in range(PARTITIONS):
                        first = PARTITIONS * committed.get(p, 0) + p  # the oldest id not committed
                        if first < sent:
                            at = self.producer.produced_at(c["topic"], first)
                            if at is not None:
                                worst = max(worst, (now_ms - at) / 1000.0)
                    self.latency.setdefault(mode, []).append((round(t, 1), round(worst, 2)))
            if now >= next_rss:
                next_rss = now + RSS_EVERY_S
                for w in self.cluster.alive():
                    mb = rss_mb(w.process.pid)
                    if mb is not None:
                        self.rss.setdefault(w.soak_name, []).append((round(t, 1), round(mb, 1)))
                mb = rss_mb(self.emulator.proc.pid)
                if mb is not None:
                    self.emu_rss.append((round(t, 1), round(mb, 1)))
            self.stop_event.wait(max(0.0, SAMPLE_S - (time.monotonic() - now)))

    def check(self):
        assert not self.failures, "FAILED in a connector's status:\n%s" % self.failures[0]
        if getattr(self, "producer", None) is not None:
            assert self.producer.error is None, "the producer failed: %r" % self.producer.error

    # -- the events
    def tasks_on(self, w):
        wid = "127.0.0.1:%d" % w.port
        n = 0
        for mode in ("alo", "eo"):
            st = self.status(self.c[mode]["name"]) or {}
            n += sum(1 for t in st.get("tasks", []) if t.get("worker_id") == wid)
        return n

    def mark_event(self):
        """The first kill or rebalance after the outage ends its window of log lines (a task
        starting elsewhere logs lines of its own)."""
        o = self.outage
        if o is not None and "end" in o and "next_event_wall" not in o:
            o["next_event_wall"] = time.time()

    def ev_kill(self):
        self.mark_event()
        n = self.tasks_on(self.b)
        self.cluster.kill(self.b)
        self.kills.append({"at_s": round(time.monotonic() - self.t0, 1), "tasks_on_victim": n})
        self.note("SIGKILL worker B %s (ran %d task(s)); starting it again" % (self.b.soak_name, n))
        self.b = self.cluster.add("B")
        self.note("worker B started again: %s" % self.b.soak_name)

    def ev_join(self):
        self.mark_event()
        self.joiner = self.cluster.add("C")
        self.rebalances.append({"joined_s": round(time.monotonic() - self.t0, 1)})
        self.note("worker C %s joined (rebalance)" % self.joiner.soak_name)

    def ev_leave(self):
        self.mark_event()
        if self.joiner is None:
            return
        n = self.tasks_on(self.joiner)
        self.joiner.stop()
        self.rebalances[-1].update({"left_s": round(time.monotonic() - self.t0, 1), "tasks_on_leaver": n})
        self.note("worker C %s left (SIGTERM; ran %d task(s)) (rebalance)" % (self.joiner.soak_name, n))
        self.joiner = None

    def ev_outage_start(self):
        with self.lock:
            self.faults_paused = True
            self.clear_faults()
            self.emulator.faults("http_500", count=1000000, table="%s.%s" % (DB, self.c["alo"]["table"]))
            self.outage = {"start": time.time(), "start_s": round(time.monotonic() - self.t0, 1)}
        self.note("outage begins: every load into %s refused (HTTP 500 from the FE)" % self.c["alo"]["table"])

    def ev_outage_end(self):
        with self.lock:
            self.emulator.clear_faults()  # the outage's fault only: the others were cleared at its start
            self.outage.update({"end": time.time(), "end_s": round(time.monotonic() - self.t0, 1)})
        self.note("outage ends after %.0f s; the faults resume once the at-least-once lag is back under 10 s"
                  % (self.outage["end"] - self.outage["start"]))

    def resume_faults_after_outage(self):
        """After the outage the faults stay off until the at-least-once connector has caught up
        (its lag under 10 s, at most RECOVERY_WAIT_S), so the lines it logs while it recovers are the
        outage's own."""
        o = self.outage
        if o is None or "end" not in o or "faults_resumed_s" in o:
            return
        t = time.monotonic() - self.t0
        caught_up = any(ts > o["end_s"] + 1 and v < 10 for ts, v in list(self.latency.get("alo", [])))
        if caught_up or t > o["end_s"] + RECOVERY_WAIT_S:
            with self.lock:
                self.faults_paused = False
            o["faults_resumed_s"] = round(t, 1)
            o["resumed_wall"] = time.time()
            self.note("faults resume (%s)" % ("at-least-once caught up" if caught_up else "after %d s" % RECOVERY_WAIT_S))

    # -- the run
    def run(self):
        self.setup()
        seconds = self.minutes * 60.0
        self.producer = Producer(self.kafka_broker.bootstrap, [self.c["alo"]["topic"], self.c["eo"]["topic"]],
                                 self.rate / 2.0, seconds)
        threads = [self.producer, threading.Thread(target=self.fault_loop, daemon=True),
                   threading.Thread(target=self.sample_loop, daemon=True)]
        self.request.addfinalizer(self.stop_threads)
        self.t_run = time.monotonic()
        self.wall_run = time.time()
        for t in threads:
            t.start()
        self.threads = threads
        self.note("producing %d records/s for %.1f min; a fault every %.0f s; events: %s" % (
            self.rate, self.minutes, FAULT_EVERY_S, ", ".join("%s at %.0f s" % (e, s) for s, e in schedule(self.minutes))))
        for at, what in schedule(self.minutes):
            while time.monotonic() - self.t_run < at:
                self.check()
                self.resume_faults_after_outage()
                time.sleep(0.5)
            getattr(self, "ev_" + what)()
            self.check()
        while self.producer.is_alive() and time.monotonic() - self.t_run < seconds + 300:
            self.check()
            self.resume_faults_after_outage()
            self.producer.join(0.5)
        assert not self.producer.is_alive(), "the producer did not finish"
        self.check()
        self.t_produced = time.monotonic()
        self.note("produced %s" % {t: self.producer.sent(t) for t in self.producer.topics})
        with self.lock:
            self.faults_paused = True
            self.clear_faults()
        self.note("faults disarmed")
        self.wait_all_running("after the run")
        self.drain()
        self.stop_threads()
        self.check()
        return self.finish()

    def stop_threads(self):
        self.stop_event.set()
        for t in getattr(self, "threads", []):
            if t is not self.producer:
                t.join(30)

    def drain(self, timeout=None):
        timeout = timeout or max(240, self.minutes * 10)
        deadline = time.monotonic() + timeout
        expected = {m: self.expected(m) for m in ("alo", "eo")}
        while True:
            self.check()
            got = {}
            for m in ("alo", "eo"):
                try:
                    got[m] = self.kafka_broker.committed(self.c[m]["group"], self.c[m]["topic"], PARTITIONS)
                except Exception:
                    got[m] = None
            if got == expected:
                self.note("both groups committed the end of every partition (%.0f s after the producer stopped)"
                          % (time.monotonic() - self.t_produced))
                self.drain_seconds = round(time.monotonic() - self.t_produced, 1)
                return
            assert time.monotonic() < deadline, "after %.0f s the groups committed %s; the partitions end at %s" % (
                timeout, got, expected)
            time.sleep(1)

    def expected(self, mode):
        n = self.producer.sent(self.c[mode]["topic"])
        return {p: len(range(p, n, PARTITIONS)) for p in range(PARTITIONS)}

    # -- the end: ids, figures
    def sql(self, statement):
        import pymysql
        conn = pymysql.connect(host="127.0.0.1", port=self.emulator.query_port, user="root", password="",
                               connect_timeout=10, read_timeout=1800, write_timeout=60, autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
                return list(cur.fetchall())
        finally:
            conn.close()

    def ids(self, mode):
        n = self.producer.sent(self.c[mode]["topic"])
        table = "%s.%s" % (DB, self.c[mode]["table"])
        ((rows, distinct, lo, hi),) = self.sql("SELECT COUNT(*), COUNT(DISTINCT id), MIN(id), MAX(id) FROM %s" % table)
        ((in_range,),) = self.sql("SELECT COUNT(DISTINCT id) FROM %s WHERE id >= 0 AND id < %d" % (table, n))
        ((dup_ids, _),) = self.sql("SELECT COUNT(*), COALESCE(SUM(c - 1), 0) FROM (SELECT id, COUNT(*) AS c FROM %s "
                                   "GROUP BY id HAVING COUNT(*) > 1) x" % table)
        return {"produced": n, "rows": int(rows), "distinct_ids": int(distinct), "min_id": lo, "max_id": hi,
                "missing": n - int(in_range), "unexpected_ids": int(distinct) - int(in_range),
                "duplicated_ids": int(dup_ids), "extra_rows": int(rows) - int(distinct)}

    def finish(self):
        workdir = self.workdir
        end_wall = time.time()
        hours = (end_wall - self.wall_run) / 3600.0
        ids = {m: self.ids(m) for m in ("alo", "eo")}
        for m in ("alo", "eo"):
            self.note("%s: %s" % (m, ids[m]))

        # RSS slopes: each worker process over its samples after the warm-up
        warmup = max(15.0, self.minutes * 60.0 / 12)
        rss = {}
        for name, series in self.rss.items():
            if not series:
                continue
            start = series[0][0]
            pts = [(t, mb) for t, mb in series if t - start >= warmup]
            s = slope_per_hour(pts)
            rss[name] = {"samples": len(series), "samples_after_warmup": len(pts), "first_mb": series[0][1],
                         "after_warmup_mb": pts[0][1] if pts else None, "last_mb": series[-1][1],
                         "max_mb": max(mb for _, mb in series),
                         "lived_s": round(series[-1][0] - start, 1),
                         "slope_mb_per_hour": None if s is None else round(s, 1)}
        emu_pts = [(t, mb) for t, mb in self.emu_rss if t >= warmup]

        # the log: events by level per hour, all loggers and the connector's own
        levels = ("ERROR", "WARN", "INFO", "DEBUG")
        all_counts = {lv: 0 for lv in levels}
        ours = {lv: 0 for lv in levels}
        events = []
        for p in self.cluster.logs():
            for ev in log_events(p):
                events.append(ev)
                if ev[1] in all_counts:
                    all_counts[ev[1]] += 1
                    if ev[3].startswith(OUR_LOGGER):
                        ours[ev[1]] += 1
        per_hour = {lv: round(all_counts[lv] / hours) for lv in levels}
        ours_per_hour = {lv: round(ours[lv] / hours) for lv in levels}

        # the outage: the at-least-once connector's lines (INFO and above) while it lasted, and after
        out = self.outage
        alo_name = self.c["alo"]["name"]

        def alo_line(ev):
            return ev[3].startswith(OUR_LOGGER) and ev[1] in ("INFO", "WARN", "ERROR") and ("[%s|" % alo_name) in ev[2]
        # The Rust core's lines are logged by the task thread after each call, and every second
        # from a helper thread while a call blocks (a preCommit waiting for its failing load), so
        # they carry their time to within a second. The outage's lines are those from its start until the faults
        # resumed (the connector had caught up, its recovery lines logged), or until the next kill
        # or rebalance if that came first.
        w_end = min(out.get("resumed_wall", end_wall), out.get("next_event_wall", end_wall))
        during = sorted(ev for ev in events if out["start"] <= ev[0] <= w_end and alo_line(ev))
        ours_during = [ev for ev in events if out["start"] <= ev[0] <= w_end and ev[3].startswith(OUR_LOGGER)
                       and ev[1] in ("INFO", "WARN", "ERROR")]
        all_during = [ev for ev in events if out["start"] <= ev[0] <= w_end and ev[1] in ("INFO", "WARN", "ERROR")]
        recovered = [ev for ev in during if "succeed again" in ev[2]]
        window_min = (w_end - out["start"]) / 60.0
        outage = {
            "seconds": round(out["end"] - out["start"], 1), "from_s": out["start_s"], "to_s": out["end_s"],
            "window_seconds": round(w_end - out["start"], 1),
            "alo_lines": len(during), "alo_lines_per_minute": round(len(during) / window_min, 2),
            "alo_lines_by_level": {lv: sum(1 for ev in during if ev[1] == lv) for lv in ("ERROR", "WARN", "INFO")},
            "our_lines_both_connectors": len(ours_during),
            "worker_lines_all_loggers": len(all_during),
            "first_failure_lines": sum(1 for ev in during if "StarRocks load failed" in ev[2]),
            # when the first failure reached the log, from the outage's start (readable during it)
            "first_failure_logged_after_s": min((round(ev[0] - out["start"], 1) for ev in during
                                                 if "StarRocks load failed" in ev[2]), default=None),
            "summary_lines": sum(1 for ev in during if "still failing" in ev[2]),
            "metrics_lines": sum(1 for ev in during if "StarRocks sink metrics" in ev[2]),
            "recovery_lines": len(recovered),
            "attempt_lines_info_or_above": sum(1 for ev in during if re.search(r"attempt \d+ in \d+ ms", ev[2])),
            "recovered_after_end_s": round(max(ev[0] for ev in recovered) - out["end"], 1) if recovered else None,
            "lines": ["%s %s %s" % (datetime.fromtimestamp(ev[0]).strftime("%H:%M:%S.%f")[:-3], ev[1], ev[2][:400])
                      for ev in during],
        }

        # latency: the worst age of the oldest uncommitted record; outside the outage means before
        # it began or after the at-least-once lag first fell under 10 s again after it ended
        lat = {}
        for m in ("alo", "eo"):
            series = self.latency.get(m, [])
            worst = max((v for _, v in series), default=None)
            back = next((t for t, v in series if t > out["end_s"] and v < 10), None) if m == "alo" else None
            outside = [v for t, v in series if m != "alo" or t < out["start_s"] or (back is not None and t >= back)]
            lat[m] = {"samples": len(series), "worst_s": worst, "worst_outside_outage_s": max(outside, default=None),
                      "lag_back_under_10s_at_s": back}

        fired = {k: v - self.left.get(k, 0) for k, v in sorted(self.armed.items())}
        kinds_fired = {}
        for k, v in fired.items():
            kinds_fired[k.split("/")[0]] = kinds_fired.get(k.split("/")[0], 0) + v
        summary = {
            "minutes": self.minutes, "rate_records_per_s": self.rate,
            "achieved_rate": round(sum(self.producer.sent(t) for t in self.producer.topics)
                                   / max(1e-9, self.producer.finished - self.producer.started)),
            "run_seconds": round(end_wall - self.wall_run, 1), "drain_seconds": self.drain_seconds,
            "ids": ids, "kills": self.kills, "rebalances": self.rebalances,
            "workers_started": len(self.cluster.members), "worker_startup_seconds": self.cluster.startup_seconds,
            "faults_armed": dict(sorted(self.armed.items())), "faults_fired": fired, "kinds_fired": kinds_fired,
            "fault_errors": self.fault_errors[:5],
            "rss": rss, "rss_warmup_s": warmup,
            "emulator_rss": {"first_mb": self.emu_rss[0][1] if self.emu_rss else None,
                             "last_mb": self.emu_rss[-1][1] if self.emu_rss else None,
                             "slope_mb_per_hour": None if slope_per_hour(emu_pts) is None else round(slope_per_hour(emu_pts))},
            "log_events_per_hour": per_hour, "log_events": all_counts,
            "connector_log_events_per_hour": ours_per_hour, "connector_log_events": ours,
            "latency": lat, "outage": outage, "states_seen": self.states,
            "series": {"rss": self.rss, "emulator_rss": self.emu_rss, "latency": self.latency},
        }
        (workdir / "soak.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
        (workdir / "soak-timeline.txt").write_text("\n".join(self.timeline) + "\n", encoding="utf-8")
        a_name = self.a.soak_name
        report(self.request, (
            "[soak %.0f min] %d records/s asked, %d achieved; at-least-once: %d produced, %d missing, %d duplicated ids "
            "(%d extra rows); exactly-once: %d produced, %d missing, %d duplicated ids; %d SIGKILLs, %d rebalances "
            "(join+leave), %d faults fired (%d kinds); worker A RSS %s -> %s MB, slope %s MB/h (other workers: %s); "
            "log events/h all %s, connector %s; worst latency alo %s s (%s s outside the outage), eo %s s; "
            "outage %.0f s: %d connector lines (%.1f/min: %s), recovered %s s after it ended; drained in %.0f s")
            % (self.minutes, self.rate, summary["achieved_rate"], ids["alo"]["produced"], ids["alo"]["missing"],
               ids["alo"]["duplicated_ids"], ids["alo"]["extra_rows"], ids["eo"]["produced"], ids["eo"]["missing"],
               ids["eo"]["duplicated_ids"], len(self.kills), len(self.rebalances), sum(fired.values()),
               sum(1 for v in kinds_fired.values() if v > 0),
               rss.get(a_name, {}).get("after_warmup_mb"), rss.get(a_name, {}).get("last_mb"),
               rss.get(a_name, {}).get("slope_mb_per_hour"),
               ", ".join("%s %s" % (k, v["slope_mb_per_hour"]) for k, v in rss.items() if k != a_name),
               per_hour, ours_per_hour, lat["alo"]["worst_s"], lat["alo"]["worst_outside_outage_s"], lat["eo"]["worst_s"],
               outage["seconds"], outage["alo_lines"], outage["alo_lines_per_minute"], outage["alo_lines_by_level"],
               outage["recovered_after_end_s"], self.drain_seconds))
        for line in outage["lines"]:
            print("  outage line: " + line)
        return summary


def check(summary):
    """The soak's assertions, after its report is out."""
    ids = summary["ids"]
    assert ids["alo"]["missing"] == 0, "at-least-once: %d ids missing: %s" % (ids["alo"]["missing"], ids["alo"])
    assert ids["eo"]["missing"] == 0, "exactly-once: %d ids missing: %s" % (ids["eo"]["missing"], ids["eo"])
    assert ids["eo"]["duplicated_ids"] == 0 and ids["eo"]["extra_rows"] == 0, "exactly-once: ids loaded twice: %s" % ids["eo"]
    for m in ("alo", "eo"):
        assert ids[m]["unexpected_ids"] == 0, "%s: ids never produced: %s" % (m, ids[m])
    assert summary["kills"] and summary["rebalances"], "the schedule ran no kill or no rebalance"
    not_fired = sorted(k for k, v in summary["kinds_fired"].items() if v <= 0 and k not in MAY_NOT_FIRE)
    assert not not_fired, "fault kinds that never fired: %s (armed %s, fired %s)" % (
        not_fired, summary["faults_armed"], summary["faults_fired"])
    o = summary["outage"]
    # the outage was seen (a first failure per task at most), and the log stayed readable: per
    # task, the first failure, a summary a minute and the recovery, so at most TASKS * (2 + minutes)
    # lines, and never more than 5 a minute once it lasts minutes
    assert 1 <= o["first_failure_lines"] <= TASKS, "first-failure lines during the outage: %s" % o
    # and read while it lasts, not when the task thread comes back from its wait
    assert o["first_failure_logged_after_s"] < o["seconds"], "the first failure was logged %s s into the %s s outage: %s" % (
        o["first_failure_logged_after_s"], o["seconds"], o["lines"])
    assert o["attempt_lines_info_or_above"] == 0, "a line per attempt during the outage: %s" % o["lines"]
    # per task: the first failure, the recovery, and per started minute of the window a summary
    # and the periodic metrics line (SinkTaskMetrics, once a minute whatever happens)
    minutes = o["window_seconds"] / 60.0
    bound = TASKS * (2 + 2 * math.ceil(minutes))
    assert o["alo_lines"] <= bound, "%d connector lines in the %.0f s of the outage and its recovery (bound %d): %s" % (
        o["alo_lines"], o["window_seconds"], bound, o["lines"])
    if minutes >= 2:
        assert o["alo_lines_per_minute"] <= 3 * TASKS, "%.1f connector lines a minute during the outage: %s" % (
            o["alo_lines_per_minute"], o["lines"])
    assert 1 <= o["recovery_lines"], "no 'loads succeed again' line after the outage: %s" % o
