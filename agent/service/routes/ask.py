"""POST /v1/ask: one research run, as JSON or as a stream of run events."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from quarry.agent.service.auth import CallerDep, StateDep
from quarry.agent.service.inputs import filters_of, limits_of, question_of
from quarry.agent.service.runner import respond
from quarry.agent.service.schemas import AskBody
from quarry.graph.engine import ResearchRequest

router = APIRouter(tags=["research"])

ANSWER_DOC = (
    "The answer object of `quarry ask --json`. With `Accept: text/event-stream`: Server-Sent Events "
    "(node_started, hits_found, tokens_spent, draft_ready, node_finished …, each with budget_left where the "
    "engine reports it), the last one `event: answer` carrying that same object; `event: error` if the run failed."
)


@router.post("/v1/ask", summary="Research a question within a budget", description=ANSWER_DOC, response_model=None)
async def ask(body: AskBody, request: Request, caller: CallerDep, state: StateDep) -> JSONResponse | StreamingResponse:
    research = ResearchRequest(
        question=question_of(body.question),
        budget=limits_of(body.budget, state.settings.research.budget),
        filters=filters_of(body.filters),
        principal=caller.principal,
        use_cache=body.use_cache,
        account=caller.account,
    )
    return await respond(request, state, research)
