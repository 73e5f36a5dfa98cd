"""The Stream Load transaction interface (§1.4, §5.5, §5.6) through the FE, as the official SDK
drives it: every op goes to the FE first and follows its 307 by hand."""
import time

import pytest
import requests

from harness.emulator import Emulator
from emu_helpers import auth_header, create_table, rows, unique


def txn(emu, op, db, label, table=None, data=None, extra=None, via="fe", method="POST"):
    h = {"Authorization": auth_header(), "db": db, "label": label, "Expect": "100-continue"}
    if table:
        h["table"] = table
    h.update(extra or {})
    if op == "load":
        method = "PUT"
    base = emu.fe_url if via == "fe" else emu.be_url
    r = requests.request(method, base + "/api/transaction/" + op, headers=h, data=b"" if via == "fe" else data,
                         allow_redirects=False, timeout=30)
    if via == "fe" and r.status_code == 307:
        r = requests.request(method, r.headers["Location"], headers=h, data=data, allow_redirects=False, timeout=30)
    assert r.status_code == 200, (r.status_code, r.text)
    return r


def _state(emu, db, label):
    return requests.get(emu.fe_url + "/api/%s/get_load_state" % db, params={"label": label},
                        auth=("root", ""), timeout=10).json()["state"]


JSON = {"format": "json", "strip_outer_array": "true"}


def test_begin_load_commit_happy_path(emu):
    db, t = create_table(emu)
    label = unique("tx")
    b = txn(emu, "begin", db, label, t)
    j = b.json()
    assert list(j) == ["Status", "Message", "Label", "TxnId", "BeginTxnTimeMs"]
    assert (j["Status"], j["Message"], j["Label"]) == ("OK", "", label)
    assert b.text.startswith('{\n    "Status"')
    assert _state(emu, db, label) == "PREPARE"
    body = b'[{"id":1,"name":"a"},{"id":2,"name":"b"}]'
    l1 = txn(emu, "load", db, label, t, body, JSON).json()
    assert list(l1) == ["Status", "Message", "Label", "TxnId", "LoadBytes", "StreamLoadPlanTimeMs", "ReceivedDataTimeMs"]
    assert (l1["Status"], l1["TxnId"], l1["LoadBytes"]) == ("OK", j["TxnId"], len(body))
    txn(emu, "load", db, label, t, b'[{"id":3}]', JSON)
    assert rows(emu, db, t) == [], "nothing is visible before commit"
    c = txn(emu, "commit", db, label, t).json()
    assert c["Status"] == "OK", c
    assert list(c)[:4] == ["Status", "Message", "Label", "TxnId"]
    assert (c["NumberTotalRows"], c["NumberLoadedRows"], c["LoadBytes"]) == (3, 3, len(body) + 10)
    assert [r[0] for r in rows(emu, db, t)] == [1, 2, 3]
    assert _state(emu, db, label) == "VISIBLE"


def test_csv_chunks_are_one_stream(emu):
    db, t = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t)
    txn(emu, "load", db, label, t, b"1,a,1\n2,b,", {"column_separator": ","})
    txn(emu, "load", db, label, t, b"2\n", {"column_separator": ","})
    assert txn(emu, "commit", db, label, t).json()["Status"] == "OK"
    assert rows(emu, db, t) == [(1, "a", 1), (2, "b", 2)]


def test_prepare_then_fe_commit(emu):
    db, t = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t)
    txn(emu, "load", db, label, t, b'[{"id":5}]', JSON)
    p = txn(emu, "prepare", db, label, t).json()
    assert p["Status"] == "OK" and p["NumberLoadedRows"] == 1
    assert _state(emu, db, label) == "PREPARED"
    assert rows(emu, db, t) == []
    # The BE dropped its context: a commit sent straight to the BE cannot find it.
    direct = txn(emu, "commit", db, label, t, via="be").json()
    assert direct == {"Status": "TXN_NOT_EXISTS", "Message": "transaction with label %s not exists" % label}
    c = txn(emu, "commit", db, label, t)
    assert c.json() == {"Status": "OK", "Message": "", "Label": label}
    assert c.text.startswith('{\n  "Status"'), "FE replies are 2-space pretty"
    assert rows(emu, db, t) == [(5, None, None)]
    assert _state(emu, db, label) == "VISIBLE"
    again = txn(emu, "commit", db, label, t).json()
    assert again["Status"] == "OK"
    assert again["Message"] == "label %s transaction %d has already committed" % (label, p["TxnId"])
    rb = txn(emu, "rollback", db, label, t).json()
    assert rb["Status"] == "FAILED"
    assert rb["Message"].endswith("cannot abort committed transaction %d, label %s " % (p["TxnId"], label))


