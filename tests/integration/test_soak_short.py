"""The soak of issue 24 in 3 minutes (`make test`): the same run as tests/soak/test_soak.py's hour
(tests/harness/soak.py), scaled down to one SIGKILL of a worker, one rebalance (a third worker
joins and leaves), a 20 s outage of the at-least-once connector, and an emulator fault every 4 s
from every kind, under two connectors (at-least-once and exactly-once) at 20,000 records/s in all.
It checks every id landed (exactly-once: none twice), the outage's log lines, and reports the RSS
slope, the log volume by level and the worst latency (docs/delivery-guarantees.md, "Soak").

`SOAK_SHORT_MINUTES` changes the length (default 3)."""
import os

from harness import soak

MINUTES = float(os.environ.get("SOAK_SHORT_MINUTES", "3"))


def test_soak_short(request, kafka_broker, emulator, workers, plugin_dir, workdir, unique):
    summary = soak.Soak(request, kafka_broker, emulator, workers, plugin_dir, workdir, unique, MINUTES).run()
    soak.check(summary)
