"""The soak of issue 24 (`make soak`): SOAK_MINUTES (default 60) of steady load at 20,000 records/s
over two connectors side by side, one at-least-once and one exactly-once, on a distributed cluster
of two workers, with an emulator fault every 4 s from every kind, a SIGKILL of a worker every
SOAK_MINUTES/6 (10 min), a rebalance every SOAK_MINUTES/4 (15 min: a third worker joins, and
leaves SOAK_MINUTES/24 later) and one outage of SOAK_MINUTES/12 (5 min) for the at-least-once
connector. At the end every id must be in StarRocks (exactly-once: each once), and the report gives
the workers' RSS slope, the log volume per hour by level, the worst end-to-end latency and the
connector's log lines during the outage (at most a few a minute). tests/harness/soak.py has the
details; tests/integration/test_soak_short.py runs the same in 3 minutes in `make test`."""
import os

from harness import soak

MINUTES = float(os.environ.get("SOAK_MINUTES", "60"))


def test_soak(request, kafka_broker, emulator, workers, plugin_dir, workdir, unique):
    summary = soak.Soak(request, kafka_broker, emulator, workers, plugin_dir, workdir, unique, MINUTES).run()
    soak.check(summary)
