"""Helpers shared by the emulator's black-box tests."""
import base64
import itertools
import socket
import uuid

import requests

_counter = itertools.count()


def unique(prefix="t"):
    return "%s_%d_%s" % (prefix, next(_counter), uuid.uuid4().hex[:6])


def create_table(emu, columns="id INT NOT NULL, name VARCHAR(10), score INT", keys="DUPLICATE KEY(id)", dist="id",
                 db="db"):
    """CREATE DATABASE IF NOT EXISTS + CREATE TABLE through the query port; returns (db, table)."""
    emu.sql("CREATE DATABASE IF NOT EXISTS %s" % db)
    name = unique()
    emu.sql('CREATE TABLE %s.%s (%s) %s DISTRIBUTED BY HASH(%s) BUCKETS 1 PROPERTIES("replication_num"="1")'
            % (db, name, columns, keys, dist))
    return db, name


def auth_header(user="root", password=""):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def stream_load(emu, db, table, data=b"", headers=None, label=None, user="root", password="", via="fe", timeout=30):
    """Stream Load as a robust client does it. Returns the final `requests.Response`.
    via="fe": body-less PUT to the FE, then the real PUT to the 307 Location; via="be": straight
    to the BE."""
    h = {"Expect": "100-continue", "Authorization": auth_header(user, password)}
    if label is not None:
        h["label"] = label
    h.update(headers or {})
    path = "/api/%s/%s/_stream_load" % (db, table)
    if via == "fe":
        r = requests.put(emu.fe_url + path, headers=h, data=b"", allow_redirects=False, timeout=timeout)
        if r.status_code != 307:
            return r
        url = r.headers["Location"]
    else:
        url = emu.be_url + path
    if isinstance(data, str):
        data = data.encode()
    return requests.put(url, headers=h, data=data, allow_redirects=False, timeout=timeout)


def rows(emu, db, table, order="id"):
    return [tuple(r) for r in emu.sql("SELECT * FROM %s.%s ORDER BY %s" % (db, table, order))]


def raw_http(port, request: bytes, read_timeout=5.0):
    """Send raw bytes and return everything the server sends until it closes or goes quiet."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    try:
        s.sendall(request)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()
