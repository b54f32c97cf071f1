"""Replies a fake Messages API gives to Quarry's own prompts, told apart by their system prompt.
Used by the Claude-path tests and by bench/bench_budget.py."""

import random
import re
from typing import Any

from quarry.corpus.tokens import count_tokens
from quarry.tools.llm.prompts import CONTEXTUALIZE_SYSTEM, PLAN_SYSTEM, RERANK_SYSTEM, SYNTHESIZE_SYSTEM
from tests.support.fakes.anthropic_server import Reply

STANDALONE = "Who leads the Payments Core team?"
"""What the fake model rewrites any follow-up as."""
_PASSAGE = re.compile(r'<passage n="(\d+)" title="([^"]*)"')


def system_of(body: dict[str, Any]) -> str:
    """The system prompt of a Messages API body, or of a chat completions body (its first message)."""
    if "system" in body:
        return str(body["system"][0]["text"])
    return str(body["messages"][0]["content"])


def user_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in body["messages"] if m["role"] != "system"]


def task_of(body: dict[str, Any]) -> str:
    system = system_of(body)
    prompts = (
        ("plan", PLAN_SYSTEM),
        ("rerank", RERANK_SYSTEM),
        ("synthesize", SYNTHESIZE_SYSTEM),
        ("contextualize", CONTEXTUALIZE_SYSTEM),
    )
    for name, prompt in prompts:
        prefix = prompt[:30]
        if system.startswith(prefix):
            return name
    raise AssertionError(f"unknown prompt: {system[:60]!r}")


def passages(body: dict[str, Any]) -> dict[str, int]:
    """title → marker of every passage in the request."""
    return {title: int(n) for n, title in _PASSAGE.findall(user_messages(body)[0]["content"])}


def counted(body: dict[str, Any]) -> int:
    """cl100k tokens of what the request carries: the same text Quarry counts before the call."""
    text = system_of(body) + "\n" + "\n".join(f"{m['role']}: {m['content']}" for m in user_messages(body))
    return count_tokens(text)


def plausible_reply(
    body: dict[str, Any], rng: random.Random, *, delay_s: float = 0.0, usage_ratio: tuple[float, float] = (0.7, 1.3)
) -> Reply:
    """A well-formed reply to any Quarry prompt with usage as Claude might report it: input tokens a
    random multiple of the cl100k count (Claude's tokenizer differs), output within max_tokens."""
    task = task_of(body)
    if task == "plan":
        text = "Ledgerline owning team\nPayments Core team lead"
    elif task == "contextualize":
        text = STANDALONE
    elif task == "rerank":
        text = "\n".join(f"{marker} {rng.randint(0, 10)}" for marker in sorted(passages(body).values()))
    else:
        markers = sorted(passages(body).values()) or [1]
        text = (
            f"ANSWER:\nLedgerline is owned by the Payments Core team [{markers[0]}].\nGAPS:\n- Payments Core team lead"
        )
    output = min(body["max_tokens"], count_tokens(text) + rng.randint(0, 40))
    return Reply(
        text, input_tokens=int(counted(body) * rng.uniform(*usage_ratio)), output_tokens=output, delay_s=delay_s
    )
