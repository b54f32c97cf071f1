"""Chat sessions: create one, list yours, read its messages, and ask its next turn (JSON or SSE).
Another principal's session answers 404, as if it did not exist."""

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from quarry.agent.service.auth import Caller, CallerDep, StateDep
from quarry.agent.service.inputs import filters_of, limits_of, question_of
from quarry.agent.service.routes.ask import ANSWER_DOC
from quarry.agent.service.runner import respond
from quarry.agent.service.schemas import MessageBody, SessionBody
from quarry.agent.service.state import ServiceState
from quarry.errors import SessionForbidden, SessionNotFound
from quarry.graph.engine import ResearchRequest
from quarry.graph.session_store import SessionRecord

router = APIRouter(tags=["sessions"])


@router.post("/v1/sessions", summary="Start a chat session", status_code=201)
async def create_session(caller: CallerDep, state: StateDep, body: SessionBody | None = None) -> dict[str, Any]:
    budget = limits_of(body.budget if body else None, state.settings.research.session_budget)
    record = await asyncio.to_thread(state.components.sessions.create, caller.principal, budget)
    return {"session_id": record.id, "budget": budget.model_dump(), "created_at": record.created_at.isoformat()}


@router.get("/v1/sessions", summary="Your chat sessions, most recent first")
async def list_sessions(caller: CallerDep, state: StateDep, limit: int = 50) -> list[dict[str, Any]]:
    found = await asyncio.to_thread(state.components.sessions.list, caller.principal.id, limit=max(1, min(limit, 500)))
    return [
        {
            "session_id": s.id,
            "created_at": s.created_at.isoformat(),
            "updated_at": s.updated_at.isoformat(),
            "turns": s.turns,
            "usd": s.usd,
            "first_question": s.first_question,
        }
        for s in found
    ]


@router.get("/v1/sessions/{session_id}/messages", summary="A session's turns, in order")
async def messages(session_id: str, caller: CallerDep, state: StateDep) -> dict[str, Any]:
    record = await _own_session(state, caller, session_id)
    used = record.used
    return {
        "session_id": record.id,
        "budget": record.budget.model_dump(),
        "used": {"seconds": used.seconds, "hops": used.hops, "tokens": used.tokens, "usd": used.usd},
        "messages": [
            {"turn": t.number, "asked": t.asked, "question": t.question, "run_id": t.run_id, "answer": t.answer.dump()}
            for t in record.turns
        ],
    }


@router.post(
    "/v1/sessions/{session_id}/messages",
    summary="Ask the session's next turn",
    description=ANSWER_DOC,
    response_model=None,
)
async def ask_in_session(
    session_id: str, body: MessageBody, request: Request, caller: CallerDep, state: StateDep
) -> JSONResponse | StreamingResponse:
    record = await _own_session(state, caller, session_id)
    research = ResearchRequest(
        question=question_of(body.question),
        budget=limits_of(body.budget, state.settings.research.budget),
        filters=filters_of(body.filters),
        principal=record.principal,
        session_id=record.id,
        use_cache=body.use_cache,
        account=caller.account,
    )
    return await respond(request, state, research)


async def _own_session(state: ServiceState, caller: Caller, session_id: str) -> SessionRecord:
    try:
        return await asyncio.to_thread(state.components.sessions.load, session_id, caller.principal)
    except (SessionForbidden, SessionNotFound):
        # One answer for "not there" and "not yours": a session's existence is not disclosed.
        raise SessionNotFound(
            f"no session {session_id} (a session is visible only to the principal that started it)"
        ) from None
