"""Fixtures for the emulator's black-box tests: one emulator per test module (fast), tables with
unique names per test, and a Stream Load helper that does what a careful client does (ask the FE,
follow the 307 by hand with the Authorization header re-attached)."""
import pytest
from harness.emulator import Emulator


@pytest.fixture(scope="module")
def emu(request, run_dir):
    e = Emulator(workdir=run_dir / ("emulator-" + request.module.__name__.rsplit(".", 1)[-1]))
    yield e
    e.stop()


@pytest.fixture(autouse=True)
def _no_faults_leak(request):
    """A fault armed by one test must never hit the next one."""
    e = request.getfixturevalue("emu") if "emu" in request.fixturenames else None
    yield
    if isinstance(e, Emulator) and e.alive():
        e.clear_faults()
