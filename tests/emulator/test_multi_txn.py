"""Multi-table transactions (StarRocks 4.0, `transaction_type: multi`) over HTTP: the FE runs begin,
commit, rollback and prepare itself; `load` is redirected to the BE and names its table. Also the
admin endpoints (FE restart, label retention, eviction burst) and the request-level faults
(fail_before, drop_after, no_reply) with their `op` filter."""
import time

import pytest
import requests

from harness.emulator import Emulator
from emu_helpers import auth_header, create_table, rows, stream_load, unique

MULTI = {"transaction_type": "multi"}
JSON = {"format": "json", "strip_outer_array": "true"}


def op(emu, name, db, label, table=None, data=None, extra=None, multi=True, timeout=30):
    """One transaction op as a client does it: to the FE, following a 307 by hand. Only the
    FE-handled ops carry `transaction_type` (the BE rejects it)."""
    h = {"Authorization": auth_header(), "db": db, "label": label, "Expect": "100-continue"}
    if table:
        h["table"] = table
    if multi and name != "load":
        h.update(MULTI)
    h.update(extra or {})
    method = "PUT" if name == "load" else "POST"
    r = requests.request(method, emu.fe_url + "/api/transaction/" + name, headers=h, data=b"",
                         allow_redirects=False, timeout=timeout)
    if r.status_code == 307:
        r = requests.request(method, r.headers["Location"], headers=h, data=data, allow_redirects=False,
                             timeout=timeout)
    assert r.status_code == 200, (r.status_code, r.text)
    return r


def state(emu, db, label):
    j = requests.get(emu.fe_url + "/api/%s/get_load_state" % db, params={"label": label}, auth=("root", ""),
                     timeout=10).json()
    return j["state"], j.get("reason")


def two_tables(emu):
    db, a = create_table(emu, db="mdb")
    _, b = create_table(emu, db="mdb")
    return db, a, b


def test_begin_load_two_tables_commit(emu):
    db, a, b = two_tables(emu)
    label = unique("m")
    r = op(emu, "begin", db, label)
    j = r.json()
    assert list(j) == ["Status", "Message", "Label", "TxnId"], j
    assert (j["Status"], j["Message"], j["Label"]) == ("OK", "", label)
    assert r.text.startswith('{\n  "Status"'), "FE TransactionResult: 2-space JSON"
    assert state(emu, db, label) == ("PREPARE", None)
    l1 = op(emu, "load", db, label, a, b'[{"id":1,"name":"a"},{"id":2}]', JSON).json()
    assert (l1["Status"], l1["TxnId"], l1["NumberLoadedRows"]) == ("OK", j["TxnId"], 2), l1
    assert op(emu, "load", db, label, b, b"3\tc\t3\n", {}).json()["Status"] == "OK"
    assert op(emu, "load", db, label, a, b'[{"id":4}]', JSON).json()["Status"] == "OK"
    assert rows(emu, db, a) == [] and rows(emu, db, b) == [], "nothing before commit"
    c = op(emu, "commit", db, label).json()
    assert c == {"Status": "OK", "Message": "", "Label": label, "TxnId": j["TxnId"]}
    assert [r[0] for r in rows(emu, db, a)] == [1, 2, 4]
    assert rows(emu, db, b) == [(3, "c", 3)]
    assert state(emu, db, label) == ("VISIBLE", None)
    again = op(emu, "commit", db, label).json()
    assert again["Status"] == "OK"
    assert again["Message"] == "label %s transaction %d has already committed" % (label, j["TxnId"])


def test_failed_load_aborts_whole_transaction(emu):
    db, a, b = two_tables(emu)
    label = unique("m")
    op(emu, "begin", db, label)
    assert op(emu, "load", db, label, a, b'[{"id":1}]', JSON).json()["Status"] == "OK"
    bad = op(emu, "load", db, label, b, b'[{"id":"x"}]', JSON).json()
    assert bad == {"Status": "DATA_QUALITY_ERROR", "Message": "too many filtered rows"}, bad
    assert state(emu, db, label) == ("ABORTED", "too many filtered rows")
    later = op(emu, "load", db, label, a, b'[{"id":2}]', JSON).json()
    assert later == {"Status": "ABORTED", "Message": "current transaction is aborted: too many filtered rows"}
    c = op(emu, "commit", db, label).json()
    assert c["Status"] == "FAILED" and "cannot commit aborted transaction" in c["Message"], c
    assert rows(emu, db, a) == [] and rows(emu, db, b) == []


