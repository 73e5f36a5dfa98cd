"""Exactly-once delivery (issue 8, "Proof"), end to end: the real broker, a distributed Connect
cluster of real workers, the packaged plugin and the StarRocks emulator (4.0 multi-table
transactions, COMMITTED -> VISIBLE taking `--publish-delay-ms`).

The campaign: 200,000 records through a 4-partition topic into a Duplicate Key table (a duplicate
is a second row), with `delivery.guarantee=exactly_once`, while the test

* SIGKILLs a Connect worker again and again (the one running the most tasks, while loads are in
  flight; a replacement joins the cluster): the surviving task takes the dead one's partitions in
  the consumer group, then Connect moves the dead worker's task to a live worker;
* forces rebalances by changing `tasks.max` through `PUT /connectors/{name}/config` (every task
  restarts and every partition is fenced by its new owner);
* arms every request-level fault of the emulator (`fail_before`, `drop_after`, `no_reply`) on
  every request exactly-once sends (transaction `begin`, `load`, `commit`, `rollback`, the one-shot
  `stream_load` that fences the register, and `get_load_state`), the older fault kinds of the
  at-least-once campaign where they act (the register's Stream Loads), FE restarts (running
  multi-table transactions abort) and label evictions (bursts and a tiny retention);

and all along a watcher checks what a reader of StarRocks sees: per partition exactly the records
of offsets [0, next_offset) of the register, each once (ids are `4 * offset + partition`), and
Kafka's committed offsets never ahead of the register nor going back; the status never FAILED.

At the end it counts per id: 0 missing and 0 duplicated, the register at the end of every
partition and Kafka's committed offsets equal to it (never beyond), and prints the figures.

`EXACTLY_ONCE_RECORDS` changes the size (default 200,000).
"""
import json
import os
import re
import threading
import time

import requests

from harness import connect, kafka
from harness.emulator import Emulator

from harness.faults import connector_config, create_table, private_plugin_copy, report

DB = "d"
PARTITIONS = 4
REGISTER = "kafka_connect_register"
PUBLISH_DELAY_MS = 200
CLIENT_TIMEOUT_MS = 3000  # sink.timeoutms: how long the connector waits for one answer
NO_REPLY_SECONDS = 5  # longer than CLIENT_TIMEOUT_MS: the client gives up on the silent request

# Every request exactly-once mode sends, and the request-level fault kinds (docs/emulator.md,
# "Faults"). `stream_load` is sent only while a task takes a partition (fencing: the register's
# one-shot upsert), so it is armed just before a kill or a forced rebalance. A `rollback` reaches
# the fault point only for a transaction StarRocks knows (the emulator answers the rollback of a
# label never begun before it), so rollback faults are armed together with `load` faults: a load
# whose answer is lost makes the writer roll its transaction back.
REQUEST_KINDS = ["fail_before", "drop_after", "no_reply"]
FLUSH_OPS = ["begin", "load", "commit", "get_load_state", "rollback"]
FENCE_OPS = ["stream_load"]

# The at-least-once campaign's fault kinds that act on what exactly-once sends: all of them act on
# one-shot Stream Loads only (the register's fence writes); the data faults do not act on
# multi-table transactions (docs/emulator.md, "What it does not emulate"). Split over the fencing
# events so that no partition meets too many of them in a row.
LEGACY_GROUPS = [
    [("http_500", {"count": 1}), ("no_backend", {"count": 1}), ("running_txns_limit", {"count": 1})],
    [("reset_mid_body", {"count": 1}), ("hang", {"count": 1, "seconds": 6}), ("too_many_versions", {"count": 1})],
    [("mem_limit", {"count": 1}), ("publish_timeout", {"count": 1, "seconds": 2}),
     # the reply of a committed fence write is lost; the next begin of a taken label (a fencer
     # that writes the same row again) gets the 3.3/3.4 reply. May stay armed: a fencer whose
     # answer was lost reads the register instead of writing again.
     ("commit_then_drop", {"count": 1}), ("label_exists_fail_variant", {"count": 1})],
]
MAY_STAY_ARMED = {"label_exists_fail_variant"}


