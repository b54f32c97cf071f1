"""The ledger as a principal sees it: their own runs, one run and its trace, their spend, and the
semantic cache's figures. Another principal's run answers 404, as if it did not exist."""

import asyncio
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from quarry.agent.ledger_view import RunRecord, load_run, recent_runs, spend_by
from quarry.agent.service.auth import Caller, CallerDep, StateDep
from quarry.agent.service.state import ServiceState
from quarry.corpus.store import corpus_version
from quarry.errors import RunForbidden, RunNotFound
from quarry.graph.budget.ledger import PostgresLedger
from quarry.tools.cache import SemanticCache

router = APIRouter(tags=["ledger"])


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _json(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_json(inner) for inner in value]
    return value


@router.get("/v1/runs", summary="Your recent runs, newest first")
async def runs(
    caller: CallerDep, state: StateDep, limit: Annotated[int, Query(ge=1, le=500)] = 20
) -> list[dict[str, Any]]:
    found = await asyncio.to_thread(recent_runs, state.components.db, limit=limit, principal_id=caller.principal.id)
    return [_json(asdict(r)) for r in found]


@router.get("/v1/runs/{run_id}", summary="One of your runs: outcome, limits and answer")
async def run(run_id: str, caller: CallerDep, state: StateDep) -> dict[str, Any]:
    record = await own_run(state, caller, run_id)
    return {
        "summary": _json(asdict(record.summary)),
        "limits": record.limits,
        "corpus_version": record.corpus_version,
        "answer": record.answer,
    }


@router.get("/v1/runs/{run_id}/trace", summary="One of your runs' trace spans and model calls")
async def trace(run_id: str, caller: CallerDep, state: StateDep) -> dict[str, Any]:
    record = await own_run(state, caller, run_id)
    return {
        "run_id": record.summary.id,
        "spans": [span.dump() for span in record.trace],
        "calls": [asdict(call) for call in record.calls],
    }


@router.get("/v1/spend", summary="Your spend, by node, model or day")
async def spend(
    caller: CallerDep, state: StateDep, by: Literal["node", "model", "day"] = "node", since: datetime | None = None
) -> dict[str, Any]:
    rows = await asyncio.to_thread(spend_by, state.components.db, by, since=since, principal_id=caller.principal.id)
    return {
        "principal": caller.principal.id,
        "by": by,
        "rows": [asdict(r) for r in rows],
        "total_usd": sum(r.usd for r in rows),
    }


@router.get("/v1/cache/stats", summary="The semantic cache: entries, and your hits and savings")
async def cache_stats(caller: CallerDep, state: StateDep) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        db = state.components.db
        stats = SemanticCache(db, state.settings.cache).stats(corpus_version(db))
        served = PostgresLedger(db).cache_record(principal_id=caller.principal.id)
        return {
            "enabled": state.settings.cache.enabled,
            **_json(asdict(stats)),
            "your_runs": served.runs,
            "your_hit_runs": served.hit_runs,
            "your_saved_usd": served.saved_usd,
        }

    return await asyncio.to_thread(read)


async def own_run(state: ServiceState, caller: Caller, run_id: str) -> RunRecord:
    try:
        return await asyncio.to_thread(load_run, state.components.db, run_id, viewer=caller.principal)
    except (RunForbidden, RunNotFound):
        # One answer for "not there" and "not yours": a run's existence is not disclosed.
        raise RunNotFound(f"no run {run_id} (a run is visible only to the principal that asked it)") from None