def test_unknown_table_and_missing_table_header(emu):
    db, a, _ = two_tables(emu)
    label = unique("m")
    op(emu, "begin", db, label)
    j = op(emu, "load", db, label, None, b'[{"id":1}]', JSON).json()
    assert j == {"Status": "INVALID_ARGUMENT", "Message": "No table selected."}
    assert state(emu, db, label)[0] == "PREPARE", "a refused request does not abort"
    j = op(emu, "load", db, label, "nope", b'[{"id":1}]', JSON).json()
    assert j == {"Status": "ANALYSIS_ERROR", "Message": 'unknown table "%s.nope"' % db}
    assert state(emu, db, label) == ("ABORTED", 'unknown table "%s.nope"' % db)


def test_rollback_and_label_reuse(emu):
    db, a, _ = two_tables(emu)
    label = unique("m")
    op(emu, "begin", db, label)
    op(emu, "load", db, label, a, b'[{"id":1}]', JSON)
    assert op(emu, "rollback", db, label).json() == {"Status": "OK", "Message": "", "Label": label}
    assert state(emu, db, label) == ("ABORTED", "transaction is aborted by user.")
    again = op(emu, "rollback", db, label).json()
    assert again["Status"] == "OK" and again["Message"].endswith("has already aborted")
    # An aborted label may be used again.
    j = op(emu, "begin", db, label).json()
    assert j["Status"] == "OK"
    op(emu, "load", db, label, a, b'[{"id":7}]', JSON)
    assert op(emu, "commit", db, label).json()["Status"] == "OK"
    assert rows(emu, db, a) == [(7, None, None)]
    rb = op(emu, "rollback", db, label).json()
    assert rb["Status"] == "FAILED"
    assert rb["Message"].endswith("cannot abort committed transaction %d, label %s " % (j["TxnId"], label))


def test_label_already_exists_running_and_finished(emu):
    db, a, _ = two_tables(emu)
    label = unique("m")
    op(emu, "begin", db, label)
    j = op(emu, "begin", db, label).json()
    assert j == {"Status": "LABEL_ALREADY_EXISTS", "Message": "Label [%s] has already been used." % label,
                 "Label": label, "ExistingJobStatus": "RUNNING"}
    op(emu, "commit", db, label)
    j = op(emu, "begin", db, label).json()
    assert (j["Status"], j["ExistingJobStatus"]) == ("LABEL_ALREADY_EXISTS", "FINISHED")
    # A one-shot stream load with that label sees it too.
    r = stream_load(emu, db, a, b'[{"id":1}]', JSON, label=label).json()
    assert (r["Status"], r["ExistingJobStatus"]) == ("Label Already Exists", "FINISHED")


def test_prepare_not_supported(emu):
    db, a, _ = two_tables(emu)
    label = unique("m")
    op(emu, "begin", db, label)
    j = op(emu, "prepare", db, label).json()
    assert j["Status"] == "FAILED" and j["Message"].endswith("prepare is not supported for multi-table transactions")
    assert state(emu, db, label)[0] == "PREPARE", "does not abort"


def test_begin_failures(emu):
    j = op(emu, "begin", "no_such_db", unique("m")).json()
    assert j["Status"] == "FAILED" and j["Message"].endswith("unknown database, database=no_such_db"), j
    db, _, _ = two_tables(emu)
    j = op(emu, "begin", db, "bad label").json()
    assert j["Status"] == "FAILED" and "Label format error" in j["Message"]
    j = op(emu, "begin", db, unique("m"), extra={"timeout": "x"}).json()
    assert j["Status"] == "FAILED" and j["Message"].endswith("Invalid timeout format")


def test_explicit_timeout_aborts(emu):
    db, a, _ = two_tables(emu)
    label = unique("m")
    op(emu, "begin", db, label, extra={"timeout": "1"})
    op(emu, "load", db, label, a, b'[{"id":1}]', JSON)
    time.sleep(1.3)
    assert state(emu, db, label) == ("ABORTED", "transaction is aborted by timeout 1 seconds.")
    assert op(emu, "commit", db, label).json()["Status"] == "FAILED"
    assert rows(emu, db, a) == []


def test_default_timeout_is_20_seconds(emu):
    """Checked cheaply: still running after a short wait (the Rust unit test proves the 20 s
    with a manual clock)."""
    db, _, _ = two_tables(emu)
    label = unique("m")
    op(emu, "begin", db, label)
    time.sleep(1.2)
    assert state(emu, db, label)[0] == "PREPARE"
    op(emu, "rollback", db, label)


def test_fe_restart_aborts_running_multi_transactions(emu):
    db, a, _ = two_tables(emu)
    running, done = unique("m"), unique("m")
    op(emu, "begin", db, done)
    op(emu, "load", db, done, a, b'[{"id":1}]', JSON)
    op(emu, "commit", db, done)
    op(emu, "begin", db, running)
    op(emu, "load", db, running, a, b'[{"id":2}]', JSON)
    r = requests.post(emu.fe_url + "/api/_emulator/fe_restart", timeout=10)
    assert r.json() == {"status": "OK"}
    assert state(emu, db, running) == ("ABORTED", "FE restarted")
    assert state(emu, db, done) == ("VISIBLE", None)
    assert rows(emu, db, a) == [(1, None, None)]


