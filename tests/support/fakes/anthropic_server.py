"""A fake Anthropic Messages API on 127.0.0.1 for the real `anthropic` SDK: a network-edge fake.

Tests `enqueue()` what the next requests get (a reply with usage, an error status, a hang, a slow
trickle); `history` records every request body; `hanging` counts requests held in a Hang right now
and `delivered` the responses written in full, so a test can tell that a client gave up on a call
while the server was still holding it, without timing anything. With nothing queued, the
`responder` (if any) decides from the request body, else the request gets a 500. A request with
`"stream": true` gets a Reply as the Messages API's event stream, its text in `stream_chunk`-character
text deltas; `events` counts the events written. Benchmarks reuse it (bench/bench_budget).
"""

import json
import time
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.fakes.loopback import Hang, ScriptedServer


@dataclass(frozen=True)
class Reply:
    text: str = "ok"
    input_tokens: int = 10
    output_tokens: int = 5
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    delay_s: float = 0.0
    stream_chunk: int = 6
    """Characters per text delta when the request asks for a stream."""


@dataclass(frozen=True)
class Fail:
    status: int
    retry_after: float | None = None
    message: str = "scripted failure"


@dataclass(frozen=True)
class Trickle:
    """Send a valid reply a few bytes at a time, `interval_s` apart: each read is quick, the whole is slow."""

    reply: Reply = Reply()
    interval_s: float = 0.2
    chunk: int = 8


@dataclass(frozen=True)
class StreamBreak:
    """A streamed reply whose connection breaks (a malformed chunk, then close) after `deltas` text deltas."""

    reply: Reply = Reply()
    deltas: int = 1


Script = Reply | Fail | Hang | Trickle | StreamBreak

_ERROR_TYPES = {
    429: "rate_limit_error",
    529: "overloaded_error",
    500: "api_error",
    400: "invalid_request_error",
    401: "authentication_error",
    503: "api_error",
}


@dataclass
class FakeAnthropic(ScriptedServer):
    events: int = 0

    def _unscripted(self) -> Script:
        return Fail(500, message="nothing scripted")

    def _serve(self, handler: BaseHTTPRequestHandler, item: Script, request: dict[str, Any]) -> None:
        if isinstance(item, Hang):
            self._hang(item.seconds)
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
        if isinstance(item, StreamBreak):
            self._stream(handler, item.reply, request.get("model", "claude-test"), break_after=item.deltas)
            return
        reply = item.reply if isinstance(item, Trickle) else item
        if reply.delay_s:
            self._stop.wait(reply.delay_s)
        if request.get("stream") and not isinstance(item, Trickle):
            self._stream(handler, reply, request.get("model", "claude-test"))
            return
        body = json.dumps(_message(reply, request.get("model", "claude-test"))).encode()
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

    def _stream(
        self, handler: BaseHTTPRequestHandler, reply: Reply, model: str, *, break_after: int | None = None
    ) -> None:
        handler.close_connection = True
        try:
            handler.send_response(200)
            handler.send_header("content-type", "text/event-stream")
            handler.send_header("transfer-encoding", "chunked")
            handler.end_headers()
            events = _stream_events(reply, model)
            if break_after is not None:
                events = events[: 2 + break_after]  # message_start, content_block_start, then the deltas
            for name, data in events:
                event = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
                handler.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
                handler.wfile.flush()
                self._count("events", +1)
            if break_after is not None:
                handler.wfile.write(b"zz\r\n")  # not a chunk header: the client's read fails
                handler.wfile.flush()
                return
            handler.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            return
        self._count("delivered", +1)


def _stream_events(reply: Reply, model: str) -> list[tuple[str, dict[str, Any]]]:
    start = _message(replace(reply, output_tokens=1), model) | {"content": [], "stop_reason": None}
    pieces = [reply.text[i : i + reply.stream_chunk] for i in range(0, len(reply.text), reply.stream_chunk)]
    return [
        ("message_start", {"type": "message_start", "message": start}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        *(
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}},
            )
            for p in pieces
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": reply.output_tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]


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
