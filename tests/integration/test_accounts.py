"""Account budgets on real PostgreSQL: concurrent holders (threads, worker processes, research runs)
never jointly pass the cap, and the account's books match the ledger's."""

import asyncio
import multiprocessing
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from quarry.agent import Assistant, Limits, Principal
from quarry.corpus.db import Database
from quarry.errors import AccountNotFound, BudgetExceeded
from quarry.graph.budget.account import Accounts
from quarry.graph.budget.ledger import PostgresLedger, RunOpened
from tests.conftest import REPO
from tests.support.helpers import isolated_settings

pytestmark = pytest.mark.integration


def _hammer(accounts: Accounts, account: str, attempts: int, usd: float, tokens: int) -> tuple[int, int]:
    granted = refused = 0
    for i in range(attempts):
        try:
            hold = accounts.hold(account, None, "synthesize", tokens, usd)
        except BudgetExceeded as exc:
            assert exc.reason == "account"
            refused += 1
            continue
        granted += 1
        # Usage comes in at or under the hold, as settle guarantees in practice; half the time exactly.
        accounts.settle(hold, tokens if i % 2 else tokens // 2, usd if i % 2 else usd / 2)
    return granted, refused


def test_concurrent_threads_never_jointly_overspend(db: Database):
    accounts = Accounts(db)
    accounts.set("team", max_usd=1.0, max_tokens=10**9)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: _hammer(accounts, "team", 60, 0.01, 100), range(8)))
    state = accounts.state("team")
    assert state.spent_usd <= 1.0 + 1e-9
    assert state.held_usd == pytest.approx(0.0, abs=1e-12) and state.held_tokens == 0 and state.open_holds == 0
    assert sum(r for _, r in results) > 0, "the cap was reached: some holds were refused"
    # Settled spend is exactly what the granted holds reported (half the odd, all the even ones).
    assert state.spent_usd > 0.99 - 0.01


def _worker(conninfo: str, schema: str, attempts: int, results) -> None:
    from quarry.corpus.config import DatabaseConfig

    config = DatabaseConfig(url=conninfo, schema_name=schema, pool_min=1, pool_max=2)
    database = Database(conninfo, config, where="worker")
    database._open_pool()
    try:
        results.put(_hammer(Accounts(database), "shared", attempts, 0.05, 10))
    finally:
        database.close()


