"""Run events as Server-Sent Events: `event: <type>` and `data: <json>` for each typed event of
graph/events.py, the last one `event: answer` carrying the same object as `quarry ask --json`."""

import json
from dataclasses import asdict
from typing import Any

from fastapi.sse import format_sse_event

from quarry.graph.events import (
    BudgetLeft,
    DraftReady,
    FinalAnswer,
    HitsFound,
    NodeFinished,
    NodeStarted,
    RunEvent,
    TextDelta,
    TokensSpent,
)

ANSWER_EVENT = "answer"
ERROR_EVENT = "error"


def _left(left: BudgetLeft) -> dict[str, Any]:
    return {"seconds": round(left.seconds, 3), "tokens": left.tokens, "usd": left.usd, "hops": left.hops}


def event_json(event: RunEvent) -> tuple[str, dict[str, Any]]:
    """The SSE event name and JSON payload of one run event."""
    match event:
        case NodeStarted():
            return "node_started", {"node": event.node, "hop": event.hop, "budget_left": _left(event.left)}
        case NodeFinished():
            span = event.span.dump()
            return "node_finished", {
                "node": event.node,
                "hop": event.hop,
                "span": span,
                "budget_left": _left(event.left),
            }
        case HitsFound():
            return "hits_found", asdict(event) | {"titles": list(event.titles)}
        case TokensSpent():
            return "tokens_spent", asdict(event)
        case TextDelta():
            return "text_delta", asdict(event)
        case DraftReady():
            return "draft_ready", asdict(event)
        case FinalAnswer():
            return ANSWER_EVENT, event.answer.dump()
    raise TypeError(f"not a run event: {event!r}")


def sse_bytes(name: str, data: dict[str, Any]) -> bytes:
    return format_sse_event(event=name, data_str=json.dumps(data, separators=(",", ":"), default=str))
