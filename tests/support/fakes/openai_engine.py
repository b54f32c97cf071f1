"""An Engine whose tiers talk to a fake OpenAI-compatible API (both tiers, or the cheap tier only with
Claude on a fake Messages API for synthesis): shared by the OpenAI-path tests and bench/bench_budget.py."""

import random

from quarry.corpus.store import corpus_version
from quarry.graph.budget.ledger import PostgresLedger
from quarry.graph.config import ResearchConfig
from quarry.graph.engine import Engine
from quarry.tools.llm.base import ChatModel
from quarry.tools.llm.claude import ClaudeModel
from quarry.tools.llm.config import DEFAULT_PRICES
from quarry.tools.llm.openai_compat import OpenAICompatModel
from quarry.tools.llm.pricing import ModelPrice
from tests.support.fakes.anthropic_server import FakeAnthropic
from tests.support.fakes.openai_server import FakeOpenAI

PRICES = {
    "gpt-test-mini": ModelPrice(input=0.15, output=0.60, cache_read=0.075),
    "gpt-test": ModelPrice(input=2.50, output=10.0, cache_read=1.25),
    "qwen-local": ModelPrice(input=0.0, output=0.0, safety_factor=1.5),
}


def openai_engine(
    components,
    fake: FakeOpenAI,
    *,
    cheap: str = "gpt-test-mini",
    premium: str | None = "gpt-test",
    claude: FakeAnthropic | None = None,
    llm_rerank: bool = False,
    backoff_base_s: float = 0.01,
    backoff_cap_s: float = 0.05,
    rng: random.Random | None = None,
    **config,
) -> Engine:
    """`premium=None` with a `claude` fake: Claude (claude-sonnet-5-5) synthesizes."""

    def openai(name: str) -> OpenAICompatModel:
        return OpenAICompatModel(
            name,
            PRICES[name],
            base_url=fake.base_url,
            backoff_base_s=backoff_base_s,
            backoff_cap_s=backoff_cap_s,
            rng=rng,
        )

    premium_model: ChatModel
    if premium is None:
        assert claude is not None, "premium=None needs a fake Messages API for Claude"
        premium_model = ClaudeModel(
            "claude-sonnet-5-5",
            DEFAULT_PRICES["claude-sonnet-5-5"],
            api_key="test-key",
            base_url=claude.base_url,
            backoff_base_s=backoff_base_s,
            backoff_cap_s=backoff_cap_s,
            rng=rng,
        )
    else:
        premium_model = openai(premium)
    return Engine(
        retriever=components.retriever,
        embedder=components.embedder,
        cheap=openai(cheap),
        premium=premium_model,
        ledger=PostgresLedger(components.db),
        config=ResearchConfig(**config),
        corpus_version=lambda: corpus_version(components.db),
        reranker=components.reranker,
        llm_rerank=llm_rerank,
    )
