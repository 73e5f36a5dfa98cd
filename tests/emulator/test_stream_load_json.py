"""JSON Stream Load through FE → BE (§1.3, §4.2, §5.2)."""
import json

import requests

from emu_helpers import create_table, rows, stream_load, unique

KEYS = ["TxnId", "Label", "Status", "Message", "NumberTotalRows", "NumberLoadedRows", "NumberFilteredRows",
        "NumberUnselectedRows", "LoadBytes", "LoadTimeMs", "BeginTxnTimeMs", "StreamLoadPlanTimeMs",
        "ReadDataTimeMs", "WriteDataTimeMs", "CommitAndPublishTimeMs"]


def test_array_with_strip_outer_array_success_reply(emu):
    db, t = create_table(emu)
    body = b'[{"id":1,"name":"a","score":10},{"id":2,"name":"b","score":20}]'
    label = unique("l")
    r = stream_load(emu, db, t, body, {"format": "json", "strip_outer_array": "true"}, label=label)
    assert r.status_code == 200
    j = r.json()
    assert list(j.keys()) == KEYS
    assert r.text.startswith('{\n    "TxnId": '), "BE JSON is 4-space pretty printed"
    assert j["Status"] == "Success" and j["Message"] == "OK" and j["Label"] == label
    assert j["TxnId"] > 0
    assert (j["NumberTotalRows"], j["NumberLoadedRows"], j["NumberFilteredRows"]) == (2, 2, 0)
    assert j["LoadBytes"] == len(body)
    assert rows(emu, db, t) == [(1, "a", 10), (2, "b", 20)]


def test_ndjson_and_concatenated_objects(emu):
    db, t = create_table(emu)
    body = '{"id":1,"name":"a"}\n{"id":2}  {"id":3,"score":3}\n'
    j = stream_load(emu, db, t, body, {"format": "json"}).json()
    assert j["Status"] == "Success", j
    assert rows(emu, db, t) == [(1, "a", None), (2, None, None), (3, None, 3)]


def test_txn_ids_increase(emu):
    db, t = create_table(emu)
    a = stream_load(emu, db, t, '{"id":1}', {"format": "json"}).json()["TxnId"]
    b = stream_load(emu, db, t, '{"id":2}', {"format": "json"}).json()["TxnId"]
    assert b > a > 0


def test_generated_label_is_uuid(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, '{"id":1}', {"format": "json"}).json()
    parts = j["Label"].split("-")
    assert [len(p) for p in parts] == [8, 4, 4, 4, 12]


def test_unknown_keys_ignored_and_keys_exact_case(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, '{"id":1,"NAME":"x","extra":{"a":[1]}}', {"format": "json"}).json()
    assert j["Status"] == "Success"
    assert rows(emu, db, t) == [(1, None, None)]


def test_array_without_strip_outer_array_fails(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, '[{"id":1}]', {"format": "json"}).json()
    assert j["Status"] == "Fail"
    assert j["Message"].startswith("The value is array type in json document stream, you can set strip_outer_array=true")
    assert rows(emu, db, t) == []


def test_object_with_strip_outer_array_fails(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, '{"id":1}', {"format": "json", "strip_outer_array": "true"}).json()
    assert j["Message"] == 'the value should be array type with strip_outer_array=true, value: {"id":1}'


def test_malformed_json_fails_whole_load(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, '[{"id":1},{"id":"2}]', {"format": "json", "strip_outer_array": "true"}).json()
    assert j["Status"] == "Fail"
    assert j["Message"] == "Failed to parse json as array. error: A string is opened, but never closed."
    assert j["TxnId"] > 0, "the transaction was begun, then rolled back"
    assert rows(emu, db, t) == []


def test_illegal_first_byte(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, "id,1", {"format": "json"}).json()
    assert j["Message"] == "illegal json started with i"


def test_jsonpaths_json_root(emu):
    db, t = create_table(emu)
    body = '{"data":{"items":[{"k":1,"v":{"n":"x"}},{"k":2,"v":{"n":"y"}}]}}'
    h = {"format": "json", "strip_outer_array": "true", "json_root": "$.data.items",
         "jsonpaths": '["$.k","$.v.n"]', "columns": "id,name"}
    j = stream_load(emu, db, t, body, h).json()
    assert j["Status"] == "Success", j
    assert rows(emu, db, t) == [(1, "x", None), (2, "y", None)]


def test_nested_value_into_varchar_is_compact_json(emu):
    db, t = create_table(emu, columns="id INT NOT NULL, name VARCHAR(40), score INT")
    stream_load(emu, db, t, '{"id":1,"name":{"a": [1, 2]}}', {"format": "json"})
    assert rows(emu, db, t) == [(1, '{"a":[1,2]}', None)]


def test_json_column(emu):
    db, t = create_table(emu, columns="id INT NOT NULL, doc JSON")
    j = stream_load(emu, db, t, '{"id":1,"doc":{"x": 1}}\n{"id":2,"doc":"s"}', {"format": "json"}).json()
    assert j["Status"] == "Success", j
    got = rows(emu, db, t)
    assert [json.loads(r[1]) for r in got] == [{"x": 1}, "s"]


def test_direct_to_be_works_too(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, '{"id":7}', {"format": "json"}, via="be").json()
    assert j["Status"] == "Success"
    assert rows(emu, db, t) == [(7, None, None)]


def test_redirect_that_drops_authorization_fails_on_be(emu):
    """requests strips Authorization on a cross-port redirect: the §9.2 pitfall, made visible."""
    db, t = create_table(emu)
    r = requests.put(emu.fe_url + "/api/%s/%s/_stream_load" % (db, t), auth=("root", ""),
                     headers={"Expect": "100-continue", "format": "json"}, data=b'{"id":1}', timeout=10)
    assert r.status_code == 200
    j = r.json()
    assert (j["Status"], j["Message"], j["TxnId"]) == ("Fail", "no valid Basic authorization", -1)