def test_worker_processes_share_one_cap(db: Database, pg_url: str):
    """Four processes, each with its own pool, race for a $1 cap in $0.05 holds settled in full or half."""
    accounts = Accounts(db)
    accounts.set("shared", max_usd=1.0, max_tokens=10**9)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=_worker, args=(pg_url, db.schema, 25, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    outcomes = [results.get(timeout=5) for _ in workers]
    state = accounts.state("shared")
    assert state.spent_usd <= 1.0 + 1e-9 and state.open_holds == 0
    assert sum(g for g, _ in outcomes) + sum(r for _, r in outcomes) == 100
    assert sum(r for _, r in outcomes) > 0


def test_a_missing_account_and_a_reset(db: Database):
    accounts = Accounts(db)
    with pytest.raises(AccountNotFound, match="no account 'ghost' \\(create it with: quarry account set ghost"):
        accounts.state("ghost")
    accounts.set("team", max_usd=0.10, max_tokens=1000)
    hold = accounts.hold("team", None, "plan", 400, 0.04)
    accounts.settle(hold, 300, 0.03)
    with pytest.raises(BudgetExceeded, match=r"account 'team' has 700 tokens / \$0\.070000 left"):
        accounts.hold("team", None, "synthesize", 800, 0.01)
    assert accounts.reset("team").spent_tokens == 0
    assert accounts.set("team", max_usd=0.5, max_tokens=1000).max_usd == 0.5


def test_holds_of_a_dead_process_are_forfeited_when_its_run_is_abandoned(db: Database):
    accounts, ledger = Accounts(db), PostgresLedger(db)
    accounts.set("team", max_usd=1.0, max_tokens=10**6)
    run_id = str(uuid.uuid4())
    ledger.open_run(
        RunOpened(
            run_id=run_id,
            question="q",
            principal_id="someone",
            principal_groups=("public",),
            filters={},
            limits={"max_seconds": 1.0},
            corpus_version=1,
        )
    )
    accounts.hold("team", run_id, "synthesize", 500, 0.2)  # then the process "dies": never settled
    assert ledger.abandon_stale(margin_seconds=3600) == 0 and accounts.state("team").open_holds == 1
    with db.transaction() as conn:
        conn.execute("UPDATE runs SET started_at = now() - interval '1 hour' WHERE id = %s", (run_id,))
    assert ledger.abandon_stale(margin_seconds=60) == 1
    state = accounts.state("team")
    assert (state.open_holds, state.held_usd, state.spent_usd, state.spent_tokens) == (0, 0.0, 0.2, 500)


@pytest.fixture(scope="module")
def corpus(pg_url: str, embedder, tmp_path_factory: pytest.TempPathFactory):
    schema, data_dir = f"acct_{uuid.uuid4().hex[:10]}", tmp_path_factory.mktemp("acct")
    assistant = _assistant(pg_url, schema, data_dir, embedder)
    assert assistant.ingest(REPO / "examples" / "corpus").refused == []
    Accounts(assistant.components.db).set("lab", max_usd=1.0, max_tokens=6000)
    yield assistant
    assistant.components.db.drop_schema()
    assistant.close()


def _assistant(pg_url: str, schema: str, data_dir: Path, embedder, **extra) -> Assistant:
    settings = isolated_settings(pg_url, data_dir, schema=schema, overrides={"cache.enabled": False, **extra})
    return Assistant(settings, environ={}, embedder=embedder)


QUESTIONS = (
    "Who leads the team that owns the service that failed in the March 2024 settlement outage?",
    "Which team owns Ledgerline?",
    "What does Beacon carry?",
    "What is Keel used for?",
)


def test_concurrent_research_runs_stop_at_the_account_cap(corpus: Assistant, pg_url: str, embedder):
    """Two assistants (as two workers would) run twelve questions at once against a 6,000-token account:
    together they stop at the cap, and the account's books equal the ledger's."""
    db = corpus.components.db
    workers = [
        _assistant(pg_url, db.schema, Path(corpus.settings.data_dir), embedder, **{"research.account": "lab"})
        for _ in range(2)
    ]

    async def ask_all(assistant: Assistant, offset: int):
        return await asyncio.gather(
            *(
                assistant.aask(
                    QUESTIONS[(offset + i) % len(QUESTIONS)],
                    principal=Principal(id=f"u{offset + i}"),
                    budget=Limits(max_seconds=60, max_hops=3, max_tokens=3000, max_usd=1.0),
                )
                for i in range(6)
            )
        )

    async def both():
        return [a for batch in await asyncio.gather(ask_all(workers[0], 0), ask_all(workers[1], 6)) for a in batch]

    try:
        answers = asyncio.run(both())
    finally:
        for worker in workers:
            worker.close()
    state = Accounts(db).state("lab")
    with db.transaction() as conn:
        ledger_tokens = conn.execute(
            "SELECT coalesce(sum(input_tokens + output_tokens), 0) AS n FROM spend"
            " WHERE kind = 'llm' AND run_id = ANY(%s::uuid[])",
            ([a.run_id for a in answers],),
        ).fetchone()["n"]
    assert state.spent_tokens <= state.max_tokens
    assert state.spent_tokens == ledger_tokens, "every settled token is in the ledger, and nothing else"
    assert state.open_holds == 0 and state.held_tokens == 0
    stopped = [a for a in answers if a.stopped_by == "account"]
    assert stopped, [a.stopped_by for a in answers]
    assert all(a.partial and "account 'lab'" in a.stop_detail for a in stopped)
    assert all(a.text for a in answers), "a stopped run still answers with what it has"


def test_an_unknown_configured_account_is_a_config_error(corpus: Assistant, pg_url: str, embedder):
    from quarry.agent import ConfigError

    assistant = _assistant(
        pg_url, corpus.components.db.schema, Path(corpus.settings.data_dir), embedder, **{"research.account": "nobody"}
    )
    try:
        with pytest.raises(ConfigError, match=r"research\.account: no account 'nobody'"):
            assistant.ask("Which team owns Ledgerline?")
    finally:
        assistant.close()