def ids_of(partition, lo, hi):
    """The ids of partition `partition` at offsets lo..hi-1 (id = 4 * offset + partition)."""
    return [PARTITIONS * o + partition for o in range(lo, hi)]


# -- the cluster -------------------------------------------------------------------------------
class EoCluster(connect.WorkerGroup):
    """Workers started in the background: a JVM takes a while on two cores."""

    def __init__(self, bootstrap, workdir, plugin_path, settings):
        super().__init__()
        self.bootstrap, self.workdir, self.plugin_path, self.settings = bootstrap, workdir, plugin_path, settings
        self.starting = []
        self.errors = []

    def add_async(self):
        """Starts a worker's JVM here (in the calling thread: the harness ties a child's life to
        the thread that forked it, PR_SET_PDEATHSIG) and waits for its REST API in the background."""
        i = len(self.members)
        w = connect.ConnectWorker("distributed", self.bootstrap, self.workdir / ("worker-%d" % i),
                                  self.plugin_path, worker_properties=self.settings, name="connect-eo-%d" % i)
        self.members.append(w)
        w.workdir.mkdir(parents=True, exist_ok=True)
        w.properties_file = kafka.write_properties(w.workdir / "worker.properties", w._properties_text())
        w.process = kafka.kafka_java(connect.DISTRIBUTED, [w.properties_file], w.workdir / "worker.log", w.name,
                                     w.line, heap=w.heap).start()
        rest = connect.ConnectRest(w.url)

        def wait():
            try:
                w.process.wait_for(lambda: rest.request("GET", "/health", timeout=5).status_code == 200,
                                   180, "healthy (GET /health)")
                w.rest = rest
            except Exception as e:  # reported by join_starting
                self.errors.append(e)
        t = threading.Thread(target=wait, daemon=True)
        t.start()
        self.starting.append(t)
        return w

    def join_starting(self, timeout=180):
        for t in self.starting:
            t.join(timeout)
            assert not t.is_alive(), "a worker did not start in %d s" % timeout
        self.starting = []
        assert not self.errors, "a worker failed to start: %s" % self.errors[0]

    def stop_all(self):
        for t in self.starting:
            t.join(60)
        for w in reversed(self.members):
            w.stop()

    def logs(self):
        out = []
        for w in self.members:
            p = w.workdir / "worker.log"
            if p.exists():
                out.append(p.read_text(encoding="utf-8", errors="replace"))
        return out


