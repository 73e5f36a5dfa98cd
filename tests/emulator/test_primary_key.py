"""Primary Key semantics through loads (§4.3, §7)."""
from emu_helpers import create_table, rows, stream_load

PK = dict(columns="id INT NOT NULL, name VARCHAR(10), score INT", keys="PRIMARY KEY(id)")


def _ok(r):
    j = r.json()
    assert j["Status"] == "Success", j
    return j


def test_upsert_last_wins_within_a_load(emu):
    db, t = create_table(emu, **PK)
    _ok(stream_load(emu, db, t, '{"id":1,"name":"a","score":1}\n{"id":1,"name":"b","score":2}', {"format": "json"}))
    _ok(stream_load(emu, db, t, '{"id":2,"name":"c","score":3}', {"format": "json"}))
    assert rows(emu, db, t) == [(1, "b", 2), (2, "c", 3)]


def test_json_op_deletes_without_columns_header(emu):
    db, t = create_table(emu, **PK)
    _ok(stream_load(emu, db, t, '[{"id":1,"name":"a"},{"id":2,"name":"b"}]', {"format": "json", "strip_outer_array": "true"}))
    _ok(stream_load(emu, db, t, '{"id":1,"name":"a","__op":1}\n{"id":9,"__op":1}', {"format": "json"}))
    assert rows(emu, db, t) == [(2, "b", None)]


def test_csv_op_from_columns_and_constant(emu):
    db, t = create_table(emu, **PK)
    _ok(stream_load(emu, db, t, "1,a,1,0\n2,b,2,0\n3,c,3,0\n", {"column_separator": ",", "columns": "id,name,score,__op"}))
    _ok(stream_load(emu, db, t, "1,x,1,1\n", {"column_separator": ",", "columns": "id,name,score,tmp,__op=tmp"}))
    _ok(stream_load(emu, db, t, "2\n", {"column_separator": ",", "columns": "id,__op='delete'"}))
    assert rows(emu, db, t) == [(3, "c", 3)]


def test_bad_op_constant(emu):
    db, t = create_table(emu, **PK)
    j = stream_load(emu, db, t, "1\n", {"columns": "id,__op='zap'"}).json()
    assert j["Message"] == "load op type string not supported: zap"


def test_full_row_upsert_resets_unsent_columns(emu):
    db, t = create_table(emu, **PK)
    _ok(stream_load(emu, db, t, '{"id":1,"name":"a","score":5}', {"format": "json"}))
    _ok(stream_load(emu, db, t, '{"id":1,"name":"b"}', {"format": "json"}))
    assert rows(emu, db, t) == [(1, "b", None)]


def test_partial_update_keeps_other_columns(emu):
    db, t = create_table(emu, **PK)
    _ok(stream_load(emu, db, t, '{"id":1,"name":"a","score":5}', {"format": "json"}))
    _ok(stream_load(emu, db, t, "1,9\n2,7\n", {"column_separator": ",", "columns": "id,score", "partial_update": "true"}))
    assert rows(emu, db, t) == [(1, "a", 9), (2, None, 7)]


def test_partial_update_column_mode_same_result(emu):
    db, t = create_table(emu, **PK)
    _ok(stream_load(emu, db, t, '{"id":1,"name":"a","score":5}', {"format": "json"}))
    _ok(stream_load(emu, db, t, '{"id":1,"name":"z"}', {"format": "json", "columns": "id,name", "partial_update": "true",
                                                         "partial_update_mode": "column"}))
    assert rows(emu, db, t) == [(1, "z", 5)]


def test_partial_update_on_duplicate_table_fails(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, "1,2\n", {"column_separator": ",", "columns": "id,score", "partial_update": "true"}).json()
    assert j["Message"] == "Only primary key table support partial update"


def test_partial_update_needs_key(emu):
    db, t = create_table(emu, **PK)
    j = stream_load(emu, db, t, "2\n", {"columns": "score", "partial_update": "true"}).json()
    assert j["Message"] == "key column id not in partial update columns"


def test_merge_condition(emu):
    db, t = create_table(emu, **PK)
    _ok(stream_load(emu, db, t, '{"id":1,"name":"a","score":5}\n{"id":2,"name":"b","score":5}', {"format": "json"}))
    _ok(stream_load(emu, db, t, '{"id":1,"name":"old","score":4}\n{"id":2,"name":"new","score":6}\n{"id":3,"name":"ins","score":0}',
                    {"format": "json", "merge_condition": "score"}))
    assert rows(emu, db, t) == [(1, "a", 5), (2, "new", 6), (3, "ins", 0)]


def test_duplicate_key_keeps_identical_rows_and_ignores_op(emu):
    db, t = create_table(emu)
    _ok(stream_load(emu, db, t, '{"id":1,"__op":1}\n{"id":1,"__op":1}', {"format": "json"}))
    assert rows(emu, db, t) == [(1, None, None), (1, None, None)]


def test_json_op_read_even_with_columns_header(emu):
    db, t = create_table(emu, **PK)
    _ok(stream_load(emu, db, t, '{"id":1,"name":"a"}\n{"id":2,"name":"b"}', {"format": "json", "columns": "id,name"}))
    _ok(stream_load(emu, db, t, '{"id":1,"__op":1}', {"format": "json", "columns": "id,name"}))
    assert rows(emu, db, t) == [(2, "b", None)]


def test_invalid_op_value_filters_row(emu):
    db, t = create_table(emu, **PK)
    j = stream_load(emu, db, t, '{"id":1,"__op":2}\n{"id":2}', {"format": "json", "max_filter_ratio": "0.5"}).json()
    assert (j["NumberLoadedRows"], j["NumberFilteredRows"]) == (1, 1)
    assert rows(emu, db, t) == [(2, None, None)]
