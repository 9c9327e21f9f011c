"""fetch(): mirrors, retries, checksums and atomic rename, against a local HTTP server only."""

import hashlib
import http.server
import socket
import threading
from functools import partial

import pytest

from rnnatlas.download import ChecksumError, DownloadError, fetch, file_sha256

PAYLOAD = bytes(range(256)) * 40 + b"the end"  # 10 KiB, not a multiple of anything neat
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()
MD5 = hashlib.md5(PAYLOAD).hexdigest()
SERVER_LIFETIME = 30  # seconds: the server shuts itself down even if a test hangs


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def server(tmp_path):
    """(base URL, list of requested paths) of a server for tmp_path/served on 127.0.0.1."""
    root = tmp_path / "served"
    root.mkdir()
    (root / "data.bin").write_bytes(PAYLOAD)
    handler = partial(_CountingHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    watchdog = threading.Timer(SERVER_LIFETIME, httpd.shutdown)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.requests
    finally:
        watchdog.cancel()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _refused_url() -> str:
    """A URL on a port nobody listens on: bind, note the port, close."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/data.bin"


def _fetch(urls, dest, **kwargs):
    kwargs = {"retries": 2, "timeout": 5, "progress": False, "backoff": 0.01} | kwargs
    return fetch(urls, dest, **kwargs)


def test_download_with_sha256_and_md5(server, tmp_path):
    base, requests = server
    dest = tmp_path / "out" / "data.bin"
    assert _fetch([f"{base}/data.bin"], dest, sha256=SHA256, md5=MD5) == dest
    assert dest.read_bytes() == PAYLOAD
    assert file_sha256(dest) == SHA256
    assert requests == ["/data.bin"]
    assert sorted(p.name for p in dest.parent.iterdir()) == ["data.bin"]  # no temp file left


def test_md5_alone_is_accepted(server, tmp_path):
    base, _ = server
    dest = tmp_path / "data.bin"
    _fetch([f"{base}/data.bin"], dest, md5=MD5.upper())
    assert dest.read_bytes() == PAYLOAD


def test_wrong_checksum_fails_and_leaves_no_file(server, tmp_path):
    base, requests = server
    dest = tmp_path / "out" / "data.bin"
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as error:
        _fetch([f"{base}/data.bin"], dest, sha256=wrong)
    message = str(error.value)
    assert "data.bin" in message and wrong in message and SHA256 in message
    assert list(dest.parent.iterdir()) == []
    assert requests == ["/data.bin"]  # a mismatch is not retried on the same mirror


@pytest.mark.parametrize("first", ["404", "refused"])
def test_failing_first_mirror_falls_through_to_second(server, tmp_path, first):
    base, requests = server
    bad = f"{base}/missing.bin" if first == "404" else _refused_url()
    dest = tmp_path / "data.bin"
    _fetch([bad, f"{base}/data.bin"], dest, sha256=SHA256)
    assert dest.read_bytes() == PAYLOAD
    expected = ["/missing.bin", "/data.bin"] if first == "404" else ["/data.bin"]
    assert requests == expected  # a 404 is not retried


def test_every_mirror_failing_names_each(server, tmp_path):
    base, requests = server
    refused = _refused_url()
    dest = tmp_path / "data.bin"
    with pytest.raises(DownloadError) as error:
        _fetch([f"{base}/missing.bin", refused], dest, sha256=SHA256, retries=3)
    message = str(error.value)
    assert "HTTP 404" in message and refused in message and "data.bin" in message
    assert requests == ["/missing.bin"]
    assert message.count(refused) == 3  # a refused connection is retried
    assert not dest.exists()


def test_existing_good_file_is_not_fetched_again(server, tmp_path):
    base, requests = server
    dest = tmp_path / "data.bin"
    _fetch([f"{base}/data.bin"], dest, sha256=SHA256)
    _fetch([f"{base}/data.bin"], dest, sha256=SHA256)
    assert requests == ["/data.bin"]


def test_existing_bad_file_is_replaced(server, tmp_path):
    base, requests = server
    dest = tmp_path / "data.bin"
    dest.write_bytes(b"half a download")
    _fetch([f"{base}/data.bin"], dest, sha256=SHA256)
    assert dest.read_bytes() == PAYLOAD
    assert requests == ["/data.bin"]


def test_file_urls(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(PAYLOAD)
    dest = tmp_path / "copy" / "data.bin"
    _fetch([source.as_uri()], dest, sha256=SHA256)
    assert dest.read_bytes() == PAYLOAD


def test_missing_file_url_falls_through(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(PAYLOAD)
    dest = tmp_path / "data.bin"
    _fetch([(tmp_path / "absent.bin").as_uri(), source.as_uri()], dest, md5=MD5)
    assert dest.read_bytes() == PAYLOAD


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"urls": []}, "no URL"),
        ({"urls": ["ftp://example.org/x"]}, "http"),
        ({"sha256": "abc"}, "sha256"),
        ({"md5": SHA256}, "md5"),
        ({"retries": 0}, "retries"),
    ],
)
def test_bad_arguments_fail_before_any_request(tmp_path, kwargs, match):
    arguments = {"urls": ["http://127.0.0.1:9/x"], "dest": tmp_path / "x"} | kwargs
    with pytest.raises(ValueError, match=match):
        fetch(**arguments)
