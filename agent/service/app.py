"""The service's ASGI application: `create_app(settings)` builds it; `quarry serve` runs it in uvicorn.

Start-up opens the database, loads the embedding model (one warm-up query) and builds the engine, off
the event loop; until then `/readyz` answers 503. Shutdown refuses new runs, waits for those in
flight within their deadlines, then closes the engine's clients and the database pool.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from quarry.agent.components import Components
from quarry.agent.service import problems
from quarry.agent.service.keys import ApiKeyStore
from quarry.agent.service.limiter import FailureLimiter
from quarry.agent.service.middleware import BodyLimitMiddleware, RequestIdMiddleware
from quarry.agent.service.routes import ask, citations, documents, health, ledger, search, sessions
from quarry.agent.service.state import ServiceState
from quarry.agent.settings import Settings, load_settings

WEB_DIR = Path(__file__).parent / "web"
UPLOAD_PATH = "/v1/documents"
_THREADS = 32
"""Worker threads for the engine's database and embedding calls (the default, cores + 4, queues
concurrent runs behind each other's ledger writes)."""
log = logging.getLogger("quarry.service")


def create_app(settings: Settings | None = None, *, components: Components | None = None) -> FastAPI:
    """The application over `settings` (default: config.yaml and QUARRY_* as for the CLI). `components`
    given (tests share a loaded model and a database) are used as they are and left to their owner."""
    settings = settings or load_settings()
    owned = components is None
    parts = components or Components(settings)
    service = settings.service

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(_THREADS, thread_name_prefix="quarry"))
        state = ServiceState(
            settings=settings,
            components=parts,
            keys=ApiKeyStore(await asyncio.to_thread(lambda: parts.db)),
            limiter=FailureLimiter(service.auth_failures_per_minute),
        )
        app.state.quarry = state
        await asyncio.to_thread(_warm_up, parts)
        state.ready = True
        try:
            yield
        finally:
            state.draining = True
            grace = service.shutdown_grace_s or settings.research.budget.max_seconds + 5
            left = await state.inflight.drain(grace)
            if left:
                log.warning("shutdown: %d run(s) did not finish within %.0f s and were cancelled", left, grace)
            if parts.engine_built:
                await parts.engine.aclose()
            if owned:
                await asyncio.to_thread(parts.close)

    app = FastAPI(
        title="Quarry",
        summary="An agentic research assistant with hybrid retrieval and hard budgets.",
        version="1",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    problems.install(app)
    for module in (health, ask, sessions, search, documents, ledger, citations):
        app.include_router(module.router)
    _serve_web_page(app)
    app.add_middleware(
        BodyLimitMiddleware,
        limit_for=lambda path: service.max_upload_bytes if path == UPLOAD_PATH else service.max_body_bytes,
        timeout_s=service.body_timeout_s,
    )
    app.add_middleware(RequestIdMiddleware)
    return app


def _warm_up(components: Components) -> None:
    """Open the database, load the embedding model by embedding once, and build the engine."""
    components.embedder.embed_query("warm up")
    components.engine  # noqa: B018 (building it opens the ledger and models)


def _serve_web_page(app: FastAPI) -> None:
    index = WEB_DIR / "index.html"

    @app.get("/", include_in_schema=False, response_model=None)
    async def web_page() -> FileResponse:
        return FileResponse(index, media_type="text/html")

    app.mount("/static", StaticFiles(directory=WEB_DIR, check_dir=False), name="static")


def app_from_environment() -> FastAPI:
    """For `uvicorn --factory` and `quarry serve --workers N`: settings from QUARRY_CONFIG and QUARRY_*."""
    return create_app()
