"""The service on loopback, as a client meets it: a real uvicorn server (the HTTP protocol and
timeouts `quarry serve` uses) in a thread of the test process, over given components (the session's
loaded embedding model, a test schema), so a test pays for no second model load.

    with LiveService(components) as live:
        httpx.get(live.url + "/healthz")
Stopping it is what SIGTERM does to `quarry serve` (uvicorn's exit flag): runs in flight drain first.
"""

import threading
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from quarry.agent.components import Components
from quarry.agent.service.app import create_app
from quarry.agent.service.keys import ApiKeyStore
from quarry.agent.service.server import uvicorn_options
from quarry.agent.service.state import ServiceState
from quarry.agent.settings import Settings


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.up = threading.Event()

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        self.up.set()


@dataclass(frozen=True)
class Key:
    key: str
    principal: str
    groups: tuple[str, ...]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


class LiveService:
    def __init__(self, components: Components, settings: Settings | None = None) -> None:
        self.settings = settings or components.settings
        self.app = create_app(self.settings, components=components)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=0, log_level="warning", **uvicorn_options(self.settings)
        )
        self.server = _Server(config)
        self._thread = threading.Thread(target=self.server.run, name="quarry-live-service", daemon=True)
        self.url = ""

    def __enter__(self) -> "LiveService":
        self._thread.start()
        if not self.server.up.wait(timeout=120) or not self.server.started:
            raise RuntimeError("the service did not start (see the log above)")
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    @property
    def state(self) -> ServiceState:
        state: ServiceState = self.app.state.quarry
        return state

    def key(self, principal: str, *groups: str, account: str | None = None) -> Key:
        issued = ApiKeyStore(self.state.components.db).create(principal, groups, account=account)
        return Key(issued.key, principal, groups)

    def client(self, key: Key | None = None, **options: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=key.headers if key else None, timeout=120, **options)

    def stop(self) -> None:
        """What SIGTERM does: stop accepting, let requests in flight finish, run the lifespan's shutdown."""
        self.server.should_exit = True
        self._thread.join(timeout=300)

    def __exit__(self, *exc: object) -> None:
        self.stop()


def sse_events(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    """The (event, data) pairs of a whole `text/event-stream` response."""
    import json

    events: list[tuple[str, dict[str, Any]]] = []
    name, data = "message", []
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and data:
            events.append((name, json.loads("\n".join(data))))
            name, data = "message", []
    return events
