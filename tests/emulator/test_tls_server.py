"""`--tls-cert`/`--tls-key`: the FE and BE HTTP ports serve HTTPS with a certificate from a private
CA, verified by the client against that CA, the FE's 307 names the BE with https://, and ErrorURLs
do too; a client that does not trust the CA, or speaks plain HTTP, gets no answer."""
import json
import socket
import subprocess

import pytest
import requests

from emu_helpers import auth_header, unique
from harness import emulator as harness_emulator
from harness.emulator import Emulator
from harness.tls import make_pki


@pytest.fixture(scope="module")
def pki(run_dir):
    return make_pki(run_dir / "emulator-test_tls_server-pki")


@pytest.fixture(scope="module")
def emu(run_dir, pki):
    e = Emulator(workdir=run_dir / "emulator-test_tls_server", tls_cert=pki.cert, tls_key=pki.key, tls_ca=pki.ca)
    yield e
    e.stop()


def create_table(emu):
    emu.sql("CREATE DATABASE IF NOT EXISTS db")
    name = unique()
    emu.sql('CREATE TABLE db.%s (id INT NOT NULL, name VARCHAR(5)) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) '
            'BUCKETS 1 PROPERTIES("replication_num"="1")' % name)
    return name


def headers(**extra):
    h = {"Expect": "100-continue", "Authorization": auth_header(), "format": "json", "strip_outer_array": "true"}
    h.update(extra)
    return h


def test_stream_load_over_https_follows_an_https_redirect(emu, pki):
    table = create_table(emu)
    assert emu.fe_url.startswith("https://")
    path = "/api/db/%s/_stream_load" % table
    fe = requests.put(emu.fe_url + path, headers=headers(label="tls-1"), data=b"", allow_redirects=False,
                      verify=str(pki.ca), timeout=30)
    assert fe.status_code == 307, fe.text
    assert fe.headers["Location"] == "https://127.0.0.1:%d%s" % (emu.be_http_port, path)
    be = requests.put(fe.headers["Location"], headers=headers(label="tls-1"), data=b'[{"id":1,"name":"a"}]',
                      allow_redirects=False, verify=str(pki.ca), timeout=30)
    assert be.status_code == 200 and be.json()["Status"] == "Success", be.text
    assert emu.sql("SELECT id, name FROM db.%s" % table) == [(1, "a")]
    state = requests.get(emu.fe_url + "/api/db/get_load_state", params={"label": "tls-1"},
                         headers={"Authorization": auth_header()}, verify=str(pki.ca), timeout=30)
    assert state.json()["state"] == "VISIBLE", state.text


def test_error_url_is_https_and_served(emu, pki):
    table = create_table(emu)
    r = requests.put(emu.be_url + "/api/db/%s/_stream_load" % table, headers=headers(max_filter_ratio="1"),
                     data=b'[{"id":"x","name":"a"}]', verify=str(pki.ca), timeout=30)
    body = r.json()
    assert body["ErrorURL"].startswith("https://127.0.0.1:%d/api/_load_error_log?file=" % emu.be_http_port), body
    log = requests.get(body["ErrorURL"], verify=str(pki.ca), timeout=30)
    assert log.status_code == 200 and "Error:" in log.text


def test_a_client_that_does_not_trust_the_ca_is_refused(emu, run_dir):
    other = make_pki(run_dir / "emulator-test_tls_server-other-pki", ca_name="another CA")
    for url in (emu.fe_url, emu.be_url):
        with pytest.raises(requests.exceptions.SSLError, match="certificate verify failed"):
            requests.put(url + "/api/db/t/_stream_load", headers=headers(), data=b"", verify=str(other.ca), timeout=30)


def test_plain_http_to_an_https_port_gets_no_http_answer(emu):
    s = socket.create_connection(("127.0.0.1", emu.fe_http_port), timeout=5)
    try:
        s.sendall(b"PUT /api/db/t/_stream_load HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n")
        answer = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except (socket.timeout, ConnectionResetError):
            pass
    finally:
        s.close()
    assert not answer.startswith(b"HTTP/"), answer


def test_faults_admin_endpoint_over_https(emu):
    emu.faults("http_500", table="x")
    assert emu.list_faults()[0]["kind"] == "http_500"
    emu.clear_faults()
    assert emu.list_faults() == []


def test_tls_flags_errors(pki, tmp_path):
    binary = harness_emulator.binary()
    ports = ["--fe-http-port", "0", "--be-http-port", "0", "--query-port", "0"]
    r = subprocess.run([binary, "--tls-cert", str(pki.cert)] + ports, capture_output=True, timeout=10)
    assert r.returncode == 2 and b"--tls-cert and --tls-key go together" in r.stderr, r.stderr
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    r = subprocess.run([binary, "--tls-cert", str(not_pem), "--tls-key", str(pki.key)] + ports, capture_output=True,
                       timeout=10)
    assert r.returncode == 1 and b"TLS certificate" in r.stderr, r.stderr
    r = subprocess.run([binary, "--tls-cert", str(pki.cert), "--tls-key", str(pki.cert)] + ports, capture_output=True,
                       timeout=10)
    assert r.returncode == 1 and b"TLS key" in r.stderr, r.stderr
