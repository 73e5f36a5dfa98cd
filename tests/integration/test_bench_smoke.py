"""A small run of the Connect benchmark (bench/connect_bench.py), so `make bench` cannot rot: every
scenario, our connector and the do-nothing ceiling, on the session's broker. Checks the figures
are there and plausible, never how fast they are."""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import connect_bench  # noqa: E402


def test_benchmark_smoke_run(kafka_broker, workdir):
    out = workdir / "bench.json"
    records = 3000
    result = connect_bench.main(["--records", str(records), "--partitions", "2", "--tasks", "2",
                                 "--tables", "20", "--tables-tasks", "2", "--tables-txn-limits", "1000,16",
                                 "--heap", "512m", "--timeout", "180", "--workdir", str(workdir / "bench"),
                                 "--out", str(out)], broker=kafka_broker)
    assert json.loads(out.read_text()) == result
    ours = {(r["scenario"], r.get("txn_limit")): r for r in result["runs"] if r["sink"] == "starrocks"}
    tables = {s for s, v in connect_bench.SCENARIOS.items() if v[0] == "tables"}
    assert tables == {"tables", "tables-multi"}
    assert set(ours) == {(s, None) for s in set(connect_bench.SCENARIOS) - tables} | {
        (s, limit) for s in tables for limit in (1000, 16)}
    ceilings = [r for r in result["runs"] if r["sink"] == "null"]
    # one ceiling per converter (JSON, JSON with schemas, String, ByteArray), one on the 20 topics
    assert len(ceilings) == 5, ceilings
    for (scenario, limit), r in ours.items():
        if limit is None:
            assert r["cpu_us_above_ceiling"] == round(r["cpu_s_per_m_records"] - next(
                c for c in ceilings if c["tasks"] == 2 and c["converter"].startswith(
                    connect_bench.SCENARIOS[scenario][1].rsplit(".", 1)[1]) and (
                    "schemas" in c["converter"]) == (connect_bench.SCENARIOS[scenario][2] == "true"))[
                "cpu_s_per_m_records"], 2), r
            continue
        # StarRocks' side: transactions counted, the running ones never past the emulator's limit
        # (2 tasks of 10 tables each hold at most sink.inflight.maxloads = 8 loads each: they queue for
        # slots at 2 x 8 = the limit of 16 and are never refused)
        assert r["transactions"] > 0 and 0 < r["peak_running_transactions"] <= limit, r
        assert r["refused_running_limit"] == 0 and r["running_limit_lines_in_log"] == 0, r
        if scenario == "tables-multi":
            # one transaction carries several tables: fewer transactions than table loads
            assert r["counters"].get("multi-table-transactions", 0) > 0, r
            assert r["transactions"] < r["counters"]["loads"], r
    for r in result["runs"]:
        assert r["records"] == records and r["seconds"] > 0, r
        assert r["records_per_s"] > 0 and r["mb_per_s"] > 0, r
        assert r["cpu_s_per_m_records"] > 0 and r["peak_rss_mb"] > 50, r
    for name, r in ours.items():
        assert r["ratio_to_ceiling"] > 0, r
        counters = r["counters"]
        # the connector's own counters account for every record and every row
        assert counters.get("records-received") == records, (name, counters)
        assert counters.get("rows-loaded") == records, (name, counters)
        for key, _ in connect_bench.BREAKDOWN:
            assert key in counters, (name, key, sorted(counters))


def test_pin_binds_every_thread_and_the_threads_started_later(tmp_path):
    """`--pin` keeps StarRocks' share of the work off Connect's CPUs: every thread of a process,
    also one it starts after being pinned, must be bound."""
    import os
    import subprocess
    import time

    connect_cpus, emulator_cpus = connect_bench.pin_layout(True)
    assert connect_cpus and emulator_cpus and not (connect_cpus & emulator_cpus)
    go = tmp_path / "go"
    child = subprocess.Popen([sys.executable, "-c", (
        "import threading, time, os, sys\n"
        "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
        "while not os.path.exists(sys.argv[1]): time.sleep(0.02)\n"
        "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
        "time.sleep(60)\n"), str(go)])
    try:
        deadline = time.monotonic() + 10
        while len(os.listdir("/proc/%d/task" % child.pid)) < 2:
            assert time.monotonic() < deadline, "the child's first thread did not start"
            time.sleep(0.02)
        connect_bench.pin(child.pid, emulator_cpus)
        go.write_text("")
        while len(os.listdir("/proc/%d/task" % child.pid)) < 3:
            assert time.monotonic() < deadline, "the child's later thread did not start"
            time.sleep(0.02)
        for tid in os.listdir("/proc/%d/task" % child.pid):
            assert os.sched_getaffinity(int(tid)) == emulator_cpus, tid
    finally:
        child.kill()
        child.wait()
