"""The emulator-only fault endpoint (`/api/_emulator/faults`): every kind, counts, table filters."""
import time

import pytest
import requests

from emu_helpers import auth_header, create_table, rows, stream_load, unique


def _state(emu, db, label):
    return requests.get(emu.fe_url + "/api/%s/get_load_state" % db, params={"label": label},
                        auth=("root", ""), timeout=10).json()["state"]


def _load(emu, db, t, label=None, body='{"id":1}', **kw):
    return stream_load(emu, db, t, body, {"format": "json"}, label=label, **kw)


def test_endpoint_lists_and_clears(emu):
    emu.faults("http_500", count=3, table="x")
    listed = emu.list_faults()
    assert listed == [{"kind": "http_500", "remaining": 3, "table": "x", "seconds": None}]
    emu.clear_faults()
    assert emu.list_faults() == []


def test_unknown_kind_is_400(emu):
    r = requests.post(emu.fe_url + "/api/_emulator/faults", json={"kind": "explode"}, timeout=10)
    assert r.status_code == 400
    assert "unknown variant" in r.json()["message"]


def test_endpoint_also_on_be_port(emu):
    requests.post(emu.be_url + "/api/_emulator/faults", json={"kind": "mem_limit"}, timeout=10).raise_for_status()
    assert [f["kind"] for f in emu.list_faults()] == ["mem_limit"]


def test_http_500_on_fe_for_count_requests(emu):
    db, t = create_table(emu)
    emu.faults("http_500", count=2)
    for _ in range(2):
        r = _load(emu, db, t)
        assert r.status_code == 500
        assert r.json()["status"] == "FAILED"
    assert _load(emu, db, t).json()["Status"] == "Success"
    assert len(rows(emu, db, t)) == 1


def test_http_500_on_be_when_client_goes_direct(emu):
    db, t = create_table(emu)
    emu.faults("http_500")
    r = _load(emu, db, t, via="be")
    assert r.status_code == 500
    assert rows(emu, db, t) == []


def test_fault_table_filter(emu):
    db, t1 = create_table(emu)
    _, t2 = create_table(emu)
    emu.faults("http_500", table=t2)
    assert _load(emu, db, t1).status_code == 200
    assert _load(emu, db, t2).status_code == 500


def test_no_backend(emu):
    db, t = create_table(emu)
    emu.faults("no_backend")
    r = _load(emu, db, t)
    assert r.status_code == 200
    assert r.json() == {"Status": "FAILED", "Message": "class com.starrocks.common.DdlException: No backend alive."}


