"""Labels and `get_load_state` (§1.5, §6)."""
import requests

from emu_helpers import create_table, rows, stream_load, unique


def state(emu, db, label, auth=("root", "")):
    r = requests.get(emu.fe_url + "/api/%s/get_load_state" % db, params={"label": label}, auth=auth, timeout=10)
    assert r.status_code == 200
    return r


def test_get_load_state_visible_exact_shape(emu):
    db, t = create_table(emu)
    label = unique("l")
    stream_load(emu, db, t, '{"id":1}', {"format": "json"}, label=label)
    assert state(emu, db, label).text == '{"state":"VISIBLE","status":"OK","code":"0","msg":"Success","message":"OK"}'


def test_get_load_state_unknown_label(emu):
    db, _ = create_table(emu)
    assert state(emu, db, "never-used").json()["state"] == "UNKNOWN"


def test_get_load_state_aborted_has_reason(emu):
    db, t = create_table(emu)
    label = unique("l")
    stream_load(emu, db, t, "bad", label=label)
    j = state(emu, db, label).json()
    assert list(j) == ["state", "reason", "status", "code", "msg", "message"]
    assert j["state"] == "ABORTED" and j["reason"] == "too many filtered rows"


def test_get_load_state_errors(emu):
    db, _ = create_table(emu)
    r = requests.get(emu.fe_url + "/api/%s/get_load_state" % db, auth=("root", ""), timeout=10)
    assert r.text == '{"status":"FAILED","code":"1","msg":"No label selected.","message":"No label selected."}'
    r = state(emu, "nodb", "x")
    assert r.json()["msg"] == "unknown database, database=nodb"
    r = requests.get(emu.fe_url + "/api/%s/get_load_state?label=x" % db, timeout=10)
    assert r.status_code == 401


def test_reuse_after_visible_is_label_already_exists_finished(emu):
    db, t = create_table(emu)
    label = unique("l")
    first = stream_load(emu, db, t, '{"id":1}', {"format": "json"}, label=label).json()
    assert first["Status"] == "Success"
    r = stream_load(emu, db, t, '{"id":2}', {"format": "json"}, label=label)
    j = r.json()
    assert list(j)[:5] == ["TxnId", "Label", "Status", "ExistingJobStatus", "Message"]
    assert (j["TxnId"], j["Status"], j["ExistingJobStatus"]) == (-1, "Label Already Exists", "FINISHED")
    assert j["Message"] == "Label [%s] has already been used." % label
    assert rows(emu, db, t) == [(1, None, None)]


def test_reuse_after_abort_proceeds_with_new_txn(emu):
    db, t = create_table(emu)
    label = unique("l")
    failed = stream_load(emu, db, t, "garbage", label=label).json()
    assert failed["Status"] == "Fail"
    ok = stream_load(emu, db, t, "1\ta\t1\n", label=label).json()
    assert ok["Status"] == "Success"
    assert ok["TxnId"] > failed["TxnId"]


def test_labels_are_per_database(emu):
    db1, t1 = create_table(emu, db="db_a")
    db2, t2 = create_table(emu, db="db_b")
    label = unique("l")
    assert stream_load(emu, db1, t1, '{"id":1}', {"format": "json"}, label=label).json()["Status"] == "Success"
    assert stream_load(emu, db2, t2, '{"id":1}', {"format": "json"}, label=label).json()["Status"] == "Success"


def test_reuse_while_running_is_running(emu):
    """A load held by the `hang` fault is PREPARE; reusing its label answers RUNNING."""
    import threading

    db, t = create_table(emu)
    label = unique("l")
    emu.faults("hang", seconds=1)
    results = {}
    th = threading.Thread(target=lambda: results.setdefault("first", stream_load(
        emu, db, t, '{"id":1}', {"format": "json"}, label=label).json()))
    th.start()
    try:
        for _ in range(50):
            if state(emu, db, label).json()["state"] == "PREPARE":
                break
            import time
            time.sleep(0.05)
        assert state(emu, db, label).json()["state"] == "PREPARE"
        j = stream_load(emu, db, t, '{"id":2}', {"format": "json"}, label=label).json()
        assert (j["Status"], j["ExistingJobStatus"]) == ("Label Already Exists", "RUNNING")
    finally:
        th.join()
    assert results["first"]["Status"] == "Fail"
    assert state(emu, db, label).json()["state"] == "ABORTED"
