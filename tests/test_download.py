"""Downloads against a loopback HTTP server: full, interrupted + resumed, verified; safe tar extraction."""
from __future__ import annotations

import hashlib
import io
import socket
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gcl_bench.download import download_archive, download_file, extract_tar
from gcl_bench.errors import GclBenchError

PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes


class Server:
    """Serves ``files``; ``cut[path] = n`` makes the next response stop after n bytes."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut: dict[str, int] = {}
        self.ignore_range: set[str] = set()
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # noqa: ANN002 - keep test output quiet
                pass

            def do_GET(self):  # noqa: N802 - http.server API
                range_header = self.headers.get("Range")
                server.requests.append((self.path, range_header))
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404, "Not Found")
                    return
                start = 0
                if range_header and self.path not in server.ignore_range:
                    start = int(range_header.split("=")[1].split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                limit = server.cut.pop(self.path, None)
                if limit is not None:
                    self.wfile.write(body[:limit])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture()
def server():
    srv = Server()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()
    srv.thread.join(timeout=5)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_full_download_is_verified_and_atomic(server, tmp_path):
    server.files["/w/model.pt"] = PAYLOAD
    seen = []
    dest = download_file(server.url("/w/model.pt"), tmp_path / "weights" / "model.pt",
                         sha256=sha(PAYLOAD), size=len(PAYLOAD), timeout=5,
                         progress=lambda done, total: seen.append((done, total)), chunk_size=8192)
    assert dest.read_bytes() == PAYLOAD
    assert not list(dest.parent.glob("*.part"))
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    # a second call finds the verified file and makes no request
    before = len(server.requests)
    download_file(server.url("/w/model.pt"), dest, sha256=sha(PAYLOAD))
    assert len(server.requests) == before


def test_interrupted_transfer_resumes_with_range(server, tmp_path):
    server.files["/w/big.pt"] = PAYLOAD
    server.cut["/w/big.pt"] = 30_000
    dest = download_file(server.url("/w/big.pt"), tmp_path / "big.pt", sha256=sha(PAYLOAD),
                         timeout=5, chunk_size=4096)
    assert dest.read_bytes() == PAYLOAD
    assert server.requests[0] == ("/w/big.pt", None)
    assert server.requests[1] == ("/w/big.pt", "bytes=30000-")


def test_interruption_keeps_part_file_for_the_next_run(server, tmp_path):
    server.files["/w/big.pt"] = PAYLOAD
    server.cut["/w/big.pt"] = 50_000
    dest = tmp_path / "big.pt"
    with pytest.raises(GclBenchError, match="run the command again to resume") as err:
        download_file(server.url("/w/big.pt"), dest, retries=0, timeout=5, chunk_size=4096)
    assert str(dest) in str(err.value) and "\n" not in str(err.value)
    part = tmp_path / "big.pt.part"
    assert part.stat().st_size == 50_000 and not dest.exists()
    download_file(server.url("/w/big.pt"), dest, sha256=sha(PAYLOAD), timeout=5)
    assert dest.read_bytes() == PAYLOAD and not part.exists()
    assert server.requests[-1] == ("/w/big.pt", "bytes=50000-")


def test_server_ignoring_range_restarts_cleanly(server, tmp_path):
    server.files["/w/x.bin"] = PAYLOAD
    server.ignore_range.add("/w/x.bin")
    (tmp_path / "x.bin.part").write_bytes(PAYLOAD[:1000])
    dest = download_file(server.url("/w/x.bin"), tmp_path / "x.bin", sha256=sha(PAYLOAD), timeout=5)
    assert dest.read_bytes() == PAYLOAD


def test_size_and_hash_mismatch_are_errors_and_leave_nothing(server, tmp_path):
    server.files["/w/m.pt"] = PAYLOAD
    with pytest.raises(GclBenchError, match=f"has {len(PAYLOAD)} bytes, expected 12"):
        download_file(server.url("/w/m.pt"), tmp_path / "a.pt", size=12, timeout=5)
    with pytest.raises(GclBenchError, match="SHA-256"):
        download_file(server.url("/w/m.pt"), tmp_path / "b.pt", sha256="0" * 64, timeout=5)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    # an existing file of the wrong size is reported, not silently used
    (tmp_path / "c.pt").write_bytes(b"short")
    with pytest.raises(GclBenchError, match="delete it and download again"):
        download_file(server.url("/w/m.pt"), tmp_path / "c.pt", size=len(PAYLOAD))


def test_http_error_and_unreachable_and_offline_messages(server, tmp_path, monkeypatch):
    url = server.url("/w/absent.pt")
    with pytest.raises(GclBenchError, match="HTTP 404") as err:
        download_file(url, tmp_path / "absent.pt", timeout=5)
    assert url in str(err.value) and str(tmp_path / "absent.pt") in str(err.value)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/v1/model.pt"
    with pytest.raises(GclBenchError) as err:
        download_file(dead, tmp_path / "model.pt", timeout=5)
    message = str(err.value)
    assert dead in message and f"place it at {tmp_path / 'model.pt'}" in message and "\n" not in message
    monkeypatch.setenv("GCL_BENCH_OFFLINE", "1")
    before = len(server.requests)
    with pytest.raises(GclBenchError, match="offline") as err:
        download_file(server.url("/w/m.pt"), tmp_path / "m.pt")
    assert len(server.requests) == before and str(tmp_path / "m.pt") in str(err.value)


# -- archives ----------------------------------------------------------------------------------
def make_tar(members: list[tuple[str, bytes | None, dict]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data, extra in members:
            info = tarfile.TarInfo(name)
            for key, value in extra.items():
                setattr(info, key, value)
            if data is None:
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_safe_archive_extracts_and_merges(tmp_path):
    archive = tmp_path / "ds.tar"
    archive.write_bytes(make_tar([
        ("marqo-gs-dataset", None, {"type": tarfile.DIRTYPE}),
        ("marqo-gs-dataset/sub/corpus_1.json", b"{}", {}),
        ("marqo-gs-dataset/sub/link.json", None, {"type": tarfile.SYMTYPE, "linkname": "corpus_1.json"}),
    ]))
    target = tmp_path / "out"
    (target / "marqo-gs-dataset" / "other").mkdir(parents=True)
    assert extract_tar(archive, target) == ["marqo-gs-dataset"]
    assert (target / "marqo-gs-dataset/sub/corpus_1.json").read_bytes() == b"{}"
    assert (target / "marqo-gs-dataset/other").is_dir()  # merged, not replaced
    assert [p.name for p in target.iterdir()] == ["marqo-gs-dataset"]  # no staging folder left


@pytest.mark.parametrize("member", [
    ("../../x", b"evil", {}),
    ("ok/../../x", b"evil", {}),
    ("/tmp/gcl_bench_abs_x", b"evil", {}),
    ("ok/link", None, {"type": tarfile.SYMTYPE, "linkname": "../../x"}),
    ("ok/abslink", None, {"type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}),
    ("ok/hard", None, {"type": tarfile.LNKTYPE, "linkname": "../x"}),
    ("ok/dev", None, {"type": tarfile.CHRTYPE}),
])
def test_hostile_members_are_refused_and_nothing_is_extracted(tmp_path, member):
    archive = tmp_path / "evil.tar"
    archive.write_bytes(make_tar([("ok/fine.txt", b"fine", {}), member]))
    target = tmp_path / "a" / "b" / "target"
    target.mkdir(parents=True)
    with pytest.raises(GclBenchError, match="unsafe archive member") as err:
        extract_tar(archive, target)
    assert member[0] in str(err.value)
    assert list(target.iterdir()) == []
    assert not (tmp_path / "a" / "x").exists() and not (tmp_path / "x").exists()
    assert not Path("/tmp/gcl_bench_abs_x").exists()


def test_download_archive_end_to_end_and_cli(server, tmp_path):
    from click.testing import CliRunner

    from gcl_bench.cli import cli

    server.files["/v1/images_wfash.tar"] = make_tar([("images_wfash/1.png", b"png", {})])
    target = tmp_path / "data"
    result = download_archive("wfash-images", target, url=server.url("/v1/images_wfash.tar"))
    assert result["extracted"] == ["images_wfash"] and not result["skipped"]
    assert (target / "images_wfash/1.png").read_bytes() == b"png"
    assert not (target / "images_wfash.tar").exists()  # archive removed after unpacking
    again = download_archive("wfash-images", target, url=server.url("/v1/images_wfash.tar"))
    assert again["skipped"]
    out = CliRunner().invoke(cli, ["download", "wfash-images", "--to", str(tmp_path / "cli"), "-q",
                                   "--url", server.url("/v1/images_wfash.tar"), "--keep-archive"])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "cli/images_wfash/1.png").exists() and (tmp_path / "cli/images_wfash.tar").exists()


def test_download_model_command_offline_is_one_line(tmp_path, monkeypatch):
    from gcl_bench.cli import main

    monkeypatch.setenv("GCL_BENCH_CACHE", str(tmp_path))
    monkeypatch.setenv("GCL_BENCH_OFFLINE", "1")
    with pytest.raises(SystemExit) as exit_info:
        main(["download", "model", "gcl-vitb32", "-q"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        main(["download", "dataset", "-q"])  # --to is required
