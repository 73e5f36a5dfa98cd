"""Size and concurrency limits (§4.5, §8) with small thresholds from the CLI."""
import threading
import time

import pytest
import requests

from harness.emulator import Emulator
from emu_helpers import auth_header, create_table, raw_http, stream_load, unique


@pytest.fixture(scope="module")
def emu(run_dir):
    e = Emulator(workdir=run_dir / "emulator-limits",
                 args=["--streaming-load-max-mb", "2", "--json-max-mb", "1", "--max-running-txn-num-per-db", "2"])
    yield e
    e.stop()


MB = 1024 * 1024


def test_content_length_over_limit_fails_before_body(emu):
    db, t = create_table(emu)
    req = ("PUT /api/%s/%s/_stream_load HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nExpect: 100-continue\r\n"
           "Content-Length: %d\r\nlabel: big1\r\n\r\n" % (db, t, auth_header(), 3 * MB)).encode()
    out = raw_http(emu.be_http_port, req)
    assert b"100 Continue" not in out
    assert b'"Message": "body size 3145728 exceed limit: 2097152, id=-1, label=big1. You can increase the limit by setting streaming_load_max_mb in be.conf."' in out


def test_chunked_over_limit_fails(emu):
    db, t = create_table(emu)

    def gen():
        for _ in range(3):
            yield b"1\ta\t1\n" * (MB // 6)

    r = requests.put(emu.be_url + "/api/%s/%s/_stream_load" % (db, t), data=gen(),
                     headers={"Authorization": auth_header()}, timeout=30)
    j = r.json()
    assert j["Status"] == "Fail" and j["Message"].startswith("body size ")
    assert j["TxnId"] > 0


def test_json_batch_size_limit_and_ignore_json_size(emu):
    db, t = create_table(emu)
    body = b'{"id":1}\n' * (MB // 9 + 6)  # just over 1 MB, under the 2 MB body limit
    assert MB < len(body) < 2 * MB
    j = stream_load(emu, db, t, body, {"format": "json"}).json()
    assert j["Message"] == ("The size of this batch exceed the max size [1048576]  of json type data  data [ %d ]. "
                            "Set ignore_json_size to skip the check, although it may lead huge memory consuming."
                            % len(body))
    j = stream_load(emu, db, t, body, {"format": "json", "ignore_json_size": "true"}).json()
    assert (j["Status"], j["NumberLoadedRows"]) == ("Success", MB // 9 + 6)


def test_running_txn_limit(emu):
    db, t = create_table(emu, db="db_limit")
    begun = []
    for _ in range(2):
        h = {"Authorization": auth_header(), "db": db, "table": t, "label": unique("tx")}
        assert requests.post(emu.be_url + "/api/transaction/begin", headers=h, timeout=10).json()["Status"] == "OK"
        begun.append(h)
    j = stream_load(emu, db, t, '{"id":1}', {"format": "json"}).json()
    assert j["Status"] == "Fail" and j["TxnId"] == -1
    assert j["Message"].startswith("current running txns on db ")
    assert j["Message"].endswith(" is 2, larger than limit 2")
    for h in begun:
        requests.post(emu.be_url + "/api/transaction/rollback", headers=h, timeout=10)
    assert stream_load(emu, db, t, '{"id":1}', {"format": "json"}).json()["Status"] == "Success"


def test_txn_in_processing(emu):
    db, t = create_table(emu)
    h = {"Authorization": auth_header(), "db": db, "table": t, "label": unique("tx"), "format": "json"}
    assert requests.post(emu.be_url + "/api/transaction/begin", headers=h, timeout=10).json()["Status"] == "OK"

    def slow():
        yield b'{"id":1}'
        time.sleep(1.0)
        yield b'\n'

    first = {}
    th = threading.Thread(target=lambda: first.setdefault("r", requests.put(
        emu.be_url + "/api/transaction/load", headers=h, data=slow(), timeout=10).json()))
    th.start()
    time.sleep(0.4)
    j = requests.put(emu.be_url + "/api/transaction/load", headers=h, data=b'{"id":2}', timeout=10).json()
    th.join()
    assert list(j)[:2] == ["Status", "Label"]
    assert j["Status"] == "TXN_IN_PROCESSING" and j["Label"] == h["label"]
    assert first["r"]["Status"] == "OK"