def test_prepare_then_fe_rollback(emu):
    db, t = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t)
    txn(emu, "load", db, label, t, b'[{"id":5}]', JSON)
    txn(emu, "prepare", db, label, t)
    assert txn(emu, "rollback", db, label, t).json() == {"Status": "OK", "Message": "", "Label": label}
    assert _state(emu, db, label) == "ABORTED"
    assert rows(emu, db, t) == []
    c = txn(emu, "commit", db, label, t).json()
    assert c["Status"] == "FAILED" and "cannot commit aborted transaction" in c["Message"]
    rb = txn(emu, "rollback", db, label, t).json()
    assert rb["Status"] == "OK" and rb["Message"].endswith("has already aborted")


def test_rollback_running_on_be(emu):
    db, t = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t)
    txn(emu, "load", db, label, t, b'[{"id":1}]', JSON)
    assert txn(emu, "rollback", db, label, t).json() == {"Status": "OK", "Message": "", "Label": label}
    assert _state(emu, db, label) == "ABORTED"
    j = txn(emu, "load", db, label, t, b'[{"id":1}]', JSON, via="be").json()
    assert j == {"Status": "TXN_NOT_EXISTS", "Message": "Transaction with label %s not exists" % label}


def test_begin_twice_same_label(emu):
    db, t = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t)
    j = txn(emu, "begin", db, label, t).json()
    assert j == {"Status": "LABEL_ALREADY_EXISTS", "ExistingJobStatus": "", "Message": ""}


def test_begin_with_finished_label(emu):
    db, t = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t)
    txn(emu, "load", db, label, t, b'[{"id":1}]', JSON)
    txn(emu, "commit", db, label, t)
    j = txn(emu, "begin", db, label, t).json()
    assert j == {"Status": "LABEL_ALREADY_EXISTS", "ExistingJobStatus": "FINISHED",
                 "Message": "Label [%s] has already been used." % label}


def test_stream_load_with_label_of_open_transaction_is_running(emu):
    from emu_helpers import stream_load
    db, t = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t)
    j = stream_load(emu, db, t, '{"id":1}', {"format": "json"}, label=label).json()
    assert (j["Status"], j["ExistingJobStatus"]) == ("Label Already Exists", "RUNNING")


def test_prepare_without_data(emu):
    db, t = create_table(emu)
    label = unique("tx")
    tid = txn(emu, "begin", db, label, t).json()["TxnId"]
    j = txn(emu, "prepare", db, label, t).json()
    assert j == {"Status": "INTERNAL_ERROR", "Message": "transaction %d hasn't send any data yet" % tid}


def test_parse_error_surfaces_at_prepare(emu):
    db, t = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t)
    assert txn(emu, "load", db, label, t, b'[{"id":1},', JSON).json()["Status"] == "OK"
    j = txn(emu, "prepare", db, label, t).json()
    assert j["Status"] == "DATA_QUALITY_ERROR"
    assert j["Message"].startswith("Failed to parse json as array.")
    assert _state(emu, db, label) == "ABORTED"


def test_filtered_rows_at_commit_with_error_url(emu):
    db, t = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t)
    txn(emu, "load", db, label, t, b"1,a,1\nx,b,2\n", {"column_separator": ","})
    j = txn(emu, "commit", db, label, t).json()
    assert (j["Status"], j["Message"]) == ("DATA_QUALITY_ERROR", "too many filtered rows")
    assert "ErrorURL" in j
    assert "NULL value in non-nullable column 'id'" in requests.get(j["ErrorURL"], timeout=10).text


def test_load_headers_must_not_change(emu):
    db, t = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t)
    txn(emu, "load", db, label, t, b'[{"id":1}]', JSON)
    j = txn(emu, "load", db, label, t, b'{"id":1}', {"format": "json"}).json()
    assert j == {"Status": "INVALID_ARGUMENT", "Message": "load request not equal last."}


def test_load_wrong_db_or_table(emu):
    db, t = create_table(emu)
    _, t2 = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t)
    j = txn(emu, "load", db, label, t2, b'[{"id":1}]', JSON, via="be").json()
    assert j == {"Status": "INVALID_ARGUMENT", "Message": "Request table %s not equal transaction table %s" % (t2, t)}


def test_fe_unknown_label_has_no_node(emu):
    db, t = create_table(emu)
    j = txn(emu, "load", db, "never-begun", t, b"x").json()
    assert j["Status"] == "FAILED"
    assert j["Message"].endswith("transaction with op load label never-begun has no node")


def test_fe_requires_db_and_label(emu):
    h = {"Authorization": auth_header()}
    r = requests.post(emu.fe_url + "/api/transaction/begin", headers=h, timeout=10)
    assert r.json() == {"Status": "FAILED", "Message": "No database selected."}
    r = requests.post(emu.fe_url + "/api/transaction/begin", headers=dict(h, db="db"), timeout=10)
    assert r.json() == {"Status": "FAILED", "Message": "empty label."}
    r = requests.post(emu.fe_url + "/api/transaction/begin", headers={"db": "db", "label": "x"}, timeout=10)
    assert r.status_code == 401


