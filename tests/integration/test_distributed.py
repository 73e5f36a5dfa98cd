"""Distributed mode (issue 7): a three-worker Connect cluster on loopback, the connector created
through `POST /connectors` with the docs' REST payload (tests/integration/seed/starrocks-sink.json:
only the FE address, the topic, the table and `tasks.max` changed), four tasks over an
8-partition topic. While records are produced and loaded the test

* SIGKILLs the worker that runs the most tasks (its tasks' consumers drop out of the group: the
  survivors' partitions are revoked and reassigned, and after `scheduled.rebalance.max.delay.ms`
  the dead worker's tasks are started elsewhere),
* starts a new worker that joins the cluster,
* pauses and resumes the connector,
* changes its config through `PUT /connectors/{name}/config` (the tasks restart with it),
* restarts the connector and its tasks through `POST /connectors/{name}/restart?includeTasks=true`,

and polls the connector's status all along: no task may ever be FAILED. It polls the group's
committed offsets too: they must never go back. At the end every id is in StarRocks (duplicates are
counted and reported: at-least-once), every task is RUNNING, and a last chunk produced to every
partition after the last rebalance is loaded and its offsets committed on all 8 partitions, so a
task that shows RUNNING is one that loads. No worker may have logged Connect's "Ignoring invalid
task provided offset": a task answers offsets only for the partitions it owns (it forgets revoked
ones in `close(partitions)`).

`DISTRIBUTED_RECORDS` changes the size (default 100,000).
"""
import json
import os
import re
import threading
import time


from harness import connect, kafka, seed

from harness.faults import private_plugin_copy, report

DB = "example_db"
PARTITIONS = 8
TASKS = 4


def counts(emulator, table):
    """(rows, distinct ids, min id, max id)."""
    (row,) = emulator.sql("SELECT COUNT(*), COUNT(DISTINCT id), MIN(id), MAX(id) FROM %s.%s" % (DB, table))
    return tuple(int(v) if v is not None else None for v in row)


def counts_ex(emulator, table):
    try:
        return counts(emulator, table)
    except Exception as e:  # a busy emulator: only for the timeline
        return repr(e)


def wait_distinct(emulator, table, n, timeout, check):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        check()
        try:
            last = counts(emulator, table)
            if last[1] >= n:
                return last
        except Exception as e:  # a busy emulator: ask again
            last = e
        assert time.monotonic() < deadline, "%s.%s: wanted %d distinct ids after %.0f s; last (rows, distinct, min, max): %r" % (
            DB, table, n, timeout, last)
        time.sleep(1)


def _create_table(emulator, table):
    emulator.sql("CREATE TABLE %s.%s (id BIGINT NOT NULL, city STRING) DUPLICATE KEY(id) "
                 "DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')" % (DB, table))


class Cluster(connect.WorkerGroup):
    """The three workers of this test, started one after the other."""

    def __init__(self, workers, plugin_path, settings):
        super().__init__()
        self.workers = workers
        self.plugin_path = plugin_path
        self.settings = settings

    def add(self):
        w = self.workers.start("distributed", self.plugin_path, worker_properties=self.settings,
                               name="connect-dist-%d" % len(self.members))
        self.members.append(w)
        return w


