"""Compressed and chunked bodies (§3, §4.6)."""
import gzip
import zlib

import requests

from emu_helpers import auth_header, create_table, rows, stream_load

JSON_ROWS = b'[{"id":1,"name":"a"},{"id":2,"name":"b"}]'


def lz4_frame(data: bytes) -> bytes:
    """A minimal LZ4 frame with one uncompressed block (valid per the LZ4 frame spec), so the
    test needs no lz4 package."""
    import struct
    descriptor = bytes([0x60, 0x40])  # version 01, block independence; max block 64 KB
    hc = (xxh32(descriptor) >> 8) & 0xFF
    block = struct.pack("<I", len(data) | 0x80000000) + data
    return b"\x04\x22\x4d\x18" + descriptor + bytes([hc]) + block + b"\x00\x00\x00\x00"


def xxh32(data: bytes, seed: int = 0) -> int:
    p1, p2, p3, p4, p5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
    m = 0xFFFFFFFF
    rotl = lambda x, r: ((x << r) | (x >> (32 - r))) & m  # noqa: E731
    n = len(data)
    i = 0
    if n >= 16:
        v = [(seed + p1 + p2) & m, (seed + p2) & m, seed & m, (seed - p1) & m]
        while i + 16 <= n:
            for j in range(4):
                lane = int.from_bytes(data[i + 4 * j:i + 4 * j + 4], "little")
                v[j] = (rotl((v[j] + lane * p2) & m, 13) * p1) & m
            i += 16
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & m
    else:
        h = (seed + p5) & m
    h = (h + n) & m
    while i + 4 <= n:
        h = (rotl((h + int.from_bytes(data[i:i + 4], "little") * p3) & m, 17) * p4) & m
        i += 4
    while i < n:
        h = (rotl((h + data[i] * p5) & m, 11) * p1) & m
        i += 1
    h ^= h >> 15
    h = (h * p2) & m
    h ^= h >> 13
    h = (h * p3) & m
    h ^= h >> 16
    return h


def test_json_gzip_via_compression_header(emu):
    db, t = create_table(emu)
    body = gzip.compress(JSON_ROWS)
    j = stream_load(emu, db, t, body, {"format": "json", "strip_outer_array": "true", "compression": "gzip"}).json()
    assert j["Status"] == "Success", j
    assert j["LoadBytes"] == len(body), "LoadBytes counts the compressed bytes received"
    assert rows(emu, db, t) == [(1, "a", None), (2, "b", None)]


def test_json_gzip_via_content_encoding(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, gzip.compress(JSON_ROWS),
                    {"format": "json", "strip_outer_array": "true", "Content-Encoding": "gzip"}).json()
    assert j["Status"] == "Success", j


def test_json_lz4_frame(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, lz4_frame(JSON_ROWS),
                    {"format": "json", "strip_outer_array": "true", "compression": "lz4_frame"}).json()
    assert j["Status"] == "Success", j
    assert rows(emu, db, t) == [(1, "a", None), (2, "b", None)]


def test_csv_gzip_via_format(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, gzip.compress(b"1\ta\t1\n2\tb\t2\n"), {"format": "gzip"}).json()
    assert j["Status"] == "Success", j
    assert len(rows(emu, db, t)) == 2


def test_csv_deflate_via_format(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, zlib.compress(b"1\ta\t1\n"), {"format": "deflate"}).json()
    assert j["Status"] == "Success", j


def test_both_compression_headers_rejected(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, b"x", {"format": "json", "compression": "gzip", "Content-Encoding": "gzip"}).json()
    assert j["Message"] == "Only one of http header content-encoding and compression can be set"


def test_corrupt_gzip_fails(emu):
    db, t = create_table(emu)
    j = stream_load(emu, db, t, b"not gzip at all", {"format": "json", "compression": "gzip"}).json()
    assert j["Status"] == "Fail" and "decompress" in j["Message"]


def test_chunked_body(emu):
    db, t = create_table(emu)

    def gen():
        yield b'{"id":1}\n'
        yield b'{"id":2}\n'
        yield b'{"id":3}\n'

    h = {"Expect": "100-continue", "Authorization": auth_header(), "format": "json"}
    r = requests.put(emu.be_url + "/api/%s/%s/_stream_load" % (db, t), headers=h, data=gen(), timeout=10)
    j = r.json()
    assert j["Status"] == "Success", j
    assert j["LoadBytes"] == 27
    assert [r[0] for r in rows(emu, db, t)] == [1, 2, 3]
