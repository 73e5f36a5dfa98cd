"""CSV Stream Load (§4.1) and the `columns` header (§3, §7)."""
import datetime
import decimal

from emu_helpers import create_table, rows, stream_load


def _ok(r):
    j = r.json()
    assert j["Status"] == "Success", j
    return j


def test_default_tab_separator_and_null(emu):
    db, t = create_table(emu)
    _ok(stream_load(emu, db, t, "1\ta\t10\n2\t\\N\t20"))  # no trailing delimiter is fine
    assert rows(emu, db, t) == [(1, "a", 10), (2, None, 20)]


def test_blank_lines_are_skipped_and_not_counted(emu):
    db, t = create_table(emu)
    j = _ok(stream_load(emu, db, t, "1\ta\t1\n\n\n2\tb\t2\n"))
    assert j["NumberTotalRows"] == 2


def test_custom_separators_and_hex_forms(emu):
    db, t = create_table(emu)
    _ok(stream_load(emu, db, t, b"1\x01a\x0110\r\n2\x01b\x0120\r\n",
                    {"column_separator": "\\x01", "row_delimiter": "0x0D0A"}))
    assert rows(emu, db, t) == [(1, "a", 10), (2, "b", 20)]


def test_multibyte_separator(emu):
    db, t = create_table(emu)
    _ok(stream_load(emu, db, t, "1||a||10\n", {"column_separator": "||"}))
    assert rows(emu, db, t) == [(1, "a", 10)]


def test_bad_hex_separator(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, "1", {"column_separator": "\\x0"}).json()
    assert j["Message"] == "Invalid delimiter '\\x0': hex length must be a even number"


def test_enclose_escape_trim_space_skip_header(emu):
    db, t = create_table(emu)
    body = 'id,name,score\n1, "a,b" ,10\n2,"say ""hi""",20\n3,c\\,d,30\n'
    _ok(stream_load(emu, db, t, body, {"column_separator": ",", "enclose": '"', "escape": "\\",
                                       "trim_space": "true", "skip_header": "1"}))
    assert rows(emu, db, t) == [(1, "a,b", 10), (2, 'say "hi"', 20), (3, "c,d", 30)]


def test_skip_header_negative(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, "1", {"skip_header": "-1"}).json()
    assert j["Message"] == "skip_header must be equal or greater than 0"


def test_columns_reorder_placeholder_and_default(emu):
    db, t = create_table(emu, columns="id INT NOT NULL, name VARCHAR(10), score INT DEFAULT '5'")
    _ok(stream_load(emu, db, t, "x,a,1\ny,b,2\n", {"column_separator": ",", "columns": "junk,name,id"}))
    assert rows(emu, db, t) == [(1, "a", 5), (2, "b", 5)]


def test_columns_copy_and_constant(emu):
    db, t = create_table(emu)
    _ok(stream_load(emu, db, t, "7,a\n", {"column_separator": ",", "columns": "id,name,score=id"}))
    _ok(stream_load(emu, db, t, "8,b\n", {"column_separator": ",", "columns": "id,name,score='42'"}))
    assert rows(emu, db, t) == [(7, "a", 7), (8, "b", 42)]


def test_unsupported_columns_expression(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, "1,a\n", {"column_separator": ",", "columns": "id,tmp,name=upper(tmp)"}).json()
    assert j["Status"] == "Fail" and "upper(tmp)" in j["Message"]


def test_types_date_datetime_decimal_bool(emu):
    db, t = create_table(emu, columns="id INT NOT NULL, d DATE, dt DATETIME, dec DECIMAL(5,2), b BOOLEAN")
    _ok(stream_load(emu, db, t, "1,2024-02-29,2024-02-29 10:11:12,12.345,true\n2,20240101,2024-01-01,-1,0\n",
                    {"column_separator": ","}))
    got = emu.sql("SELECT id, d, dt, dec, b FROM %s.%s ORDER BY id" % (db, t))
    assert [tuple(r) for r in got] == [
        (1, datetime.date(2024, 2, 29), datetime.datetime(2024, 2, 29, 10, 11, 12), decimal.Decimal("12.35"), 1),
        (2, datetime.date(2024, 1, 1), datetime.datetime(2024, 1, 1), decimal.Decimal("-1.00"), 0)]


def test_bad_date_becomes_null_or_filtered(emu):
    db, t = create_table(emu, columns="id INT NOT NULL, d DATE NOT NULL")
    j = stream_load(emu, db, t, "1,2024-02-30\n2,2024-02-28\n", {"column_separator": ",", "max_filter_ratio": "0.5"}).json()
    assert (j["NumberLoadedRows"], j["NumberFilteredRows"]) == (1, 1)


def test_invalid_utf8_row_filtered(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, b"1\t\xff\t1\n2\tb\t2\n", {"max_filter_ratio": "0.5"}).json()
    assert j["NumberFilteredRows"] == 1


def test_varchar_length_counts_bytes(emu):
    db, t = create_table(emu, columns="id INT NOT NULL, name VARCHAR(4) NOT NULL")
    j = stream_load(emu, db, t, "1\t\u00e9\u00e9\n2\t\u00e9\u00e9\u00e9\n", {"max_filter_ratio": "0.5"}).json()
    assert (j["NumberLoadedRows"], j["NumberFilteredRows"]) == (1, 1)
    assert rows(emu, db, t) == [(1, "\u00e9\u00e9")]