# -- the watcher -------------------------------------------------------------------------------
class Watch(threading.Thread):
    """Every second: the connector's status (never FAILED), Kafka's committed offsets (never back,
    never ahead of the register read just after them), and in one query the register beside the
    table's rows per partition: a reader must see exactly offsets [0, next_offset) of each
    partition, each once."""

    def __init__(self, cluster, name, kafka_broker, emulator, group, topic, table):
        super().__init__(daemon=True)
        self.cluster, self.name, self.kafka_broker, self.emulator = cluster, name, kafka_broker, emulator
        self.group, self.topic, self.table = group, topic, table
        self.stop_event = threading.Event()
        self.failures = []  # FAILED parts of the status
        self.violations = []  # broken invariants
        self.committed = {}
        self.register = {}
        self.polls = self.consistent_polls = self.register_polls = 0
        self.states = {}
        self.errors = {}

    def sql_snapshot(self):
        """{partition: (next_offset, generation, rows, distinct ids, max id, min id)} from one
        statement: the emulator publishes a multi-table commit to every table at once, and one
        query sees all of it or none."""
        q = ("SELECT r.kafka_partition, r.next_offset, r.generation, t.c, t.d, t.mx, t.mn FROM %s.%s r LEFT JOIN "
             "(SELECT id %% %d AS p, COUNT(*) AS c, COUNT(DISTINCT id) AS d, MAX(id) AS mx, MIN(id) AS mn FROM %s.%s "
             "GROUP BY id %% %d) t ON t.p = r.kafka_partition WHERE r.topic = '%s'"
             % (DB, REGISTER, PARTITIONS, DB, self.table, PARTITIONS, self.topic))
        out = {}
        for row in self.emulator.sql(q):
            p, nxt, gen, c, d, mx, mn = row
            out[int(p)] = (int(nxt), int(gen), int(c or 0), int(d or 0),
                           None if mx is None else int(mx), None if mn is None else int(mn))
        return out

    def check_snapshot(self, snap):
        for p, (nxt, gen, c, d, mx, mn) in snap.items():
            loaded = max(nxt, 0)
            expected_max = PARTITIONS * (loaded - 1) + p if loaded else None
            expected_min = p if loaded else None
            if (c, d, mx, mn) != (loaded, loaded, expected_max, expected_min):
                self.violations.append(
                    "partition %d: the register says next_offset %d (generation %d), the table holds %d rows, %d "
                    "distinct ids, ids %s..%s (expected %d rows, ids %s..%s)"
                    % (p, nxt, gen, c, d, mn, mx, loaded, expected_min, expected_max))

    def poll_once(self):
        # 1. status
        for w in self.cluster.alive():
            try:
                st = connect.ConnectRest(w.url, timeout=5).status(self.name)
            except Exception:
                continue
            if st is None:
                continue
            self.polls += 1
            for what, part in [("connector", st.get("connector", {}))] + [("task %s" % t.get("id"), t) for t in st.get("tasks", [])]:
                self.states[part.get("state")] = self.states.get(part.get("state"), 0) + 1
                if part.get("state") == "FAILED":
                    self.failures.append("%s: %s" % (what, part.get("trace", "")[:3000]))
            break
        # 2. Kafka's committed offsets, then (later, so never behind them) the register
        try:
            committed = self.kafka_broker.committed(self.group, self.topic, PARTITIONS)
        except Exception as e:
            committed = None
            self.errors["committed"] = repr(e)
        if committed is not None:
            for p, off in committed.items():
                if off < self.committed.get(p, -1):
                    self.violations.append("partition %d: Kafka's committed offset went back %d -> %d"
                                           % (p, self.committed[p], off))
                self.committed[p] = off
        try:
            snap = self.sql_snapshot()
        except Exception as e:  # no register yet, or a busy emulator
            self.errors["sql"] = repr(e)
            return
        self.register_polls += 1
        self.check_snapshot(snap)
        for p, off in (committed or {}).items():
            nxt = snap.get(p, (-1,))[0]
            if off > max(nxt, 0):
                self.violations.append("partition %d: Kafka's committed offset %d is beyond the register's %d"
                                       % (p, off, nxt))
        for p, v in snap.items():
            if v[0] < self.register.get(p, (-1,))[0]:
                self.violations.append("partition %d: the register went back %d -> %d" % (p, self.register[p][0], v[0]))
            self.register[p] = v
        self.consistent_polls += 1

    def run(self):
        while not self.stop_event.is_set():
            try:
                self.poll_once()
            except Exception as e:  # keep watching; shown in the summary
                self.errors["poll"] = repr(e)
            self.stop_event.wait(1.0)

    def check(self):
        assert not self.failures, "FAILED in the connector's status:\n%s" % self.failures[0]
        assert not self.violations, "%d broken invariants, first: %s" % (len(self.violations), self.violations[:5])

    def stop(self):
        self.stop_event.set()
        self.join(timeout=15)


