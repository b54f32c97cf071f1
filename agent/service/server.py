"""Running the service in uvicorn: `quarry serve`.

uvicorn closes idle keep-alive connections but has no timer on a request head that arrives slowly
(slowloris: a byte every few seconds holds a connection forever), so the HTTP protocol here adds
one: a connection must complete its request head within service.header_timeout_s of opening or of
its previous response. Bodies have their own deadline (BodyLimitMiddleware); connections beyond
service.max_connections are answered 503.
"""

import asyncio
import functools
import os
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from quarry.agent.settings import CONFIG_ENV, Settings

APP_FACTORY = "quarry.agent.service.app:app_from_environment"


class HeadTimeoutProtocol(H11Protocol):
    def __init__(self, *args: Any, head_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_timeout_s = head_timeout_s
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)

    def _head_timed_out(self) -> None:
        waiting_for_head = self.cycle is None or self.cycle.response_complete
        if waiting_for_head and not self.transport.is_closing():
            self.transport.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's settings from the service section (timeouts, limits, the head-timeout protocol)."""
    service = settings.service
    grace = service.shutdown_grace_s or settings.research.budget.max_seconds + 5
    return {
        # A partial of an importable class: it pickles into `--workers` processes.
        "http": functools.partial(HeadTimeoutProtocol, head_timeout_s=service.header_timeout_s),
        "timeout_keep_alive": service.keep_alive_s,
        "timeout_graceful_shutdown": int(grace) + 1,
        "limit_concurrency": service.max_connections,
        "h11_max_incomplete_event_size": 64 * 1024,
        "server_header": False,
    }


def serve(settings: Settings, *, host: str, port: int, workers: int, config_path: str | None = None) -> None:
    """Serve until SIGINT/SIGTERM; in-flight runs drain within their deadlines."""
    options = uvicorn_options(settings)
    if workers > 1:
        # Each worker process builds its own app from the environment, as this process read it.
        if config_path:
            os.environ[CONFIG_ENV] = config_path
        uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers, **options)
        return
    from quarry.agent.service.app import create_app

    uvicorn.Server(uvicorn.Config(create_app(settings), host=host, port=port, **options)).run()
