"""tests/soak/: the long reliability runs of issue 24 (the 60-minute soak: faults, worker kills and
rebalances under load, every id checked at the end). `make soak` runs them; `make test` never does:
every test collected from this folder is marked `soak`, which pytest.ini deselects unless the
command line selects it (`make soak` runs `pytest -m soak tests/soak`). The session's shared
fixtures (broker, workers, emulator, plugin) come from tests/conftest.py as everywhere else.

The lifecycle test's long form is not here: it is tests/integration/test_lifecycle.py with
LIFECYCLES=1000, which `make soak` runs first."""
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before the `-m` selection looks at the markers
def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.soak)
