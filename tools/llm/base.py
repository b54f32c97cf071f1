"""The ChatModel protocol every LLM client implements, and the values it exchanges.

A `Prompt` carries both the rendered text (what Claude reads) and the typed task it was rendered
from (what the offline extractive model works on), so every node runs one code path whichever
model answers, and both are token-accounted from the same rendered text.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from quarry.tools.llm.pricing import ModelPrice, Usage


@dataclass(frozen=True)
class Message:
    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class Passage:
    """A piece of evidence as a model sees it: [marker] title (source) text."""

    marker: int
    title: str
    source: str
    text: str


@dataclass(frozen=True)
class PlanTask:
    question: str
    max_queries: int
    known_entities: tuple[str, ...] = ()
    """Names from the knowledge graph the question mentions (hints for sub-queries)."""


@dataclass(frozen=True)
class RerankTask:
    query: str
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class SynthesizeTask:
    question: str
    passages: tuple[Passage, ...]
    asked: tuple[str, ...] = ()
    """Search queries already run, so the model does not propose them again as gaps."""


@dataclass(frozen=True)
class Turn:
    """An earlier exchange in a conversation: the question as it was researched, and the answer."""

    question: str
    answer: str


@dataclass(frozen=True)
class ContextualizeTask:
    """Rewrite a follow-up ("and who maintains it?") as a question that stands on its own."""

    question: str
    history: tuple[Turn, ...]


Task = PlanTask | RerankTask | SynthesizeTask | ContextualizeTask


@dataclass(frozen=True)
class Prompt:
    task: Task
    system: str
    messages: tuple[Message, ...]

    def text(self) -> str:
        """Everything the model reads, as counted before a call."""
        return self.system + "\n" + "\n".join(f"{m.role}: {m.content}" for m in self.messages)


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage
    """As the API reported it (offline: our own exact count)."""
    model: str
    stop_reason: str | None
    attempts: int = 1
    usage_estimated: bool = False
    """The server reported no usage (some local ones): `usage` is our own upper estimate."""


class ChatModel(Protocol):
    name: str
    price: ModelPrice

    def count_input_tokens(self, prompt: Prompt) -> int:
        """An upper estimate of the input tokens the call will be billed for (safety factor applied)."""
        ...

    async def complete(self, prompt: Prompt, *, max_tokens: int, deadline: float) -> Completion:
        """One reply within `deadline` (time.monotonic() seconds), retrying transient failures inside it."""
        ...


@runtime_checkable
class StreamingChatModel(ChatModel, Protocol):
    """A model that can hand its reply over as it is written (Claude)."""

    async def complete_streaming(
        self, prompt: Prompt, *, max_tokens: int, deadline: float, on_text: Callable[[str], None]
    ) -> Completion:
        """As `complete`, calling `on_text` with each piece of text as it arrives. Once a piece has been
        handed over, a failure is not retried (the reader has seen text a retry would repeat)."""
        ...
