"""Liveness and readiness: `/healthz` answers while the process serves; `/readyz` only when the
database answers and the embedding model is loaded (a load balancer sends traffic only then)."""

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from quarry.agent.service.auth import CallerDep, StateDep
from quarry.errors import QuarryError

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers and the model is loaded", response_model=None)
async def readyz(state: StateDep) -> JSONResponse:
    checks: dict[str, Any] = {"model": "loaded" if state.ready else "loading"}
    try:
        await asyncio.to_thread(state.components.db.server_info)
        checks["database"] = "ok"
    except QuarryError as exc:
        checks["database"] = f"unavailable: {exc}"
    ready = state.ready and checks["database"] == "ok" and not state.draining
    if state.draining:
        checks["service"] = "shutting down"
    if ready:
        return JSONResponse({"status": "ready", "checks": checks})
    failing = "; ".join(f"{name} {value}" for name, value in checks.items() if value not in ("ok", "loaded"))
    return JSONResponse(
        {
            "status": "unavailable",
            "checks": checks,
            "error": {"code": "not_ready", "message": f"not ready: {failing}", "field": None},
        },
        status_code=503,
    )


@router.get("/v1/me", summary="Who the API key acts for", tags=["auth"])
async def me(caller: CallerDep) -> dict[str, Any]:
    return {"principal": caller.principal.id, "groups": list(caller.principal.groups), "account": caller.account}
