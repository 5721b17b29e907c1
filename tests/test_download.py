"""download_msdialog against a local http.server: success, hash mismatch, unreachable URL."""

from __future__ import annotations

import functools
import hashlib
import http.server
import socket
import threading

import pytest

import solid_bench.sources.msdialog as msdialog
from solid_bench.download import LICENCE_NOTE, URL_ENV, download_msdialog
from solid_bench.errors import UserError

FILES = {
    "train": b"OQ\tq one __eou__\tUser\nPA\ta one __eou__\tAgent\n",
    "valid": b"OQ\tq two __eou__\tUser\nCQ\tc two __eou__\tAgent\n",
    "test": b"OQ\tq three __eou__\tUser\nPA\ta three __eou__\tAgent\n",
}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def server(tmp_path):
    """Serve tmp_path/www on 127.0.0.1; yields the base URL."""
    www = tmp_path / "www"
    www.mkdir()
    for split, data in FILES.items():
        (www / f"{split}.tsv").write_bytes(data)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def fixture_hashes(monkeypatch):
    for split, data in FILES.items():
        monkeypatch.setitem(msdialog.SHA256, split, hashlib.sha256(data).hexdigest())


def test_download_success(server, fixture_hashes, tmp_path, monkeypatch):
    monkeypatch.setenv(URL_ENV, server)
    said = []
    folder = download_msdialog(tmp_path / "data", echo=said.append)
    assert folder == tmp_path / "data" / "msdialog-intentpred"
    assert {p.name for p in folder.iterdir()} == {"train.tsv", "valid.tsv", "test.tsv"}
    for split, data in FILES.items():
        assert (folder / f"{split}.tsv").read_bytes() == data
    assert said[-1] == LICENCE_NOTE and "research use only" in LICENCE_NOTE and "SIGIR 2018" in LICENCE_NOTE


def test_hash_mismatch_leaves_no_file(server, fixture_hashes, tmp_path, monkeypatch):
    monkeypatch.setitem(msdialog.SHA256, "test", "0" * 64)
    with pytest.raises(UserError, match="SHA-256") as e:
        download_msdialog(tmp_path / "data", base_url=server, echo=lambda m: None)
    assert "test.tsv" in str(e.value)
    folder = tmp_path / "data" / "msdialog-intentpred"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_unreachable_url_names_the_folder(tmp_path, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(URL_ENV, f"http://127.0.0.1:{port}")
    with pytest.raises(UserError) as e:
        download_msdialog(tmp_path / "data", timeout=3, echo=lambda m: None)
    msg = str(e.value)
    assert msg.startswith("There is no network") and str(tmp_path / "data" / "msdialog-intentpred") in msg
    assert "train.tsv" in msg and "SOLID_BENCH_DATA" in msg and "\n" not in msg
    assert not (tmp_path / "data").exists()


def test_missing_file_on_server_is_a_user_error(server, fixture_hashes, tmp_path):
    with pytest.raises(UserError, match="HTTP 404"):
        download_msdialog(tmp_path / "data", base_url=server + "/nowhere", echo=lambda m: None)
