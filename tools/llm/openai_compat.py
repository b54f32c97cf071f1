"""Any OpenAI-compatible chat completions endpoint (OpenAI, Ollama, vLLM, llama.cpp's server, LM
Studio) through plain httpx: one POST, read as JSON we check ourselves (the only module that
speaks this wire format).

Same contract as Claude's client: every attempt runs under `asyncio.timeout(deadline - now)` (httpx's
timeout bounds each read, not the call); 429, 5xx and connection errors are retried with jittered
backoff (or the server's Retry-After) only while the deadline leaves room. Usage is settled from
the reply; a server that omits it (many local ones) is charged our own upper estimate, flagged
`estimated`. A 200 whose body is not a chat completion may still have been billed: it is charged
at its worst case, flagged, with no text, so the node falls back to a partial answer.
"""

import asyncio
import json
import random
import time
from typing import Any

import httpx

from quarry.errors import LLMError, LLMTimeout, LLMUnavailable
from quarry.tools.llm.base import Completion, Prompt
from quarry.tools.llm.calibration import TokenEstimator
from quarry.tools.llm.pricing import ModelPrice, Usage

OPENAI_BASE_URL = "https://api.openai.com/v1"
_RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


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
        rng: random.Random | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.price = price
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
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
        body = {
            "model": self.name,
            "max_tokens": max_tokens,
            "stream": False,
            "messages": [{"role": "system", "content": prompt.system}]
            + [{"role": m.role, "content": m.content} for m in prompt.messages],
        }
        attempt = 0
        while True:
            attempt += 1
            left = deadline - time.monotonic()
            if left <= 0:
                raise LLMTimeout(f"{self.name}: deadline passed before attempt {attempt}")
            try:
                async with asyncio.timeout(left):
                    response = await self._client.post("/chat/completions", json=body)
            except TimeoutError:
                raise LLMTimeout(f"{self.name}: no complete reply within {left:.2f}s (attempt {attempt})") from None
            except httpx.TransportError as exc:
                await self._wait_or_give_up(type(exc).__name__, None, attempt, deadline)
                continue
            if response.status_code in _RETRYABLE_STATUS:
                await self._wait_or_give_up(
                    f"HTTP {response.status_code}", _retry_after(response.headers), attempt, deadline
                )
                continue
            if response.status_code >= 400:
                raise LLMError(f"{self.name}: request refused: HTTP {response.status_code} {_error_message(response)}")
            return self._completion(response, counted, upper, max_tokens, attempt)

    def _completion(
        self, response: httpx.Response, counted: int, upper: int, max_tokens: int, attempt: int
    ) -> Completion:
        try:
            payload = response.json()
            choice = payload["choices"][0]
            text = _content(choice["message"].get("content"))
        except (ValueError, LookupError, TypeError, AttributeError):
            # Possibly billed, unreadable: charge the worst case, answer nothing.
            worst = Usage(input_tokens=upper, output_tokens=max_tokens)
            return Completion("", worst, self.name, "malformed", attempt, usage_estimated=True)
        usage = _usage(payload.get("usage"))
        estimated = usage is None
        if usage is None:
            usage = Usage(input_tokens=upper, output_tokens=min(max_tokens, self.estimator.estimate(text)[1]))
        else:
            self.estimator.observe(counted, usage.prompt_tokens)
        model = payload.get("model") if isinstance(payload.get("model"), str) else self.name
        reason = choice.get("finish_reason") if isinstance(choice.get("finish_reason"), str) else None
        return Completion(text, usage, model or self.name, reason, attempt, usage_estimated=estimated)

    async def _wait_or_give_up(self, what: str, retry_after: float | None, attempt: int, deadline: float) -> None:
        delay = retry_after if retry_after is not None else self._backoff(attempt)
        if attempt >= self.max_attempts or time.monotonic() + delay >= deadline:
            raise LLMUnavailable(
                f"{self.name}: {what} after {attempt} attempt(s); "
                f"{'no time left for another' if attempt < self.max_attempts else 'retries exhausted'}"
            )
        await asyncio.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2 ** (attempt - 1))
        return self._rng.uniform(ceiling / 2, ceiling)

    async def aclose(self) -> None:
        await self._client.aclose()


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