def test_hang_makes_client_time_out_and_commits_nothing(emu):
    db, t = create_table(emu)
    label = unique("l")
    emu.faults("hang", seconds=1.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        _load(emu, db, t, label=label, timeout=0.5)
    # The client gave up: the transaction is aborted (at once, or when the hang ends).
    time.sleep(1.5)
    assert _state(emu, db, label) == "ABORTED"
    assert rows(emu, db, t) == []
    assert _load(emu, db, t, label=label).json()["Status"] == "Success", "an aborted label may be reused"


def test_hang_reply_when_client_waits(emu):
    db, t = create_table(emu)
    emu.faults("hang", seconds=0.2)
    j = _load(emu, db, t).json()
    assert j["Status"] == "Fail" and "Timeout" in j["Message"]


def test_throttle_reads_the_body_slowly_then_loads_it(emu):
    db, t = create_table(emu)
    emu.faults("throttle", count=2, bytes_per_second=100_000)
    assert emu.list_faults() == [{"kind": "throttle", "remaining": 2, "table": None, "seconds": None,
                                  "bytes_per_second": 100_000}]
    body = "".join('{"id":%d}\n' % i for i in range(5000))  # ~54 KB
    started = time.monotonic()
    j = _load(emu, db, t, body=body).json()
    took = time.monotonic() - started
    assert j["Status"] == "Success" and j["NumberLoadedRows"] == 5000, j
    assert took >= 0.4, "a 54 KB body at 100 KB/s took only %.2f s" % took
    assert emu.list_faults()[0]["remaining"] == 1
    emu.clear_faults()
    started = time.monotonic()
    assert _load(emu, db, t, body=body).json()["Status"] == "Success"
    assert time.monotonic() - started < took


def test_reset_mid_body(emu):
    db, t = create_table(emu)
    label = unique("l")
    emu.faults("reset_mid_body")
    with pytest.raises(requests.exceptions.ConnectionError):
        _load(emu, db, t, label=label, body='{"id":1}\n' * 20000)
    assert rows(emu, db, t) == []
    assert _state(emu, db, label) == "ABORTED"
    assert _load(emu, db, t, label=label).json()["Status"] == "Success"


def test_publish_timeout_commits_and_turns_visible(emu):
    db, t = create_table(emu)
    label = unique("l")
    emu.faults("publish_timeout", seconds=1)
    j = _load(emu, db, t, label=label).json()
    assert j["Status"] == "Publish Timeout"
    assert j["Message"].startswith("Publish timeout")
    assert j["TxnId"] > 0 and j["NumberLoadedRows"] == 1
    assert _state(emu, db, label) == "COMMITTED"
    again = _load(emu, db, t, label=label).json()
    assert (again["Status"], again["ExistingJobStatus"]) == ("Label Already Exists", "FINISHED")
    time.sleep(1.1)
    assert _state(emu, db, label) == "VISIBLE"
    assert len(rows(emu, db, t)) == 1


def test_too_many_versions(emu):
    db, t = create_table(emu)
    j = (emu.faults("too_many_versions"), _load(emu, db, t).json())[1]
    assert j["Status"] == "Fail"
    assert "because of too many versions, current/limit: " in j["Message"]
    assert rows(emu, db, t) == []


def test_mem_limit(emu):
    db, t = create_table(emu)
    emu.faults("mem_limit")
    j = _load(emu, db, t).json()
    assert j["Status"] == "Fail" and "Memory of process exceed limit" in j["Message"]
    assert rows(emu, db, t) == []


def test_commit_then_drop(emu):
    db, t = create_table(emu)
    label = unique("l")
    emu.faults("commit_then_drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        _load(emu, db, t, label=label)
    assert _state(emu, db, label) == "VISIBLE"
    assert len(rows(emu, db, t)) == 1
    j = _load(emu, db, t, label=label).json()
    assert (j["Status"], j["ExistingJobStatus"]) == ("Label Already Exists", "FINISHED")


def test_running_txns_limit(emu):
    db, t = create_table(emu)
    emu.faults("running_txns_limit")
    j = _load(emu, db, t).json()
    assert j["Status"] == "Fail" and j["TxnId"] == -1
    db_id = j["Message"].split()[5]
    assert db_id.isdigit()
    assert j["Message"] == "current running txns on db %s is 1000, larger than limit 1000" % db_id


def test_label_exists_fail_variant(emu):
    db, t = create_table(emu)
    label = unique("l")
    assert _load(emu, db, t, label=label).json()["Status"] == "Success"
    emu.faults("label_exists_fail_variant")
    j = _load(emu, db, t, label=label).json()
    assert j["Status"] == "Fail"
    assert "has already been used" in j["Message"]
    assert "ExistingJobStatus" not in j
    # Consumed: the next reuse gets the normal reply.
    assert _load(emu, db, t, label=label).json()["Status"] == "Label Already Exists"


def test_label_exists_fail_variant_waits_for_a_reused_label(emu):
    db, t = create_table(emu)
    emu.faults("label_exists_fail_variant")
    assert _load(emu, db, t, label=unique("l")).json()["Status"] == "Success"
    assert emu.list_faults()[0]["remaining"] == 1


def test_faults_do_not_need_auth_but_loads_do(emu):
    r = requests.put(emu.be_url + "/api/db/t/_stream_load", headers={"Authorization": auth_header("nobody", "x")},
                     data=b"", timeout=10)
    assert r.json()["Message"].startswith("Access denied")
