"""BE-side failures of a stream load (§1.3, §2, §5.3, §8): header-phase errors are answered
before `100 Continue` and without reading the body; later errors roll the transaction back."""
import requests

from emu_helpers import auth_header, create_table, raw_http, rows, stream_load

FAIL_ZERO = {"NumberTotalRows": 0, "NumberLoadedRows": 0, "NumberFilteredRows": 0, "LoadBytes": 0}


def _fail(r, message, txn=-1):
    assert r.status_code == 200
    j = r.json()
    assert j["Status"] == "Fail", j
    assert j["Message"] == message
    if txn == -1:
        assert j["TxnId"] == -1
    return j


def test_header_phase_failure_sends_no_100_continue_and_reads_no_body(emu):
    req = ("PUT /api/db/no_such_table/_stream_load HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
           "Expect: 100-continue\r\nContent-Length: 5000\r\nformat: json\r\n\r\n" % auth_header()).encode()
    out = raw_http(emu.be_http_port, req)
    assert out.startswith(b"HTTP/1.1 200 OK"), out[:100]
    assert b"100 Continue" not in out
    assert b'"Message": "unknown table \\"db.no_such_table\\""' in out or b"unknown" in out


def test_successful_header_phase_sends_100_continue(emu):
    db, t = create_table(emu)
    req = ("PUT /api/%s/%s/_stream_load HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
           "Expect: 100-continue\r\nContent-Length: 8\r\nformat: json\r\n\r\n" % (db, t, auth_header())).encode()
    out = raw_http(emu.be_http_port, req, read_timeout=1.0)
    assert out.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), out[:100]


def test_no_auth_on_be(emu):
    db, t = create_table(emu)
    r = requests.put(emu.be_url + "/api/%s/%s/_stream_load" % (db, t), data=b'{"id":1}',
                     headers={"format": "json", "label": "x1"}, timeout=10)
    j = _fail(r, "no valid Basic authorization")
    assert j["Label"] == "x1"
    for k, v in FAIL_ZERO.items():
        assert j[k] == v


def test_wrong_password_on_be(emu):
    db, t = create_table(emu)
    r = stream_load(emu, db, t, '{"id":1}', {"format": "json"}, password="bad", via="be")
    _fail(r, "Access denied for root@127.0.0.1")


def test_unknown_database(emu):
    r = stream_load(emu, "nodb", "t", '{"id":1}', {"format": "json"})
    _fail(r, "unknown database, database=nodb")


def test_unknown_table(emu):
    db, _ = create_table(emu)
    r = stream_load(emu, db, "nope", '{"id":1}', {"format": "json"})
    _fail(r, 'unknown table "%s.nope"' % db)


def test_bad_label(emu):
    db, t = create_table(emu)
    r = stream_load(emu, db, t, '{"id":1}', {"format": "json"}, label="bad label!")
    _fail(r, "Label format error. regex: ^[-\\w]{1,128}$, label: bad label!")


def test_too_long_label(emu):
    db, t = create_table(emu)
    r = stream_load(emu, db, t, '{"id":1}', {"format": "json"}, label="a" * 129)
    assert r.json()["Message"].startswith("Label format error.")


def test_unknown_format(emu):
    db, t = create_table(emu)
    _fail(stream_load(emu, db, t, "x", {"format": "xml"}), "unknown data format, format=xml")


def test_invalid_timeout(emu):
    db, t = create_table(emu)
    _fail(stream_load(emu, db, t, "x", {"timeout": "soon"}), "Invalid timeout format")


def test_invalid_strict_mode_is_plan_error_with_txn(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, '{"id":1}', {"format": "json", "strict_mode": "maybe"}).json()
    assert j["Message"] == "Invalid strict mode format. Must be bool type"
    assert j["TxnId"] > 0, "header validation after begin reports the aborted transaction"


def test_column_without_default_is_plan_error(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, "a", {"columns": "name"}).json()
    assert (j["Status"], j["Message"]) == ("Fail", "Column has no default value. column: id")


def test_where_is_rejected_clearly(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, '{"id":1}', {"format": "json", "where": "id > 1"}).json()
    assert j["Status"] == "Fail" and "where" in j["Message"]


def test_empty_body_is_empty_load_error(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, b"", {"format": "json"}).json()
    assert j["Status"] == "Fail"
    assert j["Message"].startswith("No partitions have data available for loading.")


def test_filtered_over_ratio_has_counts_and_error_url(emu):
    db, t = create_table(emu)
    body = "1\ta\t1\n2\tb\n3\tc\t3\n"
    j = stream_load(emu, db, t, body).json()
    assert (j["Status"], j["Message"]) == ("Fail", "too many filtered rows")
    assert (j["NumberTotalRows"], j["NumberLoadedRows"], j["NumberFilteredRows"]) == (3, 2, 1)
    assert list(j.keys())[-1] == "ErrorURL"
    url = j["ErrorURL"]
    assert url.startswith("http://127.0.0.1:%d/api/_load_error_log?file=error_log_" % emu.be_http_port)
    log = requests.get(url, timeout=10)
    assert log.status_code == 200
    assert log.text == ("Error: Target column count: 3 doesn't match source value column count: 2. "
                        "Column separator: '\\t', Row delimiter: '\\n'. Row: 2\tb\n")
    assert rows(emu, db, t) == []


def test_filtered_within_ratio_loads_the_rest(emu):
    db, t = create_table(emu)
    body = "1\ta\t1\nx\tb\t2\n3\tc\t3\n4\td\t4\n"
    j = stream_load(emu, db, t, body, {"max_filter_ratio": "0.3"}).json()
    assert j["Status"] == "Success"
    assert (j["NumberLoadedRows"], j["NumberFilteredRows"]) == (3, 1)
    assert "ErrorURL" in j
    log = requests.get(j["ErrorURL"], timeout=10).text
    assert log == "Error: NULL value in non-nullable column 'id'. Row: x\tb\t2\n"
    assert [r[0] for r in rows(emu, db, t)] == [1, 3, 4]


def test_all_rows_filtered_under_permissive_ratio_is_empty_load(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, "x\ta\t1\n", {"max_filter_ratio": "1"}).json()
    assert j["Message"].startswith("No partitions have data available for loading.")
    assert j["NumberFilteredRows"] == 1


def test_non_strict_bad_value_becomes_null(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, "1\tlonger than ten\tnotanint\n").json()
    assert j["Status"] == "Success" and j["NumberFilteredRows"] == 0
    assert rows(emu, db, t) == [(1, None, None)]


def test_strict_mode_filters_with_message(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, "1\ta\tnotanint\n2\tb\t\\N\n", {"strict_mode": "true", "max_filter_ratio": "0.5"}).json()
    assert j["Status"] == "Success", j
    assert (j["NumberLoadedRows"], j["NumberFilteredRows"]) == (1, 1)
    log = requests.get(j["ErrorURL"], timeout=10).text
    assert log == ("Error: The field (name = score, pos = 2) is out of range. Type: INT, Value length: 8, "
                   "Value: notanint. Row: 1\ta\tnotanint\n")
    assert rows(emu, db, t) == [(2, "b", None)], "\\N is still a legal NULL in strict mode"


def test_error_log_unknown_file_is_404(emu):
    assert requests.get(emu.be_url + "/api/_load_error_log?file=error_log_0_0", timeout=10).status_code == 404