def test_be_rejects_transaction_type(emu):
    db, a, _ = two_tables(emu)
    h = {"Authorization": auth_header(), "db": db, "label": unique("m"), "table": a}
    h.update(MULTI)
    for name in ("begin", "commit", "rollback"):
        j = requests.post(emu.be_url + "/api/transaction/" + name, headers=h, timeout=10).json()
        assert j == {"Status": "INVALID_ARGUMENT",
                     "Message": "Multi-statement transaction requests can only be sent to FE nodes, not BE nodes"}
    j = requests.put(emu.be_url + "/api/transaction/load", headers=h, data=b"1", timeout=10).json()
    assert j["Status"] == "INVALID_ARGUMENT" and "only be sent to FE nodes" in j["Message"]


def test_retention_endpoint_and_eviction_burst(emu):
    db, a, _ = two_tables(emu)
    label = unique("m")
    op(emu, "begin", db, label)
    op(emu, "commit", db, label)
    assert state(emu, db, label)[0] == "VISIBLE"
    r = requests.post(emu.fe_url + "/api/_emulator/labels/evict", params={"db": db}, timeout=10)
    assert r.json() == {"status": "OK", "db": db}
    assert state(emu, db, label) == ("UNKNOWN", None)
    assert op(emu, "begin", db, label).json()["Status"] == "OK", "reusable after eviction"
    op(emu, "commit", db, label)
    cur = requests.get(emu.fe_url + "/api/_emulator/labels", timeout=10).json()
    assert cur == {"status": "OK", "keep_max_second": 259200.0, "keep_max_num": 1000}
    try:
        r = requests.post(emu.fe_url + "/api/_emulator/labels", json={"keep_max_second": 0.5}, timeout=10)
        assert r.json() == {"status": "OK", "keep_max_second": 0.5, "keep_max_num": 1000}
        time.sleep(0.7)
        assert state(emu, db, label) == ("UNKNOWN", None)
    finally:
        requests.post(emu.fe_url + "/api/_emulator/labels", json={"keep_max_second": 259200}, timeout=10)
    assert requests.post(emu.fe_url + "/api/_emulator/labels/evict", timeout=10).status_code == 400


def test_fault_fail_before_commit(emu):
    db, a, _ = two_tables(emu)
    label = unique("m")
    op(emu, "begin", db, label)
    op(emu, "load", db, label, a, b'[{"id":1}]', JSON)
    emu.faults("fail_before", op="commit")
    with pytest.raises(requests.exceptions.ConnectionError):
        op(emu, "commit", db, label)
    assert state(emu, db, label) == ("PREPARE", None)
    assert rows(emu, db, a) == []
    assert op(emu, "commit", db, label).json()["Status"] == "OK", "a retry commits"
    assert rows(emu, db, a) == [(1, None, None)]


def test_fault_drop_after_commit(emu):
    db, a, b = two_tables(emu)
    label = unique("m")
    op(emu, "begin", db, label)
    op(emu, "load", db, label, a, b'[{"id":1}]', JSON)
    op(emu, "load", db, label, b, b'[{"id":2}]', JSON)
    emu.faults("drop_after", op="commit")
    with pytest.raises(requests.exceptions.ConnectionError):
        op(emu, "commit", db, label)
    assert state(emu, db, label) == ("VISIBLE", None)
    assert rows(emu, db, a) == [(1, None, None)] and rows(emu, db, b) == [(2, None, None)]
    assert op(emu, "commit", db, label).json()["Message"].endswith("has already committed")


def test_fault_no_reply_commit(emu):
    db, a, _ = two_tables(emu)
    label = unique("m")
    op(emu, "begin", db, label)
    op(emu, "load", db, label, a, b'[{"id":1}]', JSON)
    emu.faults("no_reply", op="commit", seconds=30)
    with pytest.raises(requests.exceptions.ReadTimeout):
        op(emu, "commit", db, label, timeout=1.5)
    assert state(emu, db, label) == ("VISIBLE", None)
    assert rows(emu, db, a) == [(1, None, None)]


def test_fault_op_and_table_filters_on_load(emu):
    db, a, b = two_tables(emu)
    label = unique("m")
    op(emu, "begin", db, label)
    emu.faults("drop_after", op="load", table=b)
    assert op(emu, "load", db, label, a, b'[{"id":1}]', JSON).json()["Status"] == "OK", "other table: no fault"
    with pytest.raises(requests.exceptions.ConnectionError):
        op(emu, "load", db, label, b, b'[{"id":2}]', JSON)
    assert emu.list_faults() == []
    op(emu, "commit", db, label)
    assert rows(emu, db, b) == [(2, None, None)], "drop_after: the load was applied"
    emu.faults("fail_before", op="get_load_state")
    with pytest.raises(requests.exceptions.ConnectionError):
        state(emu, db, label)
    assert state(emu, db, label)[0] == "VISIBLE"
    r = requests.post(emu.fe_url + "/api/_emulator/faults", json={"kind": "no_reply", "op": "nope"}, timeout=10)
    assert r.status_code == 400 and "unknown op" in r.json()["message"]


