"""Per-task metrics through a real worker (docs/metrics.md): the sink task's MBean is in the
worker's platform MBeanServer, read over JMX like a JMX exporter would, its counters move as
records load, and it goes away with the task. And issue 5's memory check: with StarRocks slow
(the emulator's `throttle` fault), `put` waits and the native buffers stay within their budget
while much more data than the budget flows through; then every record lands."""
import time

import pytest

from harness import jmx, mysql, starrocks


@pytest.fixture
def worker(workers, plugin_dir):
    return workers.start("standalone", plugin_dir, jmx=True)


def make_table(emulator, table, width=64):
    emulator.sql("CREATE DATABASE IF NOT EXISTS d")
    emulator.sql("CREATE TABLE d.%s (id BIGINT NOT NULL, city VARCHAR(%d)) DUPLICATE KEY(id) "
                 "DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1')" % (table, width))


def wait_metrics(worker, name, predicate, timeout=90, check=None):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        if check:
            check()
        last = jmx.sink_task(worker.jmx_port, name)
        if last is not None and predicate(last):
            return last
        if time.monotonic() > deadline:
            raise TimeoutError("metrics of %s never matched; last: %s" % (name, last))
        time.sleep(1)


def test_task_metrics_appear_move_and_go_away(worker, kafka_broker, emulator, unique):
    table = "m_%s" % unique
    make_table(emulator, table)
    topic = kafka_broker.create_topic("metrics_%s" % unique)
    name = "metrics-%s" % unique
    config = starrocks.sink_config(emulator, **{
        "topics": topic,
        "starrocks.topic2table.map": "%s:%s" % (topic, table),
        "sink.properties.strip_outer_array": "true",
    })
    n = 300
    kafka_broker.produce(topic, [{"id": i, "city": "city %d" % i} for i in range(n)])
    worker.rest.create(name, config)
    check = lambda: worker.rest.raise_if_failed(name)  # noqa: E731
    mysql.wait_for_rows(emulator.query_port, "SELECT id FROM d.%s" % table, n, timeout=90, check=check)
    m = wait_metrics(worker, name, lambda m: m["rows-loaded"] >= n, check=check)
    print("metrics:", m)
    assert m["records-received"] == n
    assert m["rows-loaded"] == n and m["rows-filtered"] == 0
    assert m["loads"] >= 1 and m["load-failures"] == 0
    assert m["bytes-loaded"] > n * len('{"id":0,"city":"city 0"}')
    assert m["load-latency-avg-ms"] > 0 and m["load-latency-max-ms"] >= m["load-latency-avg-ms"]
    assert m["http-ns"] > 0 and m["decode-serialize-ns"] > 0
    assert m["put-calls"] >= 1 and m["encode-ns"] > 0 and m["native-put-ns"] > 0
    assert m["native-allocated-bytes"] > 0  # the process's, not the task's: at least this sink's state
    assert m["buffer-budget-bytes"] == 2 * 94371840  # twice the default bufferflush.maxbytes
    assert 0 < m["buffer-bytes-peak"] <= m["buffer-budget-bytes"]
    assert m["dlq-records"] == 0 and m["rejected-records"] == 0

    # more records: the counters keep moving, and with nothing pending the gauges are back to 0
    kafka_broker.produce(topic, [{"id": i, "city": "city %d" % i} for i in range(n, 2 * n)])
    m2 = wait_metrics(worker, name, lambda m: m["rows-loaded"] >= 2 * n and m["buffer-bytes"] == 0
                      and m["oldest-buffered-record-age-ms"] == 0, check=check)
    assert m2["records-received"] == 2 * n and m2["loads"] > m["loads"]
    assert m2["bytes-loaded"] > m["bytes-loaded"]

    worker.rest.delete(name)
    deadline = time.monotonic() + 60
    while jmx.sink_task(worker.jmx_port, name) is not None:
        assert time.monotonic() < deadline, "the MBean outlived its task"
        time.sleep(1)
    assert "StarRocks sink metrics at stop: records-received=%d" % (2 * n) in worker.log_text()


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def test_native_buffers_stay_within_the_budget_when_starrocks_is_slow(worker, kafka_broker, emulator, unique):
    """Issue 5: 50 MB of records through a 1 MB flush size (2 MB budget) into a StarRocks that
    reads load bodies at 2 MB/s, then at full speed."""
    table = "mem_%s" % unique
    make_table(emulator, table, width=1024)
    topic = kafka_broker.create_topic("mem_%s" % unique)
    flush = 1 << 20
    n, pad = 50_000, 1000
    city = "x" * pad
    kafka_broker.produce(topic, ({"id": i, "city": city} for i in range(n)))
    emulator.faults("throttle", count=1_000_000, bytes_per_second=2 << 20)
    name = "mem-%s" % unique
    worker.rest.create(name, starrocks.sink_config(emulator, **{
        "topics": topic,
        "starrocks.topic2table.map": "%s:%s" % (topic, table),
        "sink.properties.strip_outer_array": "true",
        # the shim's ConfigDef allows no less than 64 MB: the undocumented testing override
        "testing.bufferflush.maxbytes": str(flush),
        "sink.timeoutms": "60000",
    }))
    check = lambda: worker.rest.raise_if_failed(name)  # noqa: E731
    row = len('{"id":%d,"city":"%s"}' % (n, city)) + 1
    with jmx.Sampler(worker.jmx_port, interval_ms=200) as sampler:
        # throttled for a while: put must wait for StarRocks
        throttled = wait_metrics(worker, name, lambda m: m["backpressure-wait-ns"] > 0 and m["loads"] >= 5,
                                 timeout=120, check=check)
        time.sleep(5)
        emulator.clear_faults()
        deadline = time.monotonic() + 240
        while True:
            check()
            got = emulator.sql("SELECT count(*) FROM d.%s" % table)[0][0]
            if got >= n:
                break
            assert time.monotonic() < deadline, "only %d of %d rows landed" % (got, n)
            time.sleep(1)
        final = wait_metrics(worker, name, lambda m: m["rows-loaded"] >= n, check=check)
    budget = final["buffer-budget-bytes"]
    sampled = sampler.values("buffer-bytes")
    peaks = sampler.values("buffer-bytes-peak")
    hwm = vm_hwm_kib(worker.process.pid)
    print("budget %d B, peak %d B, max sampled buffer-bytes %d B over %d samples, backpressure %.1f s, "
          "loads %d, worker VmHWM %s KiB" % (budget, final["buffer-bytes-peak"], max(sampled or [0]), len(sampled),
                                             final["backpressure-wait-ns"] / 1e9, final["loads"], hwm))
    assert budget == 2 * flush
    assert len(sampled) >= 10, sampler.errors
    assert max(sampled) > flush / 2, "the buffers never filled: %s" % sampled[-20:]
    # the documented bound: the budget plus the one row that crossed it (plus a framing byte)
    assert max(sampled) <= budget + row + 1
    assert max(peaks) <= final["buffer-bytes-peak"] <= budget + row + 1
    assert throttled["backpressure-wait-ns"] > 0
    assert final["records-received"] == n
    assert emulator.sql("SELECT count(*) FROM d.%s" % table)[0][0] == n
