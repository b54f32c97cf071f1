"""What a run reports while it works, in order: typed events for `astream`, the CLI's status line
and progress output. Every run ends with exactly one `FinalAnswer`."""

from dataclasses import dataclass

from quarry.graph.answer import Answer
from quarry.graph.trace import Span


@dataclass(frozen=True)
class BudgetLeft:
    """What the run may still use when the event was produced."""

    seconds: float
    tokens: int
    usd: float
    hops: int


@dataclass(frozen=True)
class NodeStarted:
    node: str
    hop: int
    left: BudgetLeft


@dataclass(frozen=True)
class NodeFinished:
    span: Span
    hop: int
    left: BudgetLeft

    @property
    def node(self) -> str:
        return self.span.node


@dataclass(frozen=True)
class HitsFound:
    query: str
    hop: int
    candidates: int
    titles: tuple[str, ...]
    """The best few candidates' titles, best first."""


@dataclass(frozen=True)
class TokensSpent:
    node: str
    tokens: int
    usd: float
    run_tokens: int
    """The run's total so far."""
    run_usd: float


@dataclass(frozen=True)
class DraftReady:
    """A synthesized draft: the answer as it stands after `hop`, before the next search."""

    text: str
    hop: int
    model: str
    dropped: int = 0
    """Citations the checks removed from the model's draft (unresolved or unsupported by their passage):
    what a streamed draft (TextDelta) showed that the answer will not vouch for."""


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer as the model writes it (a streaming model, a request with stream_text): the
    unverified draft of `hop`. The DraftReady that follows holds what survived citation checks."""

    text: str
    hop: int


@dataclass(frozen=True)
class FinalAnswer:
    answer: Answer
    trace: tuple[Span, ...]


RunEvent = NodeStarted | NodeFinished | HitsFound | TokensSpent | TextDelta | DraftReady | FinalAnswer
