"""Any OpenAI-compatible chat completions endpoint (OpenAI, Ollama, vLLM, llama.cpp's server, LM
Studio) through plain httpx: one POST, read as JSON we check ourselves, or (`stream=True`) as
Server-Sent Events of chunks (the only module that speaks this wire format).

Same contract as Claude's client: every attempt runs under `asyncio.timeout(deadline - now)` (httpx's
timeout bounds each read, not the call); 429, 5xx and connection errors are retried with jittered
backoff (or the server's Retry-After) only while the deadline leaves room. Usage is settled from
the reply; a server that omits it (many local ones) is charged our own upper estimate, flagged
`estimated`. A 200 whose body is not a chat completion may still have been billed: it is charged
at its worst case, flagged, with no text, so the node falls back to a partial answer.

Streamed, the request asks for a final usage chunk (`stream_options.include_usage`); the reply is
read the same way once its chunks are joined. A stream is retried only before its first byte: once
a 200 has begun, a line that is not a chunk, a cut connection or an end without `data: [DONE]` is
a malformed reply, and the deadline passing mid-stream is a timeout, as a call that never answered.
"""

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from quarry.errors import LLMAuthError, LLMError, LLMTimeout, LLMUnavailable
from quarry.tools.llm.backoff import backoff_delay, why_not_retry
from quarry.tools.llm.base import Completion, Prompt
from quarry.tools.llm.calibration import TokenEstimator
from quarry.tools.llm.pricing import ModelPrice, Usage

OPENAI_BASE_URL = "https://api.openai.com/v1"
_RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
_UNREADABLE = (ValueError, LookupError, TypeError, AttributeError)
"""What reading a reply that is not a chat completion raises (json's errors are ValueErrors)."""


@dataclass(frozen=True)
class _Reply:
    """What the server answered, streamed or not, before it is priced."""

    text: str
    finish_reason: str | None
    model: str | None
    usage: Usage | None
    """None: the server reported none (or nothing usable)."""


