"""A fake OpenAI-compatible chat completions API (POST /v1/chat/completions) on 127.0.0.1: what
OpenAI, Ollama, vLLM, llama.cpp's server and LM Studio serve, with their usual deviations.

Like the fake Anthropic server: tests `enqueue()` what the next requests get (a reply with or
without usage, an error status with Retry-After, a hang, a raw body that is not a completion);
`history` records every request body; `hanging` counts requests held in
a Hang (or a StreamHang) right now, so a test can tell that a client gave up on a call while the
server still held it without timing anything. A request with `"stream": true` gets a Reply as
Server-Sent Events, chunked: the text in pieces, the usage chunk when the Reply has usage and the
request asked for it (`stream_options.include_usage`), then `data: [DONE]`; `events` counts the
events written. StreamHang stops mid-stream; Events sends any lines, e.g. one that is not JSON. With nothing queued, the `responder` decides from the request body,
else the request gets a 500. `from_messages_reply` turns the Anthropic fake's replies (the shared
research_replies and obeying_model) into this API's. Benchmarks reuse it (bench/bench_budget).
"""

import json
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.fakes import anthropic_server
from tests.support.fakes.loopback import Hang, ScriptedServer


@dataclass(frozen=True)
class Reply:
    text: str = "ok"
    prompt_tokens: int = 10
    completion_tokens: int = 5
    cached_tokens: int = 0
    usage: bool = True
    """False: no usage in the reply, as several local servers do."""
    delay_s: float = 0.0
    finish_reason: str = "stop"


@dataclass(frozen=True)
class Fail:
    status: int
    retry_after: float | None = None
    retry_after_ms: float | None = None
    message: str = "scripted failure"


@dataclass(frozen=True)
class Raw:
    """Any status and body, e.g. a 200 that is not JSON or not a chat completion."""

    body: bytes
    status: int = 200
    content_type: str = "application/json"


@dataclass(frozen=True)
class StreamHang:
    """Start streaming `text`, then say nothing more for `seconds` (no finish, no [DONE])."""

    text: str = "Payments Core"
    seconds: float = 30.0


@dataclass(frozen=True)
class Events:
    """A 200 event stream of exactly these lines (each sent as one event), e.g. a `data:` that is not JSON."""

    lines: tuple[str, ...]


Script = Reply | Fail | Hang | Raw | StreamHang | Events


def from_messages_reply(reply: anthropic_server.Reply, *, usage: bool = True) -> Reply:
    return Reply(
        reply.text,
        prompt_tokens=reply.input_tokens + reply.cache_write_tokens + reply.cache_read_tokens,
        completion_tokens=reply.output_tokens,
        cached_tokens=reply.cache_read_tokens,
        usage=usage,
        delay_s=reply.delay_s,
    )


@dataclass
class FakeOpenAI(ScriptedServer):
    headers: list[dict[str, str]] = field(default_factory=list)
    events: int = 0

    path_prefix = "/v1"

    def _receive(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        if handler.path != "/v1/chat/completions":
            self._send(handler, 404, b'{"error": {"message": "not found"}}', {})
            return
        with self._lock:
            self.headers.append({k.lower(): v for k, v in handler.headers.items()})
        super()._receive(handler, raw)

    def _unscripted(self) -> Script:
        return Fail(500, message="nothing scripted")

    def _serve(self, handler: BaseHTTPRequestHandler, item: Script, request: dict[str, Any]) -> None:
        if isinstance(item, Hang):
            self._hang(item.seconds)
            return
        if isinstance(item, Fail):
            headers = {}
            if item.retry_after is not None:
                headers["retry-after"] = str(item.retry_after)
            if item.retry_after_ms is not None:
                headers["retry-after-ms"] = str(item.retry_after_ms)
            body = json.dumps({"error": {"message": item.message, "type": "scripted", "code": item.status}})
            self._send(handler, item.status, body.encode(), headers)
            return
        if isinstance(item, Raw):
            self._send(handler, item.status, item.body, {}, content_type=item.content_type)
            return
        if isinstance(item, StreamHang | Events):
            self._stream(handler, item, request)
            return
        if item.delay_s and self._stop.wait(item.delay_s):
            return
        if request.get("stream"):
            self._stream(handler, item, request)
            return
        self._send(handler, 200, json.dumps(_completion(item, request)).encode(), {})

    def _stream(
        self, handler: BaseHTTPRequestHandler, item: Reply | StreamHang | Events, request: dict[str, Any]
    ) -> None:
        handler.close_connection = True  # a stream may be left unfinished
        try:
            handler.send_response(200)
            handler.send_header("content-type", "text/event-stream")
            handler.send_header("transfer-encoding", "chunked")
            handler.end_headers()
            if isinstance(item, Events):
                lines = list(item.lines)
            else:
                reply = item if isinstance(item, Reply) else Reply(item.text, usage=False)
                lines = ["data: " + json.dumps(chunk) for chunk in _chunks(reply, request)]
                lines = lines[:-1] if isinstance(item, StreamHang) else [*lines, "data: [DONE]"]
            for line in lines:
                self._event(handler, line)
            if isinstance(item, StreamHang):
                self._hang(item.seconds)
                return
            handler.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            return
        self._count("delivered", +1)

    def _event(self, handler: BaseHTTPRequestHandler, line: str) -> None:
        data = f"{line}\n\n".encode()
        handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        handler.wfile.flush()
        self._count("events", +1)


def _usage(reply: Reply) -> dict[str, Any]:
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": reply.cached_tokens},
    }


def _completion(reply: Reply, request: dict[str, Any]) -> dict[str, Any]:
    completion: dict[str, Any] = {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "local-test"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text},
                "finish_reason": reply.finish_reason,
            }
        ],
    }
    if reply.usage:
        completion["usage"] = _usage(reply)
    return completion


def _chunks(reply: Reply, request: dict[str, Any]) -> list[dict[str, Any]]:
    """A streamed reply: the role, the text in pieces, the finish, then the usage if it was asked for."""
    model = request.get("model", "local-test")
    pieces = [reply.text[i : i + 8] for i in range(0, len(reply.text), 8)]
    deltas: list[tuple[dict[str, Any], str | None]] = [({"role": "assistant", "content": ""}, None)]
    deltas += [({"content": piece}, None) for piece in pieces] + [({}, reply.finish_reason)]
    chunks: list[dict[str, Any]] = [
        {
            "id": "chatcmpl-stream",
            "object": "chat.completion.chunk",
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
        }
        for delta, reason in deltas
    ]
    options = request.get("stream_options")
    if reply.usage and isinstance(options, dict) and options.get("include_usage"):
        chunks.append(
            {
                "id": "chatcmpl-stream",
                "object": "chat.completion.chunk",
                "model": model,
                "choices": [],
                "usage": _usage(reply),
            }
        )
    return chunks