def test_fault_fail_before_stream_load(emu):
    db, a, _ = two_tables(emu)
    label = unique("s")
    emu.faults("fail_before", op="stream_load", table=a)
    with pytest.raises(requests.exceptions.ConnectionError):
        stream_load(emu, db, a, b'[{"id":1}]', JSON, label=label)
    assert state(emu, db, label) == ("UNKNOWN", None)
    assert stream_load(emu, db, a, b'[{"id":1}]', JSON, label=label).json()["Status"] == "Success"


def test_merge_condition_does_not_move_backwards(emu):
    db, t = create_table(emu, columns="id INT NOT NULL, epoch INT, owner VARCHAR(20)", keys="PRIMARY KEY(id)",
                         db="mdb")
    h = dict(JSON, merge_condition="epoch")
    assert stream_load(emu, db, t, b'[{"id":1,"epoch":5,"owner":"w5"}]', h).json()["Status"] == "Success"
    assert stream_load(emu, db, t, b'[{"id":1,"epoch":3,"owner":"w3"}]', h).json()["Status"] == "Success"
    assert rows(emu, db, t) == [(1, 5, "w5")]
    assert stream_load(emu, db, t, b'[{"id":1,"epoch":5,"owner":"w5b"}]', h).json()["Status"] == "Success"
    assert rows(emu, db, t) == [(1, 5, "w5b")], "equal applies"


def test_current_version_is_4(emu):
    assert emu.sql("SELECT current_version()") == [("4.0.0-emulator",)]


# ---- emulators with other flags -----------------------------------------------------------

@pytest.fixture(scope="module")
def slow_publish(run_dir):
    e = Emulator(workdir=run_dir / "emulator-multi-publish-delay", args=["--publish-delay-ms", "1500"])
    yield e
    e.stop()


def test_publish_delay_committed_then_visible(slow_publish):
    emu = slow_publish
    db, a, b = two_tables(emu)
    label = unique("m")
    op(emu, "begin", db, label)
    op(emu, "load", db, label, a, b'[{"id":1}]', JSON)
    op(emu, "load", db, label, b, b'[{"id":2}]', JSON)
    c = op(emu, "commit", db, label).json()
    assert c["Status"] == "OK" and c["Message"].startswith("Publish timeout."), c
    assert state(emu, db, label) == ("COMMITTED", None)
    assert rows(emu, db, a) == [] and rows(emu, db, b) == [], "hidden until VISIBLE"
    deadline = time.time() + 10
    while state(emu, db, label)[0] != "VISIBLE":
        assert time.time() < deadline
        time.sleep(0.1)
    assert rows(emu, db, a) == [(1, None, None)] and rows(emu, db, b) == [(2, None, None)]


def test_publish_delay_stream_load_does_not_overtake_a_commit_on_its_table(slow_publish):
    emu = slow_publish
    db, t = create_table(emu, keys="PRIMARY KEY(id)", db="mdb")
    label = unique("m")
    op(emu, "begin", db, label)
    op(emu, "load", db, label, t, b'[{"id":1,"name":"multi"}]', JSON)
    op(emu, "commit", db, label)
    assert state(emu, db, label)[0] == "COMMITTED"
    assert stream_load(emu, db, t, b'[{"id":1,"name":"oneshot"}]', JSON).json()["Status"] == "Success"
    assert state(emu, db, label)[0] == "VISIBLE", "published before the later load on its table"
    assert rows(emu, db, t) == [(1, "oneshot", None)]


@pytest.fixture(scope="module")
def v33(run_dir):
    e = Emulator(workdir=run_dir / "emulator-multi-v33", args=["--starrocks-version", "3.3.0"])
    yield e
    e.stop()


def test_version_below_4_ignores_transaction_type(v33):
    emu = v33
    assert emu.sql("SELECT current_version()") == [("3.3.0-emulator",)]
    db, a, _ = two_tables(emu)
    label = unique("m")
    # A 3.x FE redirects begin to the BE, which needs `table`.
    j = op(emu, "begin", db, label).json()
    assert j == {"Status": "INVALID_ARGUMENT", "Message": "No table selected."}
    j = op(emu, "begin", db, label, a).json()
    assert j["Status"] == "OK" and "BeginTxnTimeMs" in j, "a single-table transaction"