class _Refused(Exception):
    """An HTTP error status, its body read: retried or raised by `complete`."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class OpenAICompatModel:
    def __init__(
        self,
        name: str,
        price: ModelPrice,
        *,
        base_url: str = OPENAI_BASE_URL,
        api_key: str | None = None,
        safety_factor: float = 1.35,
        max_attempts: int = 4,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 8.0,
        read_timeout_s: float = 60.0,
        stream: bool = False,
        rng: random.Random | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.price = price
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.stream = stream
        self.estimator = TokenEstimator(price.safety_factor or safety_factor)
        self._rng = rng or random.Random()
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(read_timeout_s, connect=min(read_timeout_s, 10.0)),
            transport=transport,
        )

    def count_input_tokens(self, prompt: Prompt) -> int:
        return self.estimator.estimate(prompt.text())[1]

    async def complete(self, prompt: Prompt, *, max_tokens: int, deadline: float) -> Completion:
        counted, upper = self.estimator.estimate(prompt.text())
        body = self._body(prompt, max_tokens)
        attempt = 0
        while True:
            attempt += 1
            left = deadline - time.monotonic()
            if left <= 0:
                raise LLMTimeout(f"{self.name}: deadline passed before attempt {attempt}")
            try:
                async with asyncio.timeout(left):
                    reply = await (self._stream(body) if self.stream else self._post(body))
            except TimeoutError:
                raise LLMTimeout(f"{self.name}: no complete reply within {left:.2f}s (attempt {attempt})") from None
            except httpx.TransportError as exc:
                await self._wait_or_give_up(type(exc).__name__, None, attempt, deadline)
                continue
            except _Refused as refused:
                response = refused.response
                if response.status_code in (401, 403):
                    raise LLMAuthError(
                        f"{self.name}: authentication failed: the API key was refused (HTTP {response.status_code} "
                        f"{_error_message(response)}); set a valid OPENAI_API_KEY, or unset it (or set "
                        "QUARRY_PROVIDER=offline) to use the offline model"
                    ) from None
                if response.status_code not in _RETRYABLE_STATUS:
                    raise LLMError(
                        f"{self.name}: request refused: HTTP {response.status_code} {_error_message(response)}"
                    ) from None
                await self._wait_or_give_up(
                    f"HTTP {response.status_code}", _retry_after(response.headers), attempt, deadline
                )
                continue
            return self._completion(reply, counted, upper, max_tokens, attempt)

    def _body(self, prompt: Prompt, max_tokens: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.name,
            "max_tokens": max_tokens,
            "stream": self.stream,
            "messages": [{"role": "system", "content": prompt.system}]
            + [{"role": m.role, "content": m.content} for m in prompt.messages],
        }
        if self.stream:
            body["stream_options"] = {"include_usage": True}
        return body

    async def _post(self, body: dict[str, Any]) -> _Reply | None:
        """The whole reply at once; None when it is not a chat completion."""
        response = await self._client.post("/chat/completions", json=body)
        if response.status_code >= 400:
            raise _Refused(response)
        try:
            return _parse_completion(response.json())
        except _UNREADABLE:
            return None

    async def _stream(self, body: dict[str, Any]) -> _Reply | None:
        """The reply as Server-Sent Events; None when they are not chunks or stop before `[DONE]`."""
        async with self._client.stream("POST", "/chat/completions", json=body) as response:
            if response.status_code >= 400:
                await response.aread()
                raise _Refused(response)
            return await _read_events(response)

    def _completion(self, reply: _Reply | None, counted: int, upper: int, max_tokens: int, attempt: int) -> Completion:
        if reply is None:
            # Possibly billed, unreadable: charge the worst case, answer nothing.
            worst = Usage(input_tokens=upper, output_tokens=max_tokens)
            return Completion("", worst, self.name, "malformed", attempt, usage_estimated=True)
        usage = reply.usage
        estimated = usage is None
        if usage is None:
            usage = Usage(input_tokens=upper, output_tokens=min(max_tokens, self.estimator.estimate(reply.text)[1]))
        else:
            self.estimator.observe(counted, usage.prompt_tokens)
        return Completion(
            reply.text, usage, reply.model or self.name, reply.finish_reason, attempt, usage_estimated=estimated
        )

    async def _wait_or_give_up(self, what: str, retry_after: float | None, attempt: int, deadline: float) -> None:
        delay = retry_after if retry_after is not None else self._backoff(attempt)
        refusal = why_not_retry(attempt, max_attempts=self.max_attempts, delay=delay, deadline=deadline)
        if refusal is not None:
            raise LLMUnavailable(f"{self.name}: {what} after {attempt} attempt(s); {refusal}")
        await asyncio.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(attempt, base_s=self.backoff_base_s, cap_s=self.backoff_cap_s, rng=self._rng)

    async def aclose(self) -> None:
        await self._client.aclose()


def _parse_completion(payload: Any) -> _Reply:
    """A non-streamed chat completion; raises one of _UNREADABLE when it is not one."""
    choice = payload["choices"][0]
    text = _content(choice["message"].get("content"))
    return _Reply(
        text,
        _text_or_none(choice.get("finish_reason")),
        _text_or_none(payload.get("model")),
        _usage(payload.get("usage")),
    )


@dataclass
class _Chunks:
    """A streamed reply as its chunks arrive: `data: {chunk}` lines until `data: [DONE]`."""

    parts: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    model: str | None = None
    usage: Usage | None = None
    done: bool = False

    def add(self, line: str) -> None:
        """One line of the event stream; raises one of _UNREADABLE when its data is not a chunk."""
        if not line.startswith("data:"):
            return  # blank separators, `: comments`, `event:` names
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            self.done = True
            return
        chunk = json.loads(data)
        if "error" in chunk:
            raise ValueError("the server reported an error mid-stream")
        choices = chunk.get("choices") or []
        if choices:
            choice = choices[0]
            self.parts.append(_content((choice.get("delta") or {}).get("content")))
            self.finish_reason = _text_or_none(choice.get("finish_reason")) or self.finish_reason
        self.model = self.model or _text_or_none(chunk.get("model"))
        usage = _usage(chunk.get("usage"))  # the final chunk carries it, if any does
        if usage is not None:
            self.usage = usage

    def reply(self) -> _Reply:
        return _Reply("".join(self.parts), self.finish_reason, self.model, self.usage)


async def _read_events(response: httpx.Response) -> _Reply | None:
    chunks = _Chunks()
    try:
        async for line in response.aiter_lines():
            chunks.add(line)
            if chunks.done:
                return chunks.reply()
    except (*_UNREADABLE, httpx.RequestError):
        return None
    return None  # ended without [DONE]: cut short


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _content(content: Any) -> str:
    """A message's text: a string, null (nothing said), or a list of text parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    raise TypeError(f"message content is {type(content).__name__}")


def _usage(raw: Any) -> Usage | None:
    """OpenAI's usage; cached prompt tokens (prompt_tokens_details.cached_tokens) bill at the cache-read rate."""
    if not isinstance(raw, dict):
        return None
    prompt, completion = raw.get("prompt_tokens"), raw.get("completion_tokens")
    if not isinstance(prompt, int) or not isinstance(completion, int) or prompt < 0 or completion < 0:
        return None
    details = raw.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    cached = min(cached, prompt) if isinstance(cached, int) and cached > 0 else 0
    return Usage(input_tokens=prompt - cached, output_tokens=completion, cache_read_tokens=cached)


def _retry_after(headers: httpx.Headers) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            continue
    return None


def _error_message(response: httpx.Response) -> str:
    try:
        error = json.loads(response.content).get("error")
        message = error.get("message") if isinstance(error, dict) else error
        return str(message)[:200] if message else ""
    except (ValueError, AttributeError):
        return response.text[:200]