class StatusWatch(threading.Thread):
    """Polls the connector's status through live workers every half second; remembers every FAILED
    it sees (with the trace) and how many polls showed which task states. Polls the group's
    committed offsets too: they must never go back (a task answering a partition's position from
    before a rebalance would rewind them)."""

    def __init__(self, cluster, name, kafka_broker, group, topic):
        super().__init__(daemon=True)
        self.cluster, self.name = cluster, name
        self.kafka_broker, self.group, self.topic = kafka_broker, group, topic
        self.committed = {}
        self.rewinds = []
        self.stop_event = threading.Event()
        self.failures = []
        self.polls = 0
        self.states = {}
        self.last = None

    def run(self):
        rests = {}
        while not self.stop_event.is_set():
            for w in self.cluster.alive():
                rest = rests.setdefault(w.url, connect.ConnectRest(w.url, timeout=5))
                try:
                    st = rest.status(self.name)
                except Exception:
                    continue
                if st is None:
                    continue
                self.polls += 1
                self.last = st
                parts = [("connector", st.get("connector", {}))] + [("task %s" % t.get("id"), t) for t in st.get("tasks", [])]
                for what, part in parts:
                    state = part.get("state")
                    self.states[state] = self.states.get(state, 0) + 1
                    if state == "FAILED":
                        self.failures.append("%s: %s" % (what, part.get("trace", "")[:2000]))
                break
            try:
                committed = self.kafka_broker.committed(self.group, self.topic, PARTITIONS)
            except Exception:
                committed = {}
            for p, offset in committed.items():
                if offset < self.committed.get(p, -1):
                    self.rewinds.append("partition %d: %d -> %d" % (p, self.committed[p], offset))
                self.committed[p] = offset
            self.stop_event.wait(0.5)

    def check(self):
        assert not self.failures, "FAILED seen in the status:\n%s" % self.failures[0]
        assert not self.rewinds, "the group's committed offsets went back: %s" % self.rewinds

    def stop(self):
        self.stop_event.set()
        self.join(timeout=10)


