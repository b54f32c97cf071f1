"""GET /v1/search: hybrid retrieval (no LLM) as the key's principal reads the corpus."""

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from quarry.agent.filter_spelling import as_stored
from quarry.agent.hit_records import hit_record
from quarry.agent.service.auth import CallerDep, StateDep
from quarry.agent.service.inputs import filters_of
from quarry.errors import UsageError
from quarry.graph.engine import MAX_QUESTION_CHARS

router = APIRouter(tags=["search"])


@router.get("/v1/search", summary="Find passages (no LLM), as `quarry search --json`")
async def search(
    caller: CallerDep,
    state: StateDep,
    q: Annotated[str, Query(max_length=MAX_QUESTION_CHARS, description="what to look for")],
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    mode: Literal["dense", "bm25", "kg", "hybrid"] = "hybrid",
    domain: Annotated[list[str] | None, Query(description="only this domain (repeatable)")] = None,
    author: Annotated[list[str] | None, Query()] = None,
    tag: Annotated[list[str] | None, Query()] = None,
    rerank: bool = True,
) -> dict[str, Any]:
    if not q.strip():
        raise UsageError("the query 'q' is empty", field="q")
    filters = await asyncio.to_thread(
        as_stored,
        filters_of({"domains": domain or [], "authors": author or [], "tags": tag or []}),
        state.components.store,
    )
    result = await state.components.retriever.aretrieve(
        q, principal=caller.principal, filters=filters, k=k, mode=mode, rerank=rerank
    )
    return {"query": q, "hits": [hit_record(fused, result) for fused in result.hits]}
