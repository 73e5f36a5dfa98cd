"""Label retention knobs (§6): finished transactions are forgotten by count and by age."""
import time

import pytest
import requests

from harness.emulator import Emulator
from emu_helpers import create_table, stream_load


@pytest.fixture(scope="module")
def emu(run_dir):
    e = Emulator(workdir=run_dir / "emulator-retention", args=["--label-keep-max-num", "2", "--label-keep-max-second", "1"])
    yield e
    e.stop()


def _state(emu, db, label):
    return requests.get(emu.fe_url + "/api/%s/get_load_state" % db, params={"label": label},
                        auth=("root", ""), timeout=10).json()["state"]


def test_oldest_finished_labels_dropped_beyond_max_num(emu):
    db, t = create_table(emu)
    for label in ("a1", "a2", "a3"):
        assert stream_load(emu, db, t, '{"id":1}', {"format": "json"}, label=label).json()["Status"] == "Success"
    assert _state(emu, db, "a1") == "UNKNOWN"
    assert _state(emu, db, "a3") == "VISIBLE"
    # The forgotten label can be used again.
    assert stream_load(emu, db, t, '{"id":1}', {"format": "json"}, label="a1").json()["Status"] == "Success"


def test_labels_expire_after_keep_seconds(emu):
    db, t = create_table(emu, db="db_age")
    assert stream_load(emu, db, t, '{"id":1}', {"format": "json"}, label="old").json()["Status"] == "Success"
    time.sleep(1.3)
    assert _state(emu, db, "old") == "UNKNOWN"
    assert stream_load(emu, db, t, '{"id":1}', {"format": "json"}, label="old").json()["Status"] == "Success"
