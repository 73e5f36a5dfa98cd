"""The FE port: authentication, the Expect check, the 307 redirect, 404s (§1.2, §2)."""
import requests

from emu_helpers import auth_header, create_table, raw_http, unique


def _fe_put(emu, path, headers, data=b""):
    return requests.put(emu.fe_url + path, headers=headers, data=data, allow_redirects=False, timeout=10)


def test_redirect_307_to_be_with_same_path_and_query(emu):
    db, t = create_table(emu)
    path = "/api/%s/%s/_stream_load?a=1&b=x%%20y" % (db, t)
    r = _fe_put(emu, path, {"Expect": "100-continue", "Authorization": auth_header()})
    assert r.status_code == 307
    assert r.headers["Location"] == "http://127.0.0.1:%d%s" % (emu.be_http_port, path)
    assert r.content == b""
    assert r.headers.get("Connection", "").lower() == "close"


def test_missing_auth_is_401_need_auth(emu):
    db, t = create_table(emu)
    r = _fe_put(emu, "/api/%s/%s/_stream_load" % (db, t), {"Expect": "100-continue"})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm=""'
    assert r.text == '{"status":"FAILED","code":"1","msg":"Need auth information.","message":"Need auth information."}'


def test_wrong_password_is_401_access_denied(emu):
    db, t = create_table(emu)
    r = _fe_put(emu, "/api/%s/%s/_stream_load" % (db, t),
                {"Expect": "100-continue", "Authorization": auth_header("root", "wrong")})
    assert r.status_code == 401
    assert r.json() == {"status": "FAILED", "code": "1", "msg": "Access denied for root@127.0.0.1",
                        "message": "Access denied for root@127.0.0.1"}


def test_user_without_insert_is_401_privilege(emu):
    db, t = create_table(emu)
    user = unique("u")
    emu.sql("CREATE USER '%s' IDENTIFIED BY 'pw'" % user)
    r = _fe_put(emu, "/api/%s/%s/_stream_load" % (db, t),
                {"Expect": "100-continue", "Authorization": auth_header(user, "pw")})
    assert r.status_code == 401
    assert r.json()["msg"].startswith(
        "Access denied; you need (at least one of) the INSERT privilege(s) on TABLE %s for this operation." % t)


def test_user_with_grant_is_redirected(emu):
    db, t = create_table(emu)
    user = unique("u")
    emu.sql("CREATE USER '%s' IDENTIFIED BY 'pw'" % user)
    emu.sql("GRANT INSERT ON %s.* TO '%s'" % (db, user))
    r = _fe_put(emu, "/api/%s/%s/_stream_load" % (db, t),
                {"Expect": "100-continue", "Authorization": auth_header(user, "pw")})
    assert r.status_code == 307


def test_missing_expect_is_failed_shape(emu):
    db, t = create_table(emu)
    r = _fe_put(emu, "/api/%s/%s/_stream_load" % (db, t), {"Authorization": auth_header()})
    assert r.status_code == 200
    assert r.json() == {"Status": "FAILED",
                        "Message": "class com.starrocks.common.DdlException: There is no 100-continue header"}
    assert r.text.startswith('{\n  "Status"'), "FE TransactionResult-style JSON is 2-space pretty"


def test_auth_is_checked_before_expect(emu):
    r = _fe_put(emu, "/api/db/x/_stream_load", {})
    assert r.status_code == 401


def test_http10_skips_expect_check(emu):
    db, t = create_table(emu)
    req = ("PUT /api/%s/%s/_stream_load HTTP/1.0\r\nHost: x\r\nAuthorization: %s\r\nContent-Length: 0\r\n\r\n"
           % (db, t, auth_header())).encode()
    assert raw_http(emu.fe_http_port, req).startswith(b"HTTP/1.0 307")


def test_fe_never_sends_100_continue(emu):
    db, t = create_table(emu)
    req = ("PUT /api/%s/%s/_stream_load HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nExpect: 100-continue\r\n"
           "Content-Length: 1000\r\n\r\n" % (db, t, auth_header())).encode()
    out = raw_http(emu.fe_http_port, req)
    assert out.startswith(b"HTTP/1.1 307")
    assert b"100 Continue" not in out


def test_unknown_route_and_wrong_method_are_404(emu):
    assert requests.get(emu.fe_url + "/api/nope", timeout=10).status_code == 404
    r = requests.post(emu.fe_url + "/api/db/t/_stream_load", auth=("root", ""), timeout=10)
    assert r.status_code == 404
    assert requests.get(emu.be_url + "/nothing", timeout=10).text == "Not Found"


def test_root_is_redirected_even_for_unknown_table(emu):
    """The FE does not look the table up; the BE reports it (§1.2 step 4)."""
    r = _fe_put(emu, "/api/nodb/notable/_stream_load", {"Expect": "100-continue", "Authorization": auth_header()})
    assert r.status_code == 307
