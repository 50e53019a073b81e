"""A loopback HTTP server for download faults: files served with or without ``Content-Length``,
cut short, or replaced by whatever a broken mirror sends (an HTML page, a tar)."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Served:
    """One path's response: ``body``, sent whole or only its first ``cut`` bytes; with
    ``length=False`` no Content-Length is sent (the end of the body is the end of the connection)."""

    body: bytes
    cut: int | None = None
    length: bool = True
    content_type: str = "application/octet-stream"


@dataclass
class LoopbackServer:
    files: dict[str, Served] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def serve() -> Iterator[LoopbackServer]:
    """Run a :class:`LoopbackServer` on 127.0.0.1 for the duration of the generator (a fixture)."""
    state = LoopbackServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # no Content-Length: the body ends when the connection closes

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            state.requests.append(self.path)
            served = state.files.get(self.path)
            if served is None:
                self.send_error(404, "Not Found")
                return
            body = served.body if served.cut is None else served.body[: served.cut]
            self.send_response(200)
            self.send_header("Content-Type", served.content_type)
            if served.length:
                self.send_header("Content-Length", str(len(served.body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
