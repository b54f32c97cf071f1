"""GET /v1/citations/{run_id}/{n}: citation n of one of your runs, opened in its document, with the
cited span's offsets to highlight. A document the key's groups cannot read answers 404."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path

from quarry.agent.service.auth import CallerDep, StateDep
from quarry.agent.service.routes.ledger import own_run
from quarry.corpus.access import readable
from quarry.errors import PassageUnavailable
from quarry.graph.answer import Citation

router = APIRouter(tags=["ledger"])


@router.get("/v1/citations/{run_id}/{number}", summary="Open citation [n] of a run in its document")
async def citation(
    run_id: str, number: Annotated[int, Path(ge=1, le=10_000)], caller: CallerDep, state: StateDep
) -> dict[str, Any]:
    record = await own_run(state, caller, run_id)
    cited = [c for c in (record.answer or {}).get("citations", []) if c.get("number") == number]
    if not cited:
        raise PassageUnavailable(f"run {run_id} has no citation [{number}] you can open")
    found = Citation.load(cited[0])
    document = await asyncio.to_thread(state.components.store.document, found.document_id)
    # Gone, or not readable with this key's groups: the same answer, so existence is not disclosed.
    if document is None or not readable(caller.principal.groups, document.access):
        raise PassageUnavailable(
            f"document {found.document_id} is not in the corpus any more, or not readable by '{caller.principal.id}'"
        )
    body, start, end = document.body, found.start_char, found.end_char
    changed = body[start:end] != found.text
    return {
        "run_id": record.summary.id,
        "number": number,
        "document_id": document.id,
        "title": document.title,
        "source": document.source,
        "author": document.author,
        "published_at": document.published_at.isoformat(),
        "page": found.page,
        "page_end": found.page_end,
        "section": found.section,
        "text": found.text if changed else body,
        "start_char": 0 if changed else start,
        "end_char": len(found.text) if changed else end,
        "changed": changed,
        "support": found.support,
    }
