"""`make demo` (scripts/demo.py) works: its own emulator, broker and worker, and it prints the
docs' table through the mysql client. Needs the packaged plugin, like the demo."""
import os
import re
import subprocess
import sys

from harness import plugin, seed

ROOT = plugin.ROOT


def test_demo_prints_the_docs_table(plugin_dir, workdir):
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py")], cwd=ROOT,
                         env={**os.environ, "DEMO_LOG_DIR": str(workdir / "demo")},
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-5000:]
    for id_, city in seed.EXPECTED_ROWS:
        assert re.search(r"^\|\s*%d\s*\|\s*%s\s*\|$" % (id_, re.escape(city)), res.stdout, re.M), res.stdout
    assert re.search(r"^\|\s*id\s*\|\s*city\s*\|$", res.stdout, re.M), res.stdout
