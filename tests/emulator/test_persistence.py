"""--data-dir: labels (and the store's data and users) survive a restart; without it nothing does."""
import requests

from harness.emulator import Emulator
from emu_helpers import create_table, rows, stream_load, unique


def _state(emu, db, label):
    return requests.get(emu.fe_url + "/api/%s/get_load_state" % db, params={"label": label},
                        auth=("root", ""), timeout=10).json()


def test_labels_and_data_survive_restart(tmp_path, run_dir):
    data = tmp_path / "data"
    label = unique("l")
    with Emulator(workdir=run_dir / "persist-1", data_dir=data) as emu:
        db, t = create_table(emu)
        assert stream_load(emu, db, t, '{"id":1,"name":"a"}', {"format": "json"}, label=label).json()["Status"] == "Success"
        bad = unique("l")
        stream_load(emu, db, t, "garbage", label=bad)
        h = {"Authorization": "Basic cm9vdDo=", "db": db, "table": t, "label": unique("tx")}
        r = requests.post(emu.be_url + "/api/transaction/begin", headers=h, timeout=10).json()
        assert r["Status"] == "OK"
        open_label = h["label"]
        txn_before = r["TxnId"]
    assert (data / "labels.json").exists()
    with Emulator(workdir=run_dir / "persist-2", data_dir=data) as emu:
        assert _state(emu, db, label)["state"] == "VISIBLE"
        assert _state(emu, db, bad)["state"] == "ABORTED"
        reopened = _state(emu, db, open_label)
        assert (reopened["state"], reopened["reason"]) == ("ABORTED", "emulator restarted")
        j = stream_load(emu, db, t, '{"id":2}', {"format": "json"}, label=label).json()
        assert (j["Status"], j["ExistingJobStatus"]) == ("Label Already Exists", "FINISHED")
        ok = stream_load(emu, db, t, '{"id":3}', {"format": "json"}).json()
        assert ok["TxnId"] > txn_before, "txn ids keep increasing across restarts"
        assert rows(emu, db, t) == [(1, "a", None), (3, None, None)]


def test_without_data_dir_everything_is_forgotten(run_dir):
    label = unique("l")
    with Emulator(workdir=run_dir / "mem-1") as emu:
        db, t = create_table(emu)
        stream_load(emu, db, t, '{"id":1}', {"format": "json"}, label=label)
    with Emulator(workdir=run_dir / "mem-2") as emu:
        assert emu.sql("SHOW DATABASES LIKE 'db'") == []
