"""The ChatModel protocol every LLM client implements, and the values it exchanges."""

from dataclasses import dataclass
from typing import Literal, Protocol

from tools.llm.pricing import ModelPrice, Usage


@dataclass(frozen=True)
class Message:
    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage
    """As the API reported it (offline: our own exact count)."""
    model: str
    stop_reason: str | None
    attempts: int = 1


class ChatModel(Protocol):
    name: str
    price: ModelPrice

    def count_input_tokens(self, system: str, messages: list[Message]) -> int:
        """An upper estimate of the input tokens the call will be billed for (safety factor applied)."""
        ...

    async def complete(self, system: str, messages: list[Message], *, max_tokens: int, deadline: float) -> Completion:
        """One reply within `deadline` (time.monotonic() seconds), retrying transient failures inside it."""
        ...
