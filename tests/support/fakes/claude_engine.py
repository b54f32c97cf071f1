"""An Engine whose Claude tiers talk to a fake Messages API: shared by the Claude-path tests and
bench/bench_budget.py, over a Components' real retrieval and ledger."""

import random

from quarry.corpus.store import corpus_version
from quarry.graph.budget.ledger import PostgresLedger
from quarry.graph.config import ResearchConfig
from quarry.graph.engine import Engine
from quarry.tools.llm.claude import ClaudeModel
from quarry.tools.llm.config import DEFAULT_PRICES
from tests.support.fakes.anthropic_server import FakeAnthropic


def claude_engine(
    components,
    fake: FakeAnthropic,
    *,
    llm_rerank: bool = False,
    backoff_base_s: float = 0.01,
    backoff_cap_s: float = 0.05,
    rng: random.Random | None = None,
    **config,
) -> Engine:
    def claude(name: str) -> ClaudeModel:
        return ClaudeModel(
            name,
            DEFAULT_PRICES[name],
            api_key="test-key",
            base_url=fake.base_url,
            backoff_base_s=backoff_base_s,
            backoff_cap_s=backoff_cap_s,
            rng=rng,
        )

    return Engine(
        retriever=components.retriever,
        embedder=components.embedder,
        cheap=claude("claude-haiku-5-5"),
        premium=claude("claude-sonnet-5-5"),
        ledger=PostgresLedger(components.db),
        config=ResearchConfig(**config),
        corpus_version=lambda: corpus_version(components.db),
        reranker=components.reranker,
        llm_rerank=llm_rerank,
    )
