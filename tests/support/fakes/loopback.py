"""What the scripted API fakes on 127.0.0.1 share: a threaded HTTP server, a queue of scripted
answers (else a `responder` that decides from the request body), the request `history`, and counters
a test reads instead of timing anything (`hanging`: requests held right now; `delivered`: responses
written in full). Each fake (anthropic_server, openai_server) says how one request is answered."""

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Hang:
    """Accept the request, then say nothing for `seconds` (longer than any test deadline)."""

    seconds: float = 30.0


@dataclass
class ScriptedServer:
    queue: deque[Any] = field(default_factory=deque)
    history: list[dict[str, Any]] = field(default_factory=list)
    responder: Callable[[dict[str, Any]], Any] | None = None
    hanging: int = 0
    delivered: int = 0
    _server: ThreadingHTTPServer | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    path_prefix = ""
    """What `base_url` ends with (e.g. "/v1", as users configure an OpenAI-compatible endpoint)."""

    def enqueue(self, *items: Any) -> None:
        self.queue.extend(items)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.path_prefix}"

    def start(self) -> Any:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                fake._receive(self, self.rfile.read(length))

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # -- for the fakes --------------------------------------------------------------------------------

    def _receive(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        """Answer one POST: by default record its JSON body and serve what is scripted next."""
        body = json.loads(raw or b"{}")
        with self._lock:
            self.history.append(body)
        self._serve(handler, self._next(body), body)

    def _serve(self, handler: BaseHTTPRequestHandler, item: Any, request: dict[str, Any]) -> None:
        raise NotImplementedError

    def _unscripted(self) -> Any:
        """What a request gets when nothing is queued and there is no responder."""
        raise NotImplementedError

    def _next(self, body: dict[str, Any]) -> Any:
        with self._lock:
            if self.queue:
                return self.queue.popleft()
        if self.responder is not None:
            return self.responder(body)
        return self._unscripted()

    def _hang(self, seconds: float) -> None:
        self._count("hanging", +1)
        try:
            self._stop.wait(seconds)
        finally:
            self._count("hanging", -1)

    def _count(self, counter: str, step: int) -> None:
        with self._lock:
            setattr(self, counter, getattr(self, counter) + step)

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        headers: dict[str, str],
        *,
        content_type: str = "application/json",
    ) -> None:
        try:
            handler.send_response(status)
            handler.send_header("content-type", content_type)
            handler.send_header("content-length", str(len(body)))
            for key, value in headers.items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            return
        self._count("delivered", +1)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (its deadline passed) resets the connection: expected, not an error."""
