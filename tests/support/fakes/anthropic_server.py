"""A fake Anthropic Messages API on 127.0.0.1 for the real `anthropic` SDK: a network-edge fake.

Tests `enqueue()` what the next requests get (a reply with usage, an error status, a hang, a slow
trickle); `history` records every request body; `hanging` counts requests held in a Hang right now
and `delivered` the responses written in full, so a test can tell that a client gave up on a call
while the server was still holding it, without timing anything. With nothing queued, the
`responder` (if any) decides from the request body, else the request gets a 500. Benchmarks reuse
it (bench/bench_budget).
"""

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    text: str = "ok"
    input_tokens: int = 10
    output_tokens: int = 5
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    delay_s: float = 0.0


@dataclass(frozen=True)
class Fail:
    status: int
    retry_after: float | None = None
    message: str = "scripted failure"


@dataclass(frozen=True)
class Hang:
    """Accept the request, then say nothing for `seconds` (longer than any test deadline)."""

    seconds: float = 30.0


@dataclass(frozen=True)
class Trickle:
    """Send a valid reply a few bytes at a time, `interval_s` apart: each read is quick, the whole is slow."""

    reply: Reply = Reply()
    interval_s: float = 0.2
    chunk: int = 8


Script = Reply | Fail | Hang | Trickle

_ERROR_TYPES = {
    429: "rate_limit_error",
    529: "overloaded_error",
    500: "api_error",
    400: "invalid_request_error",
    401: "authentication_error",
    503: "api_error",
}


@dataclass
class FakeAnthropic:
    queue: deque[Script] = field(default_factory=deque)
    history: list[dict[str, Any]] = field(default_factory=list)
    responder: Callable[[dict[str, Any]], "Script"] | None = None
    hanging: int = 0
    delivered: int = 0
    _server: ThreadingHTTPServer | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def enqueue(self, *items: Script) -> None:
        self.queue.extend(items)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeAnthropic":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.history.append(body)
                item = fake._next(body)
                fake._serve(self, item)

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def _next(self, body: dict[str, Any]) -> "Script":
        if self.queue:
            return self.queue.popleft()
        if self.responder is not None:
            return self.responder(body)
        return Fail(500, message="nothing scripted")

    def stop(self) -> None:
        self._stop.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def _serve(self, handler: BaseHTTPRequestHandler, item: Script) -> None:
        if isinstance(item, Hang):
            self._count("hanging", +1)
            try:
                self._stop.wait(item.seconds)
            finally:
                self._count("hanging", -1)
            return
        if isinstance(item, Fail):
            body = json.dumps(
                {
                    "type": "error",
                    "error": {"type": _ERROR_TYPES.get(item.status, "api_error"), "message": item.message},
                }
            ).encode()
            headers = {"retry-after": str(item.retry_after)} if item.retry_after is not None else {}
            self._send(handler, item.status, body, headers)
            return
        reply = item.reply if isinstance(item, Trickle) else item
        if reply.delay_s:
            self._stop.wait(reply.delay_s)
        body = json.dumps(_message(reply, self.history[-1].get("model", "claude-test"))).encode()
        if isinstance(item, Trickle):
            handler.send_response(200)
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(body)))
            handler.end_headers()
            for start in range(0, len(body), item.chunk):
                if self._stop.wait(item.interval_s):
                    return
                try:
                    handler.wfile.write(body[start : start + item.chunk])
                    handler.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return
            self._count("delivered", +1)
            return
        self._send(handler, 200, body, {})

    def _count(self, counter: str, step: int) -> None:
        with self._lock:
            setattr(self, counter, getattr(self, counter) + step)

    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
        try:
            handler.send_response(status)
            handler.send_header("content-type", "application/json")
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


def _message(reply: Reply, model: str) -> dict[str, Any]:
    return {
        "id": f"msg_{time.monotonic_ns()}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": reply.text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "cache_creation_input_tokens": reply.cache_write_tokens,
            "cache_read_input_tokens": reply.cache_read_tokens,
        },
    }
