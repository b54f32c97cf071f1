"""What every request handler of one service process shares: the components (database, embedder,
engine), the key store, the failed-auth counts and the runs in flight."""

from dataclasses import dataclass, field

from fastapi import Request

from quarry.agent.components import Components
from quarry.agent.service.inflight import InFlight
from quarry.agent.service.keys import ApiKeyStore
from quarry.agent.service.limiter import FailureLimiter
from quarry.agent.settings import Settings


@dataclass(kw_only=True)
class ServiceState:
    settings: Settings
    components: Components
    keys: ApiKeyStore
    limiter: FailureLimiter
    inflight: InFlight = field(default_factory=InFlight)
    ready: bool = False
    """The database answered and the embedding model has embedded a query (set by the lifespan)."""
    draining: bool = False
    """Shutdown has begun: new runs are refused (503); runs in flight go on to their deadlines."""


def service_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.quarry
    return state
