"""A web site on 127.0.0.1 for `quarry ingest URL` tests: path → (status, content type, body, headers),
and the paths requested, in order."""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Page = tuple[int, str, bytes, dict[str, str]]


@dataclass
class WebSite:
    pages: dict[str, Page] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def start(self) -> "WebSite":
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                site.requested.append(self.path)
                status, kind, body, headers = site.pages.get(self.path, (404, "text/plain", b"not found", {}))
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", headers.pop("content-length", str(len(body))))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