def test_begin_redirects_to_be(emu):
    db, t = create_table(emu)
    h = {"Authorization": auth_header(), "db": db, "table": t, "label": unique("tx")}
    r = requests.post(emu.fe_url + "/api/transaction/begin", headers=h, allow_redirects=False, timeout=10)
    assert r.status_code == 307
    assert r.headers["Location"] == "%s/api/transaction/begin" % emu.be_url


def test_begin_unknown_table(emu):
    db, _ = create_table(emu)
    j = txn(emu, "begin", db, unique("tx"), "nope").json()
    assert j == {"Status": "ANALYSIS_ERROR", "Message": 'unknown table "%s.nope"' % db}


def test_be_unknown_op(emu):
    r = requests.post(emu.be_url + "/api/transaction/frobnicate", headers={"Authorization": auth_header()}, timeout=10)
    assert r.json() == {"Status": "INVALID_ARGUMENT", "Message": "unsupport transaction operation frobnicate"}


def test_begin_invalid_timeout(emu):
    db, t = create_table(emu)
    j = txn(emu, "begin", db, unique("tx"), t, extra={"timeout": "x"}).json()
    assert j == {"Status": "INVALID_ARGUMENT", "Message": "Invalid timeout format"}


def test_timeout_aborts_context(emu):
    db, t = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t, extra={"timeout": "1"})
    deadline = time.monotonic() + 5
    while _state(emu, db, label) != "ABORTED" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _state(emu, db, label) == "ABORTED"
    j = txn(emu, "load", db, label, t, b'[{"id":1}]', JSON, via="be").json()
    assert j["Status"] == "TXN_NOT_EXISTS"


def test_idle_timeout_aborts_context(emu):
    db, t = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t, extra={"idle_transaction_timeout": "1"})
    time.sleep(2.5)
    r = requests.get(emu.fe_url + "/api/%s/get_load_state" % db, params={"label": label}, auth=("root", ""), timeout=10)
    assert r.json()["state"] == "ABORTED"
    assert r.json()["reason"] == "transaction is aborted by idle timeout 1 seconds."


def test_label_of_prepared_transaction_is_running_for_stream_load_and_begin(emu):
    from emu_helpers import stream_load
    db, t = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t)
    txn(emu, "load", db, label, t, b'[{"id":1}]', JSON)
    txn(emu, "prepare", db, label, t)
    j = stream_load(emu, db, t, '{"id":2}', {"format": "json"}, label=label).json()
    assert (j["Status"], j["ExistingJobStatus"]) == ("Label Already Exists", "RUNNING")
    b = txn(emu, "begin", db, label, t).json()
    assert (b["Status"], b["ExistingJobStatus"]) == ("LABEL_ALREADY_EXISTS", "RUNNING")
    txn(emu, "commit", db, label, t)
    assert rows(emu, db, t) == [(1, None, None)]


def test_commit_fault_publish_timeout_on_be_commit(emu):
    db, t = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t)
    txn(emu, "load", db, label, t, b'[{"id":1}]', JSON)
    emu.faults("publish_timeout", seconds=30)
    j = txn(emu, "commit", db, label, t).json()
    assert j["Status"] == "PUBLISH_TIMEOUT" and j["NumberLoadedRows"] == 1
    assert _state(emu, db, label) == "COMMITTED"
    again = txn(emu, "commit", db, label, t).json()
    assert again["Message"].endswith("has already committed")


def test_commit_then_drop_on_be_commit(emu):
    db, t = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t)
    txn(emu, "load", db, label, t, b'[{"id":1}]', JSON)
    emu.faults("commit_then_drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        txn(emu, "commit", db, label, t)
    assert _state(emu, db, label) == "VISIBLE"
    assert rows(emu, db, t) == [(1, None, None)]


def test_prepared_timeout_validated(emu):
    db, t = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t)
    txn(emu, "load", db, label, t, b'[{"id":1}]', JSON)
    j = txn(emu, "prepare", db, label, t, extra={"prepared_timeout": "-3"}).json()
    assert j == {"Status": "INVALID_ARGUMENT", "Message": "Invalid prepared_timeout: -3"}
    assert txn(emu, "prepare", db, label, t, extra={"prepared_timeout": "60"}).json()["Status"] == "OK"


def test_reset_mid_body_on_transaction_load_aborts_it(emu):
    db, t = create_table(emu)
    label = unique("tx")
    txn(emu, "begin", db, label, t)
    emu.faults("reset_mid_body")
    with pytest.raises(requests.exceptions.ConnectionError):
        txn(emu, "load", db, label, t, b'[' + b'{"id":1},' * 100000 + b'{"id":2}]', JSON)
    assert _state(emu, db, label) == "ABORTED"
    j = txn(emu, "load", db, label, t, b'[{"id":1}]', JSON, via="be").json()
    assert j["Status"] == "TXN_NOT_EXISTS"
