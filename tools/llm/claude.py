"""Claude through the official `anthropic` SDK (the only module importing it).

The SDK's own timeout bounds each read, not the call, and its retries add more: so the SDK's
retries are off, every attempt runs under `asyncio.timeout(deadline - now)`, and we retry 429,
529, 5xx and connection errors with jittered backoff only while the deadline leaves room.
"""

import asyncio
import random
import time
from collections.abc import Callable

import anthropic
import httpx2

from quarry.errors import LLMAuthError, LLMError, LLMTimeout, LLMUnavailable
from quarry.tools.llm.backoff import backoff_delay, why_not_retry
from quarry.tools.llm.base import Completion, Message, Prompt
from quarry.tools.llm.calibration import TokenEstimator
from quarry.tools.llm.pricing import ModelPrice, Usage

_RETRYABLE = (
    anthropic.RateLimitError,
    anthropic.OverloadedError,
    anthropic.InternalServerError,
    anthropic.APIConnectionError,  # includes APITimeoutError
    httpx2.TransportError,  # the SDK's HTTP client: a stream broken mid-reply reaches us unwrapped
)


class ClaudeModel:
    def __init__(
        self,
        name: str,
        price: ModelPrice,
        *,
        api_key: str,
        base_url: str | None = None,
        safety_factor: float = 1.35,
        max_attempts: int = 4,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 8.0,
        read_timeout_s: float = 60.0,
        rng: random.Random | None = None,
    ) -> None:
        self.name = name
        self.price = price
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.estimator = TokenEstimator(price.safety_factor or safety_factor)
        self._rng = rng or random.Random()
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, max_retries=0, timeout=read_timeout_s
        )

    def count_input_tokens(self, prompt: Prompt) -> int:
        return self.estimator.estimate(prompt.text())[1]

    async def complete(self, prompt: Prompt, *, max_tokens: int, deadline: float) -> Completion:
        return await self._complete(prompt, max_tokens=max_tokens, deadline=deadline, on_text=None)

    async def complete_streaming(
        self, prompt: Prompt, *, max_tokens: int, deadline: float, on_text: Callable[[str], None]
    ) -> Completion:
        return await self._complete(prompt, max_tokens=max_tokens, deadline=deadline, on_text=on_text)

    async def _complete(
        self, prompt: Prompt, *, max_tokens: int, deadline: float, on_text: Callable[[str], None] | None
    ) -> Completion:
        counted, _ = self.estimator.estimate(prompt.text())
        # Cache the system prompt: it is identical across calls of a run.
        system: list[anthropic.types.TextBlockParam] = [
            {"type": "text", "text": prompt.system, "cache_control": {"type": "ephemeral"}}
        ]
        messages = [_message(m) for m in prompt.messages]
        attempt = 0
        handed_over = [0]  # characters given to on_text: once any were, a failure is not retried

        def relay(text: str) -> None:
            handed_over[0] += len(text)
            if on_text is not None:
                on_text(text)

        while True:
            attempt += 1
            left = deadline - time.monotonic()
            if left <= 0:
                raise LLMTimeout(f"{self.name}: deadline passed before attempt {attempt}")
            try:
                async with asyncio.timeout(left):
                    if on_text is None:
                        response = await self._client.messages.create(
                            model=self.name, max_tokens=max_tokens, system=system, messages=messages
                        )
                    else:
                        async with self._client.messages.stream(
                            model=self.name, max_tokens=max_tokens, system=system, messages=messages
                        ) as stream:
                            async for text in stream.text_stream:
                                relay(text)
                            response = await stream.get_final_message()
            except TimeoutError:
                raise LLMTimeout(f"{self.name}: no complete reply within {left:.2f}s (attempt {attempt})") from None
            except _RETRYABLE as exc:
                delay = self._delay(exc, attempt)
                refusal = why_not_retry(attempt, max_attempts=self.max_attempts, delay=delay, deadline=deadline)
                if handed_over[0]:
                    refusal = f"not retried: {handed_over[0]} characters of the reply were already streamed"
                if refusal is not None:
                    raise LLMUnavailable(
                        f"{self.name}: {_describe(exc)} after {attempt} attempt(s); {refusal}"
                    ) from None
                await asyncio.sleep(delay)
                continue
            except (anthropic.AuthenticationError, anthropic.PermissionDeniedError) as exc:
                raise LLMAuthError(
                    f"{self.name}: authentication failed: the API key was refused ({_describe(exc)}); set a valid "
                    "ANTHROPIC_API_KEY, or unset it (or set QUARRY_PROVIDER=offline) to use the offline model"
                ) from None
            except anthropic.APIStatusError as exc:
                raise LLMError(f"{self.name}: request refused: {_describe(exc)}") from None
            usage = _usage(response.usage)
            self.estimator.observe(counted, usage.prompt_tokens)
            text = "".join(block.text for block in response.content if isinstance(block, anthropic.types.TextBlock))
            return Completion(text, usage, response.model, response.stop_reason, attempt)

    def _delay(self, exc: Exception, attempt: int) -> float:
        retry_after = _retry_after(exc)
        if retry_after is not None:
            return retry_after
        return backoff_delay(attempt, base_s=self.backoff_base_s, cap_s=self.backoff_cap_s, rng=self._rng)

    async def aclose(self) -> None:
        await self._client.close()


def _message(message: Message) -> anthropic.types.MessageParam:
    if message.role == "user":
        return {"role": "user", "content": message.content}
    return {"role": "assistant", "content": message.content}


def _usage(raw: anthropic.types.Usage) -> Usage:
    return Usage(
        input_tokens=raw.input_tokens or 0,
        output_tokens=raw.output_tokens or 0,
        cache_write_tokens=raw.cache_creation_input_tokens or 0,
        cache_read_tokens=raw.cache_read_input_tokens or 0,
    )


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    return f"HTTP {status} {type(exc).__name__}" if status else type(exc).__name__