# -- the campaign ------------------------------------------------------------------------------
def test_exactly_once_campaign(request, kafka_broker, plugin_dir, workdir, unique, record_property):
    n = int(os.environ.get("EXACTLY_ONCE_RECORDS", "200000"))
    t_start = time.monotonic()
    timeline = []

    def note(what):
        line = "%6.1f s  %s" % (time.monotonic() - t_start, what)
        timeline.append(line)
        print(line, flush=True)

    # -- StarRocks 4.0 with a publish delay: a commit is COMMITTED before it is VISIBLE
    emulator = Emulator(workdir=workdir, args=["--publish-delay-ms", str(PUBLISH_DELAY_MS)])
    request.addfinalizer(emulator.stop)
    emu_admin = requests.Session()

    def admin(path, **kw):
        r = emu_admin.post(emulator.fe_url + path, timeout=10, **kw)
        r.raise_for_status()
        return r.json()

    name = "eo-" + unique
    group = "connect-" + name
    topic = kafka_broker.create_topic("eo_" + unique, partitions=PARTITIONS)
    table = "eo_" + unique
    create_table(emulator, table)

    # -- the cluster: two distributed workers
    settings = connect.failover_settings("eo-" + unique)
    cluster = EoCluster(kafka_broker.bootstrap, workdir, private_plugin_copy(plugin_dir, workdir), settings)
    request.addfinalizer(cluster.stop_all)
    cluster.add_async()
    cluster.add_async()
    cluster.join_starting()
    note("2 workers up: %s" % [w.url for w in cluster.members])

    cfg = connector_config(emulator, topic, table, **{
        "name": name,
        "tasks.max": 2,
        "delivery.guarantee": "exactly_once",
        "starrocks.query.address": "127.0.0.1:%d" % emulator.query_port,
        "exactly.once.register.table": REGISTER,
        "sink.maxretries": 8,
        "sink.retry.backoffms": 200,
        "sink.timeoutms": CLIENT_TIMEOUT_MS,
    })
    cluster.call(lambda r: r.create(name, cfg), "create")
    watch = Watch(cluster, name, kafka_broker, emulator, group, topic, table)
    watch.start()
    request.addfinalizer(watch.stop)

    def status():
        return cluster.call(lambda r: r.status(name), "status", timeout=30)

    def wait_all_running(what, tasks, timeout=120):
        deadline = time.monotonic() + timeout
        st = None
        while True:
            watch.check()
            try:
                st = status()
            except TimeoutError:
                st = None
            alive = cluster.by_id()
            ts = (st or {}).get("tasks", [])
            if (st and st["connector"]["state"] == "RUNNING" and len(ts) == tasks
                    and all(t["state"] == "RUNNING" and t["worker_id"] in alive for t in ts)):
                note("%s: %d tasks RUNNING on %s" % (what, tasks, sorted(t["worker_id"] for t in ts)))
                return st
            assert time.monotonic() < deadline, "%s: not all %d tasks RUNNING on live workers after %.0f s: %s" % (
                what, tasks, timeout, st)
            time.sleep(0.5)

    tasks = 2
    wait_all_running("created", tasks)

    # -- records: id % 4 is the partition, so offset o of partition p holds id 4 * o + p
    producer = kafka.ReliableProducer(kafka_broker.bootstrap)
    produced = producer.produced
    payload_pad = "x" * 60

    def produce(lo, hi):
        for i in range(lo, hi):
            value = json.dumps({"id": i, "payload": "p%010d-%s" % (i, payload_pad)}).encode()
            producer.send(topic, value, key=str(i).encode(), partition=i % PARTITIONS)
        producer.flush()

    # -- what happens, in order, between chunks of records
    armed = {}  # "kind/op" or "kind" -> count armed
    fe_restarts = [0]
    evictions = [0]
    rebalances_forced = [0]

    def arm(kind, op=None, **kw):
        body = {"kind": kind}
        if op:
            body["op"] = op
        if kind == "no_reply":
            kw.setdefault("seconds", NO_REPLY_SECONDS)
        body.update(kw)
        emulator.faults(**body)
        key = "%s/%s" % (kind, op) if op else kind
        armed[key] = armed.get(key, 0) + body.get("count", 1)
        return key

    def arm_fence_faults(i):
        """The register's fence write and the rollbacks of fencing, each request-level kind once
        (one op per fencing event, round robin), plus a group of the older kinds."""
        keys = []
        op = FENCE_OPS[i % len(FENCE_OPS)]
        for kind in REQUEST_KINDS:
            keys.append(arm(kind, op))
        for kind, kw in LEGACY_GROUPS[i % len(LEGACY_GROUPS)]:
            keys.append(arm(kind, **kw))
        note("armed for the next fencing: %s" % keys)

    def armed_now():
        return [f for f in emulator.list_faults() if f.get("kind") not in MAY_STAY_ARMED]

    def wait_faults_consumed(what, timeout=60):
        """Until every armed fault has fired; one that has not after `timeout` stays armed (it may
        fire later) and the end of the test fails if it never does."""
        deadline = time.monotonic() + timeout
        while True:
            watch.check()
            left = armed_now()
            if not left:
                note("%s: faults consumed" % what)
                return
            if time.monotonic() > deadline:
                note("%s: NOT consumed after %d s, left armed: %s" % (what, timeout, left))
                return
            time.sleep(0.5)

    def kill_in_flight(what, stall_op, everyone=False):
        """SIGKILLs the worker running the most tasks (every worker with `everyone`: the whole
        cluster crashes) at a moment when a request is certainly in flight: a `no_reply` fault on
        `stall_op` has just fired, and the writer waits (sink.timeoutms) for an answer that does not
        come. On `commit`: the transaction is committed and Kafka's offsets are not (the new owner
        must resume from the register, not from Kafka); on `load`: a transaction with rows is
        running (the new owner must roll it back, or it must never commit)."""
        st = status()
        per_worker = {}
        for t in st.get("tasks", []):
            per_worker[t["worker_id"]] = per_worker.get(t["worker_id"], 0) + 1
        alive = cluster.by_id()
        candidates = [wid for wid in per_worker if wid in alive] or list(alive)
        victims = list(alive) if everyone else [max(candidates, key=lambda wid: per_worker.get(wid, 0))]
        arm("no_reply", stall_op, seconds=30)
        deadline = time.monotonic() + 20
        fired = False
        while time.monotonic() < deadline:
            if not any(f.get("kind") == "no_reply" and f.get("op") == stall_op for f in emulator.list_faults()):
                fired = True
                break
            time.sleep(0.05)
        for wid in victims:
            cluster.kill(alive[wid])
        stalls.append((stall_op, fired))
        note("%s: SIGKILL worker(s) %s (ran %s task(s)) %s; register %s; %d replacement(s) join"
             % (what, victims, [per_worker.get(v, 0) for v in victims],
                "right after a %s went unanswered" % stall_op if fired else "(the %s stall never fired)" % stall_op,
                {p: v[0] for p, v in sorted(watch.register.items())}, len(victims)))
        for _ in victims:
            cluster.add_async()

    def forced_rebalance(new_tasks):
        nonlocal tasks
        cfg2 = dict(cluster.call(lambda r: r.config(name), "config"))
        cfg2["tasks.max"] = str(new_tasks)
        cluster.call(lambda r: r.put_config(name, cfg2), "put config")
        tasks = new_tasks
        rebalances_forced[0] += 1
        note("forced rebalance: PUT /connectors/%s/config with tasks.max=%d" % (name, new_tasks))

    def fe_restart():
        admin("/api/_emulator/fe_restart")
        fe_restarts[0] += 1

    def evict():
        admin("/api/_emulator/labels/evict", params={"db": DB})
        evictions[0] += 1

    fence_events = [0]
    stalls = []  # (op, whether its no_reply fired before the kill)

    def ev_flush_faults(*ops):
        def run():
            keys = [arm(kind, op) for op in ops for kind in REQUEST_KINDS]
            note("armed %s" % keys)
            wait_faults_consumed("%s faults" % "/".join(ops))
        return run

    def ev_kill(stall_op, everyone=False):
        def run():
            cluster.join_starting()  # the previous replacement is up: never fewer than one worker
            arm_fence_faults(fence_events[0])
            fence_events[0] += 1
            kill_in_flight("kill #%d" % (len(stalls) + 1), stall_op, everyone)
        return run

    def ev_rebalance(new_tasks):
        def run():
            cluster.join_starting()
            arm_fence_faults(fence_events[0])
            fence_events[0] += 1
            forced_rebalance(new_tasks)
        return run

    def ev_fe_restarts():
        for k in range(3):
            fe_restart()
            time.sleep(0.7)
        note("FE restarted 3 times, 0.7 s apart (running multi-table transactions aborted)")

    def ev_evict_burst():
        for k in range(3):
            evict()
            time.sleep(1.0)
        note("label eviction bursts: every finished label of %s forgotten, 3 times 1 s apart" % DB)

    def ev_tiny_retention():
        before = emu_admin.get(emulator.fe_url + "/api/_emulator/labels", timeout=10).json()
        admin("/api/_emulator/labels", json={"keep_max_num": 2, "keep_max_second": 1})
        note("label retention: keep_max_num 2, keep_max_second 1 (was %s)" % before)
        ev_tiny_retention.before = before

    def ev_restore_retention():
        b = getattr(ev_tiny_retention, "before", {"keep_max_second": 259200, "keep_max_num": 1000})
        admin("/api/_emulator/labels", json={"keep_max_num": b["keep_max_num"], "keep_max_second": b["keep_max_second"]})
        note("label retention restored")

    events = [
        ("begin faults", ev_flush_faults("begin")),
        ("kill while a commit is unanswered", ev_kill("commit")),
        ("rollback and load faults", ev_flush_faults("rollback", "load")),
        ("FE restarts", ev_fe_restarts),
        ("forced rebalance to 3 tasks", ev_rebalance(3)),
        ("commit faults", ev_flush_faults("commit")),
        ("tiny label retention", ev_tiny_retention),
        ("kill while a load is unanswered", ev_kill("load")),
        ("get_load_state faults", ev_flush_faults("get_load_state")),
        ("eviction bursts", ev_evict_burst),
        ("restore retention", ev_restore_retention),
        # (more tasks, not fewer: lowering tasks.max while a killed worker's tasks are still
        # assigned makes Connect fail a task with TooManyTasksException)
        ("forced rebalance to 4 tasks", ev_rebalance(4)),
        ("kill while a commit is unanswered", ev_kill("commit")),
        ("FE restarts", ev_fe_restarts),
        ("whole cluster killed while a commit is unanswered", ev_kill("commit", everyone=True)),
        ("eviction bursts", ev_evict_burst),
    ]
    chunks = len(events) + 1
    bounds = [n * i // chunks for i in range(chunks + 1)]

    for i, (what, run) in enumerate(events):
        produce(bounds[i], bounds[i + 1])
        note("produced ids %d..%d; event: %s" % (bounds[i], bounds[i + 1] - 1, what))
        run()
        watch.check()
    cluster.join_starting()
    wait_all_running("after the last event", tasks, timeout=150)
    # the fence faults of the last kill are consumed by the new owners' fencing
    wait_faults_consumed("fencing after the last event", timeout=120)
    produce(bounds[-2], bounds[-1])
    note("produced the last chunk, ids %d..%d, after every rebalance" % (bounds[-2], bounds[-1] - 1))

    # -- the end: every partition's register at its end, Kafka's offsets there too
    expected = {p: produced.get(p, 0) for p in range(PARTITIONS)}
    deadline = time.monotonic() + 180
    while True:
        watch.check()
        reg = {p: v[0] for p, v in watch.register.items()}
        # (without a register, as in at-least-once mode, the counts at the end tell)
        if watch.committed == expected and (reg == expected or (not reg and "sql" in watch.errors)):
            break
        if time.monotonic() > deadline:
            raise AssertionError("after 180 s: register %s, Kafka committed %s, partitions end at %s; rows %s"
                                 % (reg, watch.committed, expected, emulator.sql(
                                     "SELECT COUNT(*), COUNT(DISTINCT id) FROM %s.%s" % (DB, table))))
        time.sleep(1)
    note("register and Kafka's committed offsets at the end of every partition: %s" % expected)
    time.sleep(3)  # a late commit of a zombie would show now
    watch.stop()
    watch.check()

    # -- count, per id
    ((rows, distinct, lo, hi),) = emulator.sql("SELECT COUNT(*), COUNT(DISTINCT id), MIN(id), MAX(id) FROM %s.%s" % (DB, table))
    rows, distinct = int(rows), int(distinct)
    ((duplicated, extra_rows),) = emulator.sql(
        "SELECT COUNT(*), COALESCE(SUM(c - 1), 0) FROM (SELECT id, COUNT(*) AS c FROM %s.%s GROUP BY id HAVING COUNT(*) > 1) x"
        % (DB, table))
    ((in_range,),) = emulator.sql("SELECT COUNT(DISTINCT id) FROM %s.%s WHERE id >= 0 AND id < %d" % (DB, table, n))
    missing = n - int(in_range)
    ((bad,),) = emulator.sql("SELECT COUNT(*) FROM %s.%s WHERE SUBSTR(payload, 2, 10) + 0 <> id OR LENGTH(payload) <> 72"
                             % (DB, table))
    try:
        register_rows = emulator.sql("SELECT topic, kafka_partition, next_offset, generation, owner FROM %s.%s "
                                     "WHERE topic = '%s' ORDER BY kafka_partition" % (DB, REGISTER, topic))
    except Exception as e:  # no register: the connector ran at-least-once
        note("no register: %s" % e)
        register_rows = []
    register = {int(p): int(nxt) for _, p, nxt, _, _ in register_rows}
    generations = {int(p): int(g) for _, p, _, g, _ in register_rows}
    committed = kafka_broker.committed(group, topic, PARTITIONS)
    beyond = {p: (committed[p], register.get(p)) for p in committed if committed[p] > register.get(p, -1)}
    left_armed = emulator.list_faults()
    elapsed = time.monotonic() - t_start

    logs = cluster.logs()
    opened = sum(len(re.findall(r"Opened partitions \[", t)) for t in logs)
    warns = sum(len(re.findall(r" WARN ", t)) for t in logs)
    consumed = {k: v for k, v in armed.items()}
    for f in left_armed:
        key = "%s/%s" % (f["kind"], f["op"]) if f.get("op") else f["kind"]
        consumed[key] = consumed.get(key, 0) - f.get("remaining", 0)
    summary = {
        "records": n, "rows": rows, "distinct_ids": distinct, "missing": missing, "duplicated_ids": int(duplicated),
        "extra_rows": int(extra_rows), "kills": cluster.kills, "kill_events": len(stalls),
        "kills_with_request_in_flight": ["%s: %s" % (op, "yes" if f else "no") for op, f in stalls], "workers_started": len(cluster.members),
        "forced_rebalances": rebalances_forced[0], "partition_assignments": opened, "fe_restarts": fe_restarts[0],
        "eviction_bursts": evictions[0], "faults_armed": armed, "faults_fired": consumed, "faults_left_armed": left_armed,
        "register": register, "generations": generations, "kafka_committed": committed, "seconds": round(elapsed, 1),
        "watch_polls": watch.polls, "watch_consistent_snapshots": watch.consistent_polls, "states_seen": watch.states,
        "worker_warnings": warns, "watch_errors": watch.errors,
    }
    (workdir / "exactly-once.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (workdir / "exactly-once-timeline.txt").write_text("\n".join(timeline) + "\n", encoding="utf-8")
    for k in ("records", "rows", "distinct_ids", "missing", "duplicated_ids", "kills", "forced_rebalances",
              "partition_assignments", "fe_restarts", "eviction_bursts", "seconds"):
        record_property(k, summary[k])
    record_property("faults_fired", json.dumps(consumed))
    fired = sum(v for v in consumed.values())
    report(request, "[exactly-once] %d records, %d rows in StarRocks, %d distinct ids: %d missing, %d duplicated "
                    "(%d extra rows); %d SIGKILLs of a worker in %d kill events, %d of them right after a request went "
                    "unanswered (%s) (%d workers started), %d forced rebalances "
                    "(tasks.max), %d partition assignments fenced, %d FE restarts, %d label eviction bursts + a "
                    "tiny retention; %d faults fired (%s)%s; register %s = Kafka committed %s; %d consistent "
                    "snapshots (rows = register, per partition); %.0f s"
           % (n, rows, distinct, missing, int(duplicated), int(extra_rows), cluster.kills, len(stalls),
              sum(1 for _, f in stalls if f), ", ".join(op for op, f in stalls if f), len(cluster.members),
              rebalances_forced[0], opened, fe_restarts[0], evictions[0], fired,
              ", ".join("%s x%d" % kv for kv in consumed.items()),
              (" (still armed: %s)" % left_armed) if left_armed else "",
              register, committed, watch.consistent_polls, elapsed))

    assert missing == 0, "%d ids missing" % missing
    assert int(duplicated) == 0, "%d ids loaded more than once (%d extra rows)" % (int(duplicated), int(extra_rows))
    assert (rows, distinct) == (n, n) and (int(lo), int(hi)) == (0, n - 1), (rows, distinct, lo, hi)
    assert bad == 0, "%d rows whose payload is not their id's" % bad
    assert register == expected, "the register %s, the partitions end at %s" % (register, expected)
    assert not beyond, "Kafka's committed offsets beyond the register: %s" % beyond
    assert committed == expected, "Kafka committed %s, the partitions end at %s" % (committed, expected)
    assert all(f["kind"] in MAY_STAY_ARMED for f in left_armed), "faults that never fired: %s" % left_armed


def test_exactly_once_flushes_on_time_when_records_stop_coming(kafka_broker, plugin_dir, workdir, unique):
    """Exactly-once flushes on the task thread, inside put(). One burst of records and then
    nothing: the rows must land after `bufferflush.intervalms` (1 s), not at the next offset
    commit (60 s here), which is when Connect would call the task again without the wake-up the
    task asks for."""
    emulator = Emulator(workdir=workdir / "emulator-idle")
    worker = connect.ConnectWorker("standalone", kafka_broker.bootstrap, workdir / "worker-idle", plugin_dir,
                                   worker_properties={"offset.flush.interval.ms": "60000"})
    try:
        worker.start()
        topic = kafka_broker.create_topic("eo_idle_" + unique, partitions=2)
        table = "eo_idle_" + unique
        create_table(emulator, table)
        name = "eo-idle-" + unique
        worker.rest.create(name, connector_config(emulator, topic, table, **{
            "delivery.guarantee": "exactly_once",
            "starrocks.query.address": "127.0.0.1:%d" % emulator.query_port}))
        worker.rest.wait_for(name, lambda s: s["tasks"] and s["tasks"][0]["state"] == "RUNNING", 60, "task RUNNING")
        n = 1000
        kafka_broker.produce(topic, [{"id": i, "payload": "p%d" % i} for i in range(n)], keys=[str(i) for i in range(n)])
        produced = time.monotonic()
        while True:
            rows = int(emulator.sql("SELECT COUNT(*) FROM %s.%s" % (DB, table))[0][0])
            waited = time.monotonic() - produced
            if rows >= n:
                break
            worker.rest.raise_if_failed(name)
            assert waited < 20, "%d of %d rows after %.0f s: the flush waits for the offset commit (60 s)" % (
                rows, n, waited)
            time.sleep(0.2)
        print("[exactly-once idle] %d rows visible %.1f s after the last record was produced" % (rows, waited))
        assert rows == n
    finally:
        worker.stop()
        emulator.stop()