def test_distributed_cluster_rebalances(request, kafka_broker, seed_db, plugin_dir, workers, workdir, unique):
    n = int(os.environ.get("DISTRIBUTED_RECORDS", "100000"))
    topic = kafka_broker.create_topic("dist_" + unique, partitions=PARTITIONS)
    table = "dist_" + unique
    _create_table(seed_db, table)
    name = "starrocks-dist-" + unique
    group = "connect-" + name
    t_start = time.monotonic()
    timeline = []

    def note(what):
        line = "%6.1f s  %s" % (time.monotonic() - t_start, what)
        timeline.append(line)
        print(line)

    # -- the cluster: three workers with the same group id and internal topics
    settings = connect.distributed_settings("dist-" + unique)
    settings.update({
        "offset.flush.interval.ms": "2000",
        "plugin.discovery": "service_load",
        # a killed worker leaves the Connect group, and its tasks' consumers the sink's group,
        # after 6 s (the broker's minimum session timeout)
        "session.timeout.ms": "6000",
        "heartbeat.interval.ms": "1000",
        "consumer.session.timeout.ms": "6000",
        "consumer.heartbeat.interval.ms": "1000",
        "consumer.max.poll.records": "2000",
    })
    cluster = Cluster(workers, private_plugin_copy(plugin_dir, workdir), settings)
    for _ in range(3):
        cluster.add()
    note("3 workers up: %s" % [w.url for w in cluster.members])

    # -- the connector, from the docs' curl payload
    payload = json.loads(seed.rest_payload(seed_db.fe_http_port))
    payload["name"] = name
    cfg = payload["config"]
    cfg.update({"topics": topic, "starrocks.topic2table.map": "%s:%s" % (topic, table), "tasks.max": str(TASKS)})
    created = cluster.call(lambda r: r.post_connectors_raw(json.dumps(payload)), "create")
    assert created["name"] == name
    watch = StatusWatch(cluster, name, kafka_broker, group, topic)
    watch.start()
    request.addfinalizer(watch.stop)

    def wait_all_running(what, timeout=120):
        """All TASKS tasks RUNNING, each on a live worker."""
        deadline = time.monotonic() + timeout
        st = None
        while True:
            watch.check()
            try:
                st = cluster.call(lambda r: r.status(name), "status", timeout=30)
            except TimeoutError:
                st = None
            alive = cluster.by_id()
            ts = (st or {}).get("tasks", [])
            if (st and st["connector"]["state"] == "RUNNING" and len(ts) == TASKS
                    and all(t["state"] == "RUNNING" and t["worker_id"] in alive for t in ts)):
                note("%s: tasks RUNNING on %s" % (what, sorted(t["worker_id"] for t in ts)))
                return st
            assert time.monotonic() < deadline, "%s: not all %d tasks RUNNING on live workers after %.0f s: %s" % (
                what, TASKS, timeout, st)
            time.sleep(0.5)

    st = wait_all_running("created")

    # -- records: unique ids, spread evenly over the 8 partitions (id % 8), produced in chunks
    producer_client = kafka.ReliableProducer(kafka_broker.bootstrap)
    produced = producer_client.produced

    def produce(lo, hi):
        """ids lo..hi-1, id % 8 = partition; no keys (the payload's key converter is JsonConverter
        with schemas, which takes a null key). Returns once all are acknowledged."""
        for i in range(lo, hi):
            producer_client.send(topic, b'{"id":%d,"city":"c%07d"}' % (i, i), partition=i % PARTITIONS)
        producer_client.flush()

    main_part = n * 9 // 10
    chunks = 18
    bounds = [main_part * i // chunks for i in range(chunks + 1)]
    producer_error = []
    producing = threading.Event()  # cleared: the producer holds back (between chunks)
    producing.set()
    idle = threading.Event()  # set while the producer holds back

    def producer():
        try:
            for i in range(chunks):
                if not producing.is_set():
                    idle.set()
                    producing.wait()
                    idle.clear()
                produce(bounds[i], bounds[i + 1])
                time.sleep(2)
        except Exception as e:  # reported by the main thread
            producer_error.append(e)
        finally:
            idle.set()

    def committed_to_end(what, timeout=90):
        deadline = time.monotonic() + timeout
        while True:
            watch.check()
            expected = {p: produced.get(p, 0) for p in range(PARTITIONS)}
            try:
                got = kafka_broker.committed(group, topic, PARTITIONS)
            except Exception:
                got = None
            if got == expected:
                note("%s: offsets committed to the end of all %d partitions (%d records)" % (what, PARTITIONS, sum(expected.values())))
                return
            assert time.monotonic() < deadline, "%s: group %s committed %s, the partitions end at %s" % (
                what, group, got, expected)
            time.sleep(0.5)

    prod = threading.Thread(target=producer, daemon=True)
    prod.start()
    note("producing ids 0..%d in %d chunks, 2 s apart" % (main_part - 1, chunks))
    time.sleep(2)

    # 1. SIGKILL the worker with the most tasks, at a moment when StarRocks holds rows whose offsets
    #    are not committed yet (so the new owners of its partitions must load them again)
    per_worker = {}
    for t in st["tasks"]:
        per_worker[t["worker_id"]] = per_worker.get(t["worker_id"], 0) + 1
    victim_id = max(per_worker, key=per_worker.get)
    victim = cluster.by_id()[victim_id]
    gap = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            loaded = counts(seed_db, table)[1]
            done = sum(kafka_broker.committed(group, topic, PARTITIONS).values())
        except Exception:  # no group yet, or busy: look again
            time.sleep(0.1)
            continue
        if loaded - done >= 100:
            gap = loaded - done
            break
        time.sleep(0.05)
    cluster.kill(victim)
    note("SIGKILL worker %s (ran %d task(s)) with %s rows loaded but not committed; rows so far: %s"
         % (victim_id, per_worker[victim_id], gap, counts_ex(seed_db, table)))
    time.sleep(3)

    # 2. production holds back until the surviving tasks (which took the dead ones' partitions over
    #    in the consumer group) have loaded and committed everything; then a new worker joins (it
    #    gets the dead worker's tasks): every partition goes back to a task that owned it before the
    #    kill, and no new record comes to it for a while. A task answering a partition's position from
    #    before the kill would now rewind the group's committed offsets; the watch would see that.
    producing.clear()
    idle.wait(timeout=60)
    committed_to_end("after the kill")
    w = cluster.add()
    note("new worker %s joined" % w.url)
    wait_all_running("after the kill and the new worker")
    time.sleep(5)  # two offset commits with no new records
    watch.check()
    producing.set()

    # 3. pause and resume
    cluster.call(lambda r: r.pause(name), "pause")
    cluster.call(lambda r: r.wait_for(name, lambda s: s["connector"]["state"] == "PAUSED" and all(
        t["state"] == "PAUSED" for t in s.get("tasks", [])), 60, "PAUSED"), "wait paused")
    note("paused; rows: %s" % (counts_ex(seed_db, table),))
    time.sleep(3)
    cluster.call(lambda r: r.resume(name), "resume")
    wait_all_running("resumed")

    # 4. new config through PUT /connectors/{name}/config
    cfg2 = dict(cfg)
    cfg2["bufferflush.intervalms"] = "3000"
    cluster.call(lambda r: r.put_config(name, cfg2), "put config")
    note("PUT /connectors/%s/config (bufferflush.intervalms=3000)" % name)
    # the tasks restart with new task configs: wait until all of them carry the new value
    deadline = time.monotonic() + 60
    while True:
        tasks = cluster.call(lambda r: r.json("GET", "/connectors/%s/tasks" % name), "tasks")
        if len(tasks) == TASKS and all(t["config"].get("bufferflush.intervalms") == "3000" for t in tasks):
            break
        assert time.monotonic() < deadline, "the tasks never got the new config: %s" % tasks
        time.sleep(0.5)
    note("task configs updated")
    wait_all_running("reconfigured")

    # 5. restart the connector and its tasks
    cluster.call(lambda r: r.restart(name, include_tasks=True), "restart")
    note("POST /connectors/%s/restart?includeTasks=true" % name)
    time.sleep(2)
    wait_all_running("restarted")

    prod.join(timeout=180)
    assert not prod.is_alive(), "the producer did not finish"
    assert not producer_error, producer_error
    note("produced ids 0..%d" % (main_part - 1))

    # 6. the last chunk, after every rebalance, to every partition: each RUNNING task must load it
    wait_all_running("before the last chunk")
    produce(main_part, n)
    note("produced the last chunk, ids %d..%d" % (main_part, n - 1))

    final = wait_distinct(seed_db, table, n, 150, watch.check)
    note("all %d ids in StarRocks" % n)
    expected = {p: produced.get(p, 0) for p in range(PARTITIONS)}
    deadline = time.monotonic() + 90
    committed = {}
    while committed != expected:
        watch.check()
        assert time.monotonic() < deadline, "group %s committed %s, the partitions end at %s" % (group, committed, expected)
        time.sleep(1)
        try:
            committed = kafka_broker.committed(group, topic, PARTITIONS)
        except Exception:
            pass
    note("offsets committed to the end of all %d partitions" % PARTITIONS)
    st = wait_all_running("at the end")
    watch.stop()
    watch.check()
    elapsed = time.monotonic() - t_start

    rows, distinct, lo, hi = counts(seed_db, table)
    assert (distinct, lo, hi) == (n, 0, n - 1), "ids missing: %s" % ((rows, distinct, lo, hi),)
    duplicates = rows - distinct
    # the sink logs each close(partitions) of a rebalance (docs/delivery-guarantees.md)
    logs = [w.log_text() for w in cluster.members]
    revocations = sum(text.count("partitions revoked:") for text in logs)
    # A task answers offsets only for the partitions it owns: one that kept answering revoked
    # partitions made Connect log this on every commit (and a partition that came back would have
    # been answered from its old position).
    recognised = sum(len(re.findall(r"Stream Load \S+ into \S+ was already in StarRocks", text)) for text in logs)
    ignored = [line for text in logs for line in text.splitlines() if "Ignoring invalid task provided offset" in line]
    summary = {"records": n, "rows": rows, "distinct_ids": distinct, "duplicates": duplicates,
               "kills": cluster.kills, "workers_started": len(cluster.members), "seconds": round(elapsed, 1),
               "status_polls": watch.polls, "states_seen": watch.states, "committed": committed,
               "task_partition_revocations": revocations, "offsets_connect_ignored": len(ignored),
               "loads_found_already_in_starrocks": recognised}
    (workdir / "distributed.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (workdir / "distributed-timeline.txt").write_text("\n".join(timeline) + "\n", encoding="utf-8")
    report(request, "[distributed] %d records over %d partitions, %d tasks on 3 workers: 1 SIGKILL, 1 worker "
                    "joined, pause/resume, PUT config, restart with tasks; %d rows, %d distinct ids (none "
                    "missing), %d duplicates (%.2f %%), %d loads found already in StarRocks by label; %d revocations of "
                    "a task's partitions; %d status polls, no FAILED (states seen: %s), committed offsets never "
                    "went back; %.0f s"
           % (n, PARTITIONS, TASKS, rows, distinct, duplicates, 100.0 * duplicates / n, recognised, revocations,
              watch.polls, watch.states, elapsed))
    assert final[1] == n
    assert not ignored, "%d offsets of partitions a task did not own, e.g. %s" % (len(ignored), ignored[0])
