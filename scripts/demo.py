#!/usr/bin/env python3
"""`make demo`: the quick start of StarRocks' Kafka connector docs, on this machine.

Starts the StarRocks emulator, a Kafka 4.4 KRaft broker and a standalone Connect worker with the
packaged plugin directory on plugin.path; creates example_db.test_tbl and user1 with the docs'
statements; produces the docs' three records to topic `test`; runs the docs'
connect-StarRocks-sink.properties (only starrocks.http.url substituted) with the docs' worker
settings; waits for the rows and prints `select * from test_tbl` as `mysql -t` shows it. The
statements go through the `mysql` client when the machine has one, else through PyMySQL (with the
client's table layout): the demo does not need it. Everything listens on 127.0.0.1 and is stopped at the end. Logs: target/demo/<time>/.
"""
import os
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from harness import connect, kafka, mysql, plugin, process, seed, starrocks  # noqa: E402

T0 = time.monotonic()


def step(msg):
    print("[demo %5.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


def main() -> int:
    logs = Path(os.environ.get("DEMO_LOG_DIR") or ROOT / "target" / "demo" / time.strftime("%Y%m%d-%H%M%S"))
    logs.mkdir(parents=True, exist_ok=True)
    emu = broker = worker = None
    ok = False
    try:
        plugin_dir = plugin.plugin_dir(build=False)
        step("plugin: %s" % plugin_dir)

        step("resolving Kafka %s jars (cached in tests/.cache)" % kafka.version_of("4.4"))
        kafka.lib_dir("4.4")

        emu = starrocks.start_emulator(logs / "emulator")
        step("StarRocks emulator: FE http 127.0.0.1:%d, BE http 127.0.0.1:%d, query port 127.0.0.1:%d"
             % (emu.fe_http_port, emu.be_http_port, emu.query_port))

        step("mysql> " + " ".join(seed.read("create_table.sql").split()))
        step("mysql> " + " ".join(seed.read("users.sql").split()))
        seed.create_table_and_user(emu.query_port, require_cli=False)

        broker = kafka.KafkaBroker(logs / "broker").start()
        step("Kafka %s broker: %s" % (kafka.version_of("4.4"), broker.bootstrap))
        broker.create_topic(seed.TOPIC)
        broker.produce(seed.TOPIC, seed.RECORDS)
        for r in seed.RECORDS:
            step("produced to %s: %s" % (seed.TOPIC, r))

        props = logs / "connect-StarRocks-sink.properties"
        props.write_text(seed.connector_properties(emu.fe_http_port), encoding="utf-8")
        worker = connect.ConnectWorker("standalone", broker.bootstrap, logs / "connect", plugin_dir,
                                       worker_properties=seed.worker_properties("standalone"),
                                       connector_files=[props])
        step("starting Connect standalone: connect-standalone.properties connect-StarRocks-sink.properties")
        worker.start()
        worker.rest.wait_running(seed.CONNECTOR_NAME, process=worker.process)
        step("connector %s RUNNING; waiting for the rows" % seed.CONNECTOR_NAME)
        seed.wait_for_rows(emu.query_port, timeout=120,
                           check=lambda: worker.rest.raise_if_failed(seed.CONNECTOR_NAME))

        step("mysql -t -D example_db -e 'select * from test_tbl;'%s"
             % ("" if mysql.mysql_bin(required=False) else "  (no mysql client here: through PyMySQL)"))
        print(mysql.show(emu.query_port, "select * from test_tbl;", database="example_db"), end="", flush=True)
        ok = True
        return 0
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            step("interrupted")
        else:
            traceback.print_exc()
        print("\nDEMO FAILED: %s\nlogs in %s" % (str(e).splitlines()[0] if str(e) else type(e).__name__, logs),
              file=sys.stderr)
        if worker and worker.process:
            print("--- last lines of %s ---\n%s" % (worker.process.log_path, worker.process.log_tail(40)),
                  file=sys.stderr)
        return 1
    finally:
        step("stopping")
        for part in (worker, broker, emu):
            if part is not None:
                try:
                    part.stop()
                except Exception as e:  # keep stopping the others
                    print("stop failed: %s" % e, file=sys.stderr)
        process.stop_all()
        if ok:
            step("done (logs in %s)" % logs)


if __name__ == "__main__":
    sys.exit(main())
